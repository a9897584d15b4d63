"""The command line a user touches: one vocabulary, --version, help pages, progress by default,
fast argument errors, and Ctrl-C / SIGTERM during training (a real signal to the real entry point)."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import main

LSTMKIT = [sys.executable, "-m", "lstmkit.cli.main"]
COMMANDS = [["forecast", "train"], ["forecast", "predict"], ["forecast", "backtest"], ["classify", "train"],
            ["classify", "predict"], ["classify", "evaluate"], ["tag", "train"], ["tag", "predict"], ["tag", "evaluate"],
            ["music", "train"], ["music", "evaluate"], ["music", "generate"], ["experiment", "adding"], ["experiment", "temporal-order"], ["datasets", "list"], ["report"]]


def run(args, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "80"}
    return subprocess.run([*LSTMKIT, *args], capture_output=True, text=True, env=env, timeout=600, **kw)


def test_version_and_group_without_command():
    import lstmkit

    r = run(["--version"])
    assert r.returncode == 0 and r.stdout.strip() == f"lstmkit {lstmkit.__version__}"
    r = run(["forecast"])
    assert "Usage: lstmkit forecast" in r.stderr and "error:" not in r.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_pages_have_an_example_and_no_placeholders(command, capsys):
    assert main([*command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example" in text, text
    assert not re.search(r"<(bool|str|int|path|list\[str\]|float)>", text), text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_one_spelling_per_concept_across_commands(capsys):
    """Every command that takes a concept spells it the same way; the old spellings are gone."""
    seen: dict[str, set[str]] = {}
    for command in COMMANDS:
        main([*command, "--help"])
        text = capsys.readouterr().out
        for opt in re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", text, flags=re.M):
            seen.setdefault(opt, set()).add(" ".join(command))
    for old in ("--model-dir", "--param", "--target", "--csv", "--dataset", "--label-column", "--column", "--verbose"):
        assert old not in seen, (old, seen.get(old))
    assert {"forecast train", "classify train", "tag train"} <= seen["--model"] & seen["--run-dir"] & seen["--resume"] & seen["--set"] & seen["--force"] & seen["--seed"]
    assert {"forecast train", "classify train"} <= seen["--id-col"] & seen["--time-col"] & seen["--target-col"]


def test_missing_file_is_reported_before_torch_is_imported(tmp_path):
    code = ("import sys; from lstmkit.cli.main import main; "
            f"rc = main(['forecast', 'train', '--data', {str(tmp_path / 'nope.csv')!r}, '--model', {str(tmp_path / 'm')!r}]); "
            "assert rc == 2, rc; assert 'torch' not in sys.modules, 'torch was imported'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == f"error: --data {str(tmp_path / 'nope.csv')!r} does not exist"


def _csv(path: Path, n: int = 120) -> Path:
    t = pd.date_range("2000-01-01", periods=n, freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"date": t, "sales": 10 + np.sin(np.arange(n) * np.pi / 6)}).to_csv(path, index=False)
    return path


def test_progress_by_default_in_a_pipe_and_quiet_on_request(tmp_path, capfd):
    data = _csv(tmp_path / "d.csv")
    base = ["forecast", "train", "--data", str(data), "--horizon", "6", "--epochs", "3", "--set", "lookback=12",
            "--set", "hidden_size=4"]
    r = run([*base, "--model", str(tmp_path / "m1")])
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert any(line.startswith("epoch 1 ") and "val_loss" in line for line in lines), r.stderr  # plain lines in a pipe
    assert re.search(r"^trained 3 epochs \(\d+ steps\) in [\d.]+ s; best val_loss [-\d.e]+ at epoch \d$", r.stderr, re.M), r.stderr
    capfd.readouterr()
    assert main([*base, "--model", str(tmp_path / "m2"), "--quiet"]) == 0  # in process: a second interpreter adds nothing
    assert capfd.readouterr().err == ""


def test_a_signal_during_training_stops_saves_and_exits_130_then_resume_finishes(tmp_path):
    """SIGINT to the real entry point (SIGTERM takes the same handler: tests/train/test_trainer.py)."""
    data = _csv(tmp_path / "d.csv", n=400)
    run_dir, model = tmp_path / "run", tmp_path / "model"
    argv = ["forecast", "train", "--data", str(data), "--horizon", "6", "--epochs", "12", "--set", "lookback=24",
            "--set", "transform=null",  # one fit: "auto" would checkpoint each candidate in its own subfolder
            "--set", "hidden_size=16", "--set", "trainer.patience=null", "--run-dir", str(run_dir), "--model", str(model)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([*LSTMKIT, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    while not (run_dir / "metrics.csv").exists():  # training has started (one epoch done)
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert re.fullmatch(r"interrupted at epoch \d+, step \d+; resume with: lstmkit forecast train .* --resume", last), last
    assert not model.exists()  # nothing pretends to be a finished model
    epochs_done = len(pd.read_csv(run_dir / "metrics.csv"))
    assert epochs_done < 12
    r = run([*argv, "--resume", "--quiet"])
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(run_dir / "metrics.csv")) == 12 and (model / "config.json").is_file()


def test_ctrl_c_without_run_dir_says_nothing_was_saved(tmp_path):
    data = _csv(tmp_path / "d.csv", n=400)
    argv = ["forecast", "train", "--data", str(data), "--horizon", "6", "--epochs", "500", "--set", "lookback=24",
            "--model", str(tmp_path / "m")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([*LSTMKIT, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    err_lines: list[str] = []
    while not any(line.startswith("epoch 1 ") for line in err_lines):  # the first epoch line (plain progress)
        assert proc.poll() is None and time.monotonic() < deadline
        err_lines.append(proc.stderr.readline())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130
    assert re.search(r"interrupted at epoch \d+, step \d+; nothing was saved \(train with --run-dir DIR", err), err


def test_review_findings_on_the_command_line(tmp_path, capsys):
    data = _csv(tmp_path / "d.csv", n=60)
    base = ["forecast", "train", "--data", str(data), "--horizon", "6", "--epochs", "1", "--quiet", "--set", "lookback=12",
            "--set", "hidden_size=4"]
    # scikit-learn's nested spelling works in --set; a trainer field typed bare is suggested with its prefix
    assert main([*base, "--set", "trainer__lr=0.01", "--freq", "MS", "--model", str(tmp_path / "m")]) == 0
    assert main([*base, "--set", "use_bf17=true", "--model", str(tmp_path / "m2")]) == 2
    assert "unknown setting 'use_bf17' (did you mean 'trainer.use_bf16'?)" in capsys.readouterr().err
    # a warning is one plain line; a bad --plot path is refused before the CSV is written
    out = tmp_path / "f.csv"
    assert main(["forecast", "predict", "--model", str(tmp_path / "m"), "--out", str(out), "--horizon", "8"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: horizon 8 exceeds the trained horizon 6"), err
    out.unlink()
    assert main(["forecast", "predict", "--model", str(tmp_path / "m"), "--out", str(out), "--plot", str(tmp_path / "f.txt")]) == 2
    assert not out.exists() and "--plot must end in .png or .svg" in capsys.readouterr().err


def test_issue_14_items_through_the_real_entry_point(tmp_path, capsys):
    """Items 1, 3, 4, 5 and 8 of issue 14: 8 and 4 through `python -m lstmkit.cli.main` in a subprocess,
    the others through ``main`` in this process (the same entry point, without a second torch import)."""
    days = pd.date_range("2021-01-01", periods=60, freq="D")
    df = pd.concat([pd.DataFrame({"store": s, "date": days.strftime("%Y-%m-%d"), "units": np.arange(60.0) + k})
                    for k, s in enumerate(["a", "b"])], ignore_index=True).drop(index=[70, 71])
    data = tmp_path / "sales.csv"
    df.to_csv(data, index=False)
    # 8: a forgotten id column is named as such, in CLI spelling
    r = run(["forecast", "train", "--data", str(data), "--time-col", "date", "--target-col", "units", "--model", str(tmp_path / "m")])
    assert r.returncode == 2 and "'store' looks like a series id" in r.stderr and "--id-col store" in r.stderr, r.stderr
    # 3: gaps counted as missing timestamps with the file line, and the option that works
    assert main(["forecast", "train", "--data", str(data), "--time-col", "date", "--target-col", "units", "--id-col",
                 "store", "--model", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "2 missing timestamps" in err and "line" in err and "--fill-missing" in err, err
    # 1: a folder of user files is never replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.csv").write_text("x")
    assert main(["forecast", "train", "--data", str(data), "--time-col", "date", "--target-col", "units", "--id-col",
                 "store", "--fill-missing", "--nan-policy", "interpolate", "--model", str(mine)]) == 2
    assert "not an lstmkit model directory" in capsys.readouterr().err and [p.name for p in mine.iterdir()] == ["keep.csv"]
    # 4: a pandas 3 string column in a classify CSV is named, not a 30-line TypeError
    seq = pd.DataFrame({"id": np.repeat([1, 2, 3, 4], 5), "time": np.tile(np.arange(5), 4), "x": np.arange(20.0),
                        "note": ["n"] * 20, "label": np.repeat(["u", "d", "u", "d"], 5)})
    seq.to_csv(tmp_path / "seq.csv", index=False)
    r = run(["classify", "train", "--data", str(tmp_path / "seq.csv"), "--model", str(tmp_path / "c"), "--epochs", "1"])
    assert r.returncode == 2 and "column 'note' is not numeric" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    # 5: --set is checked against the estimator's own parameters
    assert main(["classify", "train", "--data", str(tmp_path / "seq.csv"), "--model", str(tmp_path / "c"), "--set",
                 "poling=max"]) == 2
    assert "unknown setting 'poling' (did you mean 'pooling'?)" in capsys.readouterr().err
    assert main(["classify", "train", "--data", str(tmp_path / "seq.csv"), "--model", str(tmp_path / "c"), "--set",
                 'trainer={"max_steps": 5}']) == 2
    assert "unknown setting 'trainer' (trainer fields one by one: trainer.max_steps=5" in capsys.readouterr().err


def test_command_groups_are_registered_once_per_process(capsys):
    """main() registered every command group again on each call, so the command tree (and the time
    to parse a command line) grew with each call of a program or test suite that calls main()."""
    from lstmkit.cli.main import app

    main(["datasets", "list"])
    groups = len(app.registered_groups)
    for _ in range(3):
        main(["datasets", "list"])
    capsys.readouterr()
    assert len(app.registered_groups) == groups


@pytest.mark.parametrize("text, value", [("True", True), ("FALSE", False), ("None", None), ("true", True),
                                         ("3", 3), ("[8, 5]", [8, 5]), ("auto", "auto"), ("Truth", "Truth")])
def test_set_values_read_json_and_python_spellings(text, value):
    from lstmkit.cli._options import parse_value, settings

    got = parse_value(text)
    assert got == value and type(got) is type(value)  # True, not 1 or "True"
    est, _ = settings(["series_stats", "trainer"], None, [f"series_stats={text}"])
    assert est == {"series_stats": value}
