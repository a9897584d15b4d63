"""Training checkpoints for ``resume``: safetensors for tensors, JSON for everything else.

Layout under ``<run_dir>/checkpoints``::

    step-00000120/            one checkpoint (a complete directory, renamed into place)
        state.safetensors     model, optimizer and best weights, RNG states (uint8 tensors)
        state.json            epoch/step, optimizer/scheduler scalars, early-stopping state,
                              history, and the sha256 of state.safetensors
        model/                the model as a normal lstmkit model dir (registered models only)
    latest.json               {"name": "step-00000120"}, replaced atomically after each save

A checkpoint is written into a hidden temporary directory and renamed when complete,
then ``latest.json`` is replaced atomically, so every file a reader can find is whole.
Nothing is pickled; loading runs no code.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.errors import ModelFileError
from lstmkit.persist import is_registered, save_model
from lstmkit.utils.io import atomic_write_bytes, atomic_write_json, fix_dir_mode

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "latest_checkpoint",
    "clear_checkpoints",
    "flatten_optimizer_state",
    "unflatten_optimizer_state",
    "get_rng_states",
    "set_rng_states",
]

FORMAT = "lstmkit-checkpoint"
FORMAT_VERSION = 1
TENSORS = "state.safetensors"
STATE = "state.json"
LATEST = "latest.json"


# --- optimizer state -------------------------------------------------------------------
def flatten_optimizer_state(sd: dict[str, Any], prefix: str = "optimizer.") -> tuple[dict[str, torch.Tensor], dict]:
    """Split ``optimizer.state_dict()`` into flat tensors and a JSON-able remainder."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entry in sd["state"].items():
        for name, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}state.{pid}.{name}"] = value
            else:
                scalars.setdefault(str(pid), {})[name] = _jsonable(value)
    groups = [{k: _jsonable(v) for k, v in g.items()} for g in sd["param_groups"]]
    keys = {str(pid): sorted(entry) for pid, entry in sd["state"].items()}
    return tensors, {"param_groups": groups, "scalars": scalars, "keys": keys}


def unflatten_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict, prefix: str = "optimizer.") -> dict:
    state: dict[int, dict[str, Any]] = {}
    for pid, names in meta["keys"].items():
        entry = {}
        for name in names:
            key = f"{prefix}state.{pid}.{name}"
            if key in tensors:
                entry[name] = tensors[key]
            else:
                entry[name] = meta["scalars"][pid][name]
        state[int(pid)] = entry
    groups = []
    for g in meta["param_groups"]:
        g = dict(g)
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    return {"state": state, "param_groups": groups}


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if torch.is_tensor(v):
        return v.item() if v.numel() == 1 else v.tolist()
    if isinstance(v, (np.generic,)):
        return v.item()
    return v


# --- RNG states ------------------------------------------------------------------------
def get_rng_states() -> tuple[dict[str, torch.Tensor], dict]:
    """Python, numpy and torch (CPU + CUDA) RNG states as uint8 tensors plus JSON scalars."""
    version, internal, gauss = random.getstate()
    py = torch.from_numpy(np.asarray(internal, dtype=np.uint32).view(np.uint8).copy())
    name, keys, pos, has_gauss, cached = np.random.get_state()
    npk = torch.from_numpy(np.asarray(keys, dtype=np.uint32).view(np.uint8).copy())
    tensors = {"rng.python": py, "rng.numpy": npk, "rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    meta = {
        "python": {"version": version, "gauss_next": gauss},
        "numpy": {"name": name, "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
    }
    return tensors, meta


def set_rng_states(tensors: dict[str, torch.Tensor], meta: dict) -> None:
    internal = tuple(int(x) for x in tensors["rng.python"].numpy().view(np.uint32))
    random.setstate((meta["python"]["version"], internal, meta["python"]["gauss_next"]))
    keys = tensors["rng.numpy"].numpy().view(np.uint32).copy()
    n = meta["numpy"]
    np.random.set_state((n["name"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[f"rng.cuda.{i}"] for i in range(torch.cuda.device_count()) if f"rng.cuda.{i}" in tensors]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


# --- directories -----------------------------------------------------------------------
def save_checkpoint(
    root: str | os.PathLike,
    name: str,
    tensors: dict[str, torch.Tensor],
    state: dict[str, Any],
    *,
    model: Any = None,
    keep: int = 2,
) -> Path:
    """Write checkpoint ``root/name`` atomically, point ``latest.json`` at it, prune old ones."""
    from safetensors.torch import save as st_save

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    blob = st_save({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()})
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "tensors_sha256": hashlib.sha256(blob).hexdigest()}
    meta.update(state)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=root))
    fix_dir_mode(tmp)
    final = root / name
    try:
        atomic_write_bytes(tmp / TENSORS, blob)
        atomic_write_json(tmp / STATE, meta)
        if model is not None:
            if is_registered(model):
                save_model(model, tmp / "model")
        if final.exists():  # same step saved twice (e.g. end of epoch == checkpoint_every)
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    atomic_write_json(root / LATEST, {"name": name})
    _prune(root, keep=keep, current=name)
    return final


def _prune(root: Path, *, keep: int, current: str) -> None:
    done = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-"))
    for p in done[:-keep]:
        if p.name != current:
            shutil.rmtree(p, ignore_errors=True)
    for p in root.iterdir():  # temporaries left by a crash
        if p.name.startswith(".") and p.name.endswith(".tmp") and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def clear_checkpoints(root: str | os.PathLike) -> None:
    """Remove the checkpoints of a previous run in ``root`` (the pointer first)."""
    root = Path(root)
    (root / LATEST).unlink(missing_ok=True)
    for p in root.iterdir():
        if p.is_dir() and (p.name.startswith("step-") or p.name.endswith(".tmp")):
            shutil.rmtree(p, ignore_errors=True)


def latest_checkpoint(root: str | os.PathLike) -> Path | None:
    """The checkpoint ``latest.json`` points at (None when there is none yet)."""
    root = Path(root)
    pointer = root / LATEST
    if not pointer.is_file():
        return None
    try:
        name = json.loads(pointer.read_text())["name"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{str(pointer)!r} is not a valid checkpoint pointer: {exc}") from None
    path = root / name
    if not path.is_dir():
        raise ModelFileError(f"{str(pointer)!r} points at {name!r}, which does not exist")
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read and verify one checkpoint directory; return (tensors, state)."""
    from safetensors.torch import load as st_load

    path = Path(path)
    sfile, tfile = path / STATE, path / TENSORS
    for f in (sfile, tfile):
        if not f.is_file():
            raise ModelFileError(f"{str(f)!r} is missing: not a complete lstmkit checkpoint")
    try:
        state = json.loads(sfile.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{str(sfile)!r} is not valid JSON: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelFileError(f"{str(sfile)!r} is not an lstmkit checkpoint (format must be {FORMAT!r})")
    if state.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{str(sfile)!r}: format_version {state.get('format_version')!r} is not supported "
            f"(this lstmkit reads {FORMAT_VERSION})"
        )
    blob = tfile.read_bytes()
    if hashlib.sha256(blob).hexdigest() != state.get("tensors_sha256"):
        raise ModelFileError(f"{str(tfile)!r} does not match the checksum in {STATE}: truncated or tampered")
    try:
        tensors = st_load(blob)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(f"{str(tfile)!r} is not a valid safetensors file: {exc}") from None
    return tensors, state
