"""Musical statistics of piano rolls, to set generated pieces beside a corpus.

:func:`music_statistics` summarises pieces (:class:`~lstmkit.data.pianoroll.PianoRoll`):

* ``pitch_class_histogram``: share of notes on each of the 12 pitch classes (C = 0);
* ``polyphony_mean`` / ``polyphony_max``: notes sounding per frame, over frames where any sounds;
* ``note_length_histogram``: share of notes lasting 1, 2, ... frames (the last bin: that many or
  more), ``note_length_mean`` in frames;
* ``in_key_share``: share of notes whose pitch class is in the diatonic scale of the piece's key
  (music21's Krumhansl-Schmuckler key analysis, per piece);
* ``pitch_low`` / ``pitch_high``: the MIDI range; ``voices``: the most notes at once.

:func:`compare_statistics` puts two summaries side by side with the total-variation distances
(0 = identical, 1 = disjoint) of the pitch-class and note-length histograms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmkit.data.pianoroll import PianoRoll, roll_to_stream
from lstmkit.errors import DataError

__all__ = ["music_statistics", "compare_statistics", "LENGTH_BINS"]

LENGTH_BINS = 16  # note lengths 1..15 frames, and 16 or more


def _scale_classes(roll: PianoRoll) -> set[int]:
    k = roll_to_stream(roll).analyze("key")
    return {p.pitchClass for p in k.getScale().getPitches()}


def music_statistics(rolls: Sequence[PianoRoll], *, with_key: bool = True) -> dict[str, Any]:
    """Statistics of ``rolls`` pooled over all their notes and frames (see the module docstring).

    ``with_key=False`` skips the key analysis (music21; the slow part).

    Raises:
        DataError: no pieces, or no notes in any of them.
    """
    if isinstance(rolls, PianoRoll):
        rolls = [rolls]
    if len(rolls) == 0:
        raise DataError("music_statistics needs at least one piece")
    pcs = np.zeros(12)
    lengths = np.zeros(LENGTH_BINS)
    counts: list[np.ndarray] = []
    in_key = total = 0
    low, high = 127, 0
    for r in rolls:
        notes = r.notes()
        if not notes:
            continue
        scale = _scale_classes(r) if with_key else set()
        for p, _, n in notes:
            pcs[p % 12] += 1
            lengths[min(n, LENGTH_BINS) - 1] += 1
            in_key += int(p % 12 in scale)
        total += len(notes)
        per_frame = r.sounding.sum(1)
        counts.append(per_frame[per_frame > 0])
        used = np.flatnonzero(r.sounding.any(0))
        low, high = min(low, int(used[0])), max(high, int(used[-1]))
    if total == 0:
        raise DataError("music_statistics: the pieces hold no notes")
    poly = np.concatenate(counts)
    return {
        "pieces": len(rolls), "notes": int(total), "frames": int(sum(len(r) for r in rolls)),
        "pitch_class_histogram": (pcs / total).tolist(),
        "note_length_histogram": (lengths / total).tolist(),
        "note_length_mean": float(np.dot(np.arange(1, LENGTH_BINS + 1), lengths) / total),
        "polyphony_mean": float(poly.mean()), "polyphony_max": int(poly.max()),
        "in_key_share": float(in_key / total) if with_key else None,
        "pitch_low": low, "pitch_high": high, "voices": int(poly.max()),
    }


def _tv(a: Sequence[float], b: Sequence[float]) -> float:
    return 0.5 * float(np.abs(np.asarray(a) - np.asarray(b)).sum())


def compare_statistics(generated: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """Side-by-side figures of two :func:`music_statistics` results, plus histogram distances."""
    rows = {k: (generated[k], reference[k]) for k in ("polyphony_mean", "polyphony_max", "note_length_mean",
                                                       "in_key_share", "pitch_low", "pitch_high")}
    return {
        "pitch_class_distance": _tv(generated["pitch_class_histogram"], reference["pitch_class_histogram"]),
        "note_length_distance": _tv(generated["note_length_histogram"], reference["note_length_histogram"]),
        **{f"{k}": {"generated": g, "reference": r} for k, (g, r) in rows.items()},
    }
