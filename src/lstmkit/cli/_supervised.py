"""Shared pieces of the ``classify`` and ``tag`` commands: confusion matrices (printed with
rich, saved as PNG) and CSV output."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.utils.io import atomic_write


def confusion(y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[Any]) -> np.ndarray:
    index = {v: i for i, v in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        cm[index[t], index[p]] += 1
    return cm


def print_confusion(cm: np.ndarray, labels: Sequence[Any], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    table.add_column("true \\ predicted", style="bold")
    for lab in labels:
        table.add_column(str(lab), justify="right")
    for i, lab in enumerate(labels):
        table.add_row(str(lab), *[f"[bold green]{v}[/]" if i == j else (str(v) if v else "[dim]0[/]") for j, v in enumerate(cm[i])])
    Console().print(table)


def write_csv(frame: Any, path: Path) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
