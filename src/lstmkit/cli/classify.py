"""``lstmkit classify train|predict|evaluate``: sequence classification from files.

Input: a UCR/UEA ``.ts`` file (labels in the file), or a long-format CSV (columns ``id``,
``time``, numeric features, and the label column, default ``label``), or a bundled dataset
as ``dataset:GunPoint`` (``:test`` for its test split).
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

app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                  help="Sequence classification: LSTM-FCN by default (an LSTM beside a fully convolutional branch), "
                       "averaged with a MiniRocket ridge classifier (--set minirocket=false: the network alone), or "
                       "(Bi)LSTM -> pooling -> dense -> softmax.")


def read_labelled(source: str, label_column: str = "label", id_column: str = "id", time_column: str = "time") -> tuple[Any, Any]:
    """(X, y) from a .ts file, a long CSV, or ``dataset:<Name>[:train|:test]``; y may be None."""
    if source.startswith("dataset:"):
        import lstmkit.datasets  # in the command: argument errors come back before heavy imports

        _, name, *split = source.split(":")
        d = lstmkit.datasets.load(name)
        if not hasattr(d, "X_train"):
            raise DataError(f"dataset {name!r} is not a classification dataset")
        return (d.X_test, d.y_test) if split and split[0] == "test" else (d.X_train, d.y_train)
    path = need_file(Path(source))
    import pandas as pd

    if path.suffix.lower() == ".ts":
        from lstmkit.data.ts import read_ts

        return read_ts(path)
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path)
        if id_column not in df.columns:
            raise DataError(f"--data {str(path)!r}: a long-format CSV needs an id column {id_column!r} (one row per id and "
                            f"time step; --id-col names it); got columns {list(df.columns)[:10]}")
        y = None
        if label_column in df.columns:
            per_id = df.groupby(id_column, sort=False)[label_column].nunique()
            if (per_id > 1).any():
                raise DataError(f"{path}: id {per_id.index[(per_id > 1).argmax()]!r} has more than one {label_column!r} value")
            y = df.groupby(id_column, sort=False)[label_column].first()
            df = df.drop(columns=[label_column])
        return df, y
    raise DataError(f"--data {str(path)!r}: expected a .ts or .csv file or dataset:<Name>, got {path.suffix or 'no extension'!r}")


DataOpt = typer.Option(..., "--data", metavar="FILE", help="A .ts file, a long CSV (id, time, features, label) or dataset:<Name>[:test].")
ModelInOpt = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory written by `classify train`.")
IdColOpt = typer.Option("id", "--id-col", metavar="COLUMN", help="Long CSV: the sequence id column.")
TimeColOpt = typer.Option("time", "--time-col", metavar="COLUMN", help="Long CSV: the time (ordering) column.")
TargetColOpt = typer.Option("label", "--target-col", metavar="COLUMN", help="Long CSV: the label column.")



def _predictions_frame(model: Any, X: Any, y: Any = None) -> Any:
    import numpy as np
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
    data: str = DataOpt,
    model: Path = typer.Option(..., "--model", "-m", metavar="DIR", help="Model directory to write."),
    id_col: str = IdColOpt,
    time_col: str = TimeColOpt,
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
    """Fit an LSTMClassifier and save it.

    Example: lstmkit classify train --data GunPoint_TRAIN.ts --model gunpoint.model --set pooling=attention --epochs 100
    """
    X, y = read_labelled(data, target_col, id_col, time_col)
    if y is None:
        raise DataError(f"--data {data}: no labels found (a .ts file with '@classLabel true', or a CSV with a {target_col!r} column)")
    check_model_path(model, force)  # before training, not after
    from lstmkit.estimators import LSTMClassifier

    est, tr = settings(LSTMClassifier._get_param_names(), config, set_)
    if seed is not None:
        est["random_state"] = seed
    tr = trainer_overrides(tr, epochs=epochs, run_dir=run_dir, quiet=quiet)  # only the fields given: the rest are the estimator's defaults
    clf = LSTMClassifier(**{"id_col": id_col, "time_col": time_col, **est}, trainer=tr)
    with interruptible(resume_command(run_dir)):
        clf.fit(X, y, resume=resume)
    clf.save(model, overwrite=force)
    typer.echo(f"trained on {len(y)} sequences, {len(clf.classes_)} classes; training accuracy {clf.score(X, y):.3f}; "
               f"epochs {len(clf.history_)}; saved {model}")


@app.command()
def predict(
    data: str = typer.Option(..., "--data", metavar="FILE", help="Sequences to classify: .ts file, long CSV, or dataset:<Name>:test."),
    model: Path = ModelInOpt,
    out: Path = typer.Option(Path("predictions.csv"), "--out", "-o", metavar="FILE", help="Predictions CSV (id, prediction, proba_<class>...)."),
    target_col: str = TargetColOpt,
) -> None:
    """Write predicted labels and class probabilities to a CSV.

    Example: lstmkit classify predict --data GunPoint_TEST.ts --model gunpoint.model --out predictions.csv
    """
    clf = load_estimator(model, "LSTMClassifier")
    X, _ = read_labelled(data, target_col, clf.id_col, clf.time_col or "time")
    frame = _predictions_frame(clf, X)
    write_csv(frame, out)
    typer.echo(f"wrote {len(frame)} predictions to {out}")


@app.command()
def evaluate(
    data: str = typer.Option(..., "--data", metavar="FILE", help="Labelled sequences: .ts file, long CSV, or dataset:<Name>:test."),
    model: Path = ModelInOpt,
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE", help="Also write the predictions CSV here."),
    plot: Optional[Path] = typer.Option(None, "--plot", metavar="FILE", help="Also save the confusion matrix as a PNG here."),
    target_col: str = TargetColOpt,
) -> None:
    """Accuracy and confusion matrix (printed and saved as PNG) on labelled data.

    Example: lstmkit classify evaluate --data dataset:GunPoint:test --model gunpoint.model --plot cm.png
    """
    import numpy as np

    from lstmkit.viz.confusion import plot_confusion_matrix

    clf = load_estimator(model, "LSTMClassifier")
    X, y = read_labelled(data, target_col, clf.id_col, clf.time_col or "time")
    if y is None:
        raise DataError(f"--data {data}: no labels to evaluate against")
    y = np.asarray(y)
    if y.dtype.kind in "U" and clf.classes_.dtype.kind in "iuf":  # labels read from text files
        try:
            y = y.astype(clf.classes_.dtype)
        except ValueError:
            pass
    clf.pipeline_.labels.transform(y)  # DataError naming labels never seen at fit time
    frame = _predictions_frame(clf, X, y)
    labels = clf.classes_.tolist()
    cm = confusion(y.tolist(), frame["prediction"].tolist(), labels)
    acc = float(np.trace(cm) / cm.sum())
    print_confusion(cm, labels, f"confusion matrix ({len(y)} sequences)")
    if plot is not None:
        plot_confusion_matrix(cm, labels, plot, title="LSTMClassifier")
    if out is not None:
        write_csv(frame, out)
    typer.echo(f"accuracy {acc:.4f} on {len(y)} sequences" + (f"; confusion matrix saved to {plot}" if plot else ""))
