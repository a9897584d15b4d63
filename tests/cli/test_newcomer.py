"""A newcomer's session from the README: a daily sales CSV of three stores with missing days and a
NaN is trained on, forecast, backtested per store and plotted, with the run folder resumable."""

import numpy as np
import pandas as pd

from lstmkit.cli.main import main


def sales_csv(path):
    days = pd.date_range("2021-01-01", periods=120, freq="D")
    frames = []
    for k, store in enumerate(["north", "south", "east"]):
        units = 20 + 5 * k + 3 * np.sin(2 * np.pi * np.arange(120) / 7) + np.random.default_rng(k).normal(0, 0.3, 120)
        frames.append(pd.DataFrame({"store": store, "date": days.strftime("%Y-%m-%d"), "units": units.round(2)}))
    df = pd.concat(frames, ignore_index=True)
    df = df.drop(index=[150, 151, 152])  # three missing days for 'south'
    df.loc[300, "units"] = np.nan  # a NaN for 'east'
    df.to_csv(path, index=False)
    return path


def test_newcomer_session(tmp_path, capsys):
    data = sales_csv(tmp_path / "sales.csv")
    cols = ["--data", str(data), "--time-col", "date", "--target-col", "units", "--id-col", "store"]
    small = ["--horizon", "7", "--epochs", "3", "--set", "lookback=14", "--set", "hidden_size=8", "--quiet"]
    # 1. the gaps are named with their file lines, and the fix is spelled as an option
    assert main(["forecast", "train", *cols, *small, "--model", str(tmp_path / "model")]) == 2
    err = capsys.readouterr().err
    assert "3 missing timestamps for frequency 'D': 2021-01-31 .. 2021-02-02" in err and "--fill-missing" in err, err
    # 2. the suggested options work; the run folder makes the training resumable
    train = ["forecast", "train", *cols, *small, "--fill-missing", "--nan-policy", "interpolate",
             "--run-dir", str(tmp_path / "run"), "--model", str(tmp_path / "model")]
    assert main(train) == 0, capsys.readouterr().err
    assert "trained on 3 series" in capsys.readouterr().out
    assert main([*train, "--resume"]) == 0  # a finished run resumes to the same model
    # 3. forecasts for every store, and a plot
    out, plot = tmp_path / "forecast.csv", tmp_path / "forecast.png"
    assert main(["forecast", "predict", "--model", str(tmp_path / "model"), "--out", str(out), "--plot", str(plot)]) == 0
    pred = pd.read_csv(out)
    assert sorted(pred["store"].unique()) == ["east", "north", "south"] and len(pred) == 21
    assert plot.stat().st_size > 0
    # 4. backtest per store against the baselines, two stores scored and plotted
    bt = ["forecast", "backtest", *cols, "--fill-missing", "--nan-policy", "interpolate", "--horizon", "7", "--epochs", "2",
          "--set", "lookback=14", "--set", "hidden_size=8", "--baselines", "naive,seasonal_naive",
          "--series", "north", "--series", "south", "--plot", str(tmp_path / "bt.png"), "--out", str(tmp_path / "bt.csv")]
    assert main(bt) == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "mean over 2 series" in text and "north" in text and "south" in text
    fc = pd.read_csv(tmp_path / "bt.csv")
    assert sorted(fc["series"].unique()) == ["north", "south"]
    assert (tmp_path / "bt.png").stat().st_size > 0
