"""Sequence-to-sequence datasets (lstmkit.datasets.translation): CLDR dates via Babel, num2words, and the
SBLGNT -> BSB New Testament from bible-alignments (skipped when that package is absent)."""

import datetime
import importlib.metadata
import importlib.util
import re

import pytest

import lstmkit.datasets
from lstmkit.datasets.translation import (
    DATE_RANGE,
    DEFAULT_DATE_LOCALES,
    GREEK_ENGLISH_SPLIT,
    HELD_OUT_DATE_LOCALES,
    dates,
    greek_english,
    number_words,
)
from lstmkit.errors import ConfigError

needs_extra = pytest.mark.skipif(
    importlib.util.find_spec("babel") is None or importlib.util.find_spec("num2words") is None,
    reason="the seq2seq extra is not installed: pip install 'lstmkit[seq2seq]'")

SMALL = {"n_train": 300, "n_test": 100, "n_valid": 50}


@pytest.fixture(scope="module")
def small_dates():
    return dates(**SMALL, seed=1)


def parts(split):
    return {k: v for k, v in split._asdict().items() if v is not None}


@needs_extra
def test_dates_sizes_and_no_source_in_two_parts(small_dates):
    sizes = {k: len(v.source) for k, v in parts(small_dates).items()}
    assert sizes == {"train": 300, "valid": 50, "test": 100, "test_unseen": 100}
    for part in parts(small_dates).values():
        assert len(part.source) == len(part.target) == len(part.group)
    sources = [s for part in parts(small_dates).values() for s in part.source]
    assert len(set(sources)) == len(sources)  # unique within and across parts, so no (date, locale, format) repeats
    train = set(zip(small_dates.train.source, small_dates.train.target, small_dates.train.group))
    assert not train & set(zip(small_dates.test.source, small_dates.test.target, small_dates.test.group))


@needs_extra
def test_held_out_locales_only_in_test_unseen(small_dates):
    for name in ("train", "valid", "test"):
        assert set(getattr(small_dates, name).group) <= set(DEFAULT_DATE_LOCALES)
    assert set(small_dates.test_unseen.group) == set(HELD_OUT_DATE_LOCALES)
    assert len(set(small_dates.train.group)) == len(DEFAULT_DATE_LOCALES)


@needs_extra
def test_dates_sources_spell_the_month_and_targets_are_iso(small_dates):
    lo, hi = DATE_RANGE
    for part in parts(small_dates).values():
        assert all(any(c.isalpha() for c in s) for s in part.source)  # no all-numeric (ambiguous) source
        assert all(s == " ".join(s.split()) for s in part.source)  # plain single spaces (no U+202F)
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", t) and lo <= datetime.date.fromisoformat(t) <= hi
                   for t in part.target)


@needs_extra
def test_spanish_full_date_round_trip():
    from babel.dates import format_date

    assert format_date(datetime.date(2002, 4, 3), "full", locale="es_ES") == "miércoles, 3 de abril de 2002"
    es = dates(n_train=300, n_test=50, n_valid=0, locales=("es_ES",), held_out_locales=(), seed=0)
    assert es.test_unseen is None and len(es.valid.source) == 0
    full = [(s, t) for s, t in zip(es.train.source, es.train.target)
            if s == format_date(datetime.date.fromisoformat(t), "full", locale="es_ES")]
    assert full  # the "full" format is among those drawn, and its pairs are correct
    for s, t in zip(es.train.source, es.train.target):  # every source names its target's year and day
        day = datetime.date.fromisoformat(t)
        assert str(day.year) in s and re.search(rf"\b{day.day}\b", s)


@needs_extra
def test_dates_are_deterministic_and_eval_parts_ignore_n_train(small_dates):
    assert dates(**SMALL, seed=1) == small_dates
    assert dates(**SMALL, seed=2).train != small_dates.train
    bigger = dates(n_train=400, n_test=100, n_valid=50, seed=1)
    assert bigger.test == small_dates.test and bigger.test_unseen == small_dates.test_unseen
    assert bigger.valid == small_dates.valid


@needs_extra
def test_number_words_both_directions():
    from num2words import num2words

    fwd = number_words(**SMALL, languages=("en", "fr", "de"), seed=0)
    back = number_words(**SMALL, languages=("en", "fr", "de"), direction="to_number", seed=0)
    assert fwd.test_unseen is None and len(fwd.train.source) == 300 and len(fwd.test.source) == 100
    for f, b in zip(parts(fwd).values(), parts(back).values()):
        for src, tgt, lang, bsrc, btgt in zip(f.source, f.target, f.group, b.source, b.target):
            tag, number = src.split(" ")
            assert tag == f"<{lang}>" and 0 <= int(number) <= 999_999
            assert tgt == num2words(int(number), lang=lang)
            assert (bsrc, btgt) == (f"<{lang}> {tgt}", number)
    train = set(zip(fwd.train.group, fwd.train.source))
    for part in (fwd.valid, fwd.test):  # integers unseen in train for the same language
        assert not train & set(zip(part.group, part.source))
    assert len(set(fwd.train.source)) == 300
    assert number_words(**SMALL, seed=5) == number_words(**SMALL, seed=5)


@needs_extra
@pytest.mark.parametrize("call, argument", [
    (lambda: dates(n_train=0), "n_train"),
    (lambda: dates(n_test=2.5), "n_test"),
    (lambda: dates(seed="a"), "seed"),
    (lambda: dates(locales="en_US"), "locales"),
    (lambda: dates(locales=("en_US", "xx_YY")), "xx_YY"),
    (lambda: dates(held_out_locales=("en_US",)), "held_out_locales"),
    (lambda: number_words(direction="words"), "direction"),
    (lambda: number_words(languages=("en", "klingon")), "klingon"),
    (lambda: number_words(n_valid=-1), "n_valid"),
    (lambda: number_words(n_train=100_000, languages=("en",)), "at most 100000"),
    (lambda: dates(n_train=10**6, locales=("en_US",), held_out_locales=()), "at most"),
    (lambda: greek_english(max_words=0), "max_words"),
    (lambda: lstmkit.datasets.load("number-word"), "number-words"),
])
def test_bad_arguments_raise_config_error_naming_them(call, argument):
    with pytest.raises(ConfigError, match=argument):
        call()


@needs_extra
def test_direction_error_lists_the_choices():
    with pytest.raises(ConfigError, match=r"direction must be one of \['to_words', 'to_number'\], got 'words'"):
        number_words(direction="words")


@needs_extra
def test_registered_for_load():
    names = {d.name for d in lstmkit.datasets.list_datasets("translation")}
    assert {"dates", "number-words", "greek-english"} <= names
    assert lstmkit.datasets.load("number-words", n_train=20, n_test=5, n_valid=5).train.group


def _has_bible():
    try:
        importlib.metadata.distribution("bible-alignments")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _has_bible(), reason="bible-alignments is not installed "
                                             "(pip install --no-deps bible-alignments==0.4.2)")
def test_greek_english_holds_out_whole_books():
    nt = greek_english()
    books = {part: set(names.values()) for part, names in GREEK_ENGLISH_SPLIT.items()}
    assert set(nt.test.group) == books["test"] and set(nt.valid.group) == books["valid"]
    assert not set(nt.train.group) & (books["test"] | books["valid"])
    assert len(nt.train.source) > 7000 and len(nt.valid.source) > 100 and len(nt.test.source) > 300
    assert nt.test.target[1] == "Grace and peace to you from God our Father and the Lord Jesus Christ."
    assert nt.test.source[1] == "χάρις ὑμῖν καὶ εἰρήνη ἀπὸ θεοῦ πατρὸς ἡμῶν καὶ κυρίου Ἰησοῦ Χριστοῦ"
    assert not any(re.search(r" [,.;:?!]|  ", t) for t in nt.train.target + nt.test.target)
    assert max(len(s.split()) for s in nt.train.source + nt.train.target) <= 60

    full = greek_english(max_words=None, use_punctuation=False)  # the length limit applies to train only
    assert full.test.source == nt.test.source and full.valid.source == nt.valid.source
    assert len(full.train.source) > len(nt.train.source)
    assert not any(re.search(r"[.;:?!“”]|,(?!\d)", t) for t in full.train.target)  # 144,000 keeps its comma
