"""``lstmkit lm train|evaluate|generate`` on a tiny text file; errors print one line and exit 2."""

import pytest

from checks import zen_lines
from lstmkit.cli.main import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    text = root / "zen.txt"
    text.write_text("\n".join(zen_lines() * 3) + "\n")
    model = root / "zen.model"
    code = main(["lm", "train", "--data", str(text), "--model", str(model), "--epochs", "2", "--quiet",
                 "--run-dir", str(root / "run"),
                 "--set", "level=char", "--set", "hidden_size=16", "--set", "embedding_dim=8",
                 "--set", "trainer.batch_size=4", "--set", "trainer.optimizer=adam", "--set", "trainer.lr=0.01"])
    assert code == 0
    assert (root / "run" / "metrics.csv").is_file() and (root / "run" / "model").is_dir()  # a stream keeps no samples
    return text, model


def test_resumed_training_reports_the_whole_run(trained, tmp_path, capsys):
    import csv
    import shutil

    text, model = trained
    run = tmp_path / "run"
    shutil.copytree(model.parent / "run", run)
    capsys.readouterr()
    assert main(["lm", "train", "--data", str(text), "--model", str(tmp_path / "more.model"), "--epochs", "3", "--quiet",
                 "--run-dir", str(run), "--resume",
                 "--set", "level=char", "--set", "hidden_size=16", "--set", "embedding_dim=8",
                 "--set", "trainer.batch_size=4", "--set", "trainer.optimizer=adam", "--set", "trainer.lr=0.01"]) == 0
    line = capsys.readouterr().out
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3  # two epochs before, one in this session
    total = sum(float(r["time_s"]) for r in rows)
    assert f"3 epochs in {total:.0f} s" in line and "; this session " in line


def test_train_evaluate_generate(trained, capsys):
    text, model = trained
    assert main(["lm", "evaluate", "--text", str(text), "--model", str(model)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("perplexity ") and "bits per character" in out
    runs = []
    for _ in range(2):
        assert main(["lm", "generate", "--model", str(model), "--prompt", "Flat is", "-n", "25", "--seed", "4"]) == 0
        got = capsys.readouterr()
        runs.append(got.out)
        assert "tokens/s" in got.err
    assert runs[0] == runs[1] and runs[0].startswith("Flat is") and len(runs[0]) == len("Flat is") + 25 + 1
    assert main(["lm", "generate", "--model", str(model), "--prompt", "Flat", "-n", "5", "--num-beams", "3",
                 "--quiet"]) == 0
    assert len(capsys.readouterr().out) == len("Flat") + 5 + 1


@pytest.mark.parametrize("argv, message", [
    (["lm", "generate", "--top-p", "2"], "error: top_p must be None or a number in (0, 1], got 2.0"),
    (["lm", "evaluate", "--data", "dataset:ptb:tst"], "error: --data 'dataset:ptb:tst': the part must be one of"),
    (["lm", "evaluate", "--data", "no-such.txt"], "error: --data 'no-such.txt' does not exist"),
])
def test_errors_are_one_line(trained, capsys, argv, message):
    _, model = trained
    assert main([*argv, "--model", str(model)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip().startswith(message) and captured.err.count("\n") == 1
