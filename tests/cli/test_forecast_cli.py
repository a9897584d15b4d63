"""`lstmkit forecast` and `lstmkit datasets`: round trip on a CSV; one-line errors, exit 2."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.cli.main import main


def write_csv(path, n=48, ids=None, **edits):
    t = pd.date_range("2010-01-01", periods=n, freq="MS").strftime("%Y-%m-%d")
    v = 10 + np.sin(np.arange(n) * np.pi / 6)
    if ids:
        df = pd.concat([pd.DataFrame({"store": i, "date": t, "sales": v * (k + 1)}) for k, i in enumerate(ids)])
    else:
        df = pd.DataFrame({"date": t, "sales": v})
    df = df.reset_index(drop=True).astype({"sales": object})
    for (row, col), val in edits.get("cells", {}).items():
        df.loc[row, col] = val
    if "drop" in edits:
        df = df.drop(index=edits["drop"])
    df.to_csv(path, index=False)
    return path


def run_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


TRAIN = ["forecast", "train", "--quiet", "--time-col", "date", "--target-col", "sales", "--horizon", "6", "--epochs", "2",
         "--set", "lookback=12", "--set", "hidden_size=8"]


def test_train_predict_round_trip(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ids=["a", "b"])
    assert main([*TRAIN, "--data", str(data), "--id-col", "store", "--model", str(tmp_path / "m")]) == 0
    assert "trained on 2 series" in capsys.readouterr().out
    out = tmp_path / "f.csv"
    assert main(["forecast", "predict", "--model", str(tmp_path / "m"), "--out", str(out)]) == 0
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["store", "date", "mean", "q0.1", "q0.5", "q0.9"] and len(pred) == 12
    assert pred["date"].iloc[0] == "2014-01-01"
    # forecasting from new data given as a file
    assert main(["forecast", "predict", "--model", str(tmp_path / "m"), "--data", str(data), "--out", str(out)]) == 0


@pytest.mark.parametrize(
    "edits,message",
    [
        ({"cells": {(5, "date"): "yesterday"}}, r"column 'date' \(time\): cannot parse 'yesterday' at line 7 as a timestamp"),
        ({"cells": {(5, "date"): "2010-05-01"}}, r"duplicate timestamp 2010-05-01.*lines 6 and 7"),
        ({"drop": 9}, r"column 'date': 1 missing timestamp for frequency 'MS': 2010-10-01 \(between line 10 and line 11\); "
                      r"to add it and fill its value pass --fill-missing with --nan-policy interpolate or ffill"),
        ({"cells": {(3, "sales"): np.nan}}, r"column 'sales' has NaN at line 5"),
        ({"cells": {(3, "sales"): "n/a?"}}, r"column 'sales' is not numeric: line 5 holds 'n/a\?'"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, capsys, edits, message):
    data = write_csv(tmp_path / "d.csv", **edits)
    err = run_error(capsys, [*TRAIN, "--data", str(data), "--model", str(tmp_path / "m")])
    assert pytest.importorskip("re").search(message, err), err


def test_other_cli_errors(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", n=6)
    err = run_error(capsys, [*TRAIN, "--data", str(data), "--model", str(tmp_path / "m")])
    assert "series too short: need at least 7 points (horizon 6 + 1 past point)" in err
    err = run_error(capsys, [*TRAIN, "--data", str(tmp_path / "nope.csv"), "--model", str(tmp_path / "m")])
    assert "does not exist" in err
    err = run_error(capsys, [*TRAIN, "--data", str(data), "--set", "lookbak=3", "--model", str(tmp_path / "m")])
    assert "did you mean 'lookback'" in err
    err = run_error(capsys, ["forecast", "train", "--data", str(data), "--target-col", "sale", "--model", str(tmp_path / "m")])
    assert "--target-col 'sale' is not a column (did you mean 'sales'?)" in err
    err = run_error(capsys, ["forecast", "predict", "--model", str(tmp_path / "none"), "--out", str(tmp_path / "x.csv")])
    assert "not a directory" in err
    err = run_error(capsys, ["forecast", "backtest", "--baselines", "naive,arima"])
    assert "did you mean 'ar'" in err or "unknown 'arima'" in err


def test_usage_errors_one_line_exit_2(capsys):
    """Unknown options and bad values: click's usage errors, one line (typer >= 0.2x vendors
    click, so this path must not need `import click`)."""
    assert "--no-such-option" in run_error(capsys, ["experiment", "adding", "--no-such-option"])
    assert "--length" in run_error(capsys, ["experiment", "adding", "--length", "abc"])


def test_datasets_list(capsys):
    assert main(["datasets", "list", "--task", "forecasting"]) == 0
    out = capsys.readouterr().out
    assert "airline" in out and "sunspots" in out and "co2" in out


def test_train_without_time_col_uses_first_column(tmp_path, capsys):
    # --time-col defaults to the first column ('date'), as its help says
    data = write_csv(tmp_path / "d.csv")
    argv = ["forecast", "train", "--data", str(data), "--target-col", "sales", "--horizon", "6", "--epochs", "1",
            "--set", "lookback=12", "--set", "hidden_size=4", "--model", str(tmp_path / "m")]
    assert main(argv) == 0, capsys.readouterr().err
    out = tmp_path / "f.csv"
    assert main(["forecast", "predict", "--model", str(tmp_path / "m"), "--out", str(out)]) == 0
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["date", "mean", "q0.1", "q0.5", "q0.9"]
    assert pred["date"].iloc[0] == "2014-01-01" and len(pred) == 6


def test_backtest_prints_table_and_writes_plot_and_csv(tmp_path, capsys, monkeypatch):
    import re

    from lstmkit.datasets import load

    monkeypatch.setenv("COLUMNS", "160")  # rich would shorten model names at 80 columns
    data = tmp_path / "airline.csv"
    load("airline").reset_index().to_csv(data, index=False)  # columns: month, passengers
    plot, csv = tmp_path / "bt.png", tmp_path / "bt.csv"
    argv = ["forecast", "backtest", "--data", str(data), "--target-col", "passengers", "--horizon", "6",
            "--origins", "2", "--epochs", "1", "--set", "lookback=12", "--set", "hidden_size=4",
            "--baselines", "naive,seasonal_naive", "--plot", str(plot), "--out", str(csv)]
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    rows = re.findall(r"^\W+(\w+)\s+│\s+[\d.]+\s+│", out, flags=re.M)
    assert rows == ["lstmkit", "naive", "seasonal_naive"], out
    assert "last 12 points held out, 2 origin(s), horizon 6" in out
    assert plot.is_file() and plot.stat().st_size > 0
    fc = pd.read_csv(csv)
    assert fc.groupby("model").size().to_dict() == {"lstmkit": 12, "naive": 12, "seasonal_naive": 12}


def test_train_refuses_a_folder_with_user_files_before_training(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.csv").write_text("keep me")
    err = run_error(capsys, [*TRAIN, "--data", str(data), "--model", str(folder)])
    assert "not an lstmkit model directory" in err and "--force" in err
    assert [p.name for p in folder.iterdir()] == ["notes.csv"]
    assert main([*TRAIN, "--data", str(data), "--model", str(folder), "--force"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]


def test_known_future_covariates_are_named_at_train_and_given_with_future(tmp_path, capsys):
    n = 60
    t = pd.date_range("2010-01-01", periods=n + 6, freq="MS")
    promo = (np.arange(n + 6) % 4 == 0).astype(float)
    sales = 10 + np.sin(np.arange(n + 6) * np.pi / 6) + 2 * promo
    pd.DataFrame({"date": t[:n].strftime("%Y-%m-%d"), "sales": sales[:n], "promo": promo[:n]}).to_csv(tmp_path / "d.csv", index=False)
    m = tmp_path / "m"
    assert main(["forecast", "train", "--quiet", "--data", str(tmp_path / "d.csv"), "--time-col", "date", "--target-col", "sales",
                 "--horizon", "6", "--epochs", "2", "--set", "lookback=12", "--set", "hidden_size=4", "--model", str(m)]) == 0
    assert "known-future covariates ['promo'] (give their future values to predict with --future)" in capsys.readouterr().out
    err = run_error(capsys, ["forecast", "predict", "--model", str(m), "--out", str(tmp_path / "f.csv")])
    assert "--future FILE is required: the model uses the known-future covariates ['promo']" in err
    pd.DataFrame({"date": t[n:].strftime("%Y-%m-%d"), "promo": promo[n:]}).to_csv(tmp_path / "future.csv", index=False)
    assert main(["forecast", "predict", "--model", str(m), "--future", str(tmp_path / "future.csv"),
                 "--out", str(tmp_path / "f.csv"), "--plot", str(tmp_path / "f.png")]) == 0
    pred = pd.read_csv(tmp_path / "f.csv")
    assert list(pred["date"]) == list(t[n:].strftime("%Y-%m-%d")) and (tmp_path / "f.png").stat().st_size > 0
