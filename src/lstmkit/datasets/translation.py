"""Sequence-to-sequence (translation) datasets, generated or read offline from packages that ship them.

Every loader returns a :class:`Seq2SeqSplit` of :class:`Seq2SeqData` parts: parallel lists of
``source`` and ``target`` strings plus a ``group`` (the locale, language or book of each pair),
raw text (no lowercasing, no tokenisation). Nothing is downloaded at run time.

* ``dates``: multilingual date normalisation, ``"miércoles, 3 de abril de 2002"`` ->
  ``"2002-04-03"``, rendered with the Unicode CLDR date formats that Babel ships
  (``pip install 'lstmkit[seq2seq]'``). Locales left out of training make a
  ``test_unseen`` part.
* ``number-words``: integers <-> words in several languages with ``num2words``
  (``pip install 'lstmkit[seq2seq]'``), ``"<fr> 4321"`` -> ``"quatre mille trois cent vingt et un"``.
* ``greek-english``: the Greek New Testament (SBLGNT) -> English (Berean Standard Bible), one pair
  per verse, split by book, read from the data files of Clear Bible's ``bible-alignments``
  package (``pip install --no-deps bible-alignments==0.4.2``).

The generated datasets are deterministic under ``seed`` and no pair (for dates: no source
string) occurs in two parts.
"""

from __future__ import annotations

import csv
import datetime
import functools
import importlib.metadata
import numbers
import random
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lstmkit.datasets import register_dataset, require
from lstmkit.errors import ConfigError, DataError, suggest

__all__ = [
    "DATE_FORMATS",
    "DATE_RANGE",
    "DEFAULT_DATE_LOCALES",
    "GREEK_ENGLISH_SPLIT",
    "HELD_OUT_DATE_LOCALES",
    "NT_BOOKS",
    "NUMBER_RANGE",
    "Seq2SeqData",
    "Seq2SeqSplit",
    "dates",
    "greek_english",
    "number_words",
]


class Seq2SeqData(NamedTuple):
    """One part of a split: ``source[i]`` translates to ``target[i]``; ``group[i]`` is its
    locale, language or book. Three lists of the same length N."""

    source: list[str]
    target: list[str]
    group: list[str]


class Seq2SeqSplit(NamedTuple):
    """``train``, ``valid`` and ``test`` parts; ``test_unseen`` holds the examples of groups never
    seen in training (the held-out locales of ``dates``), ``None`` where a dataset has none."""

    train: Seq2SeqData
    valid: Seq2SeqData
    test: Seq2SeqData
    test_unseen: Seq2SeqData | None = None


# ------------------------------------------------------------------------------------------ dates

# Seen in training: Latin and Cyrillic scripts, day-month and month-day orders, weekday first or last.
DEFAULT_DATE_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "sv_SE",
                        "pl_PL", "ru_RU", "tr_TR")
# Only in ``test_unseen``: languages related to seen ones (Catalan, Romanian, Danish) with their own month names.
HELD_OUT_DATE_LOCALES = ("ca_ES", "ro_RO", "da_DK")
# CLDR's "full", "long" and "medium" date formats, then skeletons that spell the month (Babel matches each
# to the locale's nearest pattern). "short" is left out: all-numeric dates such as 4/3/02 are ambiguous.
DATE_FORMATS = ("full", "long", "medium", "yMMMd", "yMMMEd", "yMMMMEEEEd")
DATE_RANGE = (datetime.date(1900, 1, 1), datetime.date(2099, 12, 31))
_PROBE_DATE = datetime.date(2002, 4, 3)


@register_dataset("dates", task="translation", extra="seq2seq",
                  description="date normalisation in 12 locales (+3 unseen), CLDR formats via Babel -> ISO 8601; "
                              "20000/1000/2000 pairs by default")
def dates(n_train: int = 20000, n_test: int = 2000, locales: Sequence[str] = DEFAULT_DATE_LOCALES,
          held_out_locales: Sequence[str] = HELD_OUT_DATE_LOCALES, seed: int = 0, *,
          n_valid: int = 1000) -> Seq2SeqSplit:
    """Dates written out by CLDR's locale formats, to be normalised to ISO 8601.

    ``"miércoles, 3 de abril de 2002"`` (es_ES) -> ``"2002-04-03"``. Source: the Unicode CLDR date
    formats as shipped by Babel (BSD-3-Clause; CLDR data under the Unicode licence), rendered with
    ``babel.dates.format_date``. The formats are :data:`DATE_FORMATS` ("full", "long", "medium" and
    skeletons that spell the month); in each locale the distinct patterns they resolve to are used,
    and a pattern whose rendering has no letter (de_DE's "medium" is ``03.04.2002``) is dropped, so
    no source is all-numeric. Unicode spaces (U+00A0, U+202F in ru_RU) become plain spaces.

    Each example draws a day uniformly from :data:`DATE_RANGE` (1900-01-01 .. 2099-12-31), a locale
    uniformly from ``locales`` and one of that locale's patterns uniformly. Parts are drawn in the
    order test, test_unseen, valid, train from one ``random.Random(seed)``, so the evaluation parts
    do not change with ``n_train``; a source string is never repeated, within or across parts
    (hence no (date, locale, format) triple is shared either).

    Args:
        n_train, n_test, n_valid: sizes of the parts (defaults 20000, 2000, 1000); each draw may use
            at most half of the distinct renderings of its locales (73049 days times their patterns).
        locales: Babel locale names seen in train, valid and test (group = locale name).
        held_out_locales: locales whose examples (``n_test`` of them) form ``test_unseen`` only;
            empty gives ``test_unseen=None``.
        seed: seeds the draw; equal arguments give equal datasets.

    Returns:
        A :class:`Seq2SeqSplit`; at the defaults 20000 / 1000 / 2000 pairs and 2000 in ``test_unseen``.
    """
    problems = _count_problems(n_train=(n_train, 1), n_test=(n_test, 1), n_valid=(n_valid, 0))
    problems += _seed_problems(seed)
    babel = require("babel", "seq2seq", "dates")
    require("babel.dates", "seq2seq", "dates")  # the submodule is not imported by ``import babel``

    seen = _parse_locales(babel, "locales", locales, problems, allow_empty=False)
    unseen = _parse_locales(babel, "held_out_locales", held_out_locales, problems, allow_empty=True)
    both = sorted(set(seen) & set(unseen))
    if both:
        problems.append(f"held_out_locales must not repeat a locale of locales, got {both} in both")
    if problems:
        raise ConfigError("; ".join(problems))

    patterns = {name: _date_patterns(babel, loc) for name, loc in {**seen, **unseen}.items()}  # name -> [pattern]
    empty = [name for name, p in patterns.items() if not p]
    if empty:
        raise ConfigError(f"locales {empty} have no date format that spells the month among {DATE_FORMATS}; "
                          "choose other locales")
    lo, hi = DATE_RANGE[0].toordinal(), DATE_RANGE[1].toordinal()
    # Unique sources are drawn by rejection: ask for at most half the distinct renderings, so it stays cheap.
    for part, n, names in (("n_test", n_test, seen), ("n_test (test_unseen)", n_test if unseen else 0, unseen),
                           ("n_train + n_valid + n_test", n_train + n_valid + n_test, seen)):
        most = (hi - lo + 1) * sum(len(patterns[name]) for name in names) // 2
        if n > most:
            raise ConfigError(f"{part} must be at most {most} for these locales (half their distinct dated "
                              f"renderings), got {n}; add locales or ask for fewer examples")
    all_locales = {**seen, **unseen}

    def sampler(names: list[str]) -> _Sampler:
        def draw(rng: random.Random) -> tuple[Hashable, _Make]:
            day = datetime.date.fromordinal(rng.randint(lo, hi))
            name = rng.choice(names)
            source = _render_date(babel, day, rng.choice(patterns[name]), all_locales[name])
            return source, lambda: (source, day.isoformat(), name)

        return draw

    rng = random.Random(int(seed))
    used: set[Hashable] = set()
    test = _draw(rng, n_test, sampler(list(seen)), used, "dates", "test")
    test_unseen = _draw(rng, n_test, sampler(list(unseen)), used, "dates", "test_unseen") if unseen else None
    valid = _draw(rng, n_valid, sampler(list(seen)), used, "dates", "valid")
    train = _draw(rng, n_train, sampler(list(seen)), used, "dates", "train")
    return Seq2SeqSplit(train, valid, test, test_unseen)


def _parse_locales(babel: Any, arg: str, value: Any, problems: list[str], *, allow_empty: bool) -> dict[str, Any]:
    """``{canonical name: babel.Locale}``; problems are appended, not raised."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        problems.append(f"{arg} must be a sequence of locale names such as ('en_US', 'de_DE'), got {value!r}")
        return {}
    if not value and not allow_empty:
        problems.append(f"{arg} must name at least one locale, got {value!r}")
    out: dict[str, Any] = {}
    for name in value:
        try:
            loc = babel.Locale.parse(name)
        except (ValueError, TypeError, babel.UnknownLocaleError):
            hint = suggest(str(name), babel.localedata.locale_identifiers()) if isinstance(name, str) else ""
            problems.append(f"{arg}: {name!r} is not a locale Babel knows (expected a name like 'en_US'){hint}")
            continue
        key = str(loc)
        if key in out:
            problems.append(f"{arg} names {key!r} twice")
        out[key] = loc
    return out


def _date_patterns(babel: Any, locale: Any) -> list[str]:
    """The distinct CLDR patterns :data:`DATE_FORMATS` resolve to in ``locale``, those whose rendering
    has at least one letter."""
    out: list[str] = []
    for fmt in DATE_FORMATS:
        if fmt in ("full", "long", "medium"):
            pattern = babel.dates.get_date_format(fmt, locale=locale).pattern
        else:
            skeletons = locale.datetime_skeletons
            match = fmt if fmt in skeletons else babel.dates.match_skeleton(fmt, skeletons)
            if match is None:
                continue
            pattern = skeletons[match].pattern
        if pattern not in out and any(c.isalpha() for c in _render_date(babel, _PROBE_DATE, pattern, locale)):
            out.append(pattern)
    return out


def _render_date(babel: Any, day: datetime.date, pattern: str, locale: Any) -> str:
    return " ".join(babel.dates.format_date(day, pattern, locale=locale).split())  # Unicode spaces -> " "


# ------------------------------------------------------------------------------------- number words

NUMBER_RANGE = (0, 999_999)
_DIRECTIONS = ("to_words", "to_number")


@register_dataset("number-words", task="translation", extra="seq2seq",
                  description="integers 0..999999 <-> words in en/fr/de/es/it/pt (num2words); "
                              "20000/1000/2000 pairs by default")
def number_words(n_train: int = 20000, n_test: int = 2000,
                 languages: Sequence[str] = ("en", "fr", "de", "es", "it", "pt"), direction: str = "to_words",
                 seed: int = 0, *, n_valid: int = 1000) -> Seq2SeqSplit:
    """Integers spelled out in words by ``num2words`` (LGPL), one model for several languages.

    ``direction="to_words"``: ``"<fr> 4321"`` -> ``"quatre mille trois cent vingt et un"``;
    ``"to_number"``: ``"<fr> quatre mille trois cent vingt et un"`` -> ``"4321"`` (the language tag
    stays on the source, so both directions have the same inputs' shape). ``group`` is the language.

    Each example draws a language uniformly and an integer log-uniformly from :data:`NUMBER_RANGE`
    (``int(10 ** U(0, 6)) - 1``: every decade equally likely, so 7, 70 and 7000 are all common).
    A (language, integer) pair occurs at most once in the whole dataset: test and valid integers are
    never in train for the same language. Parts are drawn in the order train, test, valid from one
    ``random.Random(seed)``; train comes first so that it holds the small integers (nearly every
    integer below 100 at the default size) whose words every larger number is built from, and the
    test part is therefore mostly integers of three digits or more, and changes with ``n_train``.

    Args:
        n_train, n_test, n_valid: sizes of the parts (defaults 20000, 2000, 1000), together at most
            100000 per language.
        languages: ``num2words`` language codes (``lang=``); each gets a source tag ``<code>``.
        direction: ``"to_words"`` or ``"to_number"``.
        seed: seeds the draw; equal arguments give equal datasets.

    Returns:
        A :class:`Seq2SeqSplit` (``test_unseen`` is ``None``); 20000 / 1000 / 2000 pairs at the defaults.
    """
    problems = _count_problems(n_train=(n_train, 1), n_test=(n_test, 1), n_valid=(n_valid, 0))
    problems += _seed_problems(seed)
    if direction not in _DIRECTIONS:
        problems.append(f"direction must be one of {list(_DIRECTIONS)}, got {direction!r}"
                        f"{suggest(str(direction), _DIRECTIONS)}")
    n2w = require("num2words", "seq2seq", "number-words")
    known = sorted(n2w.CONVERTER_CLASSES)
    if isinstance(languages, str) or not isinstance(languages, Sequence) or not languages:
        problems.append(f"languages must be a non-empty sequence of num2words language codes such as ('en', 'fr'), "
                        f"got {languages!r}")
        languages = ()
    for lang in languages:
        if lang not in known:
            hint = suggest(lang, known) if isinstance(lang, str) else ""
            problems.append(f"languages: {lang!r} is not a num2words language{hint}; available: {known}")
    repeated = sorted({lang for lang in languages if list(languages).count(lang) > 1}, key=str)
    if repeated:
        problems.append(f"languages names {repeated} more than once")
    if problems:
        raise ConfigError("; ".join(problems))

    langs = list(languages)
    most = len(langs) * (NUMBER_RANGE[1] + 1) // 10  # log-uniform draws find unused large integers slowly
    if n_train + n_valid + n_test > most:
        raise ConfigError(f"n_train + n_valid + n_test must be at most {most} for {len(langs)} language(s) "
                          f"(a tenth of the distinct pairs), got {n_train + n_valid + n_test}; "
                          "add languages or ask for fewer examples")
    decades = len(str(NUMBER_RANGE[1]))  # 6: 10 ** U(0, 6) spans 1 .. 10 ** 6

    def draw(rng: random.Random) -> tuple[Hashable, _Make]:
        lang = rng.choice(langs)
        n = min(int(10 ** rng.uniform(0, decades)), 10 ** decades) - 1  # log-uniform on 0 .. 999999

        def make() -> tuple[str, str, str]:
            words = n2w.num2words(n, lang=lang)
            if direction == "to_words":
                return f"<{lang}> {n}", words, lang
            return f"<{lang}> {words}", str(n), lang

        return (lang, n), make

    rng = random.Random(int(seed))
    used: set[Hashable] = set()
    train = _draw(rng, n_train, draw, used, "number-words", "train")
    test = _draw(rng, n_test, draw, used, "number-words", "test")
    valid = _draw(rng, n_valid, draw, used, "number-words", "valid")
    return Seq2SeqSplit(train, valid, test)


# ------------------------------------------------------------------------------------ greek-english

NT_BOOKS = {40: "Matthew", 41: "Mark", 42: "Luke", 43: "John", 44: "Acts", 45: "Romans", 46: "1 Corinthians",
            47: "2 Corinthians", 48: "Galatians", 49: "Ephesians", 50: "Philippians", 51: "Colossians",
            52: "1 Thessalonians", 53: "2 Thessalonians", 54: "1 Timothy", 55: "2 Timothy", 56: "Titus",
            57: "Philemon", 58: "Hebrews", 59: "James", 60: "1 Peter", 61: "2 Peter", 62: "1 John", 63: "2 John",
            64: "3 John", 65: "Jude", 66: "Revelation"}
# Whole books held out (number: name); every other New Testament book is training text.
GREEK_ENGLISH_SPLIT = {
    "valid": {56: "Titus", 57: "Philemon", 63: "2 John", 64: "3 John", 65: "Jude"},
    "test": {50: "Philippians", 51: "Colossians", 52: "1 Thessalonians", 53: "2 Thessalonians"},
}
# Where the BSB's verse boundaries differ from the SBLGNT's and the file's source_verse column does not
# map them (found by comparing word counts of neighbouring verses): these verses form one example
# (first, last, inclusive; BBCCCVVV).
_MERGED_VERSES = (("42007018", "42007019"), ("44013038", "44013039"), ("47013012", "47013014"),
                  ("62002013", "62002014"), ("64001014", "64001015"), ("66012017", "66012018"))
_GREEK_ID = re.compile(r"n\d{11}")  # n + book 2, chapter 3, verse 3, word 3 digits
_VERSE_ID = re.compile(r"\d{8}")
_SBLGNT_FILE = "data/sources/SBLGNT.tsv"
_BSB_FILE = "data/eng/targets/BSB/nt_BSB.tsv"
_BIBLE_INSTALL = ("pip install --no-deps bible-alignments==0.4.2 (its other dependencies serve a web "
                  "application; on Python >= 3.12 add --ignore-requires-python)")


@register_dataset("greek-english", task="translation",
                  extra="none: pip install --no-deps bible-alignments==0.4.2",
                  description="Greek NT (SBLGNT) -> English (BSB), one pair per verse; held out: Titus, Philemon, "
                              "2-3 John, Jude (valid), Philippians-2 Thessalonians (test)")
def greek_english(max_words: int | None = 60, *, use_punctuation: bool = True) -> Seq2SeqSplit:
    """The Greek New Testament -> English, one pair per verse, split by book.

    Source: the data files of Clear Bible's ``bible-alignments`` package (0.4.2; its data are under
    CC BY 4.0, attribution "MACULA Greek Linguistic Datasets", its code MIT): the Greek text is the
    SBL Greek New Testament (``data/sources/SBLGNT.tsv``, one word per row, no punctuation; the
    SBLGNT is the Society of Biblical Literature's and Logos Bible Software's, whose own terms apply
    to redistributing it), the English the Berean Standard Bible (``data/eng/targets/BSB/nt_BSB.tsv``,
    public domain). lstmkit reads the files in place and never copies them.

    Greek words are joined with spaces. English rows are grouped by their ``source_verse`` (the Greek
    verse they translate, which absorbs most versification differences) and joined with a space
    except after rows marked ``skip_space_after``, so punctuation and quotes sit as printed; the
    ``exclude`` rows of the file are exactly its punctuation tokens (left out of word alignment), kept
    unless ``use_punctuation=False`` (then words are joined by single spaces). Six verse ranges whose
    boundaries differ between the texts form one example each (Luke 7:18-19, Acts 13:38-39,
    2 Corinthians 13:12-14, 1 John 2:13-14, 3 John 14-15, Revelation 12:17-18); a verse with text on one
    side only (Romans 16:24 in the Greek, Romans 16:25-27 in the English) is dropped: 7932 pairs in all.

    Split (:data:`GREEK_ENGLISH_SPLIT`): test = Philippians, Colossians, 1 and 2 Thessalonians
    (335 verses); valid = Titus, Philemon, 2 John, 3 John, Jude (123); train = the other 18 books.
    Verses whose Greek or English has more than ``max_words`` words (split on whitespace) are dropped
    from train only (3 at the default 60); valid and test keep every verse. ``group`` is the book's
    name (:data:`NT_BOOKS`); pairs are in canonical order.

    Args:
        max_words: longest verse (in words, either side) kept in train; ``None`` keeps all.
        use_punctuation: keep the English punctuation (the Greek file has none).

    Returns:
        A :class:`Seq2SeqSplit` (``test_unseen`` is ``None``): 7471 / 123 / 335 pairs at the defaults.
    """
    problems = []
    if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, numbers.Integral)
                                  or max_words < 1):
        problems.append(f"max_words must be a positive int or None, got {max_words!r}")
    if not isinstance(use_punctuation, bool):
        problems.append(f"use_punctuation must be a bool, got {use_punctuation!r}")
    if problems:
        raise ConfigError("; ".join(problems))

    greek_path, english_path = _bible_files()
    held_out = {book: part for part, books in GREEK_ENGLISH_SPLIT.items() for book in books}
    parts: dict[str, Seq2SeqData] = {k: Seq2SeqData([], [], []) for k in ("train", "valid", "test")}
    for verse, source, punctuated, plain in _bible_verses(greek_path, english_path):
        book = int(verse[:2])
        target = punctuated if use_punctuation else plain
        part = held_out.get(book, "train")
        if part == "train" and max_words is not None and max(len(source.split()), len(target.split())) > max_words:
            continue
        data = parts[part]
        data.source.append(source)
        data.target.append(target)
        data.group.append(NT_BOOKS.get(book, str(book)))
    empty = [k for k, v in parts.items() if not v.source]
    if empty:
        raise DataError(f"dataset 'greek-english': no verses for {empty} in {greek_path} and {english_path}; "
                        f"the held-out books are {GREEK_ENGLISH_SPLIT}")
    return Seq2SeqSplit(parts["train"], parts["valid"], parts["test"])


@functools.lru_cache(maxsize=1)
def _bible_verses(greek_path: Path, english_path: Path) -> tuple[tuple[str, str, str, str], ...]:
    """(verse BBCCCVVV, Greek, English with punctuation, English words only) of every verse both files have,
    in canonical order; cached, as reading the two files (340k rows) takes a second or two."""
    merged = {}
    for first, last in _MERGED_VERSES:
        for verse in range(int(first), int(last) + 1):
            merged[f"{verse:08d}"] = first

    greek: dict[str, list[str]] = defaultdict(list)
    for line, (word_id, word) in _read_tsv(greek_path, ("id", "text")):
        if not _GREEK_ID.fullmatch(word_id):
            raise DataError(f"{greek_path}, line {line}: id must look like n40001001001, got {word_id!r}")
        verse = word_id[1:9]
        greek[merged.get(verse, verse)].append(word)

    english: dict[str, list[tuple[str, bool, bool]]] = defaultdict(list)  # verse -> [(word, space after, excluded)]
    columns = ("source_verse", "text", "skip_space_after", "exclude")
    for line, (verse, word, skip_space, exclude) in _read_tsv(english_path, columns):
        if not _VERSE_ID.fullmatch(verse):
            raise DataError(f"{english_path}, line {line}: source_verse must look like 40001001, got {verse!r}")
        english[merged.get(verse, verse)].append((word, not skip_space, bool(exclude)))

    out = []
    for verse in sorted(set(greek) & set(english)):
        words = english[verse]
        punctuated = "".join(w + (" " if space else "") for w, space, _ in words).strip()
        punctuated = re.sub(r" +([,.;:?!])", r"\1", punctuated)  # two verses of the file have "house ?”"
        plain = " ".join(w for w, _, excluded in words if not excluded)  # words are apart by a space or punctuation
        out.append((verse, " ".join(greek[verse]), punctuated, plain))
    return tuple(out)


def _bible_files() -> tuple[Path, Path]:
    """Paths of the SBLGNT and BSB files inside the installed ``bible-alignments`` distribution."""
    try:
        dist = importlib.metadata.distribution("bible-alignments")
    except importlib.metadata.PackageNotFoundError:
        raise DataError(f"dataset 'greek-english' needs the package 'bible-alignments': {_BIBLE_INSTALL}") from None
    found = {}
    for suffix in (_SBLGNT_FILE, _BSB_FILE):
        match = [f for f in dist.files or () if str(f).replace("\\", "/").endswith(suffix)]
        path = Path(match[0].locate()) if match else None
        if path is None or not path.is_file():
            raise DataError(f"dataset 'greek-english': the package 'bible-alignments' {dist.version} has no file "
                            f"{suffix}; reinstall it: {_BIBLE_INSTALL}")
        found[suffix] = path
    return found[_SBLGNT_FILE], found[_BSB_FILE]


def _read_tsv(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Yield (line number, the ``columns`` of the row) of a tab-separated file with a header."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, [])
        missing = [c for c in columns if c not in header]
        if missing:
            raise DataError(f"{path}: missing columns {missing}; header is {header}")
        index = [header.index(c) for c in columns]
        width = max(index) + 1
        for line, row in enumerate(reader, start=2):
            if len(row) < width:
                row = row + [""] * (width - len(row))
            yield line, tuple(row[i] for i in index)


# --------------------------------------------------------------------------------------- helpers

_Make = Callable[[], tuple[str, str, str]]  # builds one (source, target, group) example
_Sampler = Callable[[random.Random], tuple[Hashable, _Make]]  # draws (uniqueness key, how to build it)


def _count_problems(**counts: tuple[Any, int]) -> list[str]:
    """``name=(value, minimum)`` -> a message for each value that is not an int >= minimum."""
    return [f"{name} must be an int >= {minimum}, got {value!r}" for name, (value, minimum) in counts.items()
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum]


def _seed_problems(seed: Any) -> list[str]:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        return [f"seed must be an int, got {seed!r}"]
    return []


def _draw(rng: random.Random, n: int, draw: _Sampler, used: set[Hashable], dataset: str, part: str) -> Seq2SeqData:
    """``n`` examples whose keys are not in ``used`` (which grows); ``draw(rng)`` gives (key, make example)."""
    out = Seq2SeqData([], [], [])
    attempts, limit = 0, 50 * n + 1000
    while len(out.source) < n:
        attempts += 1
        if attempts > limit:
            raise ConfigError(f"dataset {dataset!r}: found only {len(out.source)} distinct {part} examples of the "
                              f"{n} asked for in {limit} draws; ask for fewer examples or widen the choices")
        key, make = draw(rng)
        if key in used:
            continue
        used.add(key)
        source, target, group = make()
        out.source.append(source)
        out.target.append(target)
        out.group.append(group)
    return out
