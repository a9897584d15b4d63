"""Crash-proof resume: SIGKILL mid-epoch (and mid-checkpoint), resume, same final weights."""

import json
import shutil
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import lstmkit
from lstmkit.errors import ModelFileError
from lstmkit.train.checkpoint import latest_checkpoint, load_checkpoint

import train_helpers

SCRIPT = Path(__file__).with_name("resume_script.py")
SRC = Path(__file__).resolve().parents[2] / "src"


def _script(*args):
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("ref") / "run"
    try:
        model, trainer = train_helpers.resume_run(run)
    finally:
        torch.set_num_threads(threads)
    return model.state_dict(), trainer.history, run


@pytest.fixture
def reference(reference_run):
    return reference_run[:2]


@pytest.fixture
def finished_run(reference_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(reference_run[2], run)
    return run


def _check_every_file_loadable(run: Path):
    """Every non-hidden file under run_dir is whole: checkpoints, models, JSON, CSV."""
    found = 0
    for ckdir in sorted((run / "checkpoints").glob("step-*")):
        load_checkpoint(ckdir)
        if (ckdir / "model").exists():
            lstmkit.load(ckdir / "model")
        found += 1
    assert found >= 1
    assert latest_checkpoint(run / "checkpoints").is_dir()
    for f in run.rglob("*.json"):
        if not any(part.startswith(".") for part in f.relative_to(run).parts):
            json.loads(f.read_text())
    if (run / "model").exists():
        lstmkit.load(run / "model")


@pytest.mark.parametrize(
    "how, n, last_good, epoch",
    [("kill-after-step", 7, 6, 0), ("kill-in-checkpoint", 12, 9, 1)],  # 8 steps per epoch
)
def test_sigkill_then_resume_matches_uninterrupted(tmp_path, reference, how, n, last_good, epoch):
    run = tmp_path / "run"
    killed = _script(run, "fresh", how, n)
    assert killed.returncode == -9, killed.stderr  # SIGKILL
    _check_every_file_loadable(run)
    _, state = load_checkpoint(latest_checkpoint(run / "checkpoints"))
    assert state["global_step"] == last_good and state["epoch"] == epoch and state["batches_done"] > 0  # mid-epoch
    if how == "kill-in-checkpoint":
        assert state["global_step"] < n and any(p.name.startswith(".") for p in (run / "checkpoints").iterdir())
    resumed = _script(run, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "done 24" in resumed.stdout
    _check_every_file_loadable(run)
    final = lstmkit.load(run / "model").state_dict()
    ref_state, ref_history = reference
    for k in ref_state:
        torch.testing.assert_close(final[k], ref_state[k], rtol=1e-5, atol=1e-6)
    history = json.loads(json.dumps(load_checkpoint(latest_checkpoint(run / "checkpoints"))[1]["history"]))
    assert [round(r["val_loss"], 5) for r in history] == [round(r["val_loss"], 5) for r in ref_history]
    # the split epoch's row counts its time and samples from before the kill too (128 samples an epoch)
    split = history[epoch]
    assert state["epoch_seconds"] > 0 and state["epoch_samples"] == state["batches_done"] * 16
    assert split["time_s"] >= round(state["epoch_seconds"], 4)
    # samples_per_s is stored to 2 decimals and time_s to 4: compare the rate, within that rounding
    tol = 0.005 + 128 * 5e-5 / (split["time_s"] - 5e-5) ** 2  # both roundings, at the worst
    assert split["samples_per_s"] == pytest.approx(128 / split["time_s"], abs=tol)


def test_resume_of_finished_run_is_a_no_op(finished_run, reference):
    model2, trainer2 = train_helpers.resume_run(finished_run, resume=True)
    assert trainer2.global_step == 24 and trainer2.history == reference[1]
    for k, v in reference[0].items():
        assert torch.equal(model2.state_dict()[k], v)


def test_resume_with_more_epochs_continues_a_finished_run(finished_run, reference):
    _, trainer = train_helpers.resume_run(finished_run, resume=True, max_epochs=4)
    assert trainer.global_step == 32 and len(trainer.history) == 4
    assert trainer.history[:3] == reference[1]


def test_resume_after_a_budget_stop_continues(tmp_path):
    run = tmp_path / "run"
    _, first = train_helpers.resume_run(run, max_steps=10)
    assert first.stop_reason.startswith("max_steps=10") and first.global_step == 10
    _, again = train_helpers.resume_run(run, resume=True, max_steps=10)  # no room left: stays finished
    assert again.global_step == 10
    _, more = train_helpers.resume_run(run, resume=True)  # the cap lifted: trains on to max_epochs
    # the epoch the cap cut short (2 of 8 batches) was closed; the third epoch runs whole
    assert more.global_step == 10 + 8 and len(more.history) == 3 and more.stop_reason is None


def test_damaged_checkpoint_gives_clear_error(finished_run):
    run = finished_run
    ck = latest_checkpoint(run / "checkpoints")
    f = ck / "state.safetensors"
    f.write_bytes(f.read_bytes()[:-7])
    with pytest.raises(ModelFileError, match="truncated or tampered"):
        train_helpers.resume_run(run, resume=True)
    (run / "checkpoints" / "latest.json").write_text('{"name": "step-99"}')
    with pytest.raises(ModelFileError, match="points at 'step-99', which does not exist"):
        train_helpers.resume_run(run, resume=True)


def test_resume_with_other_batch_size_is_refused(finished_run):
    import dataclasses

    from lstmkit.errors import ConfigError
    from lstmkit.train import Trainer

    cfg = dataclasses.replace(train_helpers.resume_config(finished_run), batch_size=8)
    model = train_helpers.TinyLSTMRegressor(train_helpers.TinyLSTMConfig())
    with pytest.raises(ConfigError, match=r"settings that fix the data order differ: batch_size \(checkpoint 16, now 8\)"):
        Trainer(cfg).fit(model, train_helpers.sequence_data(128), resume=True)


def test_fresh_fit_replaces_old_checkpoints(finished_run):
    import dataclasses

    from lstmkit.train import Trainer

    cfg = dataclasses.replace(train_helpers.resume_config(finished_run), max_epochs=1, checkpoint_every=None)
    Trainer(cfg).fit(train_helpers.TinyLSTMRegressor(train_helpers.TinyLSTMConfig()), train_helpers.sequence_data(128))
    names = sorted(p.name for p in (finished_run / "checkpoints").iterdir())
    assert names == ["latest.json", "step-00000008", "step-00000008-final"]


def _flags():
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )


@pytest.mark.parametrize("before", [(False, False, False, False), (True, False, False, True)])
def test_failed_resume_restores_global_flags(finished_run, before):
    """A deterministic run whose resume fails (other batch size, damaged checkpoint) puts the
    process-wide deterministic/warn_only/cuDNN settings back exactly as they were."""
    import dataclasses

    from lstmkit.errors import ConfigError
    from lstmkit.train import Trainer

    saved = _flags()
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2], before[3]
    try:
        model = train_helpers.TinyLSTMRegressor(train_helpers.TinyLSTMConfig())
        cfg = dataclasses.replace(train_helpers.resume_config(finished_run), batch_size=8, deterministic=True)
        with pytest.raises(ConfigError, match="settings that fix the data order differ"):
            Trainer(cfg).fit(model, train_helpers.sequence_data(128), resume=True)
        assert _flags() == before
        f = latest_checkpoint(finished_run / "checkpoints") / "state.safetensors"
        f.write_bytes(f.read_bytes()[:-7])
        cfg = dataclasses.replace(cfg, batch_size=16)
        with pytest.raises(ModelFileError, match="truncated or tampered"):
            Trainer(cfg).fit(model, train_helpers.sequence_data(128), resume=True)
        assert _flags() == before
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[2], saved[3]


def test_failed_resume_destroys_the_process_group_it_created(finished_run, monkeypatch):
    """Under torchrun the Trainer creates the process group; a failed resume must not leak it.
    (A one-rank gloo group on an in-memory store stands in for torchrun's rendezvous.)"""
    import dataclasses

    import torch.distributed as dist

    from lstmkit.errors import ConfigError
    from lstmkit.train import Trainer

    if not dist.is_available() or dist.is_initialized():
        pytest.skip("needs torch.distributed and no process group already in this process")
    real_init = dist.init_process_group
    monkeypatch.setattr(dist, "init_process_group", lambda backend: real_init(backend, store=dist.HashStore(), rank=0, world_size=1))
    monkeypatch.setenv("WORLD_SIZE", "2")  # what makes the Trainer set up torch.distributed itself
    cfg = dataclasses.replace(train_helpers.resume_config(finished_run), batch_size=8)
    try:
        with pytest.raises(ConfigError, match="settings that fix the data order differ"):
            Trainer(cfg).fit(train_helpers.TinyLSTMRegressor(train_helpers.TinyLSTMConfig()), train_helpers.sequence_data(128), resume=True)
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
