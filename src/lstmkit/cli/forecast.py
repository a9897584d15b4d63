"""``lstmkit forecast``: train, predict and backtest LSTM forecasters from the shell.

With no ``--data`` the bundled airline series is used with its tuned settings (log
transform, lookback 24, an ensemble of 3). Any LSTMForecaster parameter can be set with
``--param key=value`` (unknown keys are rejected with a suggestion).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from lstmkit.errors import ConfigError, DataError, suggest

app = typer.Typer(help="Time-series forecasting: train, predict, backtest against classical baselines.",
                  no_args_is_help=True)

_AIRLINE = {"transform": "log", "lookback": 24, "n_models": 3}

DataOpt = typer.Option(None, "--data", help="CSV or Parquet file (default: the bundled airline series).")
TimeOpt = typer.Option(None, "--time-col", help="Time column (default: the first column).")
TargetOpt = typer.Option(None, "--target", help="Target column (default: the only other column).")
IdOpt = typer.Option(None, "--id-col", help="Series id column for many series in long format.")
DatasetOpt = typer.Option(None, "--dataset", help="A bundled series instead of --data (see `lstmkit datasets list`).")
ParamOpt = typer.Option(None, "--param", "-p", help="LSTMForecaster parameter override key=value (repeatable).")


def _load(data: Optional[Path], time_col, target, id_col, dataset: Optional[str] = None) -> tuple[Any, dict[str, Any]]:
    """(y, column kwargs) for the estimator; a bundled dataset (airline by default) when no file is given."""
    if data is not None and dataset is not None:
        raise ConfigError("give --data or --dataset, not both")
    if data is None:
        from lstmkit.datasets import load

        return load(dataset or "airline"), {}
    from lstmkit.data import read_table

    df = read_table(data)
    return df, {"time_col": time_col, "target_col": target, "id_col": id_col}


def _params(horizon: int, overrides: list[str] | None, base: dict[str, Any]) -> dict[str, Any]:
    from lstmkit.estimators import LSTMForecaster

    names = set(LSTMForecaster().get_params(deep=False))
    params = {**base, "horizon": horizon}
    problems = []
    for item in overrides or []:
        if "=" not in item:
            problems.append(f"--param must be key=value, got {item!r}")
            continue
        k, v = item.split("=", 1)
        k = k.strip().replace("-", "_")
        if k not in names:
            problems.append(f"unknown parameter {k!r}{suggest(k, names)}")
            continue
        try:
            params[k] = json.loads(v)
        except json.JSONDecodeError:
            params[k] = None if v.lower() in ("none", "null") else v
    if problems:
        raise ConfigError("; ".join(problems))
    return params


def _trainer(epochs: Optional[int]) -> Any:
    """Trainer fields set on the command line (the estimator's trainer_defaults fill the rest)."""
    return None if epochs is None else {"max_epochs": epochs}


@app.command("train")
def train_cmd(
    out: Path = typer.Option(..., "--out", help="Directory to write the model to."),
    data: Optional[Path] = DataOpt,
    dataset: Optional[str] = DatasetOpt,
    time_col: Optional[str] = TimeOpt,
    target: Optional[str] = TargetOpt,
    id_col: Optional[str] = IdOpt,
    horizon: int = typer.Option(12, "--horizon", help="Steps to forecast."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Maximum epochs (default 300, early stopping)."),
    nan_policy: str = typer.Option("error", "--nan-policy", help="error | interpolate | ffill"),
    param: Optional[list[str]] = ParamOpt,
    force: bool = typer.Option(False, "--force", help="Replace what is at the model path even if it is not an lstmkit model directory."),
) -> None:
    """Fit an LSTMForecaster and save it.

    Example: lstmkit forecast train --data sales.csv --time-col date --target units --id-col store --horizon 14 --out runs/sales
    """
    from lstmkit.persist import check_save_path
    from lstmkit.estimators import LSTMForecaster

    check_save_path(out, overwrite=force)  # before training: never find out after an hour that the path is taken
    y, cols = _load(data, time_col, target, id_col, dataset)
    params = _params(horizon, param, _AIRLINE if data is None and dataset in (None, "airline") else {})
    est = LSTMForecaster(**params, **cols, nan_policy=nan_policy)
    if epochs is not None:
        est.set_params(trainer=_trainer(epochs))
    est.fit(y)
    est.save(out, overwrite=force)
    typer.echo(f"trained on {len(est.pipeline_.contexts)} series; model saved to {out}")


@app.command("predict")
def predict_cmd(
    model: Path = typer.Option(..., "--model", help="Model directory written by `forecast train`."),
    out: Path = typer.Option(..., "--out", help="CSV file for the forecasts."),
    data: Optional[Path] = typer.Option(None, "--data", help="History to forecast from (default: the training series)."),
    horizon: Optional[int] = typer.Option(None, "--horizon", help="Steps to forecast (default: the trained horizon)."),
) -> None:
    """Forecast from the end of the training series (or of --data) and write a CSV.

    Example: lstmkit forecast predict --model runs/airline --out out/forecast.csv
    """
    import lstmkit
    from lstmkit.data import read_table
    from lstmkit.estimators import LSTMForecaster
    from lstmkit.utils.io import atomic_write

    est = lstmkit.load(model)
    if not isinstance(est, LSTMForecaster):
        raise ConfigError(f"{str(model)!r} holds a {type(est).__name__}, not an LSTMForecaster")
    y = read_table(data) if data is not None else None
    pred = est.predict(horizon=horizon, y=y)
    if out.suffix.lower() != ".csv":
        raise ConfigError(f"--out must be a .csv file, got {str(out)!r}")
    atomic_write(out, lambda tmp: pred.to_csv(tmp))
    typer.echo(f"wrote {len(pred)} rows to {out}")


@app.command("backtest")
def backtest_cmd(
    data: Optional[Path] = DataOpt,
    dataset: Optional[str] = DatasetOpt,
    time_col: Optional[str] = TimeOpt,
    target: Optional[str] = TargetOpt,
    horizon: int = typer.Option(12, "--horizon", help="Steps forecast from each origin."),
    origins: int = typer.Option(1, "--origins", help="Number of rolling origins (the last ends at the series end)."),
    stride: Optional[int] = typer.Option(None, "--stride", help="Steps between origins (default: horizon)."),
    refit: bool = typer.Option(True, "--refit/--no-refit", help="Refit the LSTM at every origin."),
    baselines: str = typer.Option("naive,seasonal_naive,holt_winters,sarima", "--baselines",
                                  help="Comma-separated: naive, seasonal_naive, holt_winters, sarima, ar."),
    season_length: Optional[int] = typer.Option(None, "--season-length", help="Seasonal period (default: from the frequency)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Maximum epochs per fit."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a plot of the forecasts (.png or .svg)."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Write every forecast (long format) to this CSV."),
    param: Optional[list[str]] = ParamOpt,
) -> None:
    """Hold out the end of one series and compare the LSTM with classical baselines.

    Examples: lstmkit forecast backtest --horizon 24 --plot out/airline.png
              lstmkit forecast backtest --dataset sunspots --horizon 20 --baselines naive,ar --season-length 11 -p lookback=60
    """
    import pandas as pd
    from rich.console import Console

    from lstmkit.data import read_series
    from lstmkit.evaluation import backtest
    from lstmkit.evaluation.baselines import BASELINES
    from lstmkit.estimators import LSTMForecaster

    names = tuple(b.strip() for b in baselines.split(",") if b.strip())
    bad = [b for b in names if b not in BASELINES]
    if bad:
        raise ConfigError("--baselines: " + "; ".join(f"unknown {b!r}{suggest(b, BASELINES)}" for b in bad)
                          + f"; choose from {sorted(BASELINES)}")
    y, cols = _load(data, time_col, target, None, dataset)
    if data is not None:
        ss = read_series(y, time_col=time_col, target=target)
        if len(ss) != 1:
            raise DataError("backtest takes one series; use --time-col/--target to pick it")
        s = ss.series[0]
        y = pd.Series(s.target, index=s.index, name=ss.target_name)
    params = _params(horizon, param, _AIRLINE if data is None and dataset in (None, "airline") else {})
    est = LSTMForecaster(**params)
    if epochs is not None:
        est.set_params(trainer=_trainer(epochs))
    result = backtest(est, y, horizon=horizon, n_origins=origins, stride=stride, refit=refit, baselines=names,
                      season_length=season_length)
    what = str(data) if data is not None else ("airline passengers" if dataset in (None, "airline") else dataset)
    Console().print(result.table(f"{what}: last {horizon + (origins - 1) * (stride or horizon)} points held out, "
                                 f"{origins} origin(s), horizon {horizon}"))
    if csv is not None:
        from lstmkit.utils.io import atomic_write

        atomic_write(csv, lambda tmp: result.forecasts.to_csv(tmp, index=False))
        typer.echo(f"forecasts written to {csv}")
    if plot is not None:
        from lstmkit.viz import plot_backtest

        plot_backtest(y, result, last=3 * horizon, title=f"{what}: forecasts vs actuals", path=plot)
        typer.echo(f"plot saved to {plot}")
