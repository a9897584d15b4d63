"""Model files: the registry of saveable types, ``save_model`` / ``load_model``, configs from
dicts, and the format migrations. Low and public: the trainer, the task networks and the
estimators all save and load through here; it imports nothing of lstmkit but errors and io.

A model file is a directory::

    model.safetensors   weights (safetensors: no pickle, loading runs no code)
    config.json         {"format", "format_version", "type", "config", "state",
                         "weights_sha256", "lstmkit_version", "torch_version"}

``config`` holds the architecture and hyper-parameters, ``state`` what was learned from data
(fitted pipelines, training history); both are plain JSON. A saveable type is registered
with :func:`register` and implements ``_saved_state() -> (config, tensors, state)`` and the
class method ``_from_saved(config, tensors, state)``.

Format versions: since version 2 every estimator is stored as ``config = {"params", "network"}``,
``state = {"pipeline", "history", "n_networks"}`` and tensors ``networks.<k>.<name>``; later
versions add parameters (docs/model-format.md lists them; the current one is
:data:`FORMAT_VERSION`). Older files are migrated on load by :func:`migrate` (see ``_MIGRATIONS``).
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from lstmkit import __version__
from lstmkit.errors import ConfigError, ModelFileError, suggest
from lstmkit.utils.io import atomic_write_bytes, atomic_write_json, fix_dir_mode

__all__ = [
    "FORMAT", "FORMAT_VERSION", "register", "is_registered", "registered_type", "config_from_dict",
    "load_weights", "save_model", "load_model", "read_model_dir", "is_model_dir", "check_save_path", "migrate", "migration",
]

FORMAT = "lstmkit-model"
FORMAT_VERSION = 8
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
_REQUIRED_KEYS = ("format", "format_version", "type", "config", "state", "weights_sha256")

_REGISTRY: dict[str, type] = {}
# Where lstmkit's own saveable types live. load_model imports these packages (importlib, like a
# plugin entry point) so that a file can be loaded before its class was ever imported; user types
# register themselves by being imported.
_BUILTIN_PACKAGES = ("lstmkit.models", "lstmkit.estimators")

# While load_model rebuilds a model, config_from_dict records here every field a saved config
# lacks (as "<ConfigClass>: [keys]"): a saved config holds every field, so a missing one means an
# edited or damaged file, never "use today's default". None outside load_model.
_MISSING_IN_FILE: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("_MISSING_IN_FILE", default=None)


def register(cls: type) -> type:
    """Class decorator: make ``cls`` loadable by :func:`load_model` under its class name."""
    _REGISTRY[cls.__name__] = cls
    return cls


def is_registered(obj: Any) -> bool:
    """True if ``obj``'s exact class is registered (so :func:`save_model` can write it)."""
    return _REGISTRY.get(type(obj).__name__) is type(obj)


def registered_type(name: str) -> type:
    """The class registered as ``name`` (lstmkit's own types are imported on first use)."""
    if name not in _REGISTRY:
        for package in _BUILTIN_PACKAGES:
            importlib.import_module(package)
    if name not in _REGISTRY:
        raise ModelFileError(f"unknown model type {name!r}; known types: {sorted(_REGISTRY)}{suggest(str(name), _REGISTRY)}")
    return _REGISTRY[name]


def config_from_dict(config_class: type, values: dict[str, Any], *, where: str = "config") -> Any:
    """Build a config dataclass from a dict, rejecting unknown keys with a suggestion.

    Keys left out take the dataclass defaults, except while :func:`load_model` reads a model
    file: there every missing field is recorded and load_model reports them all together.
    """
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(values).__name__}")
    names = {f.name for f in dataclasses.fields(config_class)}
    problems = [f"unknown key {k!r}{suggest(k, names)}" for k in values if k not in names]
    sink = _MISSING_IN_FILE.get()
    if sink is not None:
        absent = [f.name for f in dataclasses.fields(config_class) if f.init and f.name not in values]
        if absent:
            sink.append(f"{config_class.__name__}: {absent}")
    if problems:
        raise ConfigError(f"{where} for {config_class.__name__}: " + "; ".join(problems))
    try:
        return config_class(**values)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{where} for {config_class.__name__}: {exc}") from None


def load_weights(module: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Strict state-dict load with a ModelFileError naming missing/unexpected/mis-shaped keys."""
    own = module.state_dict()
    problems = []
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing:
        problems.append(f"missing tensors {missing[:5]}")
    if unexpected:
        problems.append(f"unexpected tensors {unexpected[:5]}")
    for k in sorted(set(own) & set(tensors)):
        if own[k].shape != tensors[k].shape:
            problems.append(f"tensor {k!r} has shape {tuple(tensors[k].shape)}, expected {tuple(own[k].shape)}")
    if problems:
        raise ModelFileError(f"weights do not fit {type(module).__name__}: " + "; ".join(problems))
    module.load_state_dict(tensors, strict=True)


def save_model(obj: Any, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``obj`` (anything registered) to directory ``path``.

    The two files are written into a fresh hidden sibling directory, which then takes the
    place of ``path``: an interrupted save leaves the previous model directory whole.
    ``path`` may be absent, an empty directory, or an lstmkit model directory (its
    ``config.json`` carries the format marker and it holds nothing else); anything else (a
    file, a folder with other files) raises :class:`ModelFileError` unless ``overwrite=True``,
    so saving never deletes what is not a model.
    """
    type_name = type(obj).__name__
    if not is_registered(obj):
        raise ConfigError(f"{type_name} is not a registered lstmkit model type (use @register)")
    path = Path(path)
    check_save_path(path, overwrite)
    config, tensors, state = obj._saved_state()
    blob = st_save({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()})
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "type": type_name,
        "config": config,
        "state": state,
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
        "lstmkit_version": __version__,
        "torch_version": torch.__version__,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_tmp_prefix(path)}{os.getpid()}-", dir=path.parent))
    fix_dir_mode(tmp)
    old = None
    try:
        atomic_write_bytes(tmp / WEIGHTS, blob)
        atomic_write_json(tmp / CONFIG, meta)
        if path.is_dir() and not path.is_symlink() and any(path.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f"{_tmp_prefix(path)}{os.getpid()}-old-", dir=path.parent))
            os.replace(path, old / "previous")  # move the previous model aside, then swap the new one in
        elif path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()  # only reached with overwrite=True
        os.replace(tmp, path)  # rename(2) replaces an absent path or an empty directory
    except BaseException:
        if old is not None and not path.exists() and (old / "previous").exists():
            os.replace(old / "previous", path)  # put the previous model back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return path


def is_model_dir(path: str | os.PathLike) -> bool:
    """True if ``path`` is a directory that holds an lstmkit model and nothing else."""
    path = Path(path)
    if not path.is_dir() or path.is_symlink():
        return False
    names = {p.name for p in path.iterdir()}
    if CONFIG not in names or not names <= {CONFIG, WEIGHTS}:
        return False
    try:
        meta = json.loads((path / CONFIG).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FORMAT


def check_save_path(path: str | os.PathLike, overwrite: bool = False) -> None:
    """Raise :class:`ModelFileError` if saving to ``path`` would replace something that is not
    an lstmkit model (call it before a long training, as the CLI does)."""
    path = Path(path)
    if overwrite or not (path.exists() or path.is_symlink()):
        return
    if path.is_dir() and not path.is_symlink():
        entries = sorted(p.name for p in path.iterdir())
        if not entries or is_model_dir(path):
            return
        shown = ", ".join(entries[:5]) + (f" (and {len(entries) - 5} more)" if len(entries) > 5 else "")
        raise ModelFileError(
            f"cannot save the model to {str(path)!r}: it is a folder that holds other files ({shown}), not an "
            "lstmkit model directory; choose a new or empty folder, or pass overwrite=True (--force) to replace it"
        )
    raise ModelFileError(
        f"cannot save the model to {str(path)!r}: it is an existing file, not an lstmkit model directory; "
        "choose another path, or pass overwrite=True (--force) to replace it"
    )


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}.lstmkit-save-"


def _remove_stale_temporaries(path: Path) -> None:
    """Remove hidden siblings that an earlier save of ``path`` left when its process died."""
    prefix = _tmp_prefix(path)
    for p in path.parent.glob(prefix + "*"):
        pid = p.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_model_dir(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read and verify a model directory; return (meta, tensors). Never unpickles."""
    path = Path(path)
    if not path.is_dir():
        raise ModelFileError(f"model path {str(path)!r} is not a directory with {WEIGHTS} and {CONFIG}")
    cfg_file, w_file = path / CONFIG, path / WEIGHTS
    for f in (cfg_file, w_file):
        if not f.is_file():
            raise ModelFileError(f"{str(f)!r} is missing: not a complete lstmkit model directory")
    try:
        meta = json.loads(cfg_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{str(cfg_file)!r} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{str(cfg_file)!r} must hold a JSON object, got {type(meta).__name__}")
    missing = [k for k in _REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelFileError(f"{str(cfg_file)!r} lacks required key(s) {missing}")
    if meta["format"] != FORMAT:
        raise ModelFileError(f"{str(cfg_file)!r}: format must be {FORMAT!r}, got {meta['format']!r}")
    if meta["format_version"] not in range(1, FORMAT_VERSION + 1):
        raise ModelFileError(
            f"{str(cfg_file)!r}: format_version {meta['format_version']!r} is not supported "
            f"(this lstmkit reads versions 1 to {FORMAT_VERSION}; a newer lstmkit wrote it?)"
        )
    blob = w_file.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta["weights_sha256"]:
        raise ModelFileError(
            f"{str(w_file)!r} does not match the checksum in config.json: the file is truncated, "
            "tampered with, or from another save"
        )
    try:
        tensors = st_load(blob)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(f"{str(w_file)!r} is not a valid safetensors file: {exc}") from None
    return migrate(meta, tensors)


def load_model(path: str | os.PathLike) -> Any:
    """Rebuild the exact model saved at ``path`` (see :func:`save_model`)."""
    meta, tensors = read_model_dir(path)
    type_name = meta["type"]
    cfg_file = str(Path(path) / CONFIG)
    try:
        cls = registered_type(type_name)
    except ModelFileError as exc:
        raise ModelFileError(f"{cfg_file!r}: {exc}") from None
    missing: list[str] = []
    params, names = _saved_params(cls, meta["config"])
    if params is not None:
        absent = [n for n in names if n not in params]
        if absent:
            missing.append(f"{type_name} parameters: {absent}")
    token = _MISSING_IN_FILE.set(missing)
    try:
        obj = cls._from_saved(meta["config"], tensors, meta["state"])
    except Exception as exc:
        if missing:  # the likely root cause of whatever failed next: report it
            raise _missing_keys_error(cfg_file, type_name, missing) from None
        if isinstance(exc, ModelFileError):
            raise
        if isinstance(exc, KeyError):
            raise ModelFileError(f"{cfg_file!r} does not describe a valid {type_name}: missing key {exc.args[0]!r}") from None
        if isinstance(exc, (ConfigError, TypeError, ValueError)):
            raise ModelFileError(f"{cfg_file!r} does not describe a valid {type_name}: {exc}") from None
        raise
    finally:
        _MISSING_IN_FILE.reset(token)
    if missing:
        raise _missing_keys_error(cfg_file, type_name, missing)
    return obj


def _saved_params(cls: type, config: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """An estimator's saved ``get_params()`` (``config["params"]``) and its parameter names;
    (None, []) for task networks, whose config is checked by :func:`config_from_dict`."""
    get_names = getattr(cls, "_get_param_names", None)
    if get_names is None or not isinstance(config, dict) or not isinstance(config.get("params"), dict):
        return None, []
    return config["params"], list(get_names())


def _missing_keys_error(cfg_file: str, type_name: str, missing: list[str]) -> ModelFileError:
    return ModelFileError(
        f"{cfg_file!r} does not describe a valid {type_name}: missing key(s) "
        + "; ".join(missing)
        + ". A saved model records every setting, so the file was edited or damaged: put the keys back "
        "with the values the model was trained with (or save the model again)"
    )


# --- migrations ------------------------------------------------------------------------------
Migration = Callable[[dict[str, Any], dict[str, torch.Tensor]], tuple[dict[str, Any], dict[str, torch.Tensor]]]
# _MIGRATIONS[v] turns a file of format_version v into one of v + 1. Each module that owns a
# saved layout registers its own step with migration(); the steps for 0.1.0's types live next to
# today's classes (lstmkit.models, lstmkit.estimators).
_MIGRATIONS: dict[int, dict[str, Migration]] = {}


def migration(from_version: int, type_name: str) -> Callable[[Migration], Migration]:
    """Decorator: register how a file of ``type_name`` moves from ``from_version`` to the next.

    ``type_name="*"``: a step every type takes (before its own step for that version), for a
    layout shared by every type, such as a saved ``TrainerConfig``."""
    def deco(fn: Migration) -> Migration:
        _MIGRATIONS.setdefault(from_version, {})[type_name] = fn
        return fn
    return deco


def migrate(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Bring a verified file's (meta, tensors) up to :data:`FORMAT_VERSION`, step by step.

    A type without a step for some version kept its layout across it (user-registered task
    networks, for example).
    """
    version = int(meta["format_version"])
    if version < FORMAT_VERSION:
        for package in _BUILTIN_PACKAGES:  # the modules that register lstmkit's own steps
            importlib.import_module(package)
    while version < FORMAT_VERSION:
        steps = _MIGRATIONS.get(version, {})
        for step in (steps.get("*"), steps.get(meta["type"])):
            if step is not None:
                meta, tensors = step(dict(meta), dict(tensors))
        version += 1
        meta["format_version"] = version
    return meta, tensors
