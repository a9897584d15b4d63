"""Anomaly detection: LSTMAnomalyDetector with its defaults against the baselines the critiques
ask for, all measured in one run, on the labelled series that ship offline.

- ``ucr-135`` (UCR anomaly archive #135, fit on the first 1,200 points as the archive says):
  for each seed, whether the top-scored region hits the labelled anomaly (points 4187-4198,
  within 100 points), and AUC-PR / VUS-PR / range F1 after the training part, beside rolling
  z-scores on values and on first differences and the matrix-profile discord (stumpy).
- ``mitdb`` and ``yahoo`` (sktime's CSVs, fit on the first quarter): the same table, plus the
  point-adjusted F1 of a *random* score, to show why point adjustment must not rank detectors.
- Streaming: points/s of ``AnomalyStream.update`` per stream (one thread), and the largest
  difference between streaming and batch scores.

Every detector setting is LSTMAnomalyDetector's default (chosen before any of these series was
scored); the baselines' window and the VUS buffer are the series' dominant period, measured on
the training part. Seeds 0, 1, 2.

    python benchmarks/bench_anomaly.py                  # about 5 minutes on 2 cores
    python benchmarks/bench_anomaly.py --data ucr-135 --seeds 1 --scorers prediction
    python benchmarks/bench_anomaly.py --data mitdb --seeds 2 --scorers prediction --set horizon=10   # not a default
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

import lstmkit.datasets
from lstmkit.estimators import LSTMAnomalyDetector
from lstmkit.evaluation.anomaly import anomaly_report, dominant_period, matrix_profile_discord, rolling_zscore

UCR_ANOMALY = (4187, 4198)
KEYS = ("auc_pr", "vus_pr", "range_f1", "best_f1", "best_f1_point_adjusted_optimistic")


def top_region_hit(scores: np.ndarray, start: int, lo: int, hi: int, slack: int = 100) -> tuple[int, bool]:
    """Where the highest score after ``start`` lies, and whether it is within ``slack`` of [lo, hi]."""
    k = start + int(np.argmax(scores[start:]))
    return k, lo - slack <= k <= hi + slack


def fmt(rows: dict[str, list[dict[str, float]]]) -> str:
    head = f"{'':44s}" + "".join(f"{k.replace('_point_adjusted_optimistic', ' PA (optim.)'):>16s}" for k in KEYS)
    lines = [head]
    for name, runs in rows.items():
        cells = []
        for k in KEYS:
            vals = [r[k] for r in runs if k in r]
            if not vals:
                cells.append(f"{'-':>16s}")
            elif len(vals) == 1:
                cells.append(f"{vals[0]:16.3f}")
            else:
                cells.append(f"{statistics.mean(vals):9.3f}±{statistics.stdev(vals):.3f}")
        lines.append(f"{name:44s}" + "".join(cells))
    return "\n".join(lines)


def run(name: str, seeds: list[int], scorers: list[str], out: dict, params: dict | None = None) -> None:
    split = lstmkit.datasets.load(name)
    df, a = split.series, split.train_size
    values = df[split.value_columns].to_numpy(float)
    labels = df["label"].to_numpy()[a:]
    period = dominant_period(values[:a, 0])
    rows: dict[str, list[dict[str, float]]] = {}
    hits, fit_s, stream_rate, stream_diff = [], [], [], []
    for scorer in scorers:
        key = f"LSTM detector, {scorer} " + (f"({params})" if params else "(defaults)")
        rows[key] = []
        for seed in seeds:
            t0 = time.perf_counter()
            det = LSTMAnomalyDetector(scorer, random_state=seed, trainer={"quiet": True}, **(params or {})).fit(split.train)
            fit_s.append((scorer, time.perf_counter() - t0))
            scores = det.decision_function(df)
            flags = det.labels_from_scores(scores)
            rows[key].append(anomaly_report(labels, scores[a:], flags[a:], max_buffer=period))
            if name == "ucr-135":
                k, hit = top_region_hit(scores, a, *UCR_ANOMALY)
                hits.append((scorer, seed, k, hit))
            if seed == seeds[0]:
                n = min(len(df), 3000 if scorer == "prediction" else 300)
                stream = det.stream()
                t0 = time.perf_counter()
                live = np.array([stream.update(v)[0] for v in values[:n]])
                stream_rate.append((scorer, n / (time.perf_counter() - t0)))
                stream_diff.append((scorer, float(np.abs(live - scores[:n]).max())))
    base = {"rolling z-score, values": rolling_zscore(values, window=period),
            "rolling z-score, first differences": rolling_zscore(values, window=period, differences=True)}
    t0 = time.perf_counter()
    if values.shape[1] == 1:
        base[f"matrix-profile discord, m={period}, max mapping"] = matrix_profile_discord(values[:, 0], period)
        base[f"matrix-profile discord, m={period}, centre (TSB-UAD)"] = matrix_profile_discord(values[:, 0], period,
                                                                                             mapping="center")
    mp_s = time.perf_counter() - t0
    for k, s in base.items():
        rows[k] = [anomaly_report(labels, s[a:], max_buffer=period)]
    rng = np.random.default_rng(0)
    rows["random score (5 draws)"] = [anomaly_report(labels, rng.random(len(labels)), max_buffer=period)
                                      for _ in range(5)]
    print(f"\n== {name}: {len(df)} points, fit on the first {a}, measured on the {len(labels)} after "
          f"({int(labels.sum())} labelled anomalous); dominant period {period} (baseline window, VUS buffer) ==")
    print(fmt(rows))
    if hits:
        print("top-scored point after the training part (labelled anomaly 4187-4198; hit = within 100 points):")
        for scorer, seed, k, hit in hits:
            print(f"  {scorer:14s} seed {seed}: {k} {'HIT' if hit else 'miss'}")
    for scorer in scorers:
        secs = [s for sc, s in fit_s if sc == scorer]
        print(f"fit time, {scorer}: mean {statistics.mean(secs):.1f} s over {len(secs)} seed(s)")
    print(f"matrix profile: {mp_s:.1f} s (includes stumpy's numba compile on a first call)")
    for (scorer, rate), (_, diff) in zip(stream_rate, stream_diff):
        print(f"streaming, {scorer}: {rate:,.0f} points/s per stream (one thread); max |stream - batch| = {diff:.1e}")
    out[name] = {"rows": rows, "hits": hits, "fit_s": fit_s, "stream_points_per_s": stream_rate,
                 "stream_max_diff": stream_diff, "period": period}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="ucr-135,mitdb,yahoo")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--scorers", default="prediction,reconstruction")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a detector parameter other than its default (repeatable; JSON values: horizon=10)")
    ap.add_argument("--json", default=None, help="also write every figure as JSON")
    args = ap.parse_args()
    torch.set_num_threads(1)
    params = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    out: dict = {}
    for name in args.data.split(","):
        run(name, list(range(args.seeds)), args.scorers.split(","), out, params)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
