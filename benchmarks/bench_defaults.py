"""Default settings only, on data nobody tuned them for: ``LSTMClassifier()`` on seven UCR/UEA sets,
standard train/test splits, 5 seeds, beside 1-NN DTW computed in the same run and the published
anchors; ``LSTMForecaster(horizon=h)`` on M1 yearly, airline and sunspots beside seasonal naive,
ETS and Theta computed in the same run (``--task forecasting``). Issue 15.

No per-dataset setting appears anywhere in this script: every fit is
``LSTMClassifier(random_state=seed, trainer={"quiet": True})``; the ``"auto"`` rules
(:func:`lstmkit.estimators.classifier.auto_settings`) see the training split only. ``--set``
measures a non-default variant (an ablation), and the output labels it as such.

1-NN DTW: aeon's ``KNeighborsTimeSeriesClassifier(distance="dtw")`` with the full warping window
(the anchors' univariate figure uses the best window learned on the training set, so it is
usually a little higher); multivariate series use dependent DTW (DTW_D), as in Ruiz et al. 2021.
Both see the series z-normalised per series and channel for univariate sets (the UCR convention)
and as given for multivariate ones. MiniRocket (aeon, Dempster et al. 2021) sees the same inputs,
zero-padded to the longest series; it is a strong non-recurrent reference, not an issue anchor,
and it is also computed on the development folds (``--dev``), so a variant's development figure
can be read beside it.

Each (dataset, seed) result is appended to ``--out`` as it finishes, so an interrupted run
continues where it stopped (rows already in the file are skipped).

    OMP_NUM_THREADS=1 python benchmarks/bench_defaults.py --out runs/defaults.jsonl
    python benchmarks/bench_defaults.py --out runs/defaults.jsonl --report     # the table only
    python benchmarks/bench_defaults.py --datasets GunPoint --seeds 0 --set architecture=lstm
    OMP_NUM_THREADS=1 python benchmarks/bench_defaults.py --task forecasting --out runs/forecast.jsonl
    python benchmarks/bench_defaults.py --dev --datasets PLAID --seeds 0 --set series_stats=true   # training split only
    python benchmarks/bench_defaults.py --dev --folds 5 --datasets PLAID --seeds 0   # 5-fold CV of the training split

Forecasting protocols (fixed before any figure was looked at; the defaults themselves were chosen
on development splits that drop the test points, see RESULTS.md):

- ``m1_yearly``: the Monash archive's (Godahewa et al. 2021): every series' last 6 points are the
  test; MASE scaled by the in-sample lag-1 naive error, mean over the 181 series. One global
  ``LSTMForecaster(horizon=6)`` over all series.
- ``airline``: the last 24 months (1959-1960) are the test, horizon 24; MASE with m = 12.
- ``sunspots``: the last 11 years (one solar cycle, 1998-2008) are the test, horizon 11; MASE
  with m = 1 (yearly data), and the seasonal naive baseline repeats the last 11 years.
- Baselines, per series: naive, seasonal naive, statsmodels ETS (``ETSModel``: additive errors,
  trend none / additive / damped, seasonality none / additive / multiplicative where m > 1 and
  two seasons fit, the lowest AICc kept; a simplified ``ets()`` of R's forecast package) and
  Theta (``ThetaModel``, Assimakopoulos & Nikolopoulos 2000, with its own deseasonalising test).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

import lstmkit.datasets
from lstmkit.estimators import ESRNNForecaster, LSTMClassifier, LSTMForecaster
from lstmkit.evaluation.metrics import mase

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


# Forecasting: dataset -> (horizon, MASE season length, baseline season length)
FORECASTS = {"m1_yearly": (6, 1, 1), "airline": (24, 12, 12), "sunspots": (11, 1, 11)}
# Published mean MASE on M1 yearly (Monash archive, Godahewa et al. 2021)
M1_ANCHORS = {"TBATS": 3.499, "ETS": 3.771, "Theta": 4.191, "N-BEATS": 4.384, "ARIMA": 4.479, "DeepAR": 4.603,
              "SES": 4.938}


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


def _padded(X: list, T: int, univariate: bool) -> np.ndarray:
    """(n, F, T) for aeon: z-normalised per series for univariate sets (as for DTW), zeros after the end."""
    seqs = [np.asarray(s, dtype=np.float64).reshape(len(s), -1) for s in X]
    seqs = _znorm(seqs) if univariate else seqs
    out = np.zeros((len(seqs), seqs[0].shape[1], T))
    for i, s in enumerate(seqs):
        out[i, :, : len(s)] = s.T
    return out


def minirocket(name: str, folds: list | None = None) -> tuple[float, float]:
    """Accuracy of aeon's MiniRocket (Dempster et al. 2021; 10,000 features, ridge classifier), a
    strong non-recurrent reference computed in the same run: on the test split, or with ``folds``
    on those held-out parts of the training split (their mean). Same inputs as 1-NN DTW; sets of
    unequal lengths are zero-padded to the longest series (MiniRocket needs one length; with
    ``folds`` the longest training series, so the test split is not read)."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    d = lstmkit.datasets.load(name)
    univariate = name in UNIVARIATE
    T = max(len(s) for s in ([*d.X_train, *d.X_test] if folds is None else d.X_train))
    ytr, t = np.asarray(d.y_train), time.perf_counter()
    if folds is None:
        splits = [(_padded(d.X_train, T, univariate), ytr, _padded(d.X_test, T, univariate), np.asarray(d.y_test))]
    else:
        Xtr = _padded(d.X_train, T, univariate)
        splits = [(Xtr[tr], ytr[tr], Xtr[va], ytr[va]) for tr, va in folds]
    accs = [MiniRocketClassifier(random_state=0).fit(a, b).score(c, e) for a, b, c, e in splits]
    return float(np.mean(accs)), time.perf_counter() - t


def _quiet(overrides: dict) -> dict:
    """The overrides with ``trainer`` (a dict from ``--set trainer=...``) merged over quiet=True."""
    return {**overrides, "trainer": {"quiet": True, **overrides.get("trainer", {})}}


def _parts(clf: LSTMClassifier, X: list, y: np.ndarray) -> dict:
    """Accuracy of each half of a classifier with ``minirocket`` (the same fit): network alone and
    MiniRocket alone; {} without it."""
    if clf.minirocket_ is None:
        return {}
    acc = lambda part: float(np.mean(clf.classes_[clf.predict_proba(X, part=part).argmax(1)] == np.asarray(y)))  # noqa: E731
    return {"network_accuracy": acc("network"), "minirocket_accuracy": acc("minirocket")}


def fit_default(name: str, seed: int, overrides: dict) -> dict:
    d = lstmkit.datasets.load(name)
    t = time.perf_counter()
    clf = LSTMClassifier(random_state=seed, **_quiet(overrides)).fit(d.X_train, d.y_train)
    fit_s = time.perf_counter() - t
    return {"accuracy": clf.score(d.X_test, d.y_test), "fit_s": round(fit_s, 1), "settings": clf.settings_,
            "steps": int(clf.history_[-1]["step"]) if clf.history_ else 0, "epochs": len(clf.history_),
            **_parts(clf, d.X_test, d.y_test)}


def dev_folds(y: np.ndarray, n_folds: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The development folds of a training split: stratified ``n_folds``-fold CV (shuffled,
    random_state 0); by default (None) one stratified 80/20 split for 200 sequences or more, else
    5 folds. On PLAID the single 80/20 split proved too coarse (RESULTS.md), hence ``--folds``."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    if n_folds is None and len(y) >= 200:
        return [train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)]
    return list(StratifiedKFold(n_folds or 5, shuffle=True, random_state=0).split(np.zeros(len(y)), y))


def fit_dev(name: str, seed: int, overrides: dict, n_folds: int | None = None) -> dict:
    """The training split only (how classification defaults are checked; the test split is not
    read): :func:`dev_folds`. Accuracy on the held-out part(s), their mean over folds."""
    d = lstmkit.datasets.load(name)
    X, y = [np.asarray(s) for s in d.X_train], np.asarray(d.y_train)
    folds = dev_folds(y, n_folds)
    accs, parts, t = [], [], time.perf_counter()
    for tr, va in folds:
        clf = LSTMClassifier(random_state=seed, **_quiet(overrides)).fit([X[i] for i in tr], y[tr])
        accs.append(clf.score([X[i] for i in va], y[va]))
        parts.append(_parts(clf, [X[i] for i in va], y[va]))
    mean_parts = {k: float(np.mean([p[k] for p in parts])) for k in parts[0]}
    return {"accuracy": float(np.mean(accs)), "folds": accs, "fit_s": round((time.perf_counter() - t) / len(folds), 1),
            "settings": clf.settings_, **mean_parts}


def forecast_split(name: str, dev: bool = False) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], object, dict]:
    """(train values per series, test values per series, the training data, fit kwargs).

    ``dev``: the development split, cut one horizon earlier (the test points are dropped and the
    horizon before them is the development test), on which the defaults were chosen."""
    H = FORECASTS[name][0]
    if name == "m1_yearly":
        d = lstmkit.datasets.load(name)
        if dev:
            d = d[d.groupby("series", sort=False).cumcount(ascending=False) >= H].reset_index(drop=True)
        is_train = d.groupby("series", sort=False).cumcount(ascending=False) >= H
        train = d[is_train].reset_index(drop=True)
        tr = {k: g["value"].to_numpy() for k, g in train.groupby("series", sort=False)}
        te = {k: g["value"].to_numpy() for k, g in d[~is_train].groupby("series", sort=False)}
        return tr, te, train, {"id_col": "series", "time_col": "year", "target_col": "value"}
    y = lstmkit.datasets.load(name)
    if dev:
        y = y.iloc[:-H]
    return {name: y.to_numpy()[:-H]}, {name: y.to_numpy()[-H:]}, y.iloc[:-H], {}


def fit_forecaster(name: str, seed: int, overrides: dict, dev: bool = False, estimator: str = "LSTMForecaster") -> dict:
    H, m, _ = FORECASTS[name]
    tr, te, train, kw = forecast_split(name, dev)
    fit_on = train
    if name == "m1_yearly":  # the development split has series under h + 1 points: forecast, not trained on
        fit_on = train[train.groupby("series", sort=False)["value"].transform("size") >= H + 1]
    cls = {"LSTMForecaster": LSTMForecaster, "ESRNNForecaster": ESRNNForecaster}[estimator]
    t = time.perf_counter()
    f = cls(horizon=H, random_state=seed, trainer={"quiet": True}, **kw, **overrides).fit(fit_on)
    fit_s = time.perf_counter() - t
    if name != "m1_yearly":
        means = {name: f.predict()["mean"].to_numpy()}
    else:  # ES-RNN forecasts only the series it learned coefficients for; the others (dev split only) get naive
        fitted = set(fit_on["series"])
        pred = f.predict(y=train if cls is LSTMForecaster else train[train["series"].isin(fitted)])
        means = {k: pred.loc[k]["mean"].to_numpy() if k in pred.index.get_level_values(0) else np.repeat(tr[k][-1], H)
                 for k in te}
    return {"mase": float(np.mean([mase(te[k], means[k], tr[k], m) for k in te])), "fit_s": round(fit_s, 1),
            "settings": f.settings_}


def ets_auto(y: np.ndarray, m: int, h: int) -> np.ndarray:
    """statsmodels ETSModel, the lowest-AICc of additive-error models (see the module docstring)."""
    import warnings

    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonals = [None] + ((["add", "mul"] if np.all(y > 0) else ["add"]) if m > 1 and len(y) >= 2 * m + 2 else [])
    best, best_aicc = None, np.inf
    for trend, damped in ((None, False), ("add", False), ("add", True)):
        for seasonal in seasonals:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = ETSModel(y, error="add", trend=trend, damped_trend=damped, seasonal=seasonal,
                                   seasonal_periods=m if seasonal else None).fit(disp=False)
                    fc = np.asarray(res.forecast(h))
            except Exception:  # a model statsmodels cannot fit on this series (too short, singular)
                continue
            if np.isfinite(res.aicc) and res.aicc < best_aicc and np.all(np.isfinite(fc)):
                best, best_aicc = fc, res.aicc
    return best if best is not None else np.repeat(y[-1], h)


def theta(y: np.ndarray, m: int, h: int) -> np.ndarray:
    import warnings

    from statsmodels.tsa.forecasting.theta import ThetaModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return np.asarray(ThetaModel(y, period=max(m, 1), deseasonalize=m > 1 and len(y) >= 2 * m).fit().forecast(h))
        except Exception:  # too short for statsmodels: fall back to naive, as R's thetaf would fail too
            return np.repeat(y[-1], h)


def forecast_baselines(name: str, dev: bool = False) -> list[dict]:
    H, m, mb = FORECASTS[name]
    tr, te, _, _ = forecast_split(name, dev)
    methods = {
        "naive": lambda y: np.repeat(y[-1], H),
        f"seasonal naive (m={mb})": lambda y: np.array([y[len(y) - mb + (i % mb)] for i in range(H)]),
        "ETS (statsmodels, AICc)": lambda y: ets_auto(y, mb, H),
        "Theta (statsmodels)": lambda y: theta(y, mb, H),
    }
    rows = []
    for method, fn in methods.items():
        t = time.perf_counter()
        score = float(np.mean([mase(te[k], fn(tr[k]), tr[k], m) for k in te]))
        rows.append({"task": "forecasting", "dataset": name, "kind": method, "mase": score,
                     "seconds": round(time.perf_counter() - t, 1)})
    return rows


def report_forecasts(rows: list[dict], variant: str) -> None:
    print(f"\nforecaster ({variant or 'LSTMForecaster defaults'}) test MASE, mean (sd) over seeds; baselines from this run")
    for name, (H, m, _) in FORECASTS.items():
        ours = [r for r in rows if r.get("dataset") == name and r.get("kind") == "lstmkit" and r.get("variant") == variant]
        base = [r for r in rows if r.get("dataset") == name and r.get("kind") != "lstmkit"
                and r.get("dev", False) == variant.startswith("development split")]
        if not ours and not base:
            continue
        print(f"{name} (horizon {H}, MASE m = {m})")
        if ours:
            a = np.array([r["mase"] for r in ours])
            print(f"  {'lstmkit':28s} {a.mean():.3f} ({a.std():.3f})  {len(a)} seeds, fit {np.mean([r['fit_s'] for r in ours]):.0f} s")
        for r in base:
            print(f"  {r['kind']:28s} {r['mase']:.3f}")
        if name == "m1_yearly":
            print("  published: " + ", ".join(f"{k} {v}" for k, v in M1_ANCHORS.items()))


def report(rows: list[dict], variant: str, split: str = "test") -> None:
    """The table of ``variant``'s rows; ``split`` ("test", or the development split's name, e.g.
    "dev" or "dev 5-fold") picks the MiniRocket row computed on the same data."""
    what = ("accuracy on held-out parts of the training split (not the test)" if variant.startswith("development split")
            else "test accuracy")
    print(f"\nLSTMClassifier({variant or 'defaults'}) {what}, mean (sd) over seeds; 1-NN DTW and MiniRocket from "
          "this run; anchors published")
    print(f"{'dataset':22s} {'lstmkit':>15s} {'seeds':>5s} {'fit s':>6s} {'network':>7s} {'MR half':>7s} {'1-NN DTW':>9s} "
          f"{'MiniRocket':>10s} | {'DTW*':>5s} {'Incep.':>6s} {'LSTM-FCN':>8s}")
    print("  (network, MR half: the classifier's two halves alone, same fits, means over seeds; - without minirocket)")
    uni, uni_mr, uni_net = {}, {}, {}
    for name in (*UNIVARIATE, *MULTIVARIATE):
        accs = [r["accuracy"] for r in rows if r.get("dataset") == name and r.get("kind") == "lstmkit" and r.get("variant") == variant]
        fits = [r["fit_s"] for r in rows if r.get("dataset") == name and r.get("kind") == "lstmkit" and r.get("variant") == variant]
        halves = [(r.get("network_accuracy"), r.get("minirocket_accuracy")) for r in rows if r.get("dataset") == name
                  and r.get("kind") == "lstmkit" and r.get("variant") == variant]
        net_half = [h[0] for h in halves if h[0] is not None]
        mr_half = [h[1] for h in halves if h[1] is not None]
        dtw = [r["accuracy"] for r in rows if r.get("dataset") == name and r.get("kind") == "dtw" and split == "test"]
        mr = [r["accuracy"] for r in rows if r.get("dataset") == name and r.get("kind") == "minirocket"
              and r.get("split", "test") == split]
        if not (accs or dtw or mr):
            continue
        a, (pd, pi, pf) = np.array(accs), ANCHORS[name]
        if name in UNIVARIATE and accs:
            uni[name] = a.mean()
        if name in UNIVARIATE and mr:
            uni_mr[name] = mr[-1]
        if name in UNIVARIATE and net_half:
            uni_net[name] = np.mean(net_half)
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        ours = f"{a.mean():.3f} ({a.std():.3f}) {len(a):5d} {np.mean(fits):6.0f}" if accs else f"{'-':>15s} {0:5d} {'-':>6s}"
        halves_txt = (f"{fmt(np.mean(net_half) if net_half else None):>7s} "
                      f"{fmt(np.mean(mr_half) if mr_half else None):>7s}")
        print(f"{name:22s} {ours} {halves_txt} {fmt(dtw[-1] if dtw else None):>9s} "
              f"{fmt(mr[-1] if mr else None):>10s} | {fmt(pd):>5s} {fmt(pi):>6s} {fmt(pf):>8s}")
    if len(uni) == len(UNIVARIATE):
        incep = np.mean([ANCHORS[n][1] for n in UNIVARIATE])
        print(f"univariate mean {np.mean(list(uni.values())):.3f} vs InceptionTime {incep:.3f} "
              f"(gap {np.mean(list(uni.values())) - incep:+.3f}; acceptance: within 0.03)")
    if len(uni_net) == len(UNIVARIATE):
        print(f"univariate mean of the network half alone: {np.mean(list(uni_net.values())):.3f}")
    if len(uni_mr) == len(UNIVARIATE):
        print(f"univariate mean of MiniRocket (aeon, this run): {np.mean(list(uni_mr.values())):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=("classification", "forecasting"), default="classification")
    ap.add_argument("--datasets", nargs="*", default=None, help="default: every set of the task")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="a non-default variant (ablation)")
    ap.add_argument("--out", help="append each result as a JSON line here (and skip results already there)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-dtw", action="store_true", help="skip the 1-NN DTW baseline")
    ap.add_argument("--no-minirocket", action="store_true", help="skip the MiniRocket reference")
    ap.add_argument("--report", action="store_true", help="only print the table from --out")
    ap.add_argument("--estimator", choices=("LSTMForecaster", "ESRNNForecaster"), default="LSTMForecaster",
                    help="forecasting: the estimator fitted with its defaults")
    ap.add_argument("--dev", action="store_true",
                    help="the development split (how the defaults were chosen): forecasting one horizon earlier; "
                         "classification the training split only (80/20 from 200 sequences, else 5-fold CV)")
    ap.add_argument("--folds", type=int, default=None, metavar="K",
                    help="with --dev: stratified K-fold CV of the training split for every set")
    args = ap.parse_args()
    if args.folds is not None and (not args.dev or args.folds < 2):
        ap.error(f"--folds needs --dev and K >= 2, got {args.folds}")
    torch.set_num_threads(args.threads)
    overrides = _parse_set(args.set)
    variant = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
    if args.estimator != "LSTMForecaster":
        variant = args.estimator + (f", {variant}" if variant else "")
    split = "test" if not args.dev else "dev" if args.folds is None else f"dev {args.folds}-fold"
    if args.dev:
        variant = ("development split" + (f" ({args.folds}-fold)" if args.folds else "")
                   + (f", {variant}" if variant else ""))
    rows = _done(args.out)
    if args.task == "forecasting":
        for name in (args.datasets or list(FORECASTS)) if not args.report else []:
            if name not in FORECASTS:
                ap.error(f"unknown forecasting dataset {name!r}; choose from {list(FORECASTS)}")
            if not any(r.get("dataset") == name and r.get("kind") != "lstmkit" and r.get("dev", False) == args.dev for r in rows):
                for row in forecast_baselines(name, args.dev):
                    row["dev"] = args.dev
                    rows.append(row)
                    _append(args.out, row)
            if args.estimator == "ESRNNForecaster" and name == "sunspots":
                print("sunspots: skipped for ESRNNForecaster, which is multiplicative (log values) and the series has zeros")
                continue
            for seed in args.seeds:
                if any(r.get("dataset") == name and r.get("kind") == "lstmkit" and r.get("seed") == seed
                       and r.get("variant") == variant for r in rows):
                    continue
                rows.append({"task": "forecasting", "dataset": name, "kind": "lstmkit", "seed": seed, "variant": variant,
                             **fit_forecaster(name, seed, overrides, args.dev, args.estimator)})
                _append(args.out, rows[-1])
        report_forecasts(rows, variant)
        return
    args.datasets = args.datasets or [*UNIVARIATE, *MULTIVARIATE]
    if not args.report:
        for name in args.datasets:
            if name not in ANCHORS:
                ap.error(f"unknown dataset {name!r}; choose from {list(ANCHORS)}")
            if not args.no_dtw and not args.dev and not any(r.get("dataset") == name and r.get("kind") == "dtw" for r in rows):
                acc, secs = dtw_1nn(name)
                rows.append({"dataset": name, "kind": "dtw", "accuracy": acc, "seconds": round(secs, 1)})
                _append(args.out, rows[-1])
            if not args.no_minirocket and not any(r.get("dataset") == name and r.get("kind") == "minirocket"
                                                  and r.get("split", "test") == split for r in rows):
                folds = dev_folds(np.asarray(lstmkit.datasets.load(name).y_train), args.folds) if args.dev else None
                acc, secs = minirocket(name, folds)
                rows.append({"dataset": name, "kind": "minirocket", "split": split, "accuracy": acc, "seconds": round(secs, 1)})
                _append(args.out, rows[-1])
            for seed in args.seeds:
                if any(r.get("dataset") == name and r.get("kind") == "lstmkit" and r.get("seed") == seed
                       and r.get("variant") == variant for r in rows):
                    continue
                if args.dev:
                    result = fit_dev(name, seed, overrides, args.folds)
                else:
                    result = fit_default(name, seed, overrides)
                rows.append({"dataset": name, "kind": "lstmkit", "seed": seed, "variant": variant, **result})
                _append(args.out, rows[-1])
    report(rows, variant, split)


if __name__ == "__main__":
    main()
