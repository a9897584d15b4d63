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

from lstmkit.cli._supervised import build_config, confusion, need_file, print_confusion, write_csv
from lstmkit.errors import DataError

app = typer.Typer(help="Sequence labelling: BiLSTM tagger with optional CRF.", no_args_is_help=True)

CONLL_SUFFIXES = (".conll", ".bio", ".iob", ".tsv")


def read_tagged(source: str, column: str = "upos", need_tags: bool = True) -> tuple[list[list[str]], Any]:
    if source.startswith("dataset:"):
        import lstmkit.datasets

        _, name, *split = source.split(":")
        d = lstmkit.datasets.load(name)
        if not hasattr(d, "tokens_train"):
            raise DataError(f"dataset {name!r} is not a tagging dataset")
        return (d.tokens_test, d.tags_test) if split and split[0] == "test" else (d.tokens_train, d.tags_train)
    path = need_file(Path(source), "input file")
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
    raise DataError(f"input file {str(path)!r}: expected .conllu, {', '.join(CONLL_SUFFIXES)}" + ("" if need_tags else " or .txt") + f", got {suffix or 'no extension'!r}")


def _load(model_dir: Path) -> Any:
    import lstmkit
    from lstmkit.errors import ModelFileError
    from lstmkit.estimators import LSTMTagger

    model = lstmkit.load(model_dir)
    if not isinstance(model, LSTMTagger):
        raise ModelFileError(f"{str(model_dir)!r} holds a {type(model).__name__}, not an LSTMTagger")
    return model


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


@app.command()
def train(
    data: str = typer.Argument(..., help="Tagged training data: .conllu, .conll/.bio, or dataset:turkish_web_treebank."),
    model_dir: Path = typer.Option(..., "--model-dir", "-m", help="Directory to write the model to."),
    column: str = typer.Option("upos", help="CoNLL-U column with the tags (upos, xpos, deprel ...)."),
    config: Optional[Path] = typer.Option(None, "--config", help='JSON {"model": {...}, "trainer": {...}}.'),
    set_: list[str] = typer.Option([], "--set", help="Override a setting: use_crf=true, hidden_size=128, trainer.lr=0.002 (repeatable)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Trainer max_epochs."),
    seed: Optional[int] = typer.Option(None, "--seed", help="random_state: seeds the network, training order and unk_replace."),
    force: bool = typer.Option(False, "--force", help="Replace what is at the model path even if it is not an lstmkit model directory."),
) -> None:
    """Fit an LSTMTagger and save it.

    Example: lstmkit tag train train.conllu -m pos.model --set use_crf=true --epochs 10
    """
    import dataclasses

    from lstmkit.persist import check_save_path
    from lstmkit.estimators import LSTMTagger
    from lstmkit.train import TrainerConfig

    check_save_path(model_dir, overwrite=force)  # before training, not after
    est, tr = build_config(config, set_, LSTMTagger().get_params(deep=False), [f.name for f in dataclasses.fields(TrainerConfig)])
    if epochs is not None:
        tr["max_epochs"] = epochs
    if seed is not None:
        est["random_state"] = seed
    tokens, tags = read_tagged(data, column)
    tagger = LSTMTagger(**est, trainer=tr).fit(tokens, tags)  # tr: only the fields given, over the estimator's defaults
    tagger.save(model_dir, overwrite=force)
    typer.echo(f"trained on {len(tokens)} sentences ({sum(map(len, tokens))} tokens), {len(tagger.classes_)} tags; saved {model_dir}")


@app.command()
def predict(
    data: str = typer.Argument(..., help="Sentences: .conllu, .conll/.bio, .txt (one tokenised sentence per line)."),
    model_dir: Path = typer.Option(..., "--model-dir", "-m", help="A model saved by 'tag train'."),
    out: Path = typer.Option(Path("tags.csv"), "--out", "-o", help="CSV: sentence, position, token, prediction."),
    column: str = typer.Option("upos", help="CoNLL-U column (only to parse the file; tags are ignored)."),
) -> None:
    """Tag every token and write a CSV.

    Example: lstmkit tag predict sentences.txt -m pos.model -o tags.csv
    """
    model = _load(model_dir)
    tokens, _ = read_tagged(data, column, need_tags=False)
    frame = _frame(tokens, model.predict(tokens))
    write_csv(frame, out)
    typer.echo(f"tagged {len(tokens)} sentences ({len(frame)} tokens); wrote {out}")


@app.command()
def evaluate(
    data: str = typer.Argument(..., help="Tagged data: .conllu, .conll/.bio, or dataset:turkish_web_treebank:test."),
    model_dir: Path = typer.Option(..., "--model-dir", "-m", help="A model saved by 'tag train'."),
    column: str = typer.Option("upos", help="CoNLL-U column with the tags."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the per-token predictions CSV here."),
    plot: Path = typer.Option(Path("confusion_matrix.png"), "--plot", help="Confusion-matrix PNG."),
) -> None:
    """Token accuracy (+ entity precision/recall/F1 for BIO tags) and the tag confusion matrix.

    Example: lstmkit tag evaluate dataset:turkish_web_treebank:test -m pos.model --plot cm.png
    """
    from lstmkit.viz.confusion import plot_confusion_matrix

    model = _load(model_dir)
    tokens, gold = read_tagged(data, column)
    scores = model.evaluate(tokens, gold)  # raises on tags never seen at fit time
    pred = model.predict(tokens)
    labels = model.classes_.tolist()
    flat_gold = [t for s in gold for t in s]
    flat_pred = [t for s in pred for t in s]
    cm = confusion(flat_gold, flat_pred, labels)
    print_confusion(cm, labels, f"tag confusion matrix ({len(flat_gold)} tokens)")
    plot_confusion_matrix(cm, labels, plot, title="LSTMTagger")
    if out is not None:
        write_csv(_frame(tokens, pred, gold), out)
    typer.echo("; ".join(f"{k} {v:.4f}" for k, v in scores.items()) + f" on {len(flat_gold)} tokens; confusion matrix saved to {plot}")
