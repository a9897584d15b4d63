"""``lstmkit lm train|evaluate|generate``: word- and character-level language models.

Text: a .txt file, a folder of .txt files, or ``dataset:ptb`` / ``dataset:shakespeare`` (the
training part; ``dataset:ptb:valid`` and ``dataset:ptb:test`` the held-out parts).
"""

from __future__ import annotations

import sys
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
    interruptible,
    load_estimator,
    resume_command,
    settings,
    trainer_overrides,
)
from lstmkit.errors import ConfigError, DataError

app = typer.Typer(rich_markup_mode=None, help="Language models: train on text, perplexity, generation.", no_args_is_help=True)

SPLITS = ("train", "valid", "test")


def read_corpus(source: str, what: str = "--data") -> str:
    """The text of ``source``: a path (file or folder of .txt) or ``dataset:NAME[:train|valid|test]``."""
    if source.startswith("dataset:"):
        import lstmkit.datasets

        _, name, *rest = source.split(":")
        split = rest[0] if rest else "train"
        if split not in SPLITS:
            raise DataError(f"{what} {source!r}: the part must be one of {list(SPLITS)}, got {split!r}")
        corpus = lstmkit.datasets.load(name)
        if not hasattr(corpus, "train") or not isinstance(corpus.train, str):
            raise DataError(f"dataset {name!r} is not a text corpus (try lstmkit datasets list)")
        return getattr(corpus, split)
    path = Path(source)
    if not path.exists():
        raise DataError(f"{what} {source!r} does not exist")
    from lstmkit.data.text import read_text

    return read_text(path, what)



DataOpt = typer.Option(..., "--data", "--text", metavar="FILE", help="Text: a .txt file, a folder of .txt files, or dataset:ptb / dataset:shakespeare.")
ModelInOpt = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory written by `lm train`.")


@app.command()
def train(
    data: str = DataOpt,
    model: Path = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory to write."),
    val_data: Optional[str] = typer.Option(None, "--val-data", metavar="FILE", help="Validation text (default: the end of --data, val_size of it; dataset:NAME uses its valid part)."),
    epochs: Optional[int] = EpochsOpt,
    seed: Optional[int] = SeedOpt,
    set_: Optional[list[str]] = SetOpt,
    config: Optional[Path] = ConfigOpt,
    run_dir: Optional[Path] = RunDirOpt,
    resume: bool = ResumeOpt,
    quiet: bool = QuietOpt,
    force: bool = ForceOpt,
) -> None:
    """Fit an LSTMLanguageModel and save it; prints the validation perplexity and tokens/s.

    Example: lstmkit lm train --data dataset:ptb --model ptb.model --set hidden_size=200 --epochs 13
    """
    text = read_corpus(data)
    if val_data is None and data.startswith("dataset:") and data.count(":") == 1:
        val_data = data + ":valid"
    val = read_corpus(val_data, "--val-data") if val_data is not None else None
    check_model_path(model, force)
    from lstmkit.estimators import LSTMLanguageModel

    est, tr = settings(LSTMLanguageModel._get_param_names(), config, set_)
    if seed is not None:
        est["random_state"] = seed
    lm = LSTMLanguageModel(**est, trainer=trainer_overrides(tr, epochs=epochs, run_dir=run_dir, quiet=quiet))
    start = time.perf_counter()
    with interruptible(resume_command(run_dir)):
        lm.fit(text, val, resume=resume)
    seconds = time.perf_counter() - start
    lm.save(model, overwrite=force)
    n = len(lm.pipeline_.encode(text))
    if val is None and lm.val_size:
        n = int(n * (1 - lm.val_size))  # the end of the text was held out for validation
    epochs_run = len(lm.history_)
    # The history covers every session of a resumed run; this call's seconds only the last one.
    trained_s = sum(row.get("time_s", 0.0) for row in lm.history_) or seconds
    line = (f"trained on {n} tokens ({len(lm.vocabulary_)} in the vocabulary), {epochs_run} epochs in {trained_s:.0f} s "
            f"({n * epochs_run / max(trained_s, 1e-9):.0f} tokens/s)")
    if resume:
        line += f"; this session {seconds:.0f} s"
    if val is not None:
        line += f"; validation perplexity {lm.perplexity(val):.2f}"
    typer.echo(line + f"; saved {model}")


@app.command()
def evaluate(
    data: str = DataOpt,
    model: Path = ModelInOpt,
) -> None:
    """Perplexity and bits per token (bits per character for a char model) of held-out text,
    streamed as one sequence with the state carried (batch-size independent).

    Example: lstmkit lm evaluate --data dataset:ptb:test --model ptb.model
    """
    lm = load_estimator(model, "LSTMLanguageModel")
    text = read_corpus(data)
    start = time.perf_counter()
    m = lm.evaluate(text)
    seconds = time.perf_counter() - start
    unit = "bits per character" if lm.level == "char" else "bits per token"
    typer.echo(f"perplexity {m['perplexity']:.2f}; {unit} {m['bits_per_token']:.4f}; {m['tokens']} tokens "
               f"({100 * m['unknown_share']:.1f}% <unk>) in {seconds:.1f} s")


@app.command()
def generate(
    model: Path = ModelInOpt,
    prompt: str = typer.Option("", "--prompt", "-p", metavar="TEXT", help="Text that primes the model (default: none)."),
    max_tokens: int = typer.Option(100, "--max-tokens", "-n", metavar="INT", help="Tokens to generate."),
    temperature: float = typer.Option(1.0, "--temperature", "-t", metavar="FLOAT", help="0 = greedy; < 1 sharper, > 1 more random."),
    top_k: Optional[int] = typer.Option(None, "--top-k", metavar="INT", help="Sample among the k most likely tokens."),
    top_p: Optional[float] = typer.Option(None, "--top-p", metavar="FLOAT", help="Nucleus sampling: the most likely tokens up to probability p."),
    num_beams: Optional[int] = typer.Option(None, "--num-beams", metavar="INT", help="Beam search with this many beams (deterministic)."),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="INT", help="Seed of the sampler: the same seed gives the same text."),
    stop_at_eos: bool = typer.Option(False, "--stop-at-eos", help="Stop at the end of a sentence (word) or line (char)."),
    quiet: bool = typer.Option(False, "--quiet", help="Do not print tokens/s at the end."),
) -> None:
    """Continue a prompt, printing the text as it is generated.

    Example: lstmkit lm generate --model shakespeare.model --prompt "ROMEO." --max-tokens 300 --temperature 0.8 --top-p 0.95
    """
    lm = load_estimator(model, "LSTMLanguageModel")
    start = time.perf_counter()
    n = 0
    if num_beams is not None:
        ignored = [o for o, v in (("--temperature", temperature != 1.0), ("--top-k", top_k is not None),
                                  ("--top-p", top_p is not None), ("--seed", seed is not None)) if v]
        if ignored:
            raise ConfigError(f"--num-beams searches deterministically; drop {', '.join(ignored)} (they only apply to sampling)")
        text = lm.generate(prompt, max_tokens, num_beams=num_beams, stop_at_eos=stop_at_eos)
        sys.stdout.write(prompt + text)
        n = len(lm.pipeline_.tokenize(text, end_of_text=False)) if lm.level == "word" else len(text)
    else:
        pieces = lm.stream(prompt, max_tokens, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
                           stop_at_eos=stop_at_eos)  # bad arguments fail here, before any output
        sys.stdout.write(prompt)
        for piece in pieces:
            sys.stdout.write(piece)
            sys.stdout.flush()
            n += 1
    sys.stdout.write("\n")
    if not quiet:
        seconds = time.perf_counter() - start
        typer.echo(f"[{n} tokens in {seconds:.2f} s, {n / max(seconds, 1e-9):.0f} tokens/s]", err=True)
