"""``lstmkit tag train|predict|evaluate``: sequence labelling (one tag per token) from files.

Input: CoNLL-U (``.conllu``; tags from ``--column``, default upos), CoNLL column files
(``.conll``, ``.bio``, ``.iob``, ``.tsv``: token first, tag last), plain text for prediction
(``.txt``: one whitespace-tokenised sentence per line), or ``dataset:turkish_web_treebank``
(``:test`` for the held-out part).
"""

from __future__ import annotations

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
    interruptible,
    load_estimator,
    need_file,
    resume_command,
    settings,
    trainer_overrides,
)
from lstmkit.cli._supervised import confusion, print_confusion, write_csv
from lstmkit.errors import DataError

app = typer.Typer(rich_markup_mode=None, help="Sequence labelling: BiLSTM tagger with optional CRF.", no_args_is_help=True)

CONLL_SUFFIXES = (".conll", ".bio", ".iob", ".tsv")


def read_tagged(source: str, column: str = "upos", need_tags: bool = True) -> tuple[list[list[str]], Any]:
    if source.startswith("dataset:"):
        import lstmkit.datasets

        _, name, *split = source.split(":")
        d = lstmkit.datasets.load(name)
        if not hasattr(d, "tokens_train"):
            raise DataError(f"dataset {name!r} is not a tagging dataset")
        return (d.tokens_test, d.tags_test) if split and split[0] == "test" else (d.tokens_train, d.tags_train)
    path = need_file(Path(source))
    suffix = path.suffix.lower()
    if suffix == ".conllu":
        from lstmkit.data.conll import read_conllu

        return read_conllu(path, column=column)
    if suffix in CONLL_SUFFIXES:
        from lstmkit.data.conll import read_conll

        return read_conll(path)
    if suffix == ".txt" and not need_tags:
        sents = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not sents:
            raise DataError(f"{path}: no sentences found")
        return sents, None
    raise DataError(f"--data {str(path)!r}: expected .conllu, {', '.join(CONLL_SUFFIXES)}" + ("" if need_tags else " or .txt") + f", got {suffix or 'no extension'!r}")



def _frame(tokens: list[list[str]], pred: list[list[Any]], gold: Any = None) -> Any:
    import pandas as pd

    rows = []
    for s, (toks, tags) in enumerate(zip(tokens, pred)):
        for i, (tok, tag) in enumerate(zip(toks, tags)):
            row = {"sentence": s, "position": i, "token": tok, "prediction": tag}
            if gold is not None:
                row["label"] = gold[s][i]
            rows.append(row)
    return pd.DataFrame(rows)


ModelInOpt = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory written by `tag train`.")
TargetColOpt = typer.Option("upos", "--target-col", metavar="COLUMN", help="CoNLL-U column with the tags (upos, xpos, deprel ...).")


@app.command()
def train(
    data: str = typer.Option(..., "--data", metavar="FILE", help="Tagged training data: .conllu, .conll/.bio, or dataset:turkish_web_treebank."),
    model: Path = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory to write."),
    target_col: str = TargetColOpt,
    epochs: Optional[int] = EpochsOpt,
    seed: Optional[int] = SeedOpt,
    set_: Optional[list[str]] = SetOpt,
    config: Optional[Path] = ConfigOpt,
    run_dir: Optional[Path] = RunDirOpt,
    resume: bool = ResumeOpt,
    quiet: bool = QuietOpt,
    force: bool = ForceOpt,
) -> None:
    """Fit an LSTMTagger and save it.

    Example: lstmkit tag train --data train.conllu --model pos.model --set use_crf=true --epochs 10
    """
    tokens, tags = read_tagged(data, target_col)
    check_model_path(model, force)  # before training, not after
    from lstmkit.estimators import LSTMTagger

    est, tr = settings(LSTMTagger._get_param_names(), config, set_)
    if seed is not None:
        est["random_state"] = seed
    tagger = LSTMTagger(**est, trainer=trainer_overrides(tr, epochs=epochs, run_dir=run_dir, quiet=quiet))
    with interruptible(resume_command(run_dir)):
        tagger.fit(tokens, tags, resume=resume)
    tagger.save(model, overwrite=force)
    typer.echo(f"trained on {len(tokens)} sentences ({sum(map(len, tokens))} tokens), {len(tagger.classes_)} tags; saved {model}")


@app.command()
def predict(
    data: str = typer.Option(..., "--data", metavar="FILE", help="Sentences: .conllu, .conll/.bio, .txt (one tokenised sentence per line)."),
    model: Path = ModelInOpt,
    out: Path = typer.Option(Path("tags.csv"), "--out", "-o", metavar="FILE", help="CSV: sentence, position, token, prediction."),
    target_col: str = typer.Option("upos", "--target-col", metavar="COLUMN", help="CoNLL-U column (only to parse the file; tags are ignored)."),
) -> None:
    """Tag every token and write a CSV.

    Example: lstmkit tag predict --data sentences.txt --model pos.model --out tags.csv
    """
    tagger = load_estimator(model, "LSTMTagger")
    tokens, _ = read_tagged(data, target_col, need_tags=False)
    frame = _frame(tokens, tagger.predict(tokens))
    write_csv(frame, out)
    typer.echo(f"tagged {len(tokens)} sentences ({len(frame)} tokens); wrote {out}")


@app.command()
def evaluate(
    data: str = typer.Option(..., "--data", metavar="FILE", help="Tagged data: .conllu, .conll/.bio, or dataset:turkish_web_treebank:test."),
    model: Path = ModelInOpt,
    target_col: str = TargetColOpt,
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE", help="Also write the per-token predictions CSV here."),
    plot: Optional[Path] = typer.Option(None, "--plot", metavar="FILE", help="Also save the confusion matrix as a PNG here."),
) -> None:
    """Token accuracy (+ entity precision/recall/F1 for BIO tags) and the tag confusion matrix.

    Example: lstmkit tag evaluate --data dataset:turkish_web_treebank:test --model pos.model --plot cm.png
    """
    from lstmkit.viz.confusion import plot_confusion_matrix

    tagger = load_estimator(model, "LSTMTagger")
    tokens, gold = read_tagged(data, target_col)
    scores = tagger.evaluate(tokens, gold)  # raises on tags never seen at fit time
    pred = tagger.predict(tokens)
    labels = tagger.classes_.tolist()
    flat_gold = [t for s in gold for t in s]
    flat_pred = [t for s in pred for t in s]
    cm = confusion(flat_gold, flat_pred, labels)
    print_confusion(cm, labels, f"tag confusion matrix ({len(flat_gold)} tokens)")
    if plot is not None:
        plot_confusion_matrix(cm, labels, plot, title="LSTMTagger")
    if out is not None:
        write_csv(_frame(tokens, pred, gold), out)
    typer.echo("; ".join(f"{k} {v:.4f}" for k, v in scores.items()) + f" on {len(flat_gold)} tokens" + (f"; confusion matrix saved to {plot}" if plot else ""))
