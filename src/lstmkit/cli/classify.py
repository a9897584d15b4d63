"""``lstmkit classify train|predict|evaluate``: sequence classification from files.

Input: a UCR/UEA ``.ts`` file (labels in the file), or a long-format CSV (columns ``id``,
``time``, numeric features, and the label column, default ``label``), or a bundled dataset
as ``dataset:GunPoint`` (``:test`` for its test split).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer

from lstmkit.cli._supervised import build_config, confusion, need_file, print_confusion, write_csv
from lstmkit.errors import DataError

app = typer.Typer(help="Sequence classification: (Bi)LSTM -> pooling -> dense -> softmax.", no_args_is_help=True)


def read_labelled(source: str, label_column: str = "label", id_column: str = "id") -> tuple[Any, Any]:
    """(X, y) from a .ts file, a long CSV, or ``dataset:<Name>[:train|:test]``; y may be None."""
    import pandas as pd

    if source.startswith("dataset:"):
        import lstmkit.datasets

        _, name, *split = source.split(":")
        d = lstmkit.datasets.load(name)
        if not hasattr(d, "X_train"):
            raise DataError(f"dataset {name!r} is not a classification dataset")
        return (d.X_test, d.y_test) if split and split[0] == "test" else (d.X_train, d.y_train)
    path = need_file(Path(source), "input file")
    if path.suffix.lower() == ".ts":
        from lstmkit.data.ts import read_ts

        return read_ts(path)
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path)
        if id_column not in df.columns:
            raise DataError(f"{path}: a long-format CSV needs an {id_column!r} column (one row per id and time step); got {list(df.columns)[:10]}")
        y = None
        if label_column in df.columns:
            per_id = df.groupby(id_column, sort=False)[label_column].nunique()
            if (per_id > 1).any():
                raise DataError(f"{path}: id {per_id.index[(per_id > 1).argmax()]!r} has more than one {label_column!r} value")
            y = df.groupby(id_column, sort=False)[label_column].first()
            df = df.drop(columns=[label_column])
        return df, y
    raise DataError(f"input file {str(path)!r}: expected a .ts or .csv file, got {path.suffix or 'no extension'!r}")


def _load(model_dir: Path) -> Any:
    import lstmkit
    from lstmkit.errors import ModelFileError
    from lstmkit.estimators import LSTMClassifier

    model = lstmkit.load(model_dir)
    if not isinstance(model, LSTMClassifier):
        raise ModelFileError(f"{str(model_dir)!r} holds a {type(model).__name__}, not an LSTMClassifier")
    return model


def _predictions_frame(model: Any, X: Any, y: Any = None) -> Any:
    import pandas as pd

    proba = model.predict_proba(X)
    pred = model.classes_[proba.argmax(1)]
    ids = list(dict.fromkeys(X[model.id_col].tolist())) if hasattr(X, "columns") else list(range(len(pred)))
    frame = pd.DataFrame({"id": ids, "prediction": pred})
    if y is not None:
        frame.insert(1, "label", np.asarray(y))
    for j, c in enumerate(model.classes_):
        frame[f"proba_{c}"] = proba[:, j]
    return frame


@app.command()
def train(
    data: str = typer.Argument(..., help="Training data: .ts file, long CSV, or dataset:<Name>."),
    model_dir: Path = typer.Option(..., "--model-dir", "-m", help="Directory to write the model to."),
    config: Optional[Path] = typer.Option(None, "--config", help='JSON {"model": {...}, "trainer": {...}}.'),
    set_: list[str] = typer.Option([], "--set", help="Override a setting: hidden_size=128, pooling=attention, trainer.lr=0.003 (repeatable)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Trainer max_epochs."),
    seed: Optional[int] = typer.Option(None, "--seed", help="random_state: seeds the network, training order and validation split."),
    label_column: str = typer.Option("label", help="CSV input: the label column."),
    force: bool = typer.Option(False, "--force", help="Replace what is at the model path even if it is not an lstmkit model directory."),
) -> None:
    """Fit an LSTMClassifier and save it.

    Example: lstmkit classify train GunPoint_TRAIN.ts -m gunpoint.model --set pooling=attention --epochs 100
    """
    import dataclasses

    from lstmkit.persist import check_save_path
    from lstmkit.estimators import LSTMClassifier
    from lstmkit.train import TrainerConfig

    check_save_path(model_dir, overwrite=force)  # before training, not after
    params = LSTMClassifier().get_params(deep=False)
    est, tr = build_config(config, set_, params, [f.name for f in dataclasses.fields(TrainerConfig)])
    if epochs is not None:
        tr["max_epochs"] = epochs
    if seed is not None:
        est["random_state"] = seed
    X, y = read_labelled(data, label_column)
    if y is None:
        raise DataError(f"{data}: no labels found (a .ts file with '@classLabel true', or a CSV with a {label_column!r} column)")
    clf = LSTMClassifier(**est, trainer=tr).fit(X, y)  # tr: only the fields given; the rest are the estimator's defaults
    clf.save(model_dir, overwrite=force)
    last = clf.history_[-1] if clf.history_ else {}
    typer.echo(f"trained on {len(y)} sequences, {len(clf.classes_)} classes; "
               f"training accuracy {clf.score(X, y):.3f}; epochs {len(clf.history_)}; saved {model_dir}"
               + (f" (last epoch: {', '.join(f'{k}={v:.4g}' for k, v in last.items() if isinstance(v, float))})" if last else ""))


@app.command()
def predict(
    data: str = typer.Argument(..., help="Sequences to classify: .ts file, long CSV, or dataset:<Name>:test."),
    model_dir: Path = typer.Option(..., "--model-dir", "-m", help="A model saved by 'classify train'."),
    out: Path = typer.Option(Path("predictions.csv"), "--out", "-o", help="Predictions CSV (id, prediction, proba_<class>...)."),
    label_column: str = typer.Option("label", help="CSV input: the label column (ignored if present)."),
) -> None:
    """Write predicted labels and class probabilities to a CSV.

    Example: lstmkit classify predict GunPoint_TEST.ts -m gunpoint.model -o predictions.csv
    """
    model = _load(model_dir)
    X, _ = read_labelled(data, label_column, model.id_col)
    frame = _predictions_frame(model, X)
    write_csv(frame, out)
    typer.echo(f"wrote {len(frame)} predictions to {out}")


@app.command()
def evaluate(
    data: str = typer.Argument(..., help="Labelled sequences: .ts file, long CSV, or dataset:<Name>:test."),
    model_dir: Path = typer.Option(..., "--model-dir", "-m", help="A model saved by 'classify train'."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the predictions CSV here."),
    plot: Path = typer.Option(Path("confusion_matrix.png"), "--plot", help="Confusion-matrix PNG."),
    label_column: str = typer.Option("label", help="CSV input: the label column."),
) -> None:
    """Accuracy and confusion matrix (printed and saved as PNG) on labelled data.

    Example: lstmkit classify evaluate dataset:GunPoint:test -m gunpoint.model --plot cm.png
    """
    from lstmkit.viz.confusion import plot_confusion_matrix

    model = _load(model_dir)
    X, y = read_labelled(data, label_column, model.id_col)
    if y is None:
        raise DataError(f"{data}: no labels to evaluate against")
    y = np.asarray(y)
    if y.dtype.kind in "U" and model.classes_.dtype.kind in "iuf":  # labels read from text files
        try:
            y = y.astype(model.classes_.dtype)
        except ValueError:
            pass
    model.pipeline_.labels.transform(y)  # DataError naming labels never seen at fit time
    frame = _predictions_frame(model, X, y)
    labels = model.classes_.tolist()
    cm = confusion(y.tolist(), frame["prediction"].tolist(), labels)
    acc = float(np.trace(cm) / cm.sum())
    print_confusion(cm, labels, f"confusion matrix ({len(y)} sequences)")
    plot_confusion_matrix(cm, labels, plot, title="LSTMClassifier")
    if out is not None:
        write_csv(frame, out)
    typer.echo(f"accuracy {acc:.4f} on {len(y)} sequences; confusion matrix saved to {plot}")
