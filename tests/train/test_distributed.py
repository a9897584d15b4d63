"""Data-parallel training under torchrun (gloo on CPU): identical weights on every rank,
and the same loss curve as one process with the same global batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from safetensors.torch import load_file

SCRIPT = Path(__file__).with_name("ddp_script.py")
SRC = Path(__file__).resolve().parents[2] / "src"

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not available")


def test_torchrun_two_ranks_match_single_process(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + str(SCRIPT.parent), OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(SCRIPT), str(tmp_path), "8"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    w0, w1 = load_file(tmp_path / "rank0.safetensors"), load_file(tmp_path / "rank1.safetensors")
    for k in w0:
        assert torch.equal(w0[k], w1[k]), k  # DDP keeps ranks in lock-step
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["world_size"] == 2 and r1["rank"] == 1
    untimed = [[{k: v for k, v in row.items() if k not in ("time_s", "samples_per_s")} for row in r["history"]] for r in (r0, r1)]
    assert untimed[0] == untimed[1]  # metrics are all-reduced
    # only rank 0 printed and wrote files: one log line per epoch, one metrics.csv
    assert (proc.stdout + proc.stderr).count("epoch 1 step") == 1
    assert len((tmp_path / "run" / "metrics.csv").read_text().splitlines()) == 4

    # single process, global batch 16 (= 2 ranks x 8): same loss curve and weights
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import ddp_script
    finally:
        sys.path.remove(str(SCRIPT.parent))
    model, trainer, history = ddp_script.run(str(tmp_path / "single"), 16, quiet=True)
    assert trainer.world_size == 1
    for a, b in zip(history, r0["history"]):
        for key in ("train_loss", "val_loss", "val_mae"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, w0[k], rtol=1e-4, atol=1e-5)
