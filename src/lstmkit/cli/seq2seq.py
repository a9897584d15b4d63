"""``lstmkit seq2seq train|translate|evaluate``: encoder-decoders with attention for text -> text.

Pairs: a TSV file (source TAB target per line, no header), two aligned files (``--data
SOURCE.txt --targets TARGET.txt``, one text per line), or ``dataset:dates``,
``dataset:number-words``, ``dataset:greek-english`` (training part; ``dataset:NAME:test``,
``:valid``, and for dates ``:test_unseen``, the held-out parts).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

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
    need_file,
    resume_command,
    settings,
    trainer_overrides,
)
from lstmkit.errors import DataError
from lstmkit.utils.io import atomic_write

app = typer.Typer(rich_markup_mode=None, help="Encoder-decoders with attention: translation, normalisation.",
                  no_args_is_help=True)

PARTS = ("train", "valid", "test", "test_unseen")


def read_pairs(source: str, targets: Optional[Path], what: str = "--data") -> tuple[list[str], list[str]]:
    """(sources, targets) from a TSV, two aligned files, or ``dataset:NAME[:part]``."""
    if source.startswith("dataset:"):
        if targets is not None:
            raise DataError(f"--targets goes with a source file, not with {what} {source!r}")
        import lstmkit.datasets

        _, name, *rest = source.split(":")
        part = rest[0] if rest else "train"
        if part not in PARTS:
            raise DataError(f"{what} {source!r}: the part must be one of {list(PARTS)}, got {part!r}")
        kinds = {d.name: d.task for d in lstmkit.datasets.list_datasets()}
        if name in kinds and kinds[name] != "translation":
            pairs = sorted(n for n, task in kinds.items() if task == "translation")
            raise DataError(f"{what} {source!r}: dataset {name!r} is for {kinds[name]}, not text pairs; "
                            f"text-pair datasets: {pairs}")
        data = lstmkit.datasets.load(name)  # an unknown name gets the registry's error with a suggestion
        chosen = getattr(data, part, None)
        if chosen is None:
            raise DataError(f"dataset {name!r} has no {part!r} part")
        return list(chosen.source), list(chosen.target)
    path = need_file(Path(source), what)
    lines = path.read_text(encoding="utf-8").splitlines()
    if targets is not None:
        other = need_file(targets, "--targets").read_text(encoding="utf-8").splitlines()
        if len(other) != len(lines):
            raise DataError(f"{what} {source!r} has {len(lines)} lines but --targets {str(targets)!r} has {len(other)}; "
                            "the files must be aligned line by line")
        return lines, other
    src, tgt = [], []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataError(f"{what} {source!r} line {i}: expected 'source<TAB>target', found no tab "
                            "(or give the targets in a second file with --targets)")
        s, t = line.split("\t", 1)
        src.append(s)
        tgt.append(t)
    if not src:
        raise DataError(f"{what} {source!r} holds no pairs")
    return src, tgt



DataOpt = typer.Option(..., "--data", metavar="FILE", help="Pairs: a TSV (source<TAB>target), a source file with --targets, or dataset:dates / dataset:greek-english[:test].")
TargetsOpt = typer.Option(None, "--targets", metavar="FILE", help="Target texts, one per line, aligned with --data.")
ModelInOpt = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory written by `seq2seq train`.")
BeamOpt = typer.Option(None, "--num-beams", metavar="INT", help="Beam search with this many beams (default: the model's, greedy = 1).")


@app.command()
def train(
    data: str = DataOpt,
    targets: Optional[Path] = TargetsOpt,
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
    """Fit an LSTMSeq2Seq on text pairs and save it; prints the validation token accuracy.

    Example: lstmkit seq2seq train --data dataset:dates --model dates.model --set level=char
    """
    src, tgt = read_pairs(data, targets)
    check_model_path(model, force)
    from lstmkit.estimators import LSTMSeq2Seq

    est, tr = settings(LSTMSeq2Seq._get_param_names(), config, set_)
    if seed is not None:
        est["random_state"] = seed
    s2s = LSTMSeq2Seq(**est, trainer=trainer_overrides(tr, epochs=epochs, run_dir=run_dir, quiet=quiet))
    start = time.perf_counter()
    with interruptible(resume_command(run_dir)):
        s2s.fit(src, tgt, resume=resume)
    seconds = time.perf_counter() - start
    s2s.save(model, overwrite=force)
    last = s2s.history_[-1] if s2s.history_ else {}
    acc = f"; validation token accuracy {last['val_token_accuracy']:.4f}" if "val_token_accuracy" in last else ""
    typer.echo(f"trained on {len(src)} pairs, {len(s2s.history_)} epochs in {seconds:.0f} s{acc}; saved {model}")


@app.command()
def translate(
    model: Path = ModelInOpt,
    text: Optional[list[str]] = typer.Option(None, "--text", "-t", metavar="TEXT", help="A source text (repeatable)."),
    data: Optional[str] = typer.Option(None, "--data", metavar="FILE", help="Source texts, one per line (or a TSV / dataset:NAME:part: its sources)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE", help="Write source<TAB>output lines here instead of printing."),
    num_beams: Optional[int] = BeamOpt,
    plot: Optional[Path] = typer.Option(None, "--plot", metavar="PNG", help="Attention heat map of the first source."),
) -> None:
    """Translate source texts, one output per line.

    Example: lstmkit seq2seq translate --model dates.model --text "miércoles, 3 de abril de 2002" --plot att.png
    """
    if (text is None) == (data is None):
        raise DataError("give the sources with --text (repeatable) or --data FILE, one of the two")
    if text is not None:
        sources = list(text)
    elif data.startswith("dataset:") or "\t" in need_file(Path(data)).read_text(encoding="utf-8"):
        sources = read_pairs(data, None)[0]
    else:
        sources = need_file(Path(data)).read_text(encoding="utf-8").splitlines()
    for path, option in ((out, "--out"), (plot, "--plot")):
        if path is not None:
            check_writable(path, option)
    s2s = load_estimator(model, "LSTMSeq2Seq")
    outputs = s2s.predict(sources, num_beams=num_beams)
    if out is not None:
        atomic_write(out, lambda tmp: Path(tmp).write_text("".join(f"{s}\t{o}\n" for s, o in zip(sources, outputs)),
                                                            encoding="utf-8"))
        typer.echo(f"wrote {len(outputs)} translations to {out}")
    else:
        for o in outputs:
            typer.echo(o)
    if plot is not None:
        t = s2s.translate(sources[:1], num_beams=num_beams)[0]
        if t.attention is None:
            raise DataError("--plot: this model has no attention (attention='none')")
        from lstmkit.data.seq2seq import display_tokens  # at call time, like the model: `--help` stays free of torch
        from lstmkit.viz.attention import plot_attention

        plot_attention(t.attention, display_tokens(t.source_tokens), display_tokens(t.tokens), plot, title=f"{sources[0][:40]} -> {t.text[:40]}")
        typer.echo(f"wrote {plot}")


@app.command()
def evaluate(
    model: Path = ModelInOpt,
    data: str = DataOpt,
    targets: Optional[Path] = TargetsOpt,
    num_beams: Optional[int] = BeamOpt,
    by_length: bool = typer.Option(False, "--by-length", help="Also BLEU by source length (tokens)."),
) -> None:
    """Exact match, BLEU and chrF (sacrebleu) and teacher-forced token accuracy on held-out pairs.

    Example: lstmkit seq2seq evaluate --model greek.model --data dataset:greek-english:test --num-beams 5 --by-length
    """
    src, tgt = read_pairs(data, targets)
    s2s = load_estimator(model, "LSTMSeq2Seq")
    start = time.perf_counter()
    scores = s2s.evaluate(src, tgt, num_beams=num_beams)
    seconds = time.perf_counter() - start
    typer.echo(f"exact match {scores['exact_match']:.4f}; BLEU {scores['bleu']:.2f}; chrF {scores['chrf']:.2f}; "
               f"token accuracy {scores['token_accuracy']:.4f}; {len(src)} pairs in {seconds:.1f} s")
    if by_length:
        from lstmkit.evaluation import score_by_length

        hyps = s2s.predict(src, num_beams=num_beams)
        lengths = [len(s2s.pipeline_.tokenize(s)) for s in src]
        for row in score_by_length(hyps, tgt, lengths):
            typer.echo(f"  source length {row['bucket']:>7s}: BLEU {row['bleu']:6.2f} ({row['n']} pairs)")
