"""LSTMMusicModel on real chorales: it learns, composes valid MIDI within the training data's range
and voices, reproducibly, continues a primer, and refuses bad input with named errors."""

import json
import warnings

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit.data.pianoroll import PianoRoll, read_score, write_midi
from lstmkit.datasets.music import SPLIT_FILE
from lstmkit.errors import ConfigError, DataError
from lstmkit.estimators import LSTMMusicModel
from lstmkit.evaluation.music import compare_statistics, music_statistics

music21 = pytest.importorskip("music21", reason="the chorales come from music21 (pip install 'lstmkit[music]')")
mido = pytest.importorskip("mido", reason="MIDI writing needs mido (pip install 'lstmkit[music]')")


@pytest.fixture(scope="module")
def chorales():
    split = json.loads(SPLIT_FILE.read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train = [read_score(music21.corpus.parse(n)) for n in split["train"][:14]]
        test = [read_score(music21.corpus.parse(n)) for n in split["test"][:4]]
    return train, test


@pytest.fixture(scope="module")
def fitted(chorales):
    train, _ = chorales
    return LSTMMusicModel(hidden_size=48, nade_hidden_size=24, val_size=0.15,
                          trainer={"max_epochs": 40, "batch_size": 4, "quiet": True, "lr": 1e-2}).fit(train)


def _frequency_nll(train, test, pipe):
    y = np.concatenate([pipe.targets(pipe.read(r), "")[0] for r in train])
    p = np.clip(y.mean(0), 1e-4, 1 - 1e-4)
    t = np.concatenate([pipe.targets(pipe.read(r), "")[0] for r in test])
    return float(-(t * np.log(p) + (1 - t) * np.log1p(-p)).sum(1).mean())


def test_learns_held_out_chorales_better_than_pitch_frequencies(chorales, fitted):
    train, test = chorales
    m = fitted.evaluate(test)
    baseline = _frequency_nll(train, test, fitted.pipeline_)
    assert m["nll"] < baseline - 1.0, (m, baseline)
    assert m["pieces"] == 4 and m["frames"] == sum(len(r) for r in test)
    assert m["loss"] == pytest.approx(m["nll"] + m["onset_nll"]) and 0 < m["frame_f1"] <= 1
    assert fitted.score(test) == pytest.approx(-m["loss"])


def test_generated_midi_opens_in_music21_and_mido_within_range_and_voices(chorales, fitted, tmp_path):
    train, _ = chorales
    piece = fitted.generate(bars=6, seed=4)
    assert piece == fitted.generate(bars=6, seed=4) and piece != fitted.generate(bars=6, seed=5)
    assert len(piece) == 6 * fitted.pipeline_.bar_frames_
    path = write_midi(piece, tmp_path / "new.mid")
    parsed = music21.converter.parse(str(path))
    assert len(parsed.flatten().notes) > 0
    assert sum(m.type == "note_on" and m.velocity > 0 for m in mido.MidiFile(path).tracks[0]) == len(piece.notes())
    reference = music_statistics([fitted.pipeline_.read(r) for r in train], with_key=False)
    stats = music_statistics([piece], with_key=False)
    assert reference["pitch_low"] <= stats["pitch_low"] and stats["pitch_high"] <= reference["pitch_high"]
    assert stats["voices"] <= reference["voices"] == 4
    cmp = compare_statistics(stats, reference)
    assert 0 <= cmp["pitch_class_distance"] <= 1 and cmp["polyphony_max"] == {"generated": stats["voices"], "reference": 4}


def test_a_primer_is_continued_in_its_own_key(chorales, fitted):
    _, test = chorales
    primer = test[0]  # not in C: the model works in C and hands the piece back in the primer's key
    assert primer.key[0] != 0
    out = fitted.generate(primer, 2, seed=1, temperature=0.8, top_p=0.9)
    assert len(out) == len(primer) + 2 * primer.bar_frames
    assert np.array_equal(out.sounding[: len(primer)], primer.sounding)
    assert fitted.generate(primer, 2, seed=1, temperature=0.8, top_p=0.9).notes() == out.notes()
    only = fitted.generate(primer, 2, seed=1, temperature=0.8, top_p=0.9, include_primer=False)
    assert np.array_equal(only.sounding, out.sounding[len(primer):])
    odd = PianoRoll(primer.sounding.copy(), primer.onsets.copy(), 1, primer.bar_frames, primer.bar_start, primer.key)
    odd.sounding[0, 12] = odd.onsets[0, 12] = True  # C0: far below anything the model knows
    with pytest.warns(UserWarning, match=r"outside the model's pitch range .* after transposing the piece so its tonic is C"):
        kept = fitted.generate(odd, 1, seed=1)
    assert np.array_equal(kept.sounding[: len(odd)], odd.sounding)  # the primer exactly as given


def test_predict_hands_back_each_piece_in_its_own_key(chorales, fitted):
    _, test = chorales
    (pred,) = fitted.predict(test[:1])
    assert pred.key == test[0].key and len(pred) == len(test[0])
    hits = (pred.sounding & test[0].sounding).sum()
    shifted = (np.roll(pred.sounding, 5, axis=1) & test[0].sounding).sum()
    assert hits > shifted  # the predictions line up with the piece as given, not with its transposition


def test_save_load_gives_identical_figures_and_pieces(chorales, fitted, tmp_path):
    _, test = chorales
    again = lstmkit.load(fitted.save(tmp_path / "m"))
    assert again.evaluate(test) == fitted.evaluate(test)
    assert again.generate(bars=2, seed=9).notes() == fitted.generate(bars=2, seed=9).notes()


def test_bad_arguments_and_pieces_get_named_errors(chorales, fitted):
    train, _ = chorales
    with pytest.raises(ConfigError, match=r"temperature must be finite, got inf; bars must be a positive int "
                                          r"\(at most 100000\), got 0; seed must be None or an int in \[0, 2\*\*63\), "
                                          r"got 1.5; include_primer must be True or False, got 'no'"):
        fitted.generate(bars=0, temperature=float("inf"), seed=1.5, include_primer="no")
    with pytest.raises(ConfigError, match=r"top_p must be None or a number in \(0, 1\], got 2"):
        fitted.generate(top_p=2)
    with pytest.raises(DataError, match=r"primer: score file 'missing.mid' does not exist"):
        fitted.generate("missing.mid")
    with pytest.raises(ConfigError, match=r"cell must be one of \['lstm', 'gru', 'rnn'\], got 'lstn' \(did you mean 'lstm'\?\); "
                                          r"val_size must be a fraction"):
        LSTMMusicModel(cell="lstn", val_size=1.5).fit(train)
    with pytest.warns(UserWarning, match=r"X holds 1 piece\(s\): none is held out for validation"):
        LSTMMusicModel(val_size=0.5, hidden_size=4, trainer={"max_epochs": 1, "quiet": True}).fit(train[:1])
    high = PianoRoll(np.zeros((4, 128), bool), np.zeros((4, 128), bool))
    high.sounding[:, 120] = high.onsets[0, 120] = True
    with pytest.warns(UserWarning, match=r"X\[0\]: 4 sounding frame-note\(s\) outside the model's pitch range"):
        m = fitted.evaluate([high])
    assert m["notes_outside_range"] == 4


def test_key_conditioning_feeds_the_mode_and_composes_in_the_asked_mode(chorales):
    train, _ = chorales
    model = LSTMMusicModel(use_key=True, hidden_size=8, nade_hidden_size=4, val_size=0,
                           trainer={"max_epochs": 2, "quiet": True}).fit(train[:4])
    pipe = model.pipeline_
    item = pipe.encode(pipe.read(train[0]))
    key = item["x"][:, -13:]
    assert (key == key[0]).all() and key[0, 0] == 1 and key[0, 12] == float(train[0].key[1] == "minor")  # C after transposing
    assert model.generate(bars=1, seed=0, mode="minor").key == (0, "minor")
    assert model.generate(train[1], 1, seed=0).key == train[1].key  # handed back in the primer's key
    x = torch.from_numpy(item["x"][:1]).repeat(2, 1)[:, None]  # (2, 1, F): the same first frame in two modes
    x[1, 0, -1] = 1 - x[1, 0, -1]
    h, _ = model.network_.hidden(x)
    assert not torch.equal(h[0], h[1])
    with pytest.raises(ConfigError, match=r"mode must be 'major' or 'minor', got 'dorian'"):
        model.generate(mode="dorian")
