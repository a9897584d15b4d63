"""``lstmkit anomaly fit|score|evaluate`` on a labelled CSV; errors print one line and exit 2."""

import json

import numpy as np
import pandas as pd
import pytest

import lstmkit.evaluation.anomaly as anomaly_metrics
from lstmkit.cli.main import main
from lstmkit.errors import MissingDependencyError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("anomaly")
    t = np.arange(600)
    rng = np.random.default_rng(0)
    value = np.sin(2 * np.pi * t / 30) + 0.05 * rng.normal(size=600)
    value[450:455] += 2.0
    label = np.zeros(600, int)
    label[450:455] = 1
    csv = root / "sensor.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=600, freq="min"), "value": value, "label": label}).to_csv(csv, index=False)
    model = root / "sensor.model"
    code = main(["anomaly", "fit", "--data", str(csv), "--model", str(model), "--train-size", "300", "--time-col", "time",
                 "--epochs", "3", "--quiet", "--set", "hidden_size=8", "--set", "num_layers=1", "--set", "window=16"])
    assert code == 0
    return csv, model


def test_fit_score_evaluate(trained, tmp_path, capsys, monkeypatch):
    csv, model = trained
    capsys.readouterr()
    out, ranges, plot = tmp_path / "scores.csv", tmp_path / "ranges.csv", tmp_path / "plot.png"
    assert main(["anomaly", "score", "--data", str(csv), "--model", str(model), "--out", str(out),
                 "--ranges", str(ranges), "--plot", str(plot)]) == 0
    assert "scored 600 points" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table.columns) == ["time", "score", "is_anomaly", "label"] and len(table) == 600
    assert set(table.is_anomaly) <= {0, 1} and table.label.sum() == 5
    found = pd.read_csv(ranges)
    assert list(found.columns) == ["start", "end", "peak", "peak_score", "length"]
    assert found.start.str.startswith("2024-01-01").all()  # ranges in the time column's units
    assert plot.stat().st_size > 10_000
    # the existing --out is not overwritten without --force
    assert main(["anomaly", "score", "--data", str(csv), "--model", str(model), "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err

    def no_stumpy(*a, **k):
        raise MissingDependencyError("matrix_profile_discord needs the package 'stumpy': pip install stumpy")

    monkeypatch.setattr(anomaly_metrics, "matrix_profile_discord", no_stumpy)
    report = tmp_path / "report.json"
    assert main(["anomaly", "evaluate", "--data", str(csv), "--model", str(model), "--from", "300",
                 "--json", str(report)]) == 0
    captured = capsys.readouterr()
    assert "LSTM detector" in captured.out and "rolling z-score (values)" in captured.out
    assert "random score" in captured.out and "PA-F1 (optimistic)" in captured.out
    assert "matrix-profile baseline skipped" in captured.err
    saved = json.loads(report.read_text())
    assert saved["from"] == 300 and 0 <= saved["rows"]["LSTM detector"]["vus_pr"] <= 1 and "random score" in saved["rows"]


@pytest.mark.parametrize("argv, message", [
    (["--label-col", "nope"], "label_col 'nope' is not a column of --data"),
    (["--from", "9999"], "--from must be in [0, 599], got 9999"),
])
def test_evaluate_errors_are_one_line(trained, capsys, argv, message):
    csv, model = trained
    capsys.readouterr()
    code = main(["anomaly", "evaluate", "--data", str(csv), "--model", str(model), *argv])
    err = capsys.readouterr().err
    if argv[0] == "--label-col":  # not an option of evaluate: the label column is the model's
        assert code == 2 and "No such option" in err
        return
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_fit_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"value": np.arange(100.0), "label": [0, 2] * 50}).to_csv(bad, index=False)
    code = main(["anomaly", "fit", "--data", str(bad), "--model", str(tmp_path / "m"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "label column 'label' of --data (bad.csv) must hold only 0 and 1; row 1 holds 2" in err
    assert len(err.strip().splitlines()) == 1
    code = main(["anomaly", "fit", "--data", "dataset:ucr-136", "--model", str(tmp_path / "m")])
    assert code == 2 and "unknown dataset 'ucr-136' (did you mean 'ucr-135'?)" in capsys.readouterr().err
