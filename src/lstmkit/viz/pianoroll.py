"""Piano-roll plot: pitch against time, held notes as bars and onsets marked, bar lines drawn."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lstmkit.data.pianoroll import PianoRoll, pitch_name
from lstmkit.errors import DataError
from lstmkit.viz.forecast import save_figure

__all__ = ["plot_piano_roll"]


def plot_piano_roll(roll: PianoRoll, path: str | os.PathLike, *, title: str | None = None,
                    primer_frames: int = 0) -> Path:
    """Write a PNG/SVG of ``roll``: one bar per note (from its onset to its end), bar lines, and
    the first ``primer_frames`` frames shaded as the primer. Returns the path.

    Raises:
        DataError: the roll holds no notes; ConfigError: ``path`` not .png / .svg.
    """
    notes = roll.notes()
    if not notes:
        raise DataError("plot_piano_roll: the piece holds no notes")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    T = len(roll)
    low = min(p for p, _, _ in notes)
    high = max(p for p, _, _ in notes)
    fig, ax = plt.subplots(figsize=(min(16.0, 3.0 + T * 0.12), 4.5))
    try:
        if primer_frames:
            ax.axvspan(0, primer_frames, color="0.92", label="primer", zorder=0)
        for p, start, n in notes:
            ax.broken_barh([(start, n - 0.08)], (p - 0.4, 0.8), color="tab:blue")
            ax.plot([start, start], [p - 0.4, p + 0.4], color="navy", lw=1.2)  # the onset
        for b in np.arange(roll.bar_start, T + 1, max(1, roll.bar_frames)):
            ax.axvline(b, color="0.6", lw=0.6, zorder=0.5)
        ticks = [p for p in range(low, high + 1) if p % 12 in (0, 7)]
        ax.set_yticks(ticks, [pitch_name(p) for p in ticks])
        ax.set_ylim(low - 1, high + 1)
        ax.set_xlim(0, T)
        ax.set_xlabel(f"frame ({roll.steps_per_quarter} per quarter note; grey lines: bars)")
        ax.set_ylabel("pitch")
        ax.set_title(title or (roll.name or "piano roll"))
        if primer_frames:
            ax.legend(loc="upper right", fontsize=8)
        return save_figure(fig, path)
    finally:
        plt.close(fig)
