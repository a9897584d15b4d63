"""Estimator overhead: LSTMForecaster fit and predict, this tree against another lstmkit tree.

Question: did the estimator foundation (pipelines, base class) make fitting or predicting slower?
Both trees run the same job in fresh processes, alternating, several rounds; the table gives the
median time of each and the ratio this/other measured in this run.

    python benchmarks/bench_estimator.py --other-src /path/to/other/checkout/src [--rounds 5]

(e.g. `git worktree add /tmp/base <commit>` and pass /tmp/base/src). The job: airline, horizon 12,
lookback 24, 40 epochs of batch 16 (no early stopping), one thread; predict() repeated 200 times,
and predict(y=...) from a given history 50 times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

JOB = r"""
import json, time, torch
torch.set_num_threads(1)
import lstmkit
from lstmkit.train import TrainerConfig
try:
    LSTMForecaster = lstmkit.LSTMForecaster
except AttributeError:  # lstmkit 0.1.0
    from lstmkit.models import LSTMForecaster
from lstmkit.datasets import load
y = load("airline")
tc = TrainerConfig(max_epochs=40, batch_size=16, lr=3e-3, patience=1000, quiet=True, device="cpu", seed=0)
f = LSTMForecaster(horizon=12, lookback=24, transform="log", val_size=0, trainer=tc)
t0 = time.perf_counter(); f.fit(y.iloc[:-12]); fit = time.perf_counter() - t0
f.predict()
t0 = time.perf_counter()
for _ in range(200):
    p = f.predict()
pred = (time.perf_counter() - t0) / 200
t0 = time.perf_counter()
for _ in range(50):
    q = f.predict(y=y.iloc[:-12])
pred_y = (time.perf_counter() - t0) / 50
print(json.dumps({"fit_s": fit, "predict_ms": pred * 1e3, "predict_history_ms": pred_y * 1e3,
                  "mean": p["mean"].tolist(), "lstmkit": lstmkit.__version__, "file": lstmkit.__file__}))
"""


def run(src: str) -> dict:
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", JOB], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--other-src", required=True, help="src/ folder of the other lstmkit tree")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    this = str(Path(__file__).resolve().parents[1] / "src")
    results: dict[str, list[dict]] = {"this": [], "other": []}
    for r in range(args.rounds):
        order = [("this", this), ("other", args.other_src)] if r % 2 == 0 else [("other", args.other_src), ("this", this)]
        for name, src in order:
            results[name].append(run(src))
    a, b = results["this"][0], results["other"][0]
    print(f"this: lstmkit {a['lstmkit']} ({a['file']}); other: lstmkit {b['lstmkit']} ({b['file']}); {args.rounds} rounds")
    same = a["mean"] == b["mean"]
    print(f"forecasts identical between the trees: {same}")
    print(f"{'measure':<22}{'this':>10}{'other':>10}{'this/other':>12}")
    for key, unit in (("fit_s", "s"), ("predict_ms", "ms"), ("predict_history_ms", "ms")):
        t = statistics.median(x[key] for x in results["this"])
        o = statistics.median(x[key] for x in results["other"])
        print(f"{key:<22}{t:>9.3f}{unit[0]}{o:>9.3f}{unit[0]}{t / o:>12.3f}")


if __name__ == "__main__":
    main()
