"""Helpers shared by the sklearn-style estimators: labels, trainer config, batched inference."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

from lstmkit.errors import ConfigError, DataError

__all__ = ["label_array", "encode_labels", "check_known_labels", "labels_to_json", "labels_from_json", "make_trainer_config",
           "trainer_config_to_dict", "run_trainer", "to_python"]


def to_python(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def label_array(y: Any) -> np.ndarray:
    """``y`` as an array without changing any label: an object array where NumPy would coerce."""
    arr = np.asarray(y)
    if isinstance(y, np.ndarray):
        return arr
    if arr.ndim > 1:  # e.g. tuple labels: keep each as one object
        items = list(y)
    elif arr.dtype.kind in "US" and not all(isinstance(v, (str, bytes)) for v in y):
        items = list(y)  # mixed labels such as [1, 'one']: NumPy would turn 1 into '1'
    else:
        return arr
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def encode_labels(y: Any, name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Return (classes (C,), codes (n,)) for labels of any hashable type."""
    arr = label_array(y)
    if arr.ndim != 1:
        raise DataError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}")
    if arr.dtype.kind in "fc" and np.isnan(arr).any():
        raise DataError(f"{name} contains NaN labels at index {int(np.flatnonzero(np.isnan(arr))[0])}")
    if arr.dtype == object and any(v is None for v in arr):
        raise DataError(f"{name} contains None labels at index {next(i for i, v in enumerate(arr) if v is None)}")
    try:
        classes, codes = np.unique(arr, return_inverse=True)
    except TypeError:  # mixed, unorderable types: order of first appearance
        seen: dict[Any, int] = {}
        codes = np.array([seen.setdefault(v, len(seen)) for v in arr])
        classes = np.empty(len(seen), dtype=object)
        for k, i in seen.items():
            classes[i] = k
    return classes, codes.reshape(-1)


def check_known_labels(y: Any, classes: np.ndarray, name: str = "y") -> np.ndarray:
    """Codes of ``y`` in ``classes``; DataError listing labels never seen at fit time."""
    index = {to_python(c): i for i, c in enumerate(classes)}
    vals = [to_python(v) for v in (y.tolist() if isinstance(y, np.ndarray) else list(y))]
    unknown = sorted({repr(v) for v in vals if v not in index})
    if unknown:
        raise DataError(
            f"{name} contains label(s) never seen at fit time: {', '.join(unknown[:5])}; "
            f"the model knows {[to_python(c) for c in classes][:20]}"
        )
    return np.array([index[v] for v in vals], dtype=np.int64)


def labels_to_json(classes: np.ndarray) -> dict[str, Any]:
    values = [to_python(c) for c in classes]
    try:
        ok = json.loads(json.dumps(values)) == values
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(
            "class labels must be JSON values (str, int, float, bool) to save the model, got "
            f"{sorted({type(v).__name__ for v in values})}"
        )
    return {"values": values, "dtype": classes.dtype.str if classes.dtype != object else "object"}


def labels_from_json(d: dict[str, Any]) -> np.ndarray:
    if d["dtype"] == "object":
        out = np.empty(len(d["values"]), dtype=object)
        out[:] = d["values"]
        return out
    return np.asarray(d["values"], dtype=np.dtype(d["dtype"]))


def make_trainer_config(trainer: Any, **defaults: Any) -> Any:
    """A TrainerConfig from None (the estimator's defaults), a dict, or a TrainerConfig."""
    from lstmkit.train import TrainerConfig  # estimators drive the trainer (lazy import: models < train)

    if trainer is None:
        return TrainerConfig(**defaults)
    if isinstance(trainer, dict):
        return TrainerConfig.from_dict(trainer)
    if isinstance(trainer, TrainerConfig):
        return trainer
    raise ConfigError(f"trainer must be a TrainerConfig, a dict or None, got {type(trainer).__name__}")


def trainer_config_to_dict(trainer: Any) -> dict[str, Any] | None:
    if trainer is None:
        return None
    if isinstance(trainer, dict):
        return dict(trainer)
    return trainer.to_dict()


def run_trainer(model: torch.nn.Module, train: Any, val: Any, config: Any) -> list[dict[str, float]]:
    from lstmkit.train import Trainer

    trainer = Trainer(config)
    history = trainer.fit(model, train, val)
    model.cpu().eval()
    return list(history) if history is not None else []
