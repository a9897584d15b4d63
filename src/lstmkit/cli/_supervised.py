"""Shared pieces of the ``classify`` and ``tag`` commands: config files with ``--set``
overrides, confusion matrices (printed with rich, saved as PNG), CSV output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.errors import ConfigError, DataError, suggest
from lstmkit.utils.io import atomic_write


def parse_value(text: str) -> Any:
    """``--set`` values are JSON when they parse (numbers, true/false, null, lists), else strings."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_config(config_file: Path | None, overrides: Sequence[str], params: dict[str, Any], trainer_keys: Sequence[str]) -> tuple[dict, dict]:
    """Return (estimator kwargs, trainer kwargs) from a JSON file ``{"model": {...}, "trainer": {...}}``
    plus ``key=value`` overrides (``trainer.lr=0.01`` or ``lr=0.01``); unknown keys are rejected."""
    est: dict[str, Any] = {}
    tr: dict[str, Any] = {}
    if config_file is not None:
        try:
            cfg = json.loads(Path(config_file).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"--config {str(config_file)!r}: not a readable JSON file ({exc})") from None
        if not isinstance(cfg, dict) or set(cfg) - {"model", "trainer"}:
            raise ConfigError(f"--config {str(config_file)!r} must hold {{\"model\": {{...}}, \"trainer\": {{...}}}}, got keys {list(cfg) if isinstance(cfg, dict) else type(cfg).__name__}")
        est.update(cfg.get("model", {}))
        tr.update(cfg.get("trainer", {}))
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key = key.strip().replace("-", "_")
        if key.startswith("trainer."):
            tr[key[len("trainer."):]] = parse_value(value)
        elif key.startswith("model."):
            est[key[len("model."):]] = parse_value(value)
        elif key in params:
            est[key] = parse_value(value)
        elif key in trainer_keys:
            tr[key] = parse_value(value)
        else:
            raise ConfigError(f"unknown setting {key!r}{suggest(key, list(params) + list(trainer_keys))}; model settings: {sorted(params)}")
    bad = [k for k in est if k not in params or k == "trainer"]
    if bad:
        raise ConfigError(f"unknown model setting(s) {bad}{suggest(bad[0], params)}; known: {sorted(k for k in params if k != 'trainer')}")
    return est, tr


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


def need_file(path: Path, what: str) -> Path:
    if not Path(path).is_file():
        raise DataError(f"{what} {str(path)!r} does not exist")
    if Path(path).stat().st_size == 0:
        raise DataError(f"{what} {str(path)!r} is empty")
    return Path(path)
