"""Trainer behaviour: learning, early stopping, accumulation, clipping, errors, outputs."""

import csv
import math

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import lstmkit
from lstmkit.errors import ConfigError
from lstmkit.train import Callback, NonFiniteLossError, Trainer, TrainerConfig

from train_helpers import TinyRegConfig, TinyRegressor, regression_data


def _model(seed=0):
    torch.manual_seed(seed)
    return TinyRegressor(TinyRegConfig())


def test_fit_learns_and_returns_history():
    model = _model()
    train, val = regression_data(256, 0), regression_data(64, 1)
    trainer = Trainer(TrainerConfig(max_epochs=15, batch_size=32, lr=1e-2))
    history = trainer.fit(model, train, val)
    assert history is trainer.history and len(history) == 15
    assert [r["epoch"] for r in history] == list(range(1, 16))
    assert history[-1]["val_loss"] < 0.5 * history[0]["val_loss"]
    assert {"train_loss", "val_loss", "val_mae", "lr", "step"} <= set(history[-1])
    assert history[-1]["step"] == 15 * 8


def test_same_seed_same_weights_and_dataloader_input():
    def run(data):
        model = _model()
        Trainer(TrainerConfig(max_epochs=2, batch_size=16, seed=3)).fit(model, data)
        return torch.cat([p.flatten() for p in model.parameters()])

    data = regression_data(64)
    assert torch.equal(run(data), run(data))
    # a DataLoader is used as given (no shuffle here), still trains
    loader = DataLoader(data, batch_size=16)
    model = _model()
    h = Trainer(TrainerConfig(max_epochs=3, lr=1e-2)).fit(model, loader)
    assert h[-1]["train_loss"] < h[0]["train_loss"]


def test_early_stopping_restores_best_weights():
    """Patience on val loss: training stops after `patience` bad epochs, best weights restored."""
    model = _model()
    train, val = regression_data(128, 0), regression_data(32, 1)
    snapshots = {}

    class Snap(Callback):
        def on_epoch_end(self, trainer, model, row):
            snapshots[row["epoch"]] = {k: v.clone() for k, v in model.state_dict().items()}

    # lr so high that validation loss bounces around: improvement stops early
    trainer = Trainer(TrainerConfig(max_epochs=40, batch_size=16, lr=0.3, optimizer="sgd", patience=2), callbacks=[Snap()])
    history = trainer.fit(model, train, val)
    best = min(history, key=lambda r: r["val_loss"])
    assert len(history) < 40 and "early stopping" in trainer.stop_reason
    assert history[-1]["epoch"] == best["epoch"] + 3  # patience 2: stopped on the 3rd bad epoch
    for k, v in model.state_dict().items():
        assert torch.equal(v, snapshots[best["epoch"]][k])
    assert trainer.evaluate(model, val)["loss"] == pytest.approx(best["val_loss"], rel=1e-6)


def test_gradient_accumulation_matches_large_batch():
    data = regression_data(64)

    def run(batch_size, accumulate):
        model = _model()
        Trainer(TrainerConfig(max_epochs=2, batch_size=batch_size, accumulate=accumulate, shuffle=False, optimizer="sgd", lr=0.1)).fit(model, data)
        return torch.cat([p.flatten() for p in model.parameters()])

    torch.testing.assert_close(run(32, 1), run(16, 2), rtol=1e-5, atol=1e-6)


def test_clipping_bounds_the_update():
    """With SGD, a clipped step moves the weights by at most lr * grad_clip (global norm)."""
    model = _model()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    data = torch.utils.data.TensorDataset(torch.randn(8, 4) * 100, torch.randn(8, 1) * 100)
    Trainer(TrainerConfig(max_epochs=1, batch_size=8, optimizer="sgd", lr=0.1, momentum=0.0, grad_clip=0.5)).fit(model, data)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm() == pytest.approx(0.05, rel=1e-4)


def test_non_finite_loss_names_epoch_and_step(tmp_path):
    model = _model()
    x = torch.randn(64, 4)
    y = torch.randn(64, 1)
    y[40] = math.nan  # reached in the 2nd epoch's batches only after shuffling... keep order fixed
    data = torch.utils.data.TensorDataset(x, y)
    cfg = TrainerConfig(max_epochs=3, batch_size=16, shuffle=False, run_dir=str(tmp_path / "run"), lr=1e-3)
    with pytest.raises(NonFiniteLossError, match=r"epoch 1, step 3 .*lower the learning rate \(lr=0.001\).*grad_clip=1.0") as info:
        Trainer(cfg).fit(model, data)
    assert "nan" in str(info.value)


def test_non_finite_after_checkpoint_keeps_last_good(tmp_path):
    model = _model()

    class Explode(Callback):
        def on_epoch_end(self, trainer, model, row):
            if row["epoch"] == 2:
                with torch.no_grad():
                    model.net[0].weight.fill_(math.inf)

    run = tmp_path / "run"
    with pytest.raises(NonFiniteLossError, match=r"epoch 3, step 9 .*last good checkpoint is kept"):
        Trainer(TrainerConfig(max_epochs=5, batch_size=16, run_dir=str(run)), callbacks=[Explode()]).fit(model, regression_data(64))
    from lstmkit.train.checkpoint import latest_checkpoint, load_checkpoint

    tensors, state = load_checkpoint(latest_checkpoint(run / "checkpoints"))
    assert state["epoch"] == 2 and torch.isfinite(tensors["model.net.0.weight"]).all() is not None


def test_config_errors():
    with pytest.raises(ConfigError, match="lr must be a positive number, got -1"):
        TrainerConfig(lr=-1)
    with pytest.raises(ConfigError, match=r"optimizer must be one of .*got 'adan' \(did you mean 'adam'\?\)"):
        TrainerConfig(optimizer="adan")
    with pytest.raises(ConfigError, match="max_epochs must be a positive int, got -2; batch_size must be a positive int, got 0"):
        TrainerConfig(batch_size=0, max_epochs=-2)
    with pytest.raises(ConfigError, match="unknown TrainerConfig field 'max_epoch' \\(did you mean 'max_epochs'\\?\\)"):
        Trainer(max_epoch=3)
    with pytest.raises(ConfigError, match="must define loss"):
        Trainer().fit(torch.nn.Linear(2, 2), regression_data(8))
    with pytest.raises(ConfigError, match="resume=True needs TrainerConfig.run_dir"):
        Trainer().fit(_model(), regression_data(8), resume=True)
    assert TrainerConfig.from_dict(TrainerConfig(lr=0.5).to_dict()) == TrainerConfig(lr=0.5)


def test_schedules_and_outputs(tmp_path, capsys):
    model = _model()
    run = tmp_path / "run"
    cfg = TrainerConfig(max_epochs=4, batch_size=16, schedule="cosine", warmup_steps=4, lr=1e-2, run_dir=str(run), quiet=False, log_every=0)
    history = Trainer(cfg).fit(model, regression_data(64), regression_data(16, 1))
    lrs = [r["lr"] for r in history]
    assert lrs[-1] == pytest.approx(0.0, abs=1e-9) and lrs[0] > lrs[1] > lrs[2]
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert len(rows) == 4 and float(rows[-1]["val_loss"]) == pytest.approx(history[-1]["val_loss"])
    loaded = lstmkit.load(run / "model")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))
    err = capsys.readouterr().err
    assert "epoch 4" in err and "val_loss" in err  # plain lines when stderr is not a terminal

    model = _model()
    h = Trainer(TrainerConfig(max_epochs=6, batch_size=16, schedule="plateau", plateau_patience=0, lr=0.5, optimizer="sgd")).fit(
        model, regression_data(64), regression_data(16, 1)
    )
    assert min(r["lr"] for r in h) < 0.5


def test_quiet_is_silent(capsys):
    Trainer(TrainerConfig(max_epochs=1, quiet=True)).fit(_model(), regression_data(16))
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


class _Spy(TinyRegressor):
    """Records, at every forward, the process-wide modes the trainer promises to set."""

    def __init__(self, config):
        super().__init__(config)
        self.seen = []

    def forward(self, x):
        out = super().forward(x)
        self.seen.append(
            {
                "training": self.training,  # True: a training step; False: validation
                "deterministic": torch.are_deterministic_algorithms_enabled(),
                "autocast": torch.is_autocast_enabled("cpu"),
                "out_dtype": out.dtype,
            }
        )
        return out


def _spy(seed=0):
    torch.manual_seed(seed)
    return _Spy(TinyRegConfig())


def test_deterministic_mode_is_on_while_training_and_runs_repeat_exactly():
    assert not torch.are_deterministic_algorithms_enabled(), "an earlier test left deterministic mode on"
    train, val = regression_data(64), regression_data(16, 1)

    def run(deterministic):
        model = _spy()
        Trainer(TrainerConfig(max_epochs=2, batch_size=16, seed=3, deterministic=deterministic, device="cpu")).fit(model, train, val)
        return model

    a, b = run(True), run(True)
    assert {s["training"] for s in a.seen} == {True, False}  # training steps and validation both seen
    assert all(s["deterministic"] for s in a.seen)
    assert not torch.are_deterministic_algorithms_enabled()  # put back after fit
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    c = run(False)
    assert c.seen and not any(s["deterministic"] for s in c.seen)


def test_bf16_autocast_covers_training_and_validation_forward():
    """use_bf16: forward runs under CPU bf16 autocast in training steps and in validation
    (Trainer._evaluate uses the same autocast); weights and gradients stay float32."""
    train, val = regression_data(64), regression_data(16, 1)
    model = _spy()
    h = Trainer(TrainerConfig(max_epochs=4, batch_size=16, lr=1e-2, use_bf16=True, device="cpu")).fit(model, train, val)
    steps = [s for s in model.seen if s["training"]]
    checks = [s for s in model.seen if not s["training"]]
    assert len(steps) == 4 * 4 and len(checks) == 4 * 1
    assert all(s["autocast"] and s["out_dtype"] == torch.bfloat16 for s in steps + checks)
    assert not torch.is_autocast_enabled("cpu")  # nothing left on after fit
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert h[-1]["train_loss"] < h[0]["train_loss"]

    plain = _spy()
    Trainer(TrainerConfig(max_epochs=1, batch_size=16, device="cpu")).fit(plain, train, val)
    assert plain.seen and not any(s["autocast"] for s in plain.seen)
    assert all(s["out_dtype"] == torch.float32 for s in plain.seen)


def test_tensorboard_events_hold_the_per_epoch_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    cfg = TrainerConfig(max_epochs=2, batch_size=16, lr=1e-2, run_dir=str(run), save_model=False, device="cpu")
    history = Trainer(cfg).fit(_model(), regression_data(64), regression_data(16, 1))
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train_loss", "val_loss", "val_mae", "lr", "time_s", "samples_per_s"} <= tags
    assert not {"epoch", "step"} & tags  # the step is the x axis, not a scalar
    for tag in ("train_loss", "val_loss", "val_mae", "lr"):
        points = events.Scalars(tag)
        assert [p.step for p in points] == [r["step"] for r in history] == [4, 8]  # global step per epoch
        assert [p.value for p in points] == pytest.approx([r[tag] for r in history], rel=1e-6)


def test_tensorboard_off_writes_no_events(tmp_path):
    run = tmp_path / "run"
    Trainer(TrainerConfig(max_epochs=1, batch_size=16, run_dir=str(run), tensorboard=False, save_model=False)).fit(_model(), regression_data(32))
    assert (run / "metrics.csv").exists() and not (run / "tb").exists()


class _BatchRecorder(lstmkit.models.base.TaskModel):
    """Records each training batch's sample ids (y) and lengths."""

    config_class = TinyRegConfig

    def __init__(self, config=None):
        super().__init__(config or TinyRegConfig())
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.batches = []

    def loss(self, batch):
        if self.training:
            self.batches.append((batch["y"].tolist(), batch["lengths"].tolist()))
        return (self.w - batch["x"].mean()) ** 2

    def metrics(self, batch):
        return {"loss": float(self.loss(batch))}


def _record(lengths, group, seed=0, epochs=2, batch_size=4):
    from lstmkit.data.sequences import SequenceDataset

    data = SequenceDataset([np.ones((n, 1), np.float32) for n in lengths], np.arange(len(lengths)))
    model = _BatchRecorder()
    Trainer(TrainerConfig(max_epochs=epochs, batch_size=batch_size, seed=seed, group_by_length=group, quiet=True)).fit(model, data)
    return model.batches


def test_group_by_length_pads_less_and_still_shuffles():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 300, 100).tolist()
    grouped, plain = _record(lengths, True), _record(lengths, False)
    for batches in (grouped, plain):  # every sample once per epoch
        per_epoch = [sorted(i for ids, _ in batches[e * 25:(e + 1) * 25] for i in ids) for e in range(2)]
        assert per_epoch == [list(range(100))] * 2

    def padding(batches):
        return sum(max(ls) * len(ls) for _, ls in batches) / sum(sum(ls) for _, ls in batches)

    assert padding(grouped) < 0.8 * padding(plain)
    # pools of GROUP_POOL batches are sorted longest first; epochs differ; the order is a function of the seed
    pool = lstmkit.train.trainer.GROUP_POOL
    for e in range(2):
        for p in range(0, 25, pool):
            flat = [n for _, ls in grouped[e * 25 + p:e * 25 + min(p + pool, 25)] for n in ls]
            assert flat == sorted(flat, reverse=True)
    assert grouped[:25] != grouped[25:]
    assert _record(lengths, True) == grouped


def test_group_by_length_keeps_the_order_of_equal_lengths():
    assert _record([7] * 30, True) == _record([7] * 30, False)


def test_group_by_length_needs_lengths():
    with pytest.raises(ConfigError, match="group_by_length"):
        Trainer(TrainerConfig(max_epochs=1, group_by_length=True, quiet=True)).fit(_model(), regression_data(16))
    # a DataLoader makes its own batches: refused rather than silently not grouped
    with pytest.raises(ConfigError, match="group_by_length needs a map-style torch Dataset to order, got DataLoader"):
        Trainer(TrainerConfig(max_epochs=1, group_by_length=True, quiet=True)).fit(_model(), DataLoader(regression_data(16)))


def test_a_real_sigterm_stops_after_the_step_and_saves(tmp_path):
    """The CLI test sends SIGINT to a real process; SIGTERM goes through the same handler here."""
    import os
    import signal

    from lstmkit.train import TrainingInterrupted

    class Term(Callback):
        def on_step_end(self, t, model, loss):
            if t.global_step == 3:
                os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    trainer = Trainer(TrainerConfig(max_epochs=5, batch_size=16, run_dir=str(tmp_path / "run"), quiet=True),
                      callbacks=[Term()])
    with pytest.raises(TrainingInterrupted, match=r"interrupted \(SIGTERM\) at epoch 1, step 3; checkpoint saved") as e:
        trainer.fit(_model(), regression_data(64))
    assert e.value.signal == "SIGTERM" and e.value.checkpoint.is_dir()
    assert signal.getsignal(signal.SIGTERM) is previous  # the handler is put back
