"""Piano rolls: the grid, onsets (repeated notes), ties, MIDI round trip, the fitted pipeline, bad input."""

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from lstmkit.data.pianoroll import PianoRoll, PianoRollPipeline, read_score, write_midi
from lstmkit.errors import ConfigError, DataError

music21 = pytest.importorskip("music21", reason="piano-roll reading needs music21 (pip install 'lstmkit[music]')")
mido = pytest.importorskip("mido", reason="MIDI writing needs mido (pip install 'lstmkit[music]')")


def _stream(notes, time_signature="4/4"):
    """A one-part music21 stream of (midi pitch or None for a rest, quarter length[, tie type])."""
    part = music21.stream.Part()
    part.append(music21.meter.TimeSignature(time_signature))
    for spec in notes:
        pitch, ql = spec[:2]
        el = music21.note.Rest(quarterLength=ql) if pitch is None else music21.note.Note(pitch, quarterLength=ql)
        if len(spec) > 2:
            el.tie = music21.tie.Tie(spec[2])
        part.append(el)
    score = music21.stream.Score()
    score.insert(0, part)
    return score


def test_repeated_notes_stay_distinct_from_a_held_note():
    roll = read_score(_stream([(60, 1), (60, 1), (60, 2), (62, 4)]))
    assert roll.sounding[:, 60].tolist() == [True] * 4 + [False] * 4
    assert roll.onsets[:, 60].tolist() == [True, True, True, False, False, False, False, False]
    assert roll.notes() == [(60, 0, 1), (60, 1, 1), (60, 2, 2), (62, 4, 4)]


def test_a_tied_note_is_one_note_and_a_note_between_grid_points_is_dropped_and_counted():
    roll = read_score(_stream([(60, 1, "start"), (60, 1, "stop"), (64, 2)]))
    assert roll.notes() == [(60, 0, 2), (64, 2, 2)]
    with pytest.warns(UserWarning, match=r"1 note\(s\) shorter than the quarter grid were dropped"):
        roll = read_score(_stream([(60, 1), (62, 0.5), (64, 0.5), (65, 2)]))  # 62 starts on a grid time, 64 does not
    assert roll.notes() == [(60, 0, 1), (62, 1, 1), (65, 2, 2)]
    fine = read_score(_stream([(60, 1), (62, 0.5), (64, 0.5), (65, 2)]), grid="eighth")
    assert fine.notes() == [(60, 0, 2), (62, 2, 1), (64, 3, 1), (65, 4, 4)] and fine.steps_per_quarter == 2


def test_a_tied_note_that_begins_between_grid_times_starts_at_its_first_grid_time():
    roll = read_score(_stream([(60, 1.5), (60, 0.5, "start"), (60, 2, "stop")]))  # review finding
    assert roll.notes() == [(60, 0, 2), (60, 2, 2)]


@pytest.mark.parametrize("metre, grid, frames", [("3/8", "eighth", 3), ("5/8", "eighth", 5), ("7/8", "sixteenth", 14),
                                                 ("6/8", "quarter", 3), ("3/4", "sixteenth", 12)])
def test_metres_survive_the_midi_round_trip(tmp_path, metre, grid, frames):
    roll = read_score(_stream([(60, 1.5), (62, 1.5), (64, 3)], metre), grid=grid)
    assert roll.bar_frames == frames
    back = read_score(write_midi(roll, tmp_path / "m.mid"), grid=grid)
    assert back == dataclasses.replace(roll, name="m.mid", key=None)


def test_trailing_silence_survives_the_round_trip(tmp_path):
    s = np.zeros((8, 128), bool)
    s[:4, 60] = True
    roll = PianoRoll(s, s & np.eye(8, 128, 60, dtype=bool), 1, 4, 0, None, "r.mid")
    assert read_score(write_midi(roll, tmp_path / "r.mid")) == roll


def test_the_frozen_chorale_split_holds_each_chorale_once():
    from lstmkit.datasets.music import SPLIT_FILE

    split = json.loads(SPLIT_FILE.read_text())
    parts = [split[k] for k in ("train", "valid", "test")]
    every = [n for part in parts for n in part]
    assert len(every) == len(set(every)) == 331 and [len(p) for p in parts] == [199, 66, 66]


def test_midi_is_read_in_exact_ticks_with_pickup_and_percussion_ignored(tmp_path):
    mid = mido.MidiFile(ticks_per_beat=96)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track += [mido.MetaMessage("time_signature", numerator=1, denominator=4, time=0),
              mido.Message("note_on", note=67, velocity=70, time=0),
              mido.Message("note_on", channel=9, note=36, velocity=90, time=0),  # a kick drum
              mido.MetaMessage("time_signature", numerator=3, denominator=4, time=96),
              mido.Message("note_off", note=67, velocity=0, time=0),
              mido.Message("note_on", note=60, velocity=70, time=0),
              mido.Message("note_on", note=60, velocity=0, time=180),  # 1.875 beats: ends before grid time 3
              mido.Message("note_on", note=60, velocity=70, time=12),
              mido.Message("note_off", note=60, velocity=0, time=96)]
    mid.save(tmp_path / "p.mid")
    with pytest.warns(UserWarning, match=r"1 percussion note\(s\) \(MIDI channel 10\) ignored"):
        roll = read_score(tmp_path / "p.mid")
    assert roll.notes() == [(67, 0, 1), (60, 1, 2), (60, 3, 1)]
    assert (roll.bar_frames, roll.bar_start) == (3, 1)
    roll = read_score(_stream([(60, 1), (62, 3), (64, 3)], "3/4"))
    assert roll.bar_frames == 3
    chorale = music21.corpus.parse("bach/bwv269")  # 3/4 with a one-beat pickup
    r = read_score(chorale)
    assert (r.bar_frames, r.bar_start) == (3, 1) and r.key == (7, "major")


@pytest.mark.parametrize("grid", ["quarter", "eighth", "sixteenth"])
def test_midi_round_trip_keeps_notes_and_onsets_on_the_grid(tmp_path, grid):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        roll = read_score(music21.corpus.parse("bach/bwv347"), grid=grid)
    path = write_midi(roll, tmp_path / "a.mid")
    back = read_score(path, grid=grid)
    assert back.notes() == roll.notes()
    assert np.array_equal(back.sounding, roll.sounding) and np.array_equal(back.onsets, roll.onsets)
    # and mido reads it: as many note-ons as notes
    ons = [m for m in mido.MidiFile(path).tracks[0] if m.type == "note_on" and m.velocity > 0]
    assert len(ons) == len(roll.notes())


def test_pipeline_transposes_to_c_fits_ranges_and_round_trips_as_json():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g_major = read_score(music21.corpus.parse("bach/bwv269"))  # G major
    pipe = PianoRollPipeline(transpose="common_key")
    roll, shift = pipe.read(g_major, return_shift=True)
    assert shift == 5 and roll.key == (0, "major")
    assert roll.notes() == [(p + 5, a, n) for p, a, n in g_major.notes()]
    pipe.fit([roll])
    used = np.flatnonzero(roll.sounding.any(0))
    assert (pipe.low_, pipe.high_) == (used[0] - 2, used[-1] + 2) and pipe.max_notes_ == 4
    assert len(pipe.voice_ranges_) == 4 and pipe.voice_ranges_[0][0] == used[0] and pipe.voice_ranges_[-1][1] == used[-1]
    item = pipe.encode(roll)
    P = pipe.n_pitches
    assert item["x"].shape == (len(roll), pipe.n_features) and item["y"].shape == (len(roll), P)
    assert np.array_equal(item["x"][1:, :P], item["y"][:-1]) and not item["x"][0, :P].any()  # frame t sees t-1
    beat = item["x"][:, 2 * P:]
    assert beat[:, :3].argmax(1).tolist()[:5] == [2, 0, 1, 2, 0]  # 3/4, pickup of one beat
    again = PianoRollPipeline.from_dict(json.loads(json.dumps(pipe.to_dict())))
    assert again.to_dict() == pipe.to_dict()
    decoded = pipe.decode(item["y"], item["onset"], roll.bar_frames, roll.bar_start)
    assert decoded.notes() == roll.notes()


def test_bad_input_is_named():
    with pytest.raises(DataError, match=r"score file 'nope.mid' does not exist"):
        read_score("nope.mid")
    with pytest.raises(DataError, match=r"is a folder, not a score file"):
        read_score(Path(__file__).parent)
    roll = PianoRoll(np.ones((2, 128), bool), np.ones((2, 128), bool))
    with pytest.raises(ConfigError, match=r"tempo_bpm must be a number in \(0, 1000\] .* got 0; velocity must be an "
                                          r"int in 1..127, got 200; program must be an int in 0..127 .* got 300"):
        write_midi(roll, "x.mid", tempo_bpm=0, velocity=200, program=300)
    with pytest.raises(DataError, match=r"is a folder; give the path of the .mid file to write"):
        write_midi(roll, Path(__file__).parent)
    with pytest.raises(DataError, match=r"write_midi needs a PianoRoll, got list"):
        write_midi([roll], "x.mid")
    with pytest.raises(DataError, match=r"steps_per_quarter must be an int >= 1, got 0; bar_frames must be an int >= 1, "
                                        r"got 0; key must be None or \(tonic pitch class 0-11, 'major' or 'minor'\), got \(13, 'dorian'\)"):
        PianoRoll(np.zeros((2, 128), bool), np.zeros((2, 128), bool), 0, 0, 0, (13, "dorian"))
    with pytest.raises(DataError, match=r"bar_start \(the pickup's frames\) must be below bar_frames \(4\), got 6"):
        PianoRoll(np.zeros((2, 128), bool), np.zeros((2, 128), bool), 1, 4, 6)
    with pytest.raises(DataError, match=r"sounding and onsets must both be \(T, 128\) boolean"):
        PianoRoll(np.zeros((4, 88), bool), np.zeros((4, 88), bool))
    with pytest.raises(DataError, match=r"an onset where no note sounds"):
        PianoRoll(np.zeros((2, 128), bool), np.ones((2, 128), bool))
    pipe = PianoRollPipeline()
    with pytest.raises(DataError, match=r"X must be a list of pieces .* wrap a single piece in a list"):
        pipe.read_many("piece.mid")
    roll = PianoRoll(np.ones((2, 128), bool), np.ones((2, 128), bool), steps_per_quarter=4)
    with pytest.raises(DataError, match=r"grid of 4 frame\(s\) per quarter; this model uses 1 \('quarter'\)"):
        pipe.read(roll, "X[0]")


def test_a_file_that_is_not_a_score_is_a_data_error(tmp_path):
    bad = tmp_path / "notes.mid"
    bad.write_bytes(b"not a midi file")
    with pytest.raises(DataError, match=r"could not read .*notes.mid.* as a MIDI file"):
        read_score(bad)
    bad = tmp_path / "notes.xml"
    bad.write_text("<not-music/>")
    with pytest.raises(DataError, match=r"could not read .*notes.xml.* as a score"):
        read_score(bad)
