"""``lstmkit seq2seq`` and ``lstmkit caption`` on tiny data: train, decode, evaluate, plot; errors
print one line and exit 2."""

import numpy as np
import pytest
from PIL import Image

from checks import date_pairs, picture_captions
from lstmkit.cli.main import main


@pytest.fixture(scope="module")
def s2s(tmp_path_factory):
    root = tmp_path_factory.mktemp("s2s")
    X, y = date_pairs()
    tsv = root / "pairs.tsv"
    tsv.write_text("".join(f"{a}\t{b}\n" for a, b in zip(X, y)), encoding="utf-8")
    model = root / "dates.model"
    assert main(["seq2seq", "train", "--data", str(tsv), "--model", str(model), "--epochs", "2", "--quiet",
                 "--set", "hidden_size=8", "--set", "embedding_dim=4", "--run-dir", str(root / "run")]) == 0
    return root, tsv, model


def test_seq2seq_train_translate_evaluate(s2s, capsys):
    root, tsv, model = s2s
    assert (root / "run" / "metrics.csv").is_file()
    assert main(["seq2seq", "translate", "--model", str(model), "--text", "3 march 2001", "--text", "",
                 "--plot", str(root / "att.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[-1] == f"wrote {root / 'att.png'}"
    assert Image.open(root / "att.png").size[0] > 100
    assert main(["seq2seq", "translate", "--model", str(model), "--data", str(tsv), "-o", str(root / "out.tsv")]) == 0
    assert len((root / "out.tsv").read_text(encoding="utf-8").splitlines()) == 24
    capsys.readouterr()
    assert main(["seq2seq", "evaluate", "--model", str(model), "--data", str(tsv), "--by-length", "--num-beams", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("exact match ") and "BLEU" in out and "chrF" in out and "source length" in out


def test_seq2seq_two_aligned_files(s2s, tmp_path, capsys):
    _, _, model = s2s
    X, y = date_pairs()
    (tmp_path / "src.txt").write_text("\n".join(X) + "\n", encoding="utf-8")
    (tmp_path / "tgt.txt").write_text("\n".join(y[:-1]) + "\n", encoding="utf-8")
    assert main(["seq2seq", "evaluate", "--model", str(model), "--data", str(tmp_path / "src.txt"),
                 "--targets", str(tmp_path / "tgt.txt")]) == 2
    assert "has 24 lines but --targets" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["seq2seq", "train", "--data", "missing.tsv", "--model", "m"], "--data 'missing.tsv' does not exist"),
    (["seq2seq", "translate", "--model", "{model}"], "give the sources with --text"),
    (["seq2seq", "evaluate", "--model", "{model}", "--data", "dataset:dates:nope"], "the part must be one of"),
    (["seq2seq", "translate", "--model", "{model}", "--text", "a", "--num-beams", "0"], "num_beams must be a positive int"),
    (["caption", "describe", "--model", "{model}", "--data", "dataset:scenes"], "holds a LSTMSeq2Seq, not an LSTMCaptioner"),
])
def test_errors_are_one_line(s2s, args, message, capsys):
    _, _, model = s2s
    code = main([a.replace("{model}", str(model)) for a in args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_caption_folder_train_describe_evaluate(tmp_path, capsys):
    images, captions = picture_captions()
    folder = tmp_path / "pics"
    folder.mkdir()
    lines = []
    for i, (im, refs) in enumerate(zip(images, captions)):
        Image.fromarray(im).save(folder / f"{i}.png")
        lines += [f"{i}.png\t{c}" for c in ([refs] if isinstance(refs, str) else refs)]
    (folder / "captions.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = tmp_path / "cap.model"
    assert main(["caption", "train", "--data", str(folder), "--model", str(model), "--epochs", "2", "--quiet",
                 "--set", "conv_channels=4", "--set", "conv_blocks=2", "--set", "hidden_size=8"]) == 0
    assert main(["caption", "describe", "--model", str(model), str(folder / "0.png"), str(folder / "1.png"),
                 "--plot", str(tmp_path / "words.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and (tmp_path / "words.png").is_file()
    assert main(["caption", "evaluate", "--model", str(model), "--data", str(folder)]) == 0
    assert capsys.readouterr().out.startswith("BLEU-4 ")
    (folder / "captions.tsv").write_text("0.png caption without a tab\n", encoding="utf-8")
    assert main(["caption", "evaluate", "--model", str(model), "--data", str(folder)]) == 2
    assert "line 1 must be 'file<TAB>caption'" in capsys.readouterr().err
    (folder / "junk.png").write_bytes(b"not a png")
    (folder / "captions.tsv").write_text("junk.png\ta caption\n", encoding="utf-8")
    assert main(["caption", "evaluate", "--model", str(model), "--data", str(folder)]) == 2
    assert "is not an image Pillow can read" in capsys.readouterr().err


def test_caption_synthetic_scenes_report_attribute_accuracy(tmp_path, capsys, monkeypatch):
    import lstmkit.cli.caption as cli

    monkeypatch.setitem(cli.SIZES, "scenes", {"train": 40, "test": 10})
    model = tmp_path / "scenes.model"
    assert main(["caption", "train", "--data", "dataset:scenes", "--model", str(model), "--epochs", "1", "--quiet",
                 "--set", "conv_channels=4", "--set", "hidden_size=8"]) == 0
    assert main(["caption", "evaluate", "--model", str(model), "--data", "dataset:scenes:test"]) == 0
    out = capsys.readouterr().out
    assert "attribute accuracy" in out
    value = float(out.split("attribute accuracy ")[1].split(";")[0])
    assert 0.0 <= value <= 1.0 and np.isfinite(value)
