"""``lstmkit caption train|describe|evaluate``: image and video captioning with attention.

Data: a folder of images with a ``captions.tsv`` (``file<TAB>caption`` per line; several lines
for one file are several references), or the synthetic ``dataset:scenes`` (5,000 training
images; ``dataset:scenes:test``: 500 images, every one holding a colour/shape pair never seen
in training) and ``dataset:scene-clips`` (2,000 clips; ``:test`` 300). On the synthetic sets
``evaluate`` also reports attribute accuracy (every stated colour, shape, relation or motion
checked against the scene graph).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

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
    check_writable,
    interruptible,
    load_estimator,
    need_dir,
    need_file,
    resume_command,
    settings,
    trainer_overrides,
)
from lstmkit.errors import DataError

app = typer.Typer(rich_markup_mode=None, help="Image and video captioning with attention.", no_args_is_help=True)

SIZES = {"scenes": {"train": 5000, "test": 500}, "scene-clips": {"train": 2000, "test": 300}}


def read_captioned(source: str, what: str = "--data") -> tuple[np.ndarray, list[list[str]], Any]:
    """(images or clips, references per input, a checker ``f(captions) -> accuracy`` or None)."""
    if source.startswith("dataset:"):
        _, name, *rest = source.split(":")
        part = rest[0] if rest else "train"
        if name not in SIZES:
            raise DataError(f"{what} {source!r}: captioning datasets are {sorted(SIZES)}")
        if part not in SIZES[name]:
            raise DataError(f"{what} {source!r}: the part must be one of {list(SIZES[name])}, got {part!r}")
        from lstmkit.datasets import scenes  # at call time: keeps `lstmkit --help` from importing Pillow and the renderer

        n, seed = SIZES[name][part], (0 if part == "train" else 1)
        if name == "scenes":
            d = scenes.make_scenes(n, split=part, seed=seed)
            return d.images, d.captions, lambda caps: scenes.attribute_accuracy(caps, d.scenes)
        c = scenes.make_clips(n, split=part, seed=seed)
        return c.frames, c.captions, lambda caps: scenes.clip_event_accuracy(caps, c.events)
    folder = need_dir(Path(source), what)
    table = need_file(folder / "captions.tsv", f"{what} {source!r}: captions.tsv")
    refs: dict[str, list[str]] = {}
    for i, line in enumerate(table.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataError(f"{table}: line {i} must be 'file<TAB>caption', found no tab")
        name, caption = line.split("\t", 1)
        refs.setdefault(name, []).append(caption)
    if not refs:
        raise DataError(f"{table} holds no captions")
    return read_images([folder / name for name in refs], what), list(refs.values()), None


def read_images(paths: list[Path], what: str, mode: str = "RGB") -> np.ndarray:
    """Image files -> (N, H, W, C) uint8 (``mode`` "RGB" or "L" (grey); every image resized to the
    first one's size)."""
    from PIL import Image

    out, size = [], None
    for p in paths:
        if not p.is_file():
            raise DataError(f"{what}: image {str(p)!r} does not exist")
        try:
            with Image.open(p) as im:
                im = im.convert(mode)
                size = size or im.size
                a = np.asarray(im.resize(size) if im.size != size else im, dtype=np.uint8)
                out.append(a[..., None] if a.ndim == 2 else a)
        except OSError as e:
            raise DataError(f"{what}: {str(p)!r} is not an image Pillow can read ({e})") from None
    return np.stack(out)



DataOpt = typer.Option(..., "--data", metavar="DIR", help="A folder of images with captions.tsv, or dataset:scenes / dataset:scene-clips[:test].")
ModelInOpt = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory written by `caption train`.")
BeamOpt = typer.Option(None, "--num-beams", metavar="INT", help="Beam search with this many beams (default: the model's, greedy = 1).")


@app.command()
def train(
    data: str = DataOpt,
    model: Path = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory to write."),
    epochs: Optional[int] = EpochsOpt,
    seed: Optional[int] = SeedOpt,
    set_: Optional[list[str]] = SetOpt,
    config: Optional[Path] = ConfigOpt,
    run_dir: Optional[Path] = RunDirOpt,
    resume: bool = ResumeOpt,
    quiet: bool = QuietOpt,
    force: bool = ForceOpt,
) -> None:
    """Fit an LSTMCaptioner and save it; prints the validation token accuracy.

    Example: lstmkit caption train --data dataset:scenes --model scenes.model --epochs 30
    """
    images, refs, _ = read_captioned(data)
    check_model_path(model, force)
    from lstmkit.estimators import LSTMCaptioner

    est, tr = settings(LSTMCaptioner._get_param_names(), config, set_)
    if seed is not None:
        est["random_state"] = seed
    cap = LSTMCaptioner(**est, trainer=trainer_overrides(tr, epochs=epochs, run_dir=run_dir, quiet=quiet))
    start = time.perf_counter()
    with interruptible(resume_command(run_dir)):
        cap.fit(images, refs, resume=resume)
    seconds = time.perf_counter() - start
    cap.save(model, overwrite=force)
    last = cap.history_[-1] if cap.history_ else {}
    acc = f"; validation token accuracy {last['val_token_accuracy']:.4f}" if "val_token_accuracy" in last else ""
    kind = "clips" if images.ndim == 5 else "images"
    typer.echo(f"trained on {len(images)} {kind}, {len(cap.history_)} epochs in {seconds:.0f} s{acc}; saved {model}")


@app.command()
def describe(
    model: Path = ModelInOpt,
    images: list[Path] = typer.Argument(None, metavar="IMAGE...", help="Image files to describe."),
    data: Optional[str] = typer.Option(None, "--data", metavar="DIR", help="Instead of files: a captioned folder or dataset:scenes:test (its inputs)."),
    limit: int = typer.Option(10, "--limit", min=1, metavar="INT", help="With --data: describe the first INT inputs."),
    num_beams: Optional[int] = BeamOpt,
    plot: Optional[Path] = typer.Option(None, "--plot", metavar="PNG", help="Attention of each word over the first input."),
) -> None:
    """Caption images (or a captioning dataset's inputs), one caption per line.

    Example: lstmkit caption describe --model scenes.model --data dataset:scenes:test --limit 5 --plot words.png
    """
    if bool(images) == (data is not None):
        raise DataError("give image files, or --data DIR|dataset:NAME:part, one of the two")
    if plot is not None:
        check_writable(plot, "--plot")
    cap = load_estimator(model, "LSTMCaptioner")
    if data is not None:
        x = read_captioned(data)[0][:limit]
    else:
        x = read_images(list(images), "IMAGE", "L" if cap.pipeline_.shape_[-1] == 1 else "RGB")
    results = cap.describe(x, num_beams=num_beams)
    for r in results:
        typer.echo(r.text)
    if plot is not None:
        if results[0].attention is None:
            raise DataError("--plot: this model has no attention (attention='none')")
        from lstmkit.viz.attention import plot_image_attention

        plot_image_attention(x[0], results[0].attention, results[0].tokens, plot, title=results[0].text)
        typer.echo(f"wrote {plot}")


@app.command()
def evaluate(
    model: Path = ModelInOpt,
    data: str = DataOpt,
    num_beams: Optional[int] = BeamOpt,
) -> None:
    """BLEU-4 and chrF (sacrebleu, against every reference) and token accuracy; on the synthetic
    sets also attribute accuracy (captions whose every statement is true of the scene).

    Example: lstmkit caption evaluate --model scenes.model --data dataset:scenes:test
    """
    x, refs, check = read_captioned(data)
    cap = load_estimator(model, "LSTMCaptioner")
    start = time.perf_counter()
    scores = cap.evaluate(x, refs, num_beams=num_beams)
    line = f"BLEU-4 {scores['bleu']:.2f}; chrF {scores['chrf']:.2f}; token accuracy {scores['token_accuracy']:.4f}"
    if check is not None:
        line += f"; attribute accuracy {check(cap.predict(x, num_beams=num_beams)):.4f}"
    typer.echo(f"{line}; {len(x)} inputs in {time.perf_counter() - start:.1f} s")
