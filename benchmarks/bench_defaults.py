"""Default settings only, on data nobody tuned them for: ``LSTMClassifier()`` on seven UCR/UEA sets,
standard train/test splits, 5 seeds, beside 1-NN DTW computed in the same run and the published
anchors (issue 15).

No per-dataset setting appears anywhere in this script: every fit is
``LSTMClassifier(random_state=seed, trainer={"quiet": True})``; the ``"auto"`` rules
(:func:`lstmkit.estimators.classifier.auto_settings`) see the training split only. ``--set``
measures a non-default variant (an ablation), and the output labels it as such.

1-NN DTW: aeon's ``KNeighborsTimeSeriesClassifier(distance="dtw")`` with the full warping window
(the anchors' univariate figure uses the best window learned on the training set, so it is
usually a little higher); multivariate series use dependent DTW (DTW_D), as in Ruiz et al. 2021.
Both see the series z-normalised per series and channel for univariate sets (the UCR convention)
and as given for multivariate ones.

Each (dataset, seed) result is appended to ``--out`` as it finishes, so an interrupted run
continues where it stopped (rows already in the file are skipped).

    OMP_NUM_THREADS=1 python benchmarks/bench_defaults.py --out runs/defaults.jsonl
    python benchmarks/bench_defaults.py --out runs/defaults.jsonl --report     # the table only
    python benchmarks/bench_defaults.py --datasets GunPoint --seeds 0 --set architecture=lstm
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

import lstmkit.datasets
from lstmkit.estimators import LSTMClassifier

UNIVARIATE = ("ArrowHead", "GunPoint", "ItalyPowerDemand", "PLAID", "PickupGestureWiimoteZ")
MULTIVARIATE = ("BasicMotions", "JapaneseVowels")
# Published test accuracy: 1-NN DTW (best window; DTW_D for the UEA sets) / InceptionTime / LSTM-FCN
# (MLSTM-FCN for JapaneseVowels), as quoted in issue 15 (UCR archive 2018, Fawaz et al. 2020,
# Ruiz et al. 2021, Karim et al. 2017/2019).
ANCHORS = {
    "ArrowHead": (0.800, 0.846, 0.909),
    "GunPoint": (0.913, 1.000, 1.000),
    "ItalyPowerDemand": (0.955, 0.965, 0.963),
    "PLAID": (0.834, 0.944, None),
    "PickupGestureWiimoteZ": (0.660, 0.760, None),
    "BasicMotions": (0.975, 1.000, None),
    "JapaneseVowels": (0.949, 0.992, 1.000),
}


def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _done(path: str | None) -> list[dict]:
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _append(path: str | None, row: dict) -> None:
    print(json.dumps(row), flush=True)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")


def _znorm(seqs: list[np.ndarray]) -> list[np.ndarray]:
    return [(s - s.mean(0)) / np.where(s.std(0) > 0, s.std(0), 1.0) for s in seqs]


def dtw_1nn(name: str) -> tuple[float, float]:
    """Test accuracy of 1-NN DTW (full window) and its seconds."""
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    d = lstmkit.datasets.load(name)
    univariate = name in UNIVARIATE
    prep = _znorm if univariate else (lambda s: s)
    to_aeon = lambda X: [np.ascontiguousarray(np.asarray(s, dtype=np.float64).T) for s in prep([np.asarray(s) for s in X])]  # noqa: E731
    Xtr, Xte = to_aeon(d.X_train), to_aeon(d.X_test)
    equal = len({s.shape for s in Xtr + Xte}) == 1
    if equal:
        Xtr, Xte = np.stack(Xtr), np.stack(Xte)
    t = time.perf_counter()
    knn = KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1, n_jobs=1).fit(Xtr, np.asarray(d.y_train))
    acc = float(np.mean(knn.predict(Xte) == np.asarray(d.y_test)))
    return acc, time.perf_counter() - t


def fit_default(name: str, seed: int, overrides: dict) -> dict:
    d = lstmkit.datasets.load(name)
    t = time.perf_counter()
    clf = LSTMClassifier(random_state=seed, trainer={"quiet": True}, **overrides).fit(d.X_train, d.y_train)
    fit_s = time.perf_counter() - t
    return {"accuracy": clf.score(d.X_test, d.y_test), "fit_s": round(fit_s, 1), "settings": clf.settings_,
            "steps": int(clf.history_[-1]["step"]) if clf.history_ else 0, "epochs": len(clf.history_)}


def report(rows: list[dict], variant: str) -> None:
    print(f"\nLSTMClassifier({variant or 'defaults'}) test accuracy, mean (sd) over seeds; 1-NN DTW from this run; anchors published")
    print(f"{'dataset':22s} {'lstmkit':>15s} {'seeds':>5s} {'fit s':>6s} {'1-NN DTW':>9s} | {'DTW*':>5s} {'Incep.':>6s} {'LSTM-FCN':>8s}")
    uni = {}
    for name in (*UNIVARIATE, *MULTIVARIATE):
        accs = [r["accuracy"] for r in rows if r.get("dataset") == name and r.get("kind") == "lstmkit" and r.get("variant") == variant]
        fits = [r["fit_s"] for r in rows if r.get("dataset") == name and r.get("kind") == "lstmkit" and r.get("variant") == variant]
        dtw = [r["accuracy"] for r in rows if r.get("dataset") == name and r.get("kind") == "dtw"]
        if not accs:
            continue
        a, (pd, pi, pf) = np.array(accs), ANCHORS[name]
        if name in UNIVARIATE:
            uni[name] = a.mean()
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"{name:22s} {a.mean():.3f} ({a.std():.3f}) {len(a):5d} {np.mean(fits):6.0f} {fmt(dtw[-1] if dtw else None):>9s} | "
              f"{fmt(pd):>5s} {fmt(pi):>6s} {fmt(pf):>8s}")
    if len(uni) == len(UNIVARIATE):
        incep = np.mean([ANCHORS[n][1] for n in UNIVARIATE])
        print(f"univariate mean {np.mean(list(uni.values())):.3f} vs InceptionTime {incep:.3f} "
              f"(gap {np.mean(list(uni.values())) - incep:+.3f}; acceptance: within 0.03)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="*", default=[*UNIVARIATE, *MULTIVARIATE])
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="a non-default variant (ablation)")
    ap.add_argument("--out", help="append each result as a JSON line here (and skip results already there)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-dtw", action="store_true", help="skip the 1-NN DTW baseline")
    ap.add_argument("--report", action="store_true", help="only print the table from --out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    overrides = _parse_set(args.set)
    variant = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
    rows = _done(args.out)
    if not args.report:
        for name in args.datasets:
            if name not in ANCHORS:
                ap.error(f"unknown dataset {name!r}; choose from {list(ANCHORS)}")
            if not args.no_dtw and not any(r.get("dataset") == name and r.get("kind") == "dtw" for r in rows):
                acc, secs = dtw_1nn(name)
                rows.append({"dataset": name, "kind": "dtw", "accuracy": acc, "seconds": round(secs, 1)})
                _append(args.out, rows[-1])
            for seed in args.seeds:
                if any(r.get("dataset") == name and r.get("kind") == "lstmkit" and r.get("seed") == seed
                       and r.get("variant") == variant for r in rows):
                    continue
                rows.append({"dataset": name, "kind": "lstmkit", "seed": seed, "variant": variant,
                             **fit_default(name, seed, overrides)})
                _append(args.out, rows[-1])
    report(rows, variant)


if __name__ == "__main__":
    main()
