"""Forecasting benchmarks: accuracy vs classical baselines, window memory, speed vs Darts.

1. Accuracy (seeded): airline with the last 12 and last 24 months held out (MAPE of the
   LSTM, naive, seasonal naive, Holt-Winters, SARIMA); yearly sunspots with 1989-2008
   held out (RMSE of the LSTM next to AR(9)).
2. Memory: peak traced allocations while building training batches for ONE series of
   10 million points with lookback 512 (WindowDataset + DataLoader batches), as a ratio
   to the series' own size (the materialised alternative is printed for scale).
3. Speed: fit and predict time on airline, lstmkit vs Darts' RNNModel(model="LSTM") with
   the same hidden size, lookback, epochs and batch size, measured in this run. Darts is
   optional (it is not a dependency); without it this part is skipped with a message.

Run: OMP_NUM_THREADS=1 python benchmarks/bench_forecast.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

import numpy as np
import torch

from lstmkit.datasets import load
from lstmkit.data import WindowBatchSampler, WindowDataset
from lstmkit.evaluation import backtest
from lstmkit.estimators import LSTMForecaster
from lstmkit.train import TrainerConfig

AIRLINE = dict(transform="log", lookback=24, n_models=3)


def accuracy() -> None:
    y = load("airline")
    print("== accuracy: airline, MAPE % (seasonal naive published: 9.99 / 15.52)")
    rows = {}
    for h in (12, 24):
        r = backtest(LSTMForecaster(horizon=h, **AIRLINE), y, horizon=h)
        for name, row in r.summary.iterrows():
            rows.setdefault(name, {})[h] = (row["MAPE"], row["coverage"])
    print(f"{'model':16s} {'last 12':>8s} {'last 24':>8s}  {'80% cover 12/24':>16s}")
    for name, v in rows.items():
        print(f"{name:16s} {v[12][0]:8.2f} {v[24][0]:8.2f}  {v[12][1]:7.1f}/{v[24][1]:<7.1f}")
    s = load("sunspots")
    train, test = s[:"1988"], s["1989":]
    r = backtest(LSTMForecaster(horizon=len(test), lookback=60, n_models=3), s, horizon=len(test),
                 baselines=("naive", "ar"), season_length=11)
    print("== accuracy: yearly sunspots, 1989-2008 held out (AR(9) published: 14.2)")
    for name, row in r.summary.iterrows():
        print(f"{name:16s} RMSE {row['RMSE']:7.2f}")
    del train


def memory(n: int = 10_000_000, lookback: int = 512, horizon: int = 24, batches: int = 50, batch_size: int = 256) -> None:
    print(f"== memory: one series of {n:,} points, lookback {lookback}, horizon {horizon}")
    series = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    ds = WindowDataset([series], lookback, horizon)
    loader = WindowBatchSampler(len(ds), batch_size, shuffle=True, seed=0).loader(ds)
    it = iter(loader)
    for _ in range(batches):
        batch = next(it)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    dense = len(ds) * (lookback + horizon) * 4
    print(f"series {series.nbytes / 2**20:.1f} MiB, windows {len(ds):,}, batch {tuple(batch['past'].shape)}")
    print(f"peak extra while building {batches} batches: {peak / 2**20:.2f} MiB "
          f"= {peak / series.nbytes:.3f}x the series (series + windows: {(peak + series.nbytes) / series.nbytes:.3f}x; "
          f"budget 3x); materialising every window would take {dense / 2**30:.0f} GiB")
    print("(torch's RandomSampler/DistributedSampler alone would hold a Python list of every index: "
          f"~{len(ds) * 36 / series.nbytes:.0f}x the series)")
    # the estimator's path from a float64 pandas-free array: transform + scaling + windows
    y64 = series.astype(np.float64)
    del series, ds, loader, it, batch
    gc.collect()
    est = LSTMForecaster(horizon=horizon, lookback=lookback, val_size=0)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    from lstmkit.data import make_scaler
    m = y64[:, None]
    sc = make_scaler(est.scaler).fit(m)
    ds = WindowDataset([sc.transform(m)], lookback, horizon)
    ds.__getitems__(np.arange(batch_size))
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    print(f"estimator preprocessing (float64 input, scaling, float32 windows): peak {peak / y64.nbytes:.2f}x "
          "the float64 series")


def speed(epochs: int = 50) -> None:
    y = load("airline")
    train = y.iloc[:-24]
    H, L, hidden, bs = 24, 24, 64, 16
    print(f"== speed: airline (120 points), horizon {H}, lookback {L}, hidden {hidden}, {epochs} epochs, batch {bs}")
    tc = TrainerConfig(max_epochs=epochs, batch_size=bs, lr=3e-3, patience=None, seed=0, device="cpu", quiet=True)
    f = LSTMForecaster(horizon=H, lookback=L, hidden_size=hidden, transform="log", val_size=0, trainer=tc)
    import dataclasses

    f.set_params(trainer=dataclasses.replace(tc, max_epochs=1)).fit(train)  # warm-up (first-call costs)
    f.set_params(trainer=tc)
    t0 = time.perf_counter()
    f.fit(train)
    fit_lk = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(20):
        f.predict()
    pred_lk = (time.perf_counter() - t0) / 20
    print(f"lstmkit: fit {fit_lk:.2f} s, predict {pred_lk * 1000:.1f} ms")
    try:
        import logging

        from darts import TimeSeries
        from darts.models import RNNModel
    except ImportError:
        print("darts not installed: speed comparison skipped (pip install 'darts[torch]' in a separate "
              "environment that keeps torch==2.13.0)")
        return
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    ts = TimeSeries.from_series(np.log(train))
    model = RNNModel(model="LSTM", input_chunk_length=L, training_length=L + H, hidden_dim=hidden, n_rnn_layers=1,
                     batch_size=bs, n_epochs=epochs, random_state=0, optimizer_kwargs={"lr": 3e-3},
                     pl_trainer_kwargs={"accelerator": "cpu", "enable_progress_bar": False, "logger": False,
                                        "enable_model_summary": False, "enable_checkpointing": False})
    model.fit(ts, verbose=False, epochs=1)  # warm-up (lightning set-up, first-call costs)
    t0 = time.perf_counter()
    model.fit(ts, verbose=False)
    fit_d = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(5):
        model.predict(H, series=ts, verbose=False, show_warnings=False)
    pred_d = (time.perf_counter() - t0) / 5
    print(f"darts RNNModel(LSTM): fit {fit_d:.2f} s, predict {pred_d * 1000:.1f} ms")
    print(f"ratio darts/lstmkit: fit {fit_d / fit_lk:.2f}x, predict {pred_d / pred_lk:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="memory + speed only (skip the accuracy runs)")
    ap.add_argument("--only", choices=["accuracy", "memory", "speed"], default=None)
    args = ap.parse_args()
    parts = {"accuracy": accuracy, "memory": memory, "speed": speed}
    todo = [args.only] if args.only else (["memory", "speed"] if args.quick else list(parts))
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for p in todo:
        parts[p]()


if __name__ == "__main__":
    main()
