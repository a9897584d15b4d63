"""Piano rolls: scores (MIDI, MusicXML, anything music21 reads) on a time grid, MIDI out, and the
fitted pipeline of :class:`~lstmkit.estimators.LSTMMusicModel`.

A :class:`PianoRoll` holds two boolean matrices over T frames and the 128 MIDI pitches:
``sounding`` (T, 128), the notes heard in each frame, and ``onsets`` (T, 128), the frames where a
note *starts* (a subset of ``sounding``). Onsets keep repeated notes apart: two quarter notes
C4 C4 sound in frames 0 and 1 with an onset in each, a half note C4 with one onset.

Quantisation (:func:`read_score`): frame ``f`` is the grid time ``f / steps_per_quarter``
quarter notes from the start (``grid``: ``"quarter"`` = 1 step per quarter, the JSB chorales'
grid of Boulanger-Lewandowski et al. 2012; ``"eighth"`` = 2; ``"sixteenth"`` = 4). A note sounds
in every frame whose grid time falls in [onset, onset + duration) -- the sampling rule of the
JSB set -- and its onset is the first of those frames. A note that covers no grid time (an
eighth note off the beat on a quarter grid) is dropped, as in JSB; :func:`read_score` counts
them. Tied notes are one note (the tie's later parts add no onset); grace notes (no duration) are dropped.

MIDI files are read with ``mido`` in exact ticks (:func:`midi_to_roll`; percussion on channel 10
ignored), other formats through music21. Writing (:func:`write_midi`, with ``mido``): every run of
sounding frames is split at its onsets into notes, the metre is a time signature and a pickup a
first, shorter one, so ``read_score(write_midi(roll))`` gives ``roll`` back exactly (tested).

:class:`PianoRollPipeline` (fitted on the training pieces, saved as JSON with the model):
the optional transposition of every piece to a common key (tonic C, major or minor, by the
shortest shift; the key from music21's Krumhansl-Schmuckler analysis), the pitch range the
network models (the training range widened by ``pitch_margin`` semitones), the number of voices
(most notes at once) and each voice's range (voice k = the k-th lowest sounding note of a frame),
and the network's input features per frame: the previous frame's sounding notes and onsets
(2P values) and, with ``use_beat_position``, a one-hot of the frame's position in its bar; with
``use_key``, the piece's key (one-hot tonic and a minor flag, 13 values).

``music21`` (scores, key analysis) and ``mido`` (MIDI in and out) are the optional extra
``lstmkit[music]``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.errors import ConfigError, DataError, suggest
from lstmkit.utils.io import atomic_write

__all__ = ["PianoRoll", "PianoRollPipeline", "PianoRollDataset", "read_score", "write_midi", "score_to_roll",
           "roll_to_stream", "midi_to_roll", "check_pieces", "check_pipeline_args", "GRIDS", "TRANSPOSE", "MAX_BAR_FRAMES", "pitch_name"]

GRIDS = {"quarter": 1, "eighth": 2, "sixteenth": 4}  # grid name -> frames per quarter note
TRANSPOSE = ("none", "common_key")
MAX_BAR_FRAMES = 32  # beat-position features: positions in a bar beyond this share the last one
N_MIDI = 128
_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def pitch_name(p: int) -> str:
    """MIDI pitch -> scientific name (60 -> 'C4')."""
    return f"{_NAMES[p % 12]}{p // 12 - 1}"


def _music21() -> Any:
    try:
        import music21
    except ImportError:
        raise DataError("reading scores needs the package 'music21': pip install 'lstmkit[music]'") from None
    return music21


@dataclasses.dataclass(eq=False)
class PianoRoll:
    """One piece on a time grid.

    Attributes:
        sounding: (T, 128) bool, notes heard in each frame (column = MIDI pitch).
        onsets: (T, 128) bool, frames where a note starts (subset of ``sounding``).
        steps_per_quarter: frames per quarter note (1, 2 or 4 for the named grids).
        bar_frames: frames per bar (from the first time signature; 4/4 when there is none).
        bar_start: frame where the first full bar starts (frames before it are a pickup).
        key: (tonic pitch class 0-11, "major"/"minor") when known, else None.
        name: where the piece came from.
    """

    sounding: np.ndarray
    onsets: np.ndarray
    steps_per_quarter: int = 1
    bar_frames: int = 4
    bar_start: int = 0
    key: tuple[int, str] | None = None
    name: str = ""

    def __post_init__(self) -> None:
        s, o = np.asarray(self.sounding, dtype=bool), np.asarray(self.onsets, dtype=bool)
        if s.ndim != 2 or s.shape[1] != N_MIDI or o.shape != s.shape:
            raise DataError(f"PianoRoll {self.name!r}: sounding and onsets must both be (T, 128) boolean, "
                            f"got {s.shape} and {o.shape}")
        if (o & ~s).any():
            raise DataError(f"PianoRoll {self.name!r}: an onset where no note sounds (onsets must be within sounding)")
        problems = []
        for field, low in (("steps_per_quarter", 1), ("bar_frames", 1), ("bar_start", 0)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                problems.append(f"{field} must be an int >= {low}, got {v!r}")
        if not problems and self.bar_start >= self.bar_frames:
            problems.append(f"bar_start (the pickup's frames) must be below bar_frames ({self.bar_frames}), "
                            f"got {self.bar_start}")
        k = self.key
        if k is not None and not (isinstance(k, (tuple, list)) and len(k) == 2 and isinstance(k[0], (int, np.integer))
                                  and not isinstance(k[0], bool) and 0 <= k[0] < 12 and k[1] in ("major", "minor")):
            problems.append(f"key must be None or (tonic pitch class 0-11, 'major' or 'minor'), got {k!r}")
        if problems:
            raise DataError(f"PianoRoll {self.name!r}: " + "; ".join(problems))
        self.sounding, self.onsets = s, o
        self.key = None if k is None else (int(k[0]), str(k[1]))

    def __len__(self) -> int:
        return len(self.sounding)

    def __eq__(self, other: object) -> bool:
        """Same notes, onsets, grid, metre, key and name."""
        if not isinstance(other, PianoRoll):
            return NotImplemented
        return (np.array_equal(self.sounding, other.sounding) and np.array_equal(self.onsets, other.onsets)
                and (self.steps_per_quarter, self.bar_frames, self.bar_start, self.key, self.name)
                == (other.steps_per_quarter, other.bar_frames, other.bar_start, other.key, other.name))

    def transpose(self, semitones: int) -> "PianoRoll":
        """The piece shifted by ``semitones`` (notes pushed past 0 or 127 raise a DataError)."""
        k = int(semitones)
        if k == 0:
            return self
        used = np.flatnonzero(self.sounding.any(0))
        if len(used) and (used[0] + k < 0 or used[-1] + k >= N_MIDI):
            raise DataError(f"PianoRoll {self.name!r}: transposing by {k} leaves the MIDI range 0-127")
        key = None if self.key is None else ((self.key[0] + k) % 12, self.key[1])
        return dataclasses.replace(self, sounding=np.roll(self.sounding, k, axis=1), onsets=np.roll(self.onsets, k, axis=1),
                                   key=key)

    def notes(self) -> list[tuple[int, int, int]]:
        """(pitch, start frame, frames) of every note, by start then pitch."""
        out = []
        for p in np.flatnonzero(self.sounding.any(0)):
            col, on = self.sounding[:, p], self.onsets[:, p]
            f, T = 0, len(col)
            while f < T:
                if col[f]:
                    start = f
                    f += 1
                    while f < T and col[f] and not on[f]:
                        f += 1
                    out.append((int(p), start, f - start))
                else:
                    f += 1
        return sorted(out, key=lambda n: (n[1], n[0]))


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _bar_frames(quarters: float, spq: int) -> int:
    """Frames per bar of ``quarters`` quarter notes (rounded half up, at least 1)."""
    return max(1, _half_up(quarters * spq))


def _spans_to_roll(spans: list[tuple[int, int, int, bool]], spq: int, bar_frames: int, bar_start: int,
                   key: tuple[int, str] | None, name: str, min_frames: int = 0) -> PianoRoll:
    """(pitch, first frame, end frame, struck) spans -> PianoRoll (a note after silence always starts)."""
    T = max(max((sp[2] for sp in spans), default=0), min_frames)
    sounding = np.zeros((T, N_MIDI), dtype=bool)
    onsets = np.zeros((T, N_MIDI), dtype=bool)
    for p, a, b, _ in spans:
        sounding[a:b, p] = True
    for p, a, b, struck in spans:
        onsets[a, p] |= struck
    onsets |= sounding & ~np.vstack([np.zeros((1, N_MIDI), bool), sounding[:-1]])
    return PianoRoll(sounding, onsets, spq, int(bar_frames), int(bar_start) % max(1, int(bar_frames)), key, name)


def _frames(start: float, end: float) -> tuple[int, int]:
    """Grid frames [first, stop) whose grid time lies in [start, end) (times in frames)."""
    return math.ceil(start - 1e-6), math.ceil(end - 1e-6)


def score_to_roll(score: Any, grid: str = "quarter", name: str = "") -> tuple[PianoRoll, int]:
    """A music21 Score/Stream -> (PianoRoll, notes dropped because they cover no grid time)."""
    if grid not in GRIDS:
        raise ConfigError(f"grid must be one of {list(GRIDS)}, got {grid!r}{suggest(str(grid), GRIDS)}")
    m21 = _music21()
    spq = GRIDS[grid]
    spans: list[tuple[int, int, int, bool]] = []  # (pitch, first frame, end frame, starts a note)
    dropped = 0
    parts = list(getattr(score, "parts", None) or []) or [score]
    for part in parts:  # ties are followed within a part
        unplaced: set[int] = set()  # pitches whose tied note began between grid times (not placed yet)
        for el in part.flatten().notes:
            ql = float(el.quarterLength)
            if ql <= 0:  # grace notes
                continue
            first, stop = _frames(float(el.offset) * spq, (float(el.offset) + ql) * spq)
            for pitch in el.pitches:
                midi = int(pitch.midi)
                tie = el.getTie(pitch) if hasattr(el, "getTie") else el.tie  # per pitch in a chord
                kind = None if tie is None else tie.type
                struck = kind in (None, "start")  # a tie's stop / continue part is the same note held
                was_unplaced = midi in unplaced
                if struck and was_unplaced:  # a new note while the earlier tied one never reached a grid time
                    dropped += 1
                    unplaced.discard(midi)
                    was_unplaced = False
                if not struck and was_unplaced:  # the tied note reaches its first grid time here, or later
                    struck = True
                if stop <= first:
                    if kind == "start" or (kind == "continue" and was_unplaced):
                        unplaced.add(midi)  # it may reach a grid time in its continuation
                    elif struck:  # a plain note, or the last part of a tie that never reached a grid time
                        dropped += 1
                        unplaced.discard(midi)
                    continue
                unplaced.discard(midi)
                if 0 <= midi < N_MIDI:
                    spans.append((midi, first, stop, struck))
        dropped += len(unplaced)
    ts = score.recurse().getElementsByClass(m21.meter.TimeSignature).first()
    bar_frames = _bar_frames(float(ts.barDuration.quarterLength), spq) if ts is not None else 4 * spq
    bar_start = 0
    part = parts[0]
    first_bar = part.getElementsByClass(m21.stream.Measure).first()
    if first_bar is not None and first_bar.paddingLeft:  # a pickup: the first full bar follows it
        bar_start = _half_up((float(first_bar.barDuration.quarterLength) - float(first_bar.paddingLeft)) * spq)
    elif first_bar is not None and first_bar.number == 0:
        nxt = part.measure(1)
        if nxt is not None:
            bar_start = _half_up(float(nxt.offset) * spq)
    key = None
    try:
        k = score.analyze("key")
        key = (int(k.tonic.pitchClass), "minor" if k.mode == "minor" else "major")
    except Exception:  # noqa: BLE001 - no key analysis for an empty or unpitched score
        key = None
    return _spans_to_roll(spans, spq, bar_frames, bar_start, key, name), dropped


def _mido() -> Any:
    try:
        import mido
    except ImportError:
        raise DataError("MIDI files need the package 'mido': pip install 'lstmkit[music]'") from None
    return mido


def midi_to_roll(path: str | os.PathLike, grid: str = "quarter") -> tuple[PianoRoll, int, int]:
    """A standard MIDI file -> (PianoRoll, notes dropped (no grid time), percussion notes ignored).

    Read with ``mido`` in exact ticks (no re-quantisation): every note-on/note-off pair of a
    channel is a note (channel 10, percussion, is ignored); the metre comes from the first time
    signature, and a first time signature that lasts less than one bar of the second is a pickup
    (how :func:`write_midi` stores one). The key is left unknown (the pipeline analyses it).
    """
    if grid not in GRIDS:
        raise ConfigError(f"grid must be one of {list(GRIDS)}, got {grid!r}{suggest(str(grid), GRIDS)}")
    mido = _mido()
    path = Path(path)
    try:
        mid = mido.MidiFile(str(path))
        messages = list(mido.merge_tracks(mid.tracks))
    except Exception as e:  # noqa: BLE001 - mido raises OSError, EOFError, ValueError, KeyError
        detail = f"{type(e).__name__}: {e}" if str(e) else f"{type(e).__name__}: the file ends early"
        raise DataError(f"could not read {str(path)!r} as a MIDI file ({detail})") from None
    spq = GRIDS[grid]
    tpq = mid.ticks_per_beat
    per_tick = spq / tpq  # frames per tick
    open_notes: dict[tuple[int, int], list[int]] = {}
    spans: list[tuple[int, int, int, bool]] = []
    signatures: list[tuple[int, float]] = []  # (tick, quarters per bar)
    dropped = drums = 0
    tick = 0

    def close(ch: int, note: int, at: int) -> None:
        nonlocal dropped
        starts = open_notes.get((ch, note))
        if not starts:
            return
        first, stop = _frames(starts.pop(0) * per_tick, at * per_tick)
        if stop <= first:
            dropped += 1
        else:
            spans.append((note, first, stop, True))

    for msg in messages:
        tick += msg.time
        if msg.type == "time_signature":
            signatures.append((tick, msg.numerator * 4 / msg.denominator))
        elif msg.type in ("note_on", "note_off"):
            if msg.channel == 9:
                drums += int(msg.type == "note_on" and msg.velocity > 0)
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append(tick)
            else:
                close(msg.channel, msg.note, tick)
    for (ch, note), starts in list(open_notes.items()):  # never released: they end with the file
        while starts:
            close(ch, note, tick)
    bar_frames, bar_start = 4 * spq, 0
    if signatures:
        bar_frames = _bar_frames(signatures[0][1], spq)
        if len(signatures) > 1 and signatures[0][0] == 0 and 0 < signatures[1][0] * per_tick < _bar_frames(signatures[1][1], spq):
            bar_frames, bar_start = _bar_frames(signatures[1][1], spq), _half_up(signatures[1][0] * per_tick)
    end = math.ceil(tick * per_tick - 1e-6)  # the end of the track: a piece may end in silence
    return _spans_to_roll(spans, spq, bar_frames, bar_start, None, path.name, end), dropped, drums


def read_score(source: Any, grid: str = "quarter") -> PianoRoll:
    """A score file (MIDI through mido in exact ticks; MusicXML, .mxl, kern, ABC, ... through
    music21) or a music21 Stream, on ``grid`` (see the module docstring).

    Raises:
        DataError: a missing file or a folder, a file that cannot be parsed, a score without notes.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            raise DataError(f"{str(path)!r} is a folder, not a score file")
        if not path.is_file():
            raise DataError(f"score file {str(path)!r} does not exist")
        name = path.name
        if path.suffix.lower() in (".mid", ".midi"):
            roll, dropped, drums = midi_to_roll(path, grid)
            if drums:
                warnings.warn(f"score {name!r}: {drums} percussion note(s) (MIDI channel 10) ignored", stacklevel=2)
        else:
            m21 = _music21()
            try:
                score = m21.converter.parse(str(path))
            except Exception as e:  # noqa: BLE001 - music21 raises many kinds
                raise DataError(f"could not read {str(path)!r} as a score ({type(e).__name__}: {e}); give a MIDI "
                                "(.mid) or MusicXML (.xml, .musicxml, .mxl) file") from None
            roll, dropped = score_to_roll(score, grid, name)
    else:
        m21 = _music21()
        if not isinstance(source, m21.stream.Stream):
            raise DataError(f"a score must be a file path or a music21 Stream, got {type(source).__name__}")
        md = source.metadata
        name = str((md.title or getattr(md, "corpusFilePath", None) or "") if md is not None else "")
        roll, dropped = score_to_roll(source, grid, name)
    if not roll.sounding.any():
        raise DataError(f"score {name!r} holds no (non-percussion) notes on the {grid} grid")
    if dropped:
        warnings.warn(f"score {name!r}: {dropped} note(s) shorter than the {grid} grid were dropped "
                      f"(a finer grid keeps them)", stacklevel=2)
    return roll


def _time_signature(frames: int, spq: int) -> tuple[int, int]:
    """(numerator, denominator) of a bar of ``frames`` frames at ``spq`` frames per quarter."""
    for denominator, per in ((4, spq), (8, spq / 2), (16, spq / 4)):
        n = frames / per
        if per > 0 and abs(n - round(n)) < 1e-9 and round(n) >= 1:
            return min(int(round(n)), 255), denominator
    return min(frames * 16 // max(1, spq * 4), 255) or 1, 16


def write_midi(roll: PianoRoll, path: str | os.PathLike, *, tempo_bpm: float = 80.0, velocity: int = 80,
               program: int = 0) -> Path:
    """Write ``roll`` as a standard MIDI file (type 1, one track, ``mido``), atomically.

    Each note starts at its onset frame and lasts its run of sounding frames; ``tempo_bpm`` is
    quarter notes per minute; the metre is a time signature, and a pickup (``bar_start`` > 0) a
    first, shorter time signature, so :func:`read_score` gives the same roll back. Returns the path.

    Raises:
        DataError: ``roll`` not a PianoRoll, ``path`` a folder; ConfigError: ``tempo_bpm`` not
            positive, ``velocity`` not in 1..127 or ``program`` not in 0..127.
    """
    mido = _mido()
    if not isinstance(roll, PianoRoll):
        raise DataError(f"write_midi needs a PianoRoll, got {type(roll).__name__}")
    problems = []
    if isinstance(tempo_bpm, bool) or not isinstance(tempo_bpm, numbers.Real) or not 0 < tempo_bpm <= 1000:
        problems.append(f"tempo_bpm must be a number in (0, 1000] (quarter notes per minute), got {tempo_bpm!r}")
    if isinstance(velocity, bool) or not isinstance(velocity, (int, np.integer)) or not 1 <= velocity <= 127:
        problems.append(f"velocity must be an int in 1..127, got {velocity!r}")
    if isinstance(program, bool) or not isinstance(program, (int, np.integer)) or not 0 <= program <= 127:
        problems.append(f"program must be an int in 0..127 (General MIDI instrument), got {program!r}")
    if problems:
        raise ConfigError("write_midi: " + "; ".join(problems))
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a folder; give the path of the .mid file to write")
    tpq = 480
    ticks = tpq // roll.steps_per_quarter
    events: list[tuple[int, int, int]] = []  # (tick, order: offs before ons, pitch)
    for p, start, n in roll.notes():
        events.append((start * ticks, 1, p))
        events.append(((start + n) * ticks, 0, p))
    events.sort()
    mid = mido.MidiFile(type=1, ticks_per_beat=tpq)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(float(tempo_bpm)), time=0))
    timeline: list[tuple[int, int, Any]] = [(t, o, mido.Message("note_on" if o else "note_off", note=p,
                                                                velocity=velocity if o else 0))
                                            for t, o, p in events]
    num, den = _time_signature(roll.bar_frames, roll.steps_per_quarter)
    if roll.bar_start:
        pnum, pden = _time_signature(roll.bar_start, roll.steps_per_quarter)
        timeline.append((0, -2, mido.MetaMessage("time_signature", numerator=pnum, denominator=pden)))
        timeline.append((roll.bar_start * ticks, -1, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
    else:
        timeline.append((0, -2, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
    timeline.append((0, -3, mido.Message("program_change", program=int(program))))
    timeline.sort(key=lambda e: (e[0], e[1]))
    now = 0
    for tick, _, msg in timeline:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, len(roll) * ticks - now)))  # trailing silence kept
    atomic_write(path, mid.save)
    return path


def roll_to_stream(roll: PianoRoll) -> Any:
    """A music21 Stream of the roll's notes (for analysis: key, statistics)."""
    m21 = _music21()
    s = m21.stream.Stream()
    spq = roll.steps_per_quarter
    for p, start, n in roll.notes():
        note = m21.note.Note(p)
        note.quarterLength = n / spq
        s.insert(start / spq, note)
    return s


def _key_shift(key: tuple[int, str]) -> int:
    """Semitones that take ``key``'s tonic to C by the shortest way (-6 .. 5)."""
    return (-int(key[0]) + 6) % 12 - 6


def check_pieces(X: Any, name: str) -> list[PianoRoll]:
    if isinstance(X, (str, os.PathLike, PianoRoll)) or not hasattr(X, "__len__"):
        raise DataError(f"{name} must be a list of pieces (PianoRoll objects or score file paths), "
                        f"got {type(X).__name__}; wrap a single piece in a list")
    if len(X) == 0:
        raise DataError(f"{name} is empty: give at least one piece")
    return list(X)


class PianoRollPipeline:
    """Fitted on the training pieces: key, pitch range, voices, and the network's features.

    Args:
        grid: ``"quarter"``, ``"eighth"`` or ``"sixteenth"`` (frames per quarter 1, 2, 4).
        transpose: ``"common_key"`` shifts each piece so its tonic is C (major or minor kept);
            ``"none"`` keeps pitches.
        use_onsets: model note onsets (repeated notes) beside the sounding notes.
        use_beat_position: feed the frame's position in its bar (one-hot) to the network.
        pitch_margin: semitones added below and above the training range.
        use_key: feed the piece's key (tonic one-hot + minor flag; after ``common_key``
            transposition only the mode varies).
    """

    def __init__(self, grid: str = "quarter", transpose: str = "common_key", use_onsets: bool = True,
                 use_beat_position: bool = True, pitch_margin: int = 2, use_key: bool = False) -> None:
        self.grid = grid
        self.transpose = transpose
        self.use_onsets = use_onsets
        self.use_beat_position = use_beat_position
        self.pitch_margin = pitch_margin
        self.use_key = use_key

    # --- reading --------------------------------------------------------------------------
    def read(self, source: Any, name: str = "piece", *, return_shift: bool = False) -> Any:
        """A piece (PianoRoll, score path or music21 Stream) on this grid, transposed as set
        (with ``return_shift``: ``(roll, semitones it was shifted by)``)."""
        if isinstance(source, PianoRoll):
            roll = source
            if roll.steps_per_quarter != GRIDS[self.grid]:
                raise DataError(f"{name} is on a grid of {roll.steps_per_quarter} frame(s) per quarter; this model "
                                f"uses {GRIDS[self.grid]} ({self.grid!r}): read the score again with grid={self.grid!r}")
        else:
            try:
                roll = read_score(source, self.grid)
            except DataError as e:
                raise DataError(f"{name}: {e}") from None
        if len(roll) == 0 or not roll.sounding.any():
            raise DataError(f"{name} holds no notes")
        shift = 0
        if roll.key is None and (self.transpose == "common_key" or self.use_key):
            k = roll_to_stream(roll).analyze("key")
            roll = dataclasses.replace(roll, key=(int(k.tonic.pitchClass), "minor" if k.mode == "minor" else "major"))
        if self.transpose == "common_key":
            shift = _key_shift(roll.key)
            roll = roll.transpose(shift)
        return (roll, shift) if return_shift else roll

    def read_many(self, X: Any, name: str = "X") -> list[PianoRoll]:
        return [self.read(x, f"{name}[{i}]") for i, x in enumerate(check_pieces(X, name))]

    # --- fitting --------------------------------------------------------------------------
    def fit(self, rolls: list[PianoRoll]) -> "PianoRollPipeline":
        used = np.flatnonzero(np.any([r.sounding.any(0) for r in rolls], axis=0))
        self.low_ = max(0, int(used[0]) - self.pitch_margin)
        self.high_ = min(N_MIDI - 1, int(used[-1]) + self.pitch_margin)
        counts = np.concatenate([r.sounding.sum(1) for r in rolls])
        self.max_notes_ = int(counts.max())
        ranges: list[list[int]] = [[N_MIDI, -1] for _ in range(self.max_notes_)]
        for r in rolls:
            for frame in r.sounding:
                for k, p in enumerate(np.flatnonzero(frame)):
                    ranges[k][0], ranges[k][1] = min(ranges[k][0], int(p)), max(ranges[k][1], int(p))
        self.voice_ranges_ = [tuple(v) for v in ranges]
        self.bar_frames_ = int(np.bincount([r.bar_frames for r in rolls]).argmax())  # the commonest metre
        return self

    @property
    def n_pitches(self) -> int:
        """P: pitches the network models (``low_`` .. ``high_``)."""
        return self.high_ - self.low_ + 1

    @property
    def n_features(self) -> int:
        """F: network inputs per frame (2P with onsets, else P; plus the beat one-hot)."""
        return (self.n_pitches * (2 if self.use_onsets else 1) + (MAX_BAR_FRAMES if self.use_beat_position else 0)
                + (13 if self.use_key else 0))

    # --- features -------------------------------------------------------------------------
    def targets(self, roll: PianoRoll, name: str = "piece") -> tuple[np.ndarray, np.ndarray, int]:
        """(sounding (T, P) float32, onsets (T, P) float32, notes outside the range dropped)."""
        s, o = roll.sounding, roll.onsets
        outside = int(s[:, : self.low_].sum() + s[:, self.high_ + 1:].sum())
        if outside:
            lo, hi = pitch_name(self.low_), pitch_name(self.high_)
            where = (" (pitches after transposing the piece so its tonic is C, as the model reads it)"
                     if self.transpose == "common_key" else "")
            warnings.warn(f"{name}: {outside} sounding frame-note(s) outside the model's pitch range {lo}-{hi}{where} "
                          "(training range plus pitch_margin) are ignored", stacklevel=3)
        return (s[:, self.low_:self.high_ + 1].astype(np.float32), o[:, self.low_:self.high_ + 1].astype(np.float32),
                outside)

    def beat_features(self, T: int, bar_frames: int, bar_start: int, offset: int = 0) -> np.ndarray:
        """(T, MAX_BAR_FRAMES) one-hot of each frame's position in its bar (frames offset.. offset+T)."""
        pos = (np.arange(offset, offset + T) - bar_start) % max(1, bar_frames)
        out = np.zeros((T, MAX_BAR_FRAMES), dtype=np.float32)
        out[np.arange(T), np.minimum(pos, MAX_BAR_FRAMES - 1)] = 1
        return out

    @staticmethod
    def key_features(key: tuple[int, str] | None) -> np.ndarray:
        """(13,): one-hot tonic pitch class and a minor flag; zeros for an unknown key."""
        out = np.zeros(13, dtype=np.float32)
        if key is not None:
            out[int(key[0]) % 12] = 1
            out[12] = float(key[1] == "minor")
        return out

    def inputs(self, sounding: np.ndarray, onsets: np.ndarray, bar_frames: int, bar_start: int,
               key: tuple[int, str] | None = None) -> np.ndarray:
        """Network input (T, F) for frames 0..T-1: frame t sees frame t-1's notes (zeros at t = 0)."""
        T, P = sounding.shape
        prev = [np.vstack([np.zeros((1, P), np.float32), sounding[:-1]])]
        if self.use_onsets:
            prev.append(np.vstack([np.zeros((1, P), np.float32), onsets[:-1]]))
        if self.use_beat_position:
            prev.append(self.beat_features(T, bar_frames, bar_start))
        if self.use_key:
            prev.append(np.tile(self.key_features(key), (T, 1)))
        return np.concatenate(prev, axis=1).astype(np.float32)

    def encode(self, roll: PianoRoll, name: str = "piece") -> dict[str, np.ndarray]:
        """One training item: ``x`` (T, F), ``y`` (T, P) sounding, ``onset`` (T, P)."""
        s, o, _ = self.targets(roll, name)
        return {"x": self.inputs(s, o, roll.bar_frames, roll.bar_start, roll.key), "y": s, "onset": o}

    def decode(self, sounding: np.ndarray, onsets: np.ndarray, bar_frames: int | None = None, bar_start: int = 0,
               name: str = "generated") -> PianoRoll:
        """(T, P) model-range matrices -> a PianoRoll (onsets forced where a note begins)."""
        T = len(sounding)
        s = np.zeros((T, N_MIDI), dtype=bool)
        o = np.zeros((T, N_MIDI), dtype=bool)
        s[:, self.low_:self.high_ + 1] = sounding > 0.5
        o[:, self.low_:self.high_ + 1] = onsets > 0.5
        starts = s & ~np.vstack([np.zeros((1, N_MIDI), bool), s[:-1]])
        o = (o | starts) & s
        return PianoRoll(s, o, GRIDS[self.grid], bar_frames or self.bar_frames_, bar_start, None, name)

    # --- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"grid": self.grid, "transpose": self.transpose, "use_onsets": self.use_onsets,
                "use_beat_position": self.use_beat_position, "pitch_margin": self.pitch_margin, "low_": self.low_,
                "high_": self.high_, "max_notes_": self.max_notes_, "voice_ranges_": [list(v) for v in self.voice_ranges_],
                "bar_frames_": self.bar_frames_, "use_key": self.use_key}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PianoRollPipeline":
        pipe = cls(d["grid"], d["transpose"], d["use_onsets"], d["use_beat_position"], d["pitch_margin"],
                   bool(d.get("use_key", False)))
        pipe.low_, pipe.high_, pipe.max_notes_ = int(d["low_"]), int(d["high_"]), int(d["max_notes_"])
        pipe.voice_ranges_ = [tuple(int(a) for a in v) for v in d["voice_ranges_"]]
        pipe.bar_frames_ = int(d["bar_frames_"])
        return pipe


class PianoRollDataset(torch.utils.data.Dataset):
    """Encoded pieces (:meth:`PianoRollPipeline.encode` items); ``collate`` pads a batch.

    Batch: ``{"x": (B, T, F), "y": (B, T, P), "onset": (B, T, P), "mask": (B, T) bool,
    "lengths": (B,) long}``.
    """

    def __init__(self, items: list[dict[str, np.ndarray]]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        return self.items[i]

    @staticmethod
    def collate(items: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
        lengths = torch.tensor([len(it["x"]) for it in items], dtype=torch.long)
        T = int(lengths.max())
        out: dict[str, torch.Tensor] = {"lengths": lengths}
        for key in ("x", "y", "onset"):
            a = np.zeros((len(items), T, items[0][key].shape[1]), dtype=np.float32)
            for i, it in enumerate(items):
                a[i, : len(it[key])] = it[key]
            out[key] = torch.from_numpy(a)
        out["mask"] = torch.arange(T)[None, :] < lengths[:, None]
        return out


def check_pipeline_args(grid: Any, transpose: Any) -> list[str]:
    """Problems with the pipeline's choices, one message each."""
    problems = []
    if grid not in GRIDS:
        problems.append(f"grid must be one of {list(GRIDS)}, got {grid!r}{suggest(str(grid), GRIDS)}")
    if transpose not in TRANSPOSE:
        problems.append(f"transpose must be one of {list(TRANSPOSE)}, got {transpose!r}{suggest(str(transpose), TRANSPOSE)}")
    return problems
