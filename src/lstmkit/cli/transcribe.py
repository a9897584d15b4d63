"""``lstmkit transcribe train|predict|evaluate``: BiLSTM-CTC transcription of handwriting and speech.

Training and evaluation data: ``dataset:digit-strings``, ``dataset:text-lines``,
``dataset:pen-lines`` or ``dataset:spoken-lines`` (``:test`` for the held-out writers, fonts or
voices; sizes in ``SIZES``), or a folder with ``transcripts.tsv`` (``file<TAB>text`` per line)
beside the files. Files: images (.png, .jpg: grey line images), strokes (.csv with columns x, y,
pen_up, or .json: a list of strokes, each a list of [x, y] points), audio (.wav, .flac: log-mel
frames as ``spoken-lines`` computes them).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import numpy as np
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
    interruptible,
    load_estimator,
    need_dir,
    need_file,
    resume_command,
    settings,
    trainer_overrides,
)
from lstmkit.errors import DataError

app = typer.Typer(rich_markup_mode=None, help="Transcription of unsegmented handwriting and speech (BiLSTM + CTC).",
                  no_args_is_help=True)

SIZES = {"digit-strings": {"train": 3000, "test": 500}, "text-lines": {"train": 4000, "test": 500},
         "pen-lines": {"train": 3000, "test": 500}, "spoken-lines": {"train": 2000, "test": 300}}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg"}


def _dataset(source: str, what: str) -> tuple[list[np.ndarray], list[str]]:
    _, name, *rest = source.split(":")
    part = rest[0] if rest else "train"
    if name not in SIZES:
        raise DataError(f"{what} {source!r}: transcription datasets are {sorted(SIZES)}")
    if part not in SIZES[name]:
        raise DataError(f"{what} {source!r}: the part must be one of {list(SIZES[name])}, got {part!r}")
    import lstmkit.datasets

    data = lstmkit.datasets.load(name, n=SIZES[name][part], split=part, seed=0 if part == "train" else 1)
    return list(data.inputs), list(data.texts)


def read_strokes(path: Path) -> np.ndarray:
    """A pen trajectory file -> (T, 3) offsets dx, dy, pen_up (as ``pen-lines`` gives them)."""
    if path.suffix.lower() == ".json":
        try:
            strokes = json.loads(path.read_text(encoding="utf-8"))
            points = [(float(x), float(y), 1.0 if k == len(s) - 1 else 0.0)
                      for s in strokes for k, (x, y) in enumerate(s)]
        except (ValueError, TypeError) as e:
            raise DataError(f"{str(path)!r}: expected a JSON list of strokes, each a list of [x, y] points ({e})") from None
    else:
        import pandas as pd

        table = pd.read_csv(path)
        missing = [c for c in ("x", "y", "pen_up") if c not in table.columns]
        if missing:
            raise DataError(f"{str(path)!r}: missing column(s) {missing}; a stroke CSV has columns x, y, pen_up")
        points = list(table[["x", "y", "pen_up"]].astype(float).itertuples(index=False, name=None))
    if len(points) < 2:
        raise DataError(f"{str(path)!r} holds fewer than 2 points")
    a = np.asarray(points, dtype=np.float32)
    offsets = np.diff(a[:, :2], axis=0, prepend=a[:1, :2])
    height = max(float(np.ptp(a[:, 1])), 1e-6)  # a line of writing about one unit high, as pen-lines scales it
    return np.concatenate([offsets / height, a[:, 2:3]], axis=1).astype(np.float32)


def read_inputs(paths: list[Path], what: str = "FILE") -> list[np.ndarray]:
    out = []
    for p in paths:
        need_file(p, what)
        suffix = p.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            from PIL import Image

            try:
                with Image.open(p) as im:
                    grey = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
            except OSError as e:
                raise DataError(f"{what} {str(p)!r} is not an image Pillow can read ({e})") from None
            out.append(1.0 - grey if grey.mean() > 0.5 else grey)  # ink high, as the training images
        elif suffix in AUDIO_SUFFIXES:
            from lstmkit.datasets.speech import read_wav, speech_features

            out.append(speech_features(*read_wav(p)))
        elif suffix in (".csv", ".json"):
            out.append(read_strokes(p))
        else:
            raise DataError(f"{what} {str(p)!r}: unknown kind of file {suffix!r}; give images "
                            f"({', '.join(sorted(IMAGE_SUFFIXES))}), strokes (.csv, .json) or audio (.wav, .flac, .ogg)")
    return out


def read_transcribed(source: str, what: str = "--data") -> tuple[list[np.ndarray], list[str]]:
    if source.startswith("dataset:"):
        return _dataset(source, what)
    folder = need_dir(Path(source), what)
    table = need_file(folder / "transcripts.tsv", f"{what} {source!r}: transcripts.tsv")
    files, texts = [], []
    for i, line in enumerate(table.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataError(f"{table}: line {i} must be 'file<TAB>text', found no tab")
        name, text = line.split("\t", 1)
        files.append(folder / name)
        texts.append(text)
    if not files:
        raise DataError(f"{table} holds no transcripts")
    return read_inputs(files, what), texts



DataOpt = typer.Option(..., "--data", metavar="DIR", help="A folder with transcripts.tsv, or dataset:digit-strings / text-lines / pen-lines / spoken-lines[:test].")
ModelInOpt = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory written by `transcribe train`.")
DecoderOpt = typer.Option(None, "--decoder", metavar="greedy|beam", help="Decoding (default: the model's).")
BeamOpt = typer.Option(None, "--num-beams", metavar="INT", help="Prefixes kept by the beam decoder.")
LmOpt = typer.Option(None, "--lm-weight", metavar="FLOAT", help="Weight of the character language model in beam decoding (0: none).")


@app.command()
def train(
    data: str = DataOpt,
    model: Path = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory to write."),
    lm_text: Optional[str] = typer.Option(None, "--lm-text", metavar="FILE", help="Text for the character language model (default: the training transcripts); dataset:ptb for the Penn Treebank."),
    epochs: Optional[int] = EpochsOpt,
    seed: Optional[int] = SeedOpt,
    set_: Optional[list[str]] = SetOpt,
    config: Optional[Path] = ConfigOpt,
    run_dir: Optional[Path] = RunDirOpt,
    resume: bool = ResumeOpt,
    quiet: bool = QuietOpt,
    force: bool = ForceOpt,
) -> None:
    """Fit an LSTMTranscriber and save it; prints the validation loss.

    Example: lstmkit transcribe train --data dataset:digit-strings --model digits.model
    """
    inputs, texts = read_transcribed(data)
    lm = None
    if lm_text is not None:
        from lstmkit.cli.lm import read_corpus

        lm = read_corpus(lm_text, "--lm-text")
    check_model_path(model, force)
    from lstmkit.estimators import LSTMTranscriber

    est, tr = settings(LSTMTranscriber._get_param_names(), config, set_)
    if seed is not None:
        est["random_state"] = seed
    reader = LSTMTranscriber(**est, trainer=trainer_overrides(tr, epochs=epochs, run_dir=run_dir, quiet=quiet))
    start = time.perf_counter()
    with interruptible(resume_command(run_dir)):
        reader.fit(inputs, texts, lm_text=lm, resume=resume)
    seconds = time.perf_counter() - start
    reader.save(model, overwrite=force)
    last = reader.history_[-1] if reader.history_ else {}
    val = f"; validation CTC loss {last['val_loss']:.4f}" if "val_loss" in last else ""
    typer.echo(f"trained on {len(inputs)} inputs, {len(reader.history_)} epochs in {seconds:.0f} s{val}; saved {model}")


@app.command()
def predict(
    model: Path = ModelInOpt,
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="Images, stroke files (.csv/.json) or audio (.wav)."),
    decoder: Optional[str] = DecoderOpt,
    num_beams: Optional[int] = BeamOpt,
    lm_weight: Optional[float] = LmOpt,
) -> None:
    """Transcribe files, one line each.

    Example: lstmkit transcribe predict --model digits.model line1.png line2.png --decoder beam --lm-weight 0.5
    """
    reader = load_estimator(model, "LSTMTranscriber")
    inputs = read_inputs(list(files))
    for text in reader.predict(inputs, decoder=decoder, num_beams=num_beams, lm_weight=lm_weight):
        typer.echo(text)


@app.command()
def evaluate(
    model: Path = ModelInOpt,
    data: str = DataOpt,
    decoder: Optional[str] = DecoderOpt,
    num_beams: Optional[int] = BeamOpt,
    lm_weight: Optional[float] = LmOpt,
) -> None:
    """Character and word error rates (jiwer) and exact match on held-out data.

    Example: lstmkit transcribe evaluate --model digits.model --data dataset:digit-strings:test --decoder beam
    """
    inputs, texts = read_transcribed(data)
    reader = load_estimator(model, "LSTMTranscriber")
    start = time.perf_counter()
    m = reader.evaluate(inputs, texts, decoder=decoder, num_beams=num_beams, lm_weight=lm_weight)
    typer.echo(f"CER {100 * m['cer']:.2f}%; WER {100 * m['wer']:.2f}%; exact match {m['exact_match']:.4f}; "
               f"{len(inputs)} inputs in {time.perf_counter() - start:.1f} s")
