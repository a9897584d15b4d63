"""What a task estimator leaves in its run folder for ``lstmkit report``.

After an estimator trains a network with ``trainer={"run_dir": DIR}``, :func:`write_run_record`
adds two files beside the trainer's ``metrics.csv`` and ``model/``:

* ``evaluation.json``: the trained network's metrics (``network.metrics``) on the held-out
  validation split (or, where the estimator kept none, on the training data, and labelled so)
  beside simple baselines computed on the same samples, e.g. the majority class or the last
  observed value;
* ``heldout.safetensors``: a few of those samples exactly as the network receives them (one
  collated batch), so that the report can run the network again and draw its gates.

Both are written atomically. ``heldout.safetensors`` holds only tensors (safetensors, never
pickle); :func:`read_heldout` checks the names against ``evaluation.json``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.utils.io import atomic_write, atomic_write_json

__all__ = ["EVALUATION_FILE", "HELDOUT_FILE", "write_run_record", "read_evaluation", "read_heldout"]

EVALUATION_FILE = "evaluation.json"
HELDOUT_FILE = "heldout.safetensors"
MAX_SAMPLES = 4096  # samples scored for the table (spread evenly over the split)
HELDOUT_SAMPLES = 8  # samples kept for the gate views

Baselines = Callable[[dict[str, torch.Tensor]], list[tuple[str, dict[str, float]]]]


def _subset(data: Any, n: int) -> list[Any]:
    """``n`` items spread evenly over a map-style dataset (all of them when it is smaller)."""
    size = len(data)
    idx = np.unique(np.linspace(0, size - 1, num=min(n, size)).round().astype(int)) if size else []
    return [data[int(i)] for i in idx]


def write_run_record(run_dir: str | os.PathLike, network: torch.nn.Module, data: Any, *, split: str,
                     baselines: Baselines | None = None, notes: Mapping[str, Any] | None = None) -> None:
    """Score ``network`` and the ``baselines`` on ``data`` and keep a few samples (see the module).

    Args:
        run_dir: the run folder (created when missing).
        network: a :class:`~lstmkit.models.base.TaskModel` with ``metrics(batch)``.
        data: a map-style Dataset with a ``collate`` attribute (the estimator's validation or
            training data); up to 4096 samples are scored in one batch, the first 8 of them kept.
        split: what ``data`` is, in words, e.g. ``"validation (20% of the training sequences)"``.
        baselines: a function (collated batch) -> ``[(name, {metric: value})]``, the same metric
            names as ``network.metrics`` where they apply.
        notes: extra JSON fields (e.g. the space the errors are measured in).
    """
    from safetensors.torch import save_file

    collate = getattr(data, "collate", None)
    if collate is None or not hasattr(data, "__getitem__") or not hasattr(data, "__len__"):
        return  # not a map-style dataset of samples (e.g. a truncated-BPTT stream): nothing to keep
    items = _subset(data, MAX_SAMPLES)
    if not items:
        return
    batch = collate(items)
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            scores = {k: float(v) for k, v in network.metrics(batch).items()}
    finally:
        network.train(was_training)
    rows = [{"model": f"lstmkit {type(network).__name__}", **scores}]
    for name, metrics in (baselines(batch) if baselines is not None else []):
        rows.append({"model": name, **{k: float(v) for k, v in metrics.items()}})
    kept = collate(items[:HELDOUT_SAMPLES])
    tensors = {k: v.contiguous() for k, v in kept.items() if isinstance(v, torch.Tensor)}
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    atomic_write(run / HELDOUT_FILE, lambda tmp: save_file(tensors, tmp))
    atomic_write_json(run / EVALUATION_FILE, {
        "network": type(network).__name__, "split": split, "n_samples": len(items), "rows": rows,
        "heldout": {"file": HELDOUT_FILE, "keys": sorted(tensors), "n_samples": len(items[:HELDOUT_SAMPLES])},
        **dict(notes or {}),
    })


def read_evaluation(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """``evaluation.json`` of a run folder as a dict, or None when absent or unreadable."""
    import json

    try:
        data = json.loads((Path(run_dir) / EVALUATION_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("rows"), list) else None


def read_heldout(run_dir: str | os.PathLike) -> dict[str, torch.Tensor] | None:
    """The batch kept in ``heldout.safetensors`` (tensors only), or None when absent or unreadable."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(run_dir) / HELDOUT_FILE
    if not path.is_file():
        return None
    try:
        return load_file(str(path))
    except (OSError, SafetensorError, ValueError):
        return None
