"""Does averaging the anomaly score over a trailing part of the dominant period help? VUS-PR of
LSTMAnomalyDetector's default score and of its trailing mean over P/4, P/2 and P (P: the dominant
period of the training part), seeds 0, 1, 2, on the labelled series that ship offline.

The aggregation is applied after scoring (the detector itself is at its defaults), so one fit per
seed serves every column. Not a default: see benchmarks/RESULTS.md for why.

    python benchmarks/bench_anomaly_aggregation.py mitdb,yahoo,ucr-135
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import torch

import lstmkit.datasets
from lstmkit.estimators import LSTMAnomalyDetector
from lstmkit.evaluation.anomaly import anomaly_report, dominant_period


def main() -> None:
    names = (sys.argv[1] if len(sys.argv) > 1 else "mitdb,yahoo,ucr-135").split(",")
    torch.set_num_threads(1)
    for name in names:
        split = lstmkit.datasets.load(name)
        df, a = split.series, split.train_size
        labels = df["label"].to_numpy()[a:]
        period = dominant_period(df[split.value_columns].to_numpy(float)[:a, 0])
        rows: dict[str, list[float]] = {}
        for seed in (0, 1, 2):
            s = LSTMAnomalyDetector(random_state=seed, trainer={"quiet": True}).fit(split.train).decision_function(df)
            variants = {"default": s}
            for label, frac in (("P/4", 0.25), ("P/2", 0.5), ("P", 1.0)):
                w = max(1, int(round(period * frac)))
                variants[f"trailing mean {label}"] = pd.Series(s).rolling(w, min_periods=1).mean().to_numpy()
            for key, v in variants.items():
                rows.setdefault(key, []).append(anomaly_report(labels, v[a:], max_buffer=period)["vus_pr"])
        print(f"{name} (P = {period})")
        for key, v in rows.items():
            print(f"  {key:20s} VUS-PR {np.round(v, 3)} mean {np.mean(v):.3f}")


if __name__ == "__main__":
    main()
