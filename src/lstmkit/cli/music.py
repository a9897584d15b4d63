"""``lstmkit music train|evaluate|generate``: polyphonic music models over piano rolls.

Pieces: a score file (MIDI, MusicXML, anything music21 reads), a folder of them, or
``dataset:bach-chorales`` (the training part; ``:valid`` and ``:test`` the held-out parts).

lstmkit's torch-dependent modules are imported inside the commands, as in the other command
groups, so ``lstmkit --help`` and argument errors answer without importing torch.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

import typer

from lstmkit.cli._options import (
    ConfigOpt,
    EpochsOpt,
    ForceOpt,
    QuietOpt,
    ResumeOpt,
    RunDirOpt,
    SeedOpt,
    SetOpt,
    check_model_path,
    check_writable,
    interruptible,
    load_estimator,
    resume_command,
    settings,
    trainer_overrides,
)
from lstmkit.errors import DataError

app = typer.Typer(rich_markup_mode=None, help="Music: learn from piano rolls, frame NLL, compose MIDI.", no_args_is_help=True)

SPLITS = ("train", "valid", "test")
SCORE_SUFFIXES = (".mid", ".midi", ".xml", ".musicxml", ".mxl", ".krn", ".abc")


def read_pieces(source: str, grid: str = "quarter", what: str = "--data") -> list[Any]:
    """PianoRolls of ``source``: ``dataset:NAME[:part]``, a score file or a folder of them."""
    if source.startswith("dataset:"):
        import lstmkit.datasets

        _, name, *rest = source.split(":")
        part = rest[0] if rest else "train"
        if part not in SPLITS or len(rest) > 1:
            raise DataError(f"{what} {source!r}: the part must be one of {list(SPLITS)}, got {part!r}")
        data = lstmkit.datasets.load(name, grid=grid) if name == "bach-chorales" else lstmkit.datasets.load(name)
        if not hasattr(data, "train") or not isinstance(data.train, list):
            raise DataError(f"dataset {name!r} is not a music corpus (try lstmkit datasets list)")
        return getattr(data, part)
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in SCORE_SUFFIXES)
        if not files:
            raise DataError(f"{what} {source!r}: the folder holds no score files ({', '.join(SCORE_SUFFIXES)})")
    elif not path.exists():
        raise DataError(f"{what} {source!r} does not exist")
    else:
        files = [path]
    return [read_one(f, grid, what) for f in files]


def read_one(path: Path, grid: str, what: str) -> Any:
    """One score file as a PianoRoll; errors name the option."""
    from lstmkit.data.pianoroll import read_score

    try:
        return read_score(path, grid)
    except DataError as e:
        raise DataError(f"{what}: {e}") from None



DataOpt = typer.Option(..., "--data", metavar="SRC", help="Pieces: a MIDI/MusicXML file, a folder of them, or dataset:bach-chorales[:valid|:test].")
ModelInOpt = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory written by `music train`.")


def _metrics_line(m: dict[str, Any]) -> str:
    return (f"NLL {m['nll']:.3f} nats per frame (sounding notes), onset NLL {m['onset_nll']:.3f}; frame F1 "
            f"{m['frame_f1']:.3f}, accuracy {m['frame_accuracy']:.3f}; {m['pieces']} pieces, {m['frames']} frames")


@app.command()
def train(
    data: str = DataOpt,
    model: Path = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory to write."),
    val_data: Optional[str] = typer.Option(None, "--val-data", metavar="SRC", help="Validation pieces (default: val_size of --data; dataset:NAME uses its valid part)."),
    epochs: Optional[int] = EpochsOpt,
    seed: Optional[int] = SeedOpt,
    set_: Optional[list[str]] = SetOpt,
    config: Optional[Path] = ConfigOpt,
    run_dir: Optional[Path] = RunDirOpt,
    resume: bool = ResumeOpt,
    quiet: bool = QuietOpt,
    force: bool = ForceOpt,
) -> None:
    """Fit an LSTMMusicModel and save it; prints the validation NLL per frame.

    Example: lstmkit music train --data dataset:bach-chorales --model bach.model --set output=nade
    """
    from lstmkit.estimators import LSTMMusicModel

    check_model_path(model, force)
    est, tr = settings(LSTMMusicModel._get_param_names(), config, set_)
    if seed is not None:
        est["random_state"] = seed
    music = LSTMMusicModel(**est, trainer=trainer_overrides(tr, epochs=epochs, run_dir=run_dir, quiet=quiet))
    music._check_params()  # a bad grid is reported before any reading
    pieces = read_pieces(data, music.grid)
    if val_data is None and data.startswith("dataset:") and data.count(":") == 1:
        val_data = data + ":valid"
    val = read_pieces(val_data, music.grid, "--val-data") if val_data is not None else None
    start = time.perf_counter()
    with interruptible(resume_command(run_dir)):
        music.fit(pieces, val, resume=resume)
    seconds = time.perf_counter() - start
    music.save(model, overwrite=force)
    line = f"trained on {len(pieces)} pieces, {len(music.history_)} epochs in {seconds:.0f} s"
    if val is not None:
        line += "; validation " + _metrics_line(music.evaluate(val))
    typer.echo(line + f"; saved {model}")


@app.command()
def evaluate(
    data: str = DataOpt,
    model: Path = ModelInOpt,
    json_out: Optional[Path] = typer.Option(None, "--json", metavar="FILE", help="Also write the figures as JSON."),
) -> None:
    """Frame NLL (nats per frame), onset NLL and frame-level P/R/F1/accuracy of held-out pieces.

    Example: lstmkit music evaluate --data dataset:bach-chorales:test --model bach.model
    """
    if json_out is not None:
        check_writable(json_out, "--json")
    music = load_estimator(model, "LSTMMusicModel")
    m = music.evaluate(read_pieces(data, music.grid))
    typer.echo(_metrics_line(m))
    if json_out is not None:
        from lstmkit.utils.io import atomic_write_json

        atomic_write_json(json_out, m)


@app.command()
def generate(
    model: Path = ModelInOpt,
    out: Path = typer.Option(..., "--out", "-o", metavar="FILE.mid", help="MIDI file to write."),
    primer: Optional[Path] = typer.Option(None, "--primer", metavar="FILE", help="A MIDI/MusicXML file the piece continues (default: start from silence)."),
    bars: int = typer.Option(8, "--bars", "-n", metavar="INT", help="Bars to compose (after the primer)."),
    temperature: float = typer.Option(1.0, "--temperature", "-t", metavar="FLOAT", help="0 = the likelier outcome of each note; > 1 wilder."),
    top_p: Optional[float] = typer.Option(None, "--top-p", metavar="FLOAT", help="Nucleus sampling of each note decision."),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="INT", help="Seed of the sampler: the same seed gives the same piece."),
    max_notes: Optional[int] = typer.Option(None, "--max-notes", metavar="INT", help="Most notes at once (default: the most in a training frame)."),
    no_voice_ranges: bool = typer.Option(False, "--no-voice-ranges", help="Let every voice take any modelled pitch (default: each voice in its training range)."),
    tempo: float = typer.Option(80.0, "--tempo", metavar="BPM", help="Quarter notes per minute in the MIDI file."),
    plot: Optional[Path] = typer.Option(None, "--plot", metavar="FILE.png", help="Also draw the piano roll."),
    stats: bool = typer.Option(False, "--stats", help="Print the piece's musical statistics as JSON."),
    force: bool = ForceOpt,
) -> None:
    """Compose a piece (optionally continuing a primer) and write it as MIDI.

    Example: lstmkit music generate --model bach.model --primer intro.mid --bars 8 --out new.mid --plot new.png
    """
    from lstmkit.data.pianoroll import write_midi

    if out.suffix.lower() not in (".mid", ".midi"):
        raise DataError(f"--out must be a .mid file, got {str(out)!r}")
    if out.exists() and not force and not out.is_dir():
        raise DataError(f"--out {str(out)!r} exists; pass --force to overwrite it")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise DataError(f"--plot must end in .png or .svg, got {str(plot)!r}")
    for option, path in (("--out", out), ("--plot", plot)):
        if path is not None:
            check_writable(path, option)
    if not 0 < tempo <= 1000:
        raise DataError(f"--tempo must be in (0, 1000] quarter notes per minute, got {tempo}")
    music = load_estimator(model, "LSTMMusicModel")
    source = read_one(primer, music.grid, "--primer") if primer is not None else None
    piece = music.generate(source, bars, temperature=temperature, top_p=top_p, seed=seed, max_notes=max_notes,
                           use_voice_ranges=not no_voice_ranges)
    write_midi(piece, out, tempo_bpm=tempo)
    primer_frames = 0
    if primer is not None:
        primer_frames = len(piece) - bars * piece.bar_frames
    if plot is not None:
        from lstmkit.viz.pianoroll import plot_piano_roll

        plot_piano_roll(piece, plot, title=f"generated by {model.name}", primer_frames=primer_frames)
    typer.echo(f"wrote {out}: {len(piece.notes())} notes, {len(piece)} frames ({bars} bars composed"
               f"{f' after a {primer_frames}-frame primer' if primer_frames else ''})")
    if stats:
        from lstmkit.evaluation.music import music_statistics

        typer.echo(json.dumps(music_statistics([piece]), indent=1))
