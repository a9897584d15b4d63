"""``lstmkit classify`` and ``lstmkit tag``: train -> predict -> evaluate on tiny files; errors
print one line and exit 2."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.cli.main import main


def write_ts(path, n=16, seed=0):
    rng = np.random.default_rng(seed)
    lines = ["@problemName toy", "@univariate false", "@dimensions 2", "@equalLength false", "@classLabel true up down", "@data"]
    for i in range(n):
        T = int(rng.integers(4, 9))
        lab = ["up", "down"][i % 2]
        base = np.linspace(0, 1, T) * (1 if lab == "up" else -1)
        dims = [base + 0.05 * rng.normal(size=T), rng.normal(size=T)]
        lines.append(":".join(",".join(f"{v:.4f}" for v in d) for d in dims) + f":{lab}")
    path.write_text("\n".join(lines) + "\n")
    return path


CONLLU = "".join(
    f"1\t{a}\t_\t{ta}\t_\t_\t0\troot\t_\t_\n2\t{b}\t_\t{tb}\t_\t_\t1\tdep\t_\t_\n\n"
    for a, ta, b, tb in [("the", "DET", "dog", "NOUN"), ("a", "DET", "cat", "NOUN"), ("dogs", "NOUN", "run", "VERB")] * 4
)


def test_classify_train_predict_evaluate(tmp_path, capsys):
    ts = write_ts(tmp_path / "toy.ts")
    m = tmp_path / "model"
    assert main(["classify", "train", "--data", str(ts), "--model", str(m), "--epochs", "2", "--set", "hidden_size=8", "--set", "trainer.batch_size=8"]) == 0
    assert main(["classify", "predict", "--data", str(ts), "--model", str(m), "-o", str(tmp_path / "p.csv")]) == 0
    pred = pd.read_csv(tmp_path / "p.csv")
    assert list(pred.columns) == ["id", "prediction", "proba_down", "proba_up"] and len(pred) == 16
    np.testing.assert_allclose(pred[["proba_down", "proba_up"]].sum(axis=1), 1.0, atol=1e-9)
    capsys.readouterr()
    assert main(["classify", "evaluate", "--data", str(ts), "--model", str(m), "--plot", str(tmp_path / "cm.png")]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "true \\ predicted" in out
    assert (tmp_path / "cm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_classify_cli_errors_one_line_exit_2(tmp_path, capsys):
    ts = write_ts(tmp_path / "toy.ts")
    m = tmp_path / "model"
    (tmp_path / "empty.ts").write_text("")
    assert main(["classify", "train", "--data", str(tmp_path / "empty.ts"), "--model", str(m)]) == 2
    (tmp_path / "bad.ts").write_text("@classLabel true a b\n@data\n1,2:1,2:a\n1,2,zz:1,2,3:b\n")
    assert main(["classify", "train", "--data", str(tmp_path / "bad.ts"), "--model", str(m)]) == 2
    assert main(["classify", "train", "--data", str(ts), "--model", str(m), "--set", "poling=mean"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"error: --data {str(tmp_path / 'empty.ts')!r} is empty"
    assert "bad.ts, line 4: dimension 0: expected comma-separated numbers, got 'zz'" in err[1]
    assert "--set: unknown setting 'poling' (did you mean 'pooling'?)" in err[2]
    assert len(err) == 3
    assert main(["classify", "train", "--data", str(ts), "--model", str(m), "--epochs", "1", "--set", "hidden_size=4", "--quiet"]) == 0
    other = write_ts(tmp_path / "other.ts").read_text().replace("up down", "up down sideways").replace(":down\n", ":sideways\n", 1)
    (tmp_path / "other.ts").write_text(other)
    capsys.readouterr()
    assert main(["classify", "evaluate", "--data", str(tmp_path / "other.ts"), "--model", str(m), "--plot", str(tmp_path / "x.png")]) == 2
    assert "never seen at fit time: 'sideways'" in capsys.readouterr().err


def test_tag_train_predict_evaluate_and_errors(tmp_path, capsys):
    f = tmp_path / "toy.conllu"
    f.write_text(CONLLU)
    m = tmp_path / "tagger"
    assert main(["tag", "train", "--data", str(f), "--model", str(m), "--epochs", "2", "--set", "hidden_size=8", "--set", "embedding_dim=8"]) == 0
    (tmp_path / "s.txt").write_text("the dog\na cat run\n")
    assert main(["tag", "predict", "--data", str(tmp_path / "s.txt"), "--model", str(m), "-o", str(tmp_path / "t.csv")]) == 0
    tags = pd.read_csv(tmp_path / "t.csv")
    assert tags["token"].tolist() == ["the", "dog", "a", "cat", "run"] and set(tags["prediction"]) <= {"DET", "NOUN", "VERB"}
    assert main(["tag", "evaluate", "--data", str(f), "--model", str(m), "--plot", str(tmp_path / "cm.png")]) == 0
    assert "token_accuracy" in capsys.readouterr().out
    (tmp_path / "bad.conllu").write_text("1\tthe\t_\tDET\n")
    assert main(["tag", "train", "--data", str(tmp_path / "bad.conllu"), "--model", str(m)]) == 2
    (tmp_path / "new.conllu").write_text(CONLLU.replace("VERB", "AUX"))
    assert main(["tag", "evaluate", "--data", str(tmp_path / "new.conllu"), "--model", str(m)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "bad.conllu, line 1: expected 10 tab-separated CoNLL-U columns" in err[0]
    assert "never seen at fit time: 'AUX'" in err[1]


def test_classify_and_tag_train_refuse_a_file_at_the_model_path(tmp_path, capsys):
    picture = tmp_path / "x.png"
    picture.write_bytes(b"png")
    ts = write_ts(tmp_path / "train.ts")
    conllu = tmp_path / "train.conllu"
    conllu.write_text(CONLLU)
    for argv in (["classify", "train", "--data", str(ts), "--model", str(picture), "--epochs", "1"],
                 ["tag", "train", "--data", str(conllu), "--model", str(picture), "--epochs", "1"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "existing file" in err and len(err.splitlines()) == 1
        assert picture.read_bytes() == b"png"
