"""Music corpora, loaded offline from packages that ship them.

``bach-chorales``: J. S. Bach's four-part chorales as shipped by ``music21`` (the 371 numbers of
the Riemenschneider edition; ``pip install 'lstmkit[music]'``), on a piano-roll grid
(:mod:`lstmkit.data.pianoroll`). Only chorales with exactly four parts (soprano, alto, tenor,
bass) are used; those with instrumental parts are left out; music21's numbering lists 20 files
under two numbers, and each file is used once: 331 chorales. The split is frozen, chorale by
chorale, in ``bach_chorales_split.json`` next to this module (199 / 66 / 66, drawn once with a
fixed seed; no chorale in two parts, tested), so every run and every user compares on the same
pieces.

How this differs from the JSB chorales set of Boulanger-Lewandowski et al. 2012 (382 chorales,
229 / 76 / 77, quarter-note grid, 88 keys), so published JSB figures are indicative only:
another edition and count, another split, transposition to a common key optional (their
figures are not transposed), onsets kept (their rolls have none; ``use_onsets=False`` and the
``nll`` figure compare like with like), and a pitch range fitted on the training pieces.

Parsing all chorales with music21 takes about two minutes; the piano rolls are cached (as plain
integer arrays, ``.npz`` read without pickle) in ``$LSTMKIT_CACHE_DIR`` (default
``~/.cache/lstmkit``).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lstmkit.data.pianoroll import GRIDS, N_MIDI, PianoRoll, score_to_roll
from lstmkit.datasets import register_dataset, require
from lstmkit.errors import ConfigError, DataError, suggest
from lstmkit.utils.io import atomic_write

__all__ = ["MusicSplit", "SPLIT_FILE", "chorale_names"]

SPLIT_FILE = Path(__file__).with_name("bach_chorales_split.json")
_CACHE_VERSION = 2  # 2: ties that begin between grid times keep their onset


class MusicSplit(NamedTuple):
    train: list[PianoRoll]
    valid: list[PianoRoll]
    test: list[PianoRoll]


def _cache_root() -> Path:
    return Path(os.environ.get("LSTMKIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lstmkit"))


def chorale_names() -> list[str]:
    """music21's corpus paths of the 371 chorales (Riemenschneider order)."""
    m21 = require("music21", "music", "bach-chorales")
    return [str(n) for n in m21.corpus.chorales.Iterator(numberingSystem="riemenschneider", returnType="filename")]


def _save(path: Path, rolls: list[PianoRoll], n_parts: list[int]) -> None:
    notes = [(i, p, a, n) for i, r in enumerate(rolls) for p, a, n in r.notes()]
    meta = np.array([[len(r), r.steps_per_quarter, r.bar_frames, r.bar_start, -1 if r.key is None else r.key[0],
                      int(r.key is not None and r.key[1] == "minor"), k] for r, k in zip(rolls, n_parts)], dtype=np.int64)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, notes=np.array(notes, dtype=np.int32).reshape(-1, 4), meta=meta,
                                names=np.array([r.name for r in rolls]))

    atomic_write(path, write)


def _load(path: Path) -> tuple[list[PianoRoll], list[int]]:
    with np.load(path, allow_pickle=False) as z:
        notes, meta, names = z["notes"], z["meta"], [str(n) for n in z["names"]]
    rolls = []
    for i, (T, spq, bar, start, tonic, minor, _) in enumerate(meta):
        s = np.zeros((int(T), N_MIDI), dtype=bool)
        o = np.zeros_like(s)
        for _, p, a, n in notes[notes[:, 0] == i]:
            s[a:a + n, p] = True
            o[a, p] = True
        key = None if tonic < 0 else (int(tonic), "minor" if minor else "major")
        rolls.append(PianoRoll(s, o, int(spq), int(bar), int(start), key, names[i]))
    return rolls, [int(k) for k in meta[:, 6]]


def _all_chorales(grid: str) -> tuple[list[PianoRoll], list[int]]:
    """Every chorale on ``grid`` and its number of parts (from the cache, else parsed and cached)."""
    path = _cache_root() / f"bach-chorales-{grid}-v{_CACHE_VERSION}.npz"
    if path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt
    m21 = require("music21", "music", "bach-chorales")
    rolls, n_parts = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in chorale_names():
            score = m21.corpus.parse(name)
            roll, _ = score_to_roll(score, grid, name)
            rolls.append(roll)
            n_parts.append(len(score.parts))
    try:
        _save(path, rolls, n_parts)
    except OSError:
        pass  # a read-only home: no cache, the next load parses again
    return rolls, n_parts


@register_dataset("bach-chorales", task="music", extra="music",
                  description="Bach's 4-part chorales from music21 (Riemenschneider edition), 331 distinct, "
                              "frozen chorale-level split 199/66/66")
def bach_chorales(grid: str = "quarter") -> MusicSplit:
    """The four-part chorales on ``grid``, split as frozen in :data:`SPLIT_FILE`."""
    if grid not in GRIDS:
        raise ConfigError(f"grid must be one of {list(GRIDS)}, got {grid!r}{suggest(str(grid), GRIDS)}")
    rolls, _ = _all_chorales(grid)
    by_name = {r.name: r for r in rolls}
    split = json.loads(SPLIT_FILE.read_text())
    missing = [n for part in ("train", "valid", "test") for n in split[part] if n not in by_name]
    if missing:
        raise DataError(f"dataset 'bach-chorales': {len(missing)} chorale(s) of the frozen split are not in this "
                        f"music21 corpus (e.g. {missing[0]!r}); install music21 >= 9")
    return MusicSplit(*([by_name[n] for n in split[part]] for part in ("train", "valid", "test")))
