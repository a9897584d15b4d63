"""``lstmkit anomaly fit|score|evaluate``: LSTM anomaly detection on a series.

Data: a CSV/Parquet file (value columns, optionally a 0/1 label column and a time column) or
``dataset:NAME`` (``ucr-135``, ``yahoo``, ``mitdb``, ``daphnet``: ``fit`` reads the dataset's
training part, ``score`` and ``evaluate`` the whole series and measure after the training part).

lstmkit's torch-dependent modules are imported inside the commands, as in the other command
groups, so ``lstmkit --help`` and argument errors answer without importing torch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer

from lstmkit.cli._options import (
    ConfigOpt,
    EpochsOpt,
    ForceOpt,
    NanOpt,
    QuietOpt,
    ResumeOpt,
    RunDirOpt,
    SeedOpt,
    SetOpt,
    TimeColOpt,
    check_model_path,
    check_writable,
    interruptible,
    load_estimator,
    need_file,
    resume_command,
    settings,
    trainer_overrides,
)
from lstmkit.errors import DataError

app = typer.Typer(rich_markup_mode=None, help="Anomaly detection: fit on normal data, score, threshold, evaluate.",
                  no_args_is_help=True)

DataOpt = typer.Option(..., "--data", metavar="SRC", help="A CSV/Parquet file or dataset:NAME (ucr-135, yahoo, mitdb, daphnet).")
ModelInOpt = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory written by `anomaly fit`.")
ColumnsOpt = typer.Option(None, "--columns", metavar="A,B", help="Value columns (default: every numeric column but the label and time columns).")
LabelOpt = typer.Option(None, "--label-col", metavar="COLUMN", help="0/1 label column (default: label, is_anomaly or anomaly if present).")
PlotOpt = typer.Option(None, "--plot", metavar="FILE.png", help="Also draw the series, the score and the detected and labelled ranges.")


def read_source(source: str, *, train: bool) -> tuple[Any, int, str]:
    """(DataFrame or path, training points at its start, name) of ``--data``."""
    if source.startswith("dataset:"):
        import lstmkit.datasets

        name = source.split(":", 1)[1]
        split = lstmkit.datasets.load(name)
        if not hasattr(split, "train_size"):
            raise DataError(f"dataset {name!r} is not an anomaly-detection series (try lstmkit datasets list)")
        return (split.train if train else split.series), split.train_size, name
    return need_file(Path(source)), 0, Path(source).name


def _columns(text: Optional[str]) -> Optional[list[str]]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None



def _check_out(path: Optional[Path], option: str, suffixes: tuple[str, ...]) -> None:
    if path is None:
        return
    if path.suffix.lower() not in suffixes:
        raise DataError(f"{option} must end in {' or '.join(suffixes)}, got {str(path)!r}")
    check_writable(path, option)


@app.command()
def fit(
    data: str = DataOpt,
    model: Path = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory to write."),
    train_size: Optional[int] = typer.Option(None, "--train-size", metavar="N", help="Fit on the first N points only (default: all of a file; the training part of a dataset)."),
    columns: Optional[str] = ColumnsOpt,
    label_col: Optional[str] = LabelOpt,
    time_col: Optional[str] = TimeColOpt,
    nan_policy: str = NanOpt,
    epochs: Optional[int] = EpochsOpt,
    seed: Optional[int] = SeedOpt,
    set_: Optional[list[str]] = SetOpt,
    config: Optional[Path] = ConfigOpt,
    run_dir: Optional[Path] = RunDirOpt,
    resume: bool = ResumeOpt,
    quiet: bool = QuietOpt,
    force: bool = ForceOpt,
) -> None:
    """Learn normal behaviour from a series (normal or mostly normal) and save the detector.

    Example: lstmkit anomaly fit --data dataset:ucr-135 --model ucr.model
    """
    from lstmkit.data.anomaly import read_anomaly_series
    from lstmkit.estimators import LSTMAnomalyDetector

    check_model_path(model, force)
    if train_size is not None and train_size < 1:
        raise DataError(f"--train-size must be a positive number of points, got {train_size}")
    est, tr = settings(LSTMAnomalyDetector._get_param_names(), config, set_)
    if seed is not None:
        est["random_state"] = seed
    est.update({k: v for k, v in (("columns", _columns(columns)), ("label_col", label_col), ("time_col", time_col))
                if v is not None})
    est.setdefault("nan_policy", nan_policy)
    det = LSTMAnomalyDetector(**est, trainer=trainer_overrides(tr, epochs=epochs, run_dir=run_dir, quiet=quiet))
    det._check_params()
    source, _, name = read_source(data, train=True)
    series = read_anomaly_series(source, columns=det.columns, label_col=det.label_col, time_col=det.time_col,
                                 nan_policy=det.nan_policy, name="--data")
    if train_size is not None:
        if train_size > len(series):
            raise DataError(f"--train-size {train_size} exceeds the {len(series)} points of --data")
        series.values, series.index = series.values[:train_size], series.index[:train_size]
    import pandas as pd

    frame = pd.DataFrame(series.values, columns=series.columns)
    det.set_params(columns=series.columns, label_col=None, time_col=None, nan_policy="error")  # already read and filled
    start = time.perf_counter()
    with interruptible(resume_command(run_dir)):
        det.fit(frame, resume=resume)
    det.set_params(label_col=label_col, time_col=time_col, nan_policy=nan_policy)  # for scoring files later
    det.save(model, overwrite=force)
    typer.echo(f"fitted on {len(frame)} points of {name} (columns {', '.join(series.columns)}), {len(det.history_)} "
               f"epochs in {time.perf_counter() - start:.0f} s; saved {model}")


@app.command()
def score(
    data: str = DataOpt,
    model: Path = ModelInOpt,
    out: Path = typer.Option(..., "--out", "-o", metavar="FILE.csv", help="Scores per point: index, score, is_anomaly (and label when present)."),
    ranges: Optional[Path] = typer.Option(None, "--ranges", metavar="FILE.csv", help="Also write the detected ranges (start, end, peak, peak_score, length)."),
    plot: Optional[Path] = PlotOpt,
    force: bool = ForceOpt,
) -> None:
    """Score every point of a series, flag anomalies by the detector's threshold, write CSV.

    Example: lstmkit anomaly score --data dataset:ucr-135 --model ucr.model --out scores.csv --ranges ranges.csv --plot ucr.png
    """
    import pandas as pd

    from lstmkit.estimators.anomaly import ranges_frame
    from lstmkit.utils.io import atomic_write_bytes

    _check_out(out, "--out", (".csv",))
    _check_out(ranges, "--ranges", (".csv",))
    _check_out(plot, "--plot", (".png", ".svg"))
    for option, path in (("--out", out), ("--ranges", ranges)):
        if path is not None and path.exists() and not force:
            raise DataError(f"{option} {str(path)!r} exists; pass --force to overwrite it")
    det = load_estimator(model, "LSTMAnomalyDetector")
    source, train_size, name = read_source(data, train=False)
    series, scores, flags = det.scored(source, "--data")
    table = pd.DataFrame({"score": scores, "is_anomaly": flags}, index=series.index)
    table.index.name = det.time_col or "index"
    if series.labels is not None:
        table["label"] = series.labels
    atomic_write_bytes(out, table.to_csv().encode())
    found = ranges_frame(flags, scores, series.index)
    if ranges is not None:
        atomic_write_bytes(ranges, found.to_csv(index=False).encode())
    if plot is not None:
        from lstmkit.viz.anomaly import plot_anomalies

        plot_anomalies(series.values, scores, plot, predictions=flags, labels=series.labels, columns=series.columns,
                       title=f"{name}: LSTM anomaly score ({det.scorer}, threshold {det.threshold})",
                       train_size=train_size)
    top = found.sort_values("peak_score", ascending=False).head(3)
    peaks = ", ".join(f"{r.start}-{r.end} (peak {r.peak_score:.3g})" for r in top.itertuples())
    wrote = ", ".join(str(p) for p in (out, ranges, plot) if p is not None)
    typer.echo(f"scored {len(series)} points; {int(flags.sum())} flagged in {len(found)} range(s)"
               + (f"; highest: {peaks}" if peaks else "") + f"; wrote {wrote}")


@app.command()
def evaluate(
    data: str = DataOpt,
    model: Path = ModelInOpt,
    start: Optional[int] = typer.Option(None, "--from", metavar="N", help="Measure from point N on (default: after a dataset's training part; 0 for a file)."),
    baselines: bool = typer.Option(True, "--baselines/--no-baselines", help="Also score rolling z-scores, the matrix-profile discord (when stumpy is installed) and a random score."),
    json_out: Optional[Path] = typer.Option(None, "--json", metavar="FILE", help="Also write the figures as JSON."),
    plot: Optional[Path] = PlotOpt,
) -> None:
    """AUC-PR, VUS-PR, range-based and point F1 against the series' 0/1 labels, beside baselines.

    Point-adjusted F1 is printed last and marked optimistic: a random score reaches a high
    point-adjusted F1 on long anomaly ranges, so it must not rank detectors.

    Example: lstmkit anomaly evaluate --data dataset:ucr-135 --model ucr.model --plot ucr.png
    """
    from lstmkit.evaluation.anomaly import evaluate_detector

    _check_out(json_out, "--json", (".json",))
    _check_out(plot, "--plot", (".png", ".svg"))
    det = load_estimator(model, "LSTMAnomalyDetector")
    source, train_size, name = read_source(data, train=False)
    series, scores, flags = det.scored(source, "--data")
    if series.labels is None:
        raise DataError("--data has no label column: fit the model with --label-col COLUMN (a 0/1 column; "
                        "'label', 'is_anomaly' or 'anomaly' are found without it)")
    a = train_size if start is None else start
    if not 0 <= a < len(series):
        raise DataError(f"--from must be in [0, {len(series) - 1}], got {a}")
    if not series.labels[a:].any():
        raise DataError(f"--data holds no labelled anomaly from point {a} on: nothing to measure")
    report = evaluate_detector(det, source, start=a, baselines=baselines, scored=(series, scores, flags))
    for note in report["notes"]:
        typer.echo(f"note: {note}", err=True)
    _print_table(report["rows"])
    typer.echo(f"{name}: points {a}-{len(series) - 1} ({report['labelled']} labelled anomalous); VUS buffer up to "
               f"{report['max_buffer']} points (the series' dominant period)")
    if json_out is not None:
        from lstmkit.utils.io import atomic_write_json

        atomic_write_json(json_out, {"data": name, **report})
    if plot is not None:
        from lstmkit.viz.anomaly import plot_anomalies

        plot_anomalies(series.values, scores, plot, predictions=flags, labels=series.labels, columns=series.columns,
                       title=f"{name}: LSTM anomaly score ({det.scorer}, threshold {det.threshold})", train_size=a)


def _print_table(rows: dict[str, dict[str, float]]) -> None:
    cols = [("auc_pr", "AUC-PR"), ("vus_pr", "VUS-PR"), ("range_f1", "range F1"), ("point_f1", "point F1"),
            ("best_f1", "best point F1"), ("best_f1_point_adjusted_optimistic", "PA-F1 (optimistic)")]
    typer.echo(f"{'':38s}" + "".join(f"{h:>19s}" for _, h in cols))
    for name, m in rows.items():
        typer.echo(f"{name:38s}" + "".join(f"{m[k]:19.3f}" if k in m else f"{'-':>19s}" for k, _ in cols))
