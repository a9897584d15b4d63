"""``lstmkit forecast train|predict|backtest``: LSTM forecasters from the shell.

``--data`` is a CSV/Parquet file or ``dataset:<name>`` (default: the bundled airline series,
with its tuned settings: log transform, lookback 24, an ensemble of 3). Any LSTMForecaster
parameter or trainer field can be set with ``--set key=value``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from lstmkit.cli._options import (
    ConfigOpt,
    EpochsOpt,
    ForceOpt,
    IdColOpt,
    NanOpt,
    QuietOpt,
    ResumeOpt,
    RunDirOpt,
    SeedOpt,
    SetOpt,
    TimeColOpt,
    check_model_path,
    interruptible,
    load_estimator,
    need_file,
    resume_command,
    settings,
    trainer_overrides,
)
from lstmkit.errors import ConfigError, DataError, suggest

app = typer.Typer(rich_markup_mode=None, help="Time-series forecasting: train, predict, backtest against classical baselines.",
                  no_args_is_help=True)

_AIRLINE = {"transform": "log", "lookback": 24, "n_models": 3}

DataOpt = typer.Option(None, "--data", metavar="FILE", help="CSV or Parquet file, or dataset:<name> (default: dataset:airline).")
TargetColOpt = typer.Option(None, "--target-col", metavar="COLUMN", help="Target column (default: the only other numeric column).")
FreqOpt = typer.Option(None, "--freq", metavar="FREQ", help="Frequency of the series (pandas alias such as D, W-SUN, MS), if it cannot be inferred.")
FillOpt = typer.Option(False, "--fill-missing", help="Insert missing timestamps (then --nan-policy fills them).")
HorizonOpt = typer.Option(12, "--horizon", metavar="INT", help="Steps forecast from the end of each series.")


def _table(data: Optional[str], columns: dict[str, Optional[str]], **read: Any) -> tuple[Any, dict[str, Any], bool]:
    """(series, column arguments for the estimator, bundled?): ``--data`` read and validated once
    here, with messages in the command line's spelling (file line numbers, --options); the named
    columns are checked from the header first. No torch is imported."""
    if data is None or data.startswith("dataset:"):
        from lstmkit.datasets import load  # the registry only; loaders import their own packages

        name = "airline" if data is None else data.split(":", 1)[1]
        return load(name), {}, name == "airline"
    path = need_file(Path(data))  # before pandas is even imported
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):  # the header line alone, with the standard library
        import csv

        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            cols = next(csv.reader(fh, delimiter="\t" if suffix == ".tsv" else ","), [])
    else:
        from lstmkit.data.timeseries import read_table

        cols = [str(c) for c in read_table(path).columns]
    bad = [f"{opt} {v!r} is not a column{suggest(v, cols)}" for opt, v in columns.items() if v is not None and v not in cols]
    if bad:
        raise DataError(f"{data}: " + "; ".join(bad) + f"; columns are {cols}")
    from lstmkit.data.timeseries import read_series

    given = {"time_col": columns["--time-col"], "target_col": columns["--target-col"], "id_col": columns["--id-col"]}
    series = read_series(path, time_col=given["time_col"], target=given["target_col"], id_col=given["id_col"],
                         spelling="cli", **read)
    return series, given, False


def _estimator(horizon: int, bundled: bool, config: Optional[Path], set_: Optional[list[str]], seed: Optional[int],
               tr_args: dict[str, Any], **fixed: Any) -> Any:
    from lstmkit.estimators import LSTMForecaster

    est, tr = settings(LSTMForecaster._get_param_names(), config, set_)
    params = {**(_AIRLINE if bundled else {}), "horizon": horizon, **fixed, **est}
    if seed is not None:
        params["random_state"] = seed
    return LSTMForecaster(**params, trainer=trainer_overrides(tr, **tr_args))


@app.command("train")
def train_cmd(
    model: Path = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory to write."),
    data: Optional[str] = DataOpt,
    id_col: Optional[str] = IdColOpt,
    time_col: Optional[str] = TimeColOpt,
    target_col: Optional[str] = TargetColOpt,
    horizon: int = HorizonOpt,
    nan_policy: str = NanOpt,
    fill_missing: bool = FillOpt,
    freq: Optional[str] = FreqOpt,
    epochs: Optional[int] = EpochsOpt,
    seed: Optional[int] = SeedOpt,
    set_: Optional[list[str]] = SetOpt,
    config: Optional[Path] = ConfigOpt,
    run_dir: Optional[Path] = RunDirOpt,
    resume: bool = ResumeOpt,
    quiet: bool = QuietOpt,
    force: bool = ForceOpt,
) -> None:
    """Fit an LSTMForecaster and save it.

    Example: lstmkit forecast train --data sales.csv --time-col date --target-col units --id-col store --horizon 14 --model runs/sales
    """
    y, cols, bundled = _table(data, {"--time-col": time_col, "--target-col": target_col, "--id-col": id_col},
                              nan_policy=nan_policy, fill_missing=fill_missing, freq=freq)
    check_model_path(model, force)  # before training: never find out after an hour that the path is taken
    est = _estimator(horizon, bundled, config, set_, seed, dict(epochs=epochs, run_dir=run_dir, quiet=quiet),
                     **cols, nan_policy=nan_policy, fill_missing=fill_missing, freq=freq)
    with interruptible(resume_command(run_dir)):
        est.fit(y, resume=resume)
    est.save(model, overwrite=force)
    pipe = est.pipeline_
    roles = f"target {pipe.target_name!r}"
    if pipe.n_past:
        roles += f"; past-only covariates {pipe.column_order[:pipe.n_past]}"
    if pipe.n_future:
        roles += f"; known-future covariates {pipe.future_names} (give their future values to predict with --future)"
    typer.echo(f"trained on {len(pipe.contexts)} series ({roles}); model saved to {model}")


@app.command("predict")
def predict_cmd(
    model: Path = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory written by `forecast train`."),
    out: Path = typer.Option(..., "--out", "-o", metavar="FILE", help="CSV file for the forecasts."),
    data: Optional[str] = typer.Option(None, "--data", metavar="FILE", help="History to forecast from (default: the training series)."),
    future: Optional[Path] = typer.Option(None, "--future", metavar="FILE", help="CSV of the known-future covariates over the forecast steps (id, time and covariate columns)."),
    horizon: Optional[int] = typer.Option(None, "--horizon", metavar="INT", help="Steps to forecast (default: the trained horizon)."),
    plot: Optional[Path] = typer.Option(None, "--plot", metavar="FILE", help="Also plot history and forecast (.png or .svg)."),
) -> None:
    """Forecast from the end of the training series (or of --data) and write a CSV.

    Example: lstmkit forecast predict --model runs/airline --out out/forecast.csv --plot out/forecast.png
    """
    if out.suffix.lower() != ".csv":
        raise ConfigError(f"--out must be a .csv file, got {str(out)!r}")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):  # before anything is written
        raise ConfigError(f"--plot must end in .png or .svg, got {str(plot)!r}")
    from lstmkit.data.timeseries import read_series, read_table

    path = need_file(Path(data)) if data is not None else None
    x_future = read_table(need_file(future, "--future")) if future is not None else None
    from lstmkit.utils.io import atomic_write

    est = load_estimator(model, "LSTMForecaster")
    pipe = est.pipeline_
    history = None
    if path is not None:  # the model's own columns and policies, messages in CLI spelling
        history = read_series(path, time_col=est.time_col, target=est.target_col, id_col=est.id_col,
                              nan_policy=est.nan_policy, fill_missing=est.fill_missing, freq=est.freq, spelling="cli")
    if pipe.n_future and x_future is None:
        raise ConfigError(f"--future FILE is required: the model uses the known-future covariates {pipe.future_names}; "
                          f"give a CSV with the {pipe.time_name or 'time'} column"
                          + (f", the {pipe.id_name} column" if pipe.id_name else "")
                          + f" and {pipe.future_names} over the {horizon or est.horizon} forecast steps")
    pred = est.predict(horizon=horizon, y=history, X_future=x_future)
    atomic_write(out, lambda tmp: pred.to_csv(tmp))
    typer.echo(f"wrote {len(pred)} rows to {out}")
    if plot is not None:
        import pandas as pd

        from lstmkit.viz import plot_forecast

        series = next(iter(pipe.contexts)) if isinstance(pred.index, pd.MultiIndex) else None
        hist = _history_series(est, series)
        sub = pred.xs(series, level=0) if series is not None else pred
        plot_forecast(hist, sub, title=f"{pipe.target_name}: forecast" + (f" (series {series!r})" if series else ""), path=plot)
        typer.echo(f"plot saved to {plot}" + (f" (series {series!r}; the first of {len(pipe.contexts)})" if series else ""))


def _history_series(est: Any, series: Optional[str]) -> Any:
    """The context a forecast starts from, as a Series, for plotting."""
    import pandas as pd

    pipe = est.pipeline_
    ctx = pipe.contexts[series] if series is not None else next(iter(pipe.contexts.values()))
    return pd.Series(ctx.target, index=ctx.index, name=pipe.target_name)


@app.command("backtest")
def backtest_cmd(
    data: Optional[str] = DataOpt,
    id_col: Optional[str] = IdColOpt,
    series: Optional[list[str]] = typer.Option(None, "--series", metavar="ID", help="Score only this series (repeatable); the LSTM still trains on every series."),
    time_col: Optional[str] = TimeColOpt,
    target_col: Optional[str] = TargetColOpt,
    horizon: int = HorizonOpt,
    origins: int = typer.Option(1, "--origins", metavar="INT", help="Number of rolling origins (the last ends at the series end)."),
    stride: Optional[int] = typer.Option(None, "--stride", metavar="INT", help="Steps between origins (default: horizon)."),
    refit: bool = typer.Option(True, "--refit/--no-refit", help="Refit the LSTM at every origin."),
    baselines: str = typer.Option("naive,seasonal_naive,holt_winters,sarima", "--baselines", metavar="NAMES",
                                  help="Comma-separated: naive, seasonal_naive, holt_winters, sarima, ar."),
    season_length: Optional[int] = typer.Option(None, "--season-length", metavar="INT", help="Seasonal period (default: from the frequency)."),
    nan_policy: str = NanOpt,
    fill_missing: bool = FillOpt,
    freq: Optional[str] = FreqOpt,
    epochs: Optional[int] = EpochsOpt,
    seed: Optional[int] = SeedOpt,
    set_: Optional[list[str]] = SetOpt,
    config: Optional[Path] = ConfigOpt,
    quiet: bool = typer.Option(True, "--quiet/--progress", help="Progress of each fit (default: quiet; the table is the output)."),
    plot: Optional[Path] = typer.Option(None, "--plot", metavar="FILE", help="Write a plot of the forecasts (.png or .svg)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE", help="Write every forecast (long format) to this CSV."),
) -> None:
    """Hold out the end of each series and compare the LSTM with classical baselines.

    \b
    Examples:
      lstmkit forecast backtest --horizon 24 --plot out/airline.png
      lstmkit forecast backtest --data sales.csv --id-col store --series north
    """
    names = tuple(b.strip() for b in baselines.split(",") if b.strip())
    from lstmkit.evaluation.baselines import BASELINES

    bad = [b for b in names if b not in BASELINES]
    if bad:
        raise ConfigError("--baselines: " + "; ".join(f"unknown {b!r}{suggest(b, BASELINES)}" for b in bad)
                          + f"; choose from {sorted(BASELINES)}")
    y, cols, bundled = _table(data, {"--time-col": time_col, "--target-col": target_col, "--id-col": id_col},
                              nan_policy=nan_policy, fill_missing=fill_missing, freq=freq)
    if cols:
        import pandas as pd

        if len(y) > 1:  # many series: a long table (id, time, target) of the validated, gap-filled series
            roles = {"id_col": y.id_name, "time_col": y.time_name or "time", "target_col": y.target_name}
            y = pd.concat([pd.DataFrame({roles["id_col"]: s.id, roles["time_col"]: s.index, roles["target_col"]: s.target})
                           for s in y.series], ignore_index=True)
            cols = roles
        else:
            s = y.series[0]
            y = pd.Series(s.target, index=s.index, name=y.target_name)
            cols = {}
    elif series:
        raise ConfigError("--series needs a table of many series (--data FILE with --id-col)")
    from rich.console import Console

    from lstmkit.evaluation import backtest

    est = _estimator(horizon, bundled, config, set_, seed, dict(epochs=epochs, run_dir=None, quiet=quiet), **cols)
    result = backtest(est, y, horizon=horizon, n_origins=origins, stride=stride, refit=refit, baselines=names,
                      season_length=season_length, series=series or None)
    what = data if data is not None else "airline passengers"
    if bundled:
        what = "airline passengers"
    many = f", mean over {len(result.series)} series" if cols else ""
    Console().print(result.table(f"{what}: last {horizon + (origins - 1) * (stride or horizon)} points held out, "
                                 f"{origins} origin(s), horizon {horizon}{many}"))
    if cols:
        table = result.per_series.pivot_table(index=["series", "model"], columns="metric", values="value", sort=False)
        Console().print(table.round(3).to_string())
    if out is not None:
        from lstmkit.utils.io import atomic_write

        atomic_write(out, lambda tmp: result.forecasts.to_csv(tmp, index=False))
        typer.echo(f"forecasts written to {out}")
    if plot is not None:
        from lstmkit.viz import plot_backtest

        plot_backtest(y, result, series=series or None, last=3 * horizon, title=f"{what}: forecasts vs actuals", path=plot)
        typer.echo(f"plot saved to {plot}")
