"""``lstmkit music train|evaluate|generate`` on a folder of MIDI files; errors print one line and exit 2."""

import json

import pytest

from checks import cadences
from lstmkit.cli.main import main
from lstmkit.data.pianoroll import write_midi

music21 = pytest.importorskip("music21", reason="the chorales come from music21 (pip install 'lstmkit[music]')")
mido = pytest.importorskip("mido", reason="MIDI writing needs mido (pip install 'lstmkit[music]')")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("music")
    folder = root / "midi"
    for k, piece in enumerate(cadences()[:5]):  # the CLI's plumbing; real chorales are the estimator tests' data
        write_midi(piece, folder / f"cadence-{k}.mid")
    model = root / "bach.model"
    code = main(["music", "train", "--data", str(folder), "--model", str(model), "--epochs", "3", "--quiet",
                 "--set", "hidden_size=16", "--set", "nade_hidden_size=8", "--set", "val_size=0.2"])
    assert code == 0
    return folder, model


def test_train_evaluate_generate(trained, tmp_path, capsys):
    folder, model = trained
    capsys.readouterr()
    assert main(["music", "evaluate", "--data", str(folder), "--model", str(model), "--json", str(tmp_path / "m.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("NLL ") and "frame F1" in out and "5 pieces" in out
    assert json.loads((tmp_path / "m.json").read_text())["pieces"] == 5
    primer = sorted(folder.glob("*.mid"))[0]
    args = ["music", "generate", "--model", str(model), "--primer", str(primer), "--bars", "2", "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "a.mid"), "--plot", str(tmp_path / "a.png"), "--stats"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {tmp_path / 'a.mid'}: ") and "2 bars composed after a" in out
    assert json.loads(out[out.index("{"):])["voices"] <= 4
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    assert main([*args, "--out", str(tmp_path / "b.mid")]) == 0
    assert (tmp_path / "a.mid").read_bytes() == (tmp_path / "b.mid").read_bytes()  # same seed, same piece
    assert len(music21.converter.parse(str(tmp_path / "a.mid")).flatten().notes) > 0


@pytest.mark.parametrize("argv, message", [
    (["music", "generate", "--out", "x.wav"], "error: --out must be a .mid file, got 'x.wav'"),
    (["music", "generate", "--out", "x.mid", "--top-p", "2"], "error: top_p must be None or a number in (0, 1], got 2.0"),
    (["music", "evaluate", "--data", "dataset:bach-chorales:tst"], "error: --data 'dataset:bach-chorales:tst': the part must be one of"),
    (["music", "evaluate", "--data", "no-such-folder"], "error: --data 'no-such-folder' does not exist"),
    (["music", "evaluate", "--data", "notes.txt"], "error: --data: could not read 'notes.txt' as a score"),
    (["music", "generate", "--out", "dir.mid"], "error: --out 'dir.mid' is a folder"),
    (["music", "generate", "--out", "x.mid", "--plot", "x.jpg"], "error: --plot must end in .png or .svg, got 'x.jpg'"),
    (["music", "generate", "--out", "x.mid", "--tempo", "0"], "error: --tempo must be in (0, 1000]"),
    (["music", "generate", "--out", "x.mid", "--primer", "dir.mid"], "error: --primer: 'dir.mid' is a folder"),
    (["music", "generate", "--out", "x.mid", "--seed", "99999999999999999999"], "error: seed must be None or an int"),
    (["music", "generate", "--out", "x.mid", "--plot", "dir.png"], "error: --plot 'dir.png' is a folder"),
    (["music", "generate", "--out", "notes.txt/x.mid"], "error: --out 'notes.txt/x.mid': 'notes.txt' is a file, not a folder"),
    (["music", "evaluate", "--data", "dataset:bach-chorales:test:x"], "error: --data 'dataset:bach-chorales:test:x': the part"),
])
def test_errors_are_one_line(trained, capsys, argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not music")
    (tmp_path / "dir.mid").mkdir()
    (tmp_path / "dir.png").mkdir()
    _, model = trained
    capsys.readouterr()
    assert main([*argv, "--model", str(model)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip().startswith(message) and captured.err.count("\n") == 1
    assert not (tmp_path / "x.mid").exists()  # nothing written before the arguments are checked


def test_train_rejects_bad_settings_before_reading(tmp_path, capsys):
    assert main(["music", "train", "--data", "dataset:bach-chorales", "--model", str(tmp_path / "m"),
                 "--set", "grid=quater", "--set", "hidden_size=0", "--set", "cell=lstn"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "grid must be one of ['quarter', 'eighth', 'sixteenth'], got 'quater' (did you mean 'quarter'?)" in err
    assert "hidden_size must be a positive int, got 0" in err and "cell must be one of ['lstm', 'gru', 'rnn'], got 'lstn'" in err
