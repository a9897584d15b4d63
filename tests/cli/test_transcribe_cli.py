"""``lstmkit transcribe`` on tiny data: train, predict files of each kind, evaluate; one-line errors."""

import json

import numpy as np
import pytest
from PIL import Image

from checks import glyph_lines
from lstmkit.cli.main import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("tr")
    X, y = glyph_lines()
    folder = root / "lines"
    folder.mkdir()
    rows = []
    for i, (img, text) in enumerate(zip(X, y)):
        Image.fromarray((255 * (1 - img)).astype(np.uint8)).save(folder / f"{i}.png")  # dark ink on white paper
        rows.append(f"{i}.png\t{text}")
    (folder / "transcripts.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (root / "lm.txt").write_text("abc cab bca\n" * 20, encoding="utf-8")
    model = root / "reader.model"
    assert main(["transcribe", "train", "--data", str(folder), "--model", str(model), "--epochs", "2", "--quiet",
                 "--lm-text", str(root / "lm.txt"), "--set", "hidden_size=8", "--set", "conv_channels=3"]) == 0
    return root, folder, model


def test_train_predict_evaluate(trained, capsys):
    root, folder, model = trained
    capsys.readouterr()
    assert main(["transcribe", "predict", "--model", str(model), str(folder / "0.png"), str(folder / "1.png"),
                 "--decoder", "beam", "--lm-weight", "0.5"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["transcribe", "evaluate", "--model", str(model), "--data", str(folder)]) == 0
    assert capsys.readouterr().out.startswith("CER ")


def test_stroke_files_are_read(tmp_path):
    from lstmkit.cli.transcribe import read_strokes

    (tmp_path / "s.json").write_text(json.dumps([[[0, 0], [1, 2], [2, 0]], [[3, 0], [3, 2]]]))
    a = read_strokes(tmp_path / "s.json")
    assert a.shape == (5, 3) and a[:, 2].tolist() == [0, 0, 1, 0, 1]
    np.testing.assert_allclose(a[1, :2], [0.5, 1.0])  # offsets, in units of the line's height
    (tmp_path / "s.csv").write_text("x,y,pen_up\n0,0,0\n1,2,0\n2,0,1\n")
    assert read_strokes(tmp_path / "s.csv").shape == (3, 3)
    (tmp_path / "bad.csv").write_text("x,y\n0,0\n")
    with pytest.raises(Exception, match=r"missing column\(s\) \['pen_up'\]"):
        read_strokes(tmp_path / "bad.csv")


@pytest.mark.parametrize("args, message", [
    (["transcribe", "predict", "--model", "{model}", "nothing.png"], "FILE 'nothing.png' does not exist"),
    (["transcribe", "predict", "--model", "{model}", "{folder}/transcripts.tsv"], "unknown kind of file '.tsv'"),
    (["transcribe", "evaluate", "--model", "{model}", "--data", "dataset:digit-strings:dev"], "the part must be one of"),
    (["transcribe", "predict", "--model", "{model}", "{folder}/0.png", "--decoder", "beem"], "decoder must be one of"),
])
def test_errors_are_one_line(trained, args, message, capsys):
    _, folder, model = trained
    code = main([a.replace("{model}", str(model)).replace("{folder}", str(folder)) for a in args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
