"""The contract between task models, the trainer and model files.

A *task model* is an ``nn.Module`` subclass of :class:`TaskModel`: a config dataclass
(``config_class``), ``forward``, and ``loss(batch)``; the trainer knows nothing else about
it. Anything saveable (task models and the scikit-learn-style estimators that wrap them)
is registered with :func:`register` and implements ``_saved_state`` / ``_from_saved``.

A model file is a directory::

    model.safetensors   weights (safetensors: no pickle, loading runs no code)
    config.json         {"format", "format_version", "type", "config", "state",
                         "weights_sha256", "lstmkit_version", "torch_version"}

``config`` holds the architecture and hyper-parameters, ``state`` the preprocessing
state (scalers, vocabularies, class labels); both are plain JSON.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from lstmkit.errors import ConfigError, ModelFileError, suggest
from lstmkit.utils.io import atomic_write_bytes, atomic_write_json, fix_dir_mode

__all__ = ["TaskModel", "register", "save_model", "load_model", "read_model_dir", "config_from_dict", "is_model_dir", "check_save_path"]

FORMAT = "lstmkit-model"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
_REQUIRED_KEYS = ("format", "format_version", "type", "config", "state", "weights_sha256")

_REGISTRY: dict[str, type] = {}

# While load_model rebuilds a model, config_from_dict records here every field a saved config
# lacks (as "<ConfigClass>: [keys]"): a saved config holds every field, so a missing one means an
# edited or damaged file, never "use today's default". None outside load_model.
_MISSING_IN_FILE: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("_MISSING_IN_FILE", default=None)


def register(cls: type) -> type:
    """Class decorator: make ``cls`` loadable by :func:`load_model` under its class name."""
    _REGISTRY[cls.__name__] = cls
    return cls


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


class TaskModel(nn.Module):
    """Base class of task models.

    Subclasses set ``config_class`` (a dataclass), build layers in ``__init__(config)``
    and implement ``loss(batch) -> scalar tensor`` (mean over the batch). ``metrics``
    (validation) defaults to the loss. The trainer calls nothing else.
    """

    config_class: ClassVar[type]

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    def loss(self, batch: Any) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement loss(batch)")

    @torch.no_grad()
    def metrics(self, batch: Any) -> dict[str, float]:
        """Validation metrics for one batch (averaged over batches by the trainer)."""
        return {"loss": float(self.loss(batch))}

    def get_config(self) -> dict[str, Any]:
        return dataclasses.asdict(self.config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TaskModel":
        return cls(config_from_dict(cls.config_class, config))

    # --- persistence -------------------------------------------------------------------
    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        return self.get_config(), dict(self.state_dict()), {}

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "TaskModel":
        model = cls.from_config(config)
        _load_tensors(model, tensors)
        return model

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        return save_model(self, path, overwrite=overwrite)


def _load_tensors(module: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
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
    from safetensors.torch import save as st_save

    import lstmkit

    type_name = type(obj).__name__
    if _REGISTRY.get(type_name) is not type(obj):
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
        "lstmkit_version": lstmkit.__version__,
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
    from safetensors.torch import load as st_load

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
    if meta["format_version"] != FORMAT_VERSION:
        raise ModelFileError(
            f"{str(cfg_file)!r}: format_version {meta['format_version']!r} is not supported "
            f"(this lstmkit reads {FORMAT_VERSION})"
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
    return meta, tensors


def load_model(path: str | os.PathLike) -> Any:
    """Rebuild the exact model saved at ``path`` (see :func:`save_model`)."""
    import lstmkit.models  # noqa: F401  (registers every task model)

    meta, tensors = read_model_dir(path)
    type_name = meta["type"]
    cls = _REGISTRY.get(type_name)
    if cls is None:
        raise ModelFileError(
            f"unknown model type {type_name!r} in {str(Path(path) / CONFIG)!r}; "
            f"known types: {sorted(_REGISTRY)}{suggest(str(type_name), _REGISTRY)}"
        )
    cfg_file = str(Path(path) / CONFIG)
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
    """A scikit-learn-style estimator's saved ``get_params()`` and its parameter names.

    Estimators save their parameters either as the whole ``config`` (LSTMForecaster) or as
    ``config["params"]`` next to the network's config (LSTMClassifier, LSTMTagger).
    (None, []) for task models, whose config is checked by :func:`config_from_dict`.
    """
    get_names = getattr(cls, "_get_param_names", None)
    if get_names is None or not isinstance(config, dict):
        return None, []
    names = list(get_names())
    if "params" not in names and isinstance(config.get("params"), dict):
        return config["params"], names
    return config, names


def _missing_keys_error(cfg_file: str, type_name: str, missing: list[str]) -> ModelFileError:
    return ModelFileError(
        f"{cfg_file!r} does not describe a valid {type_name}: missing key(s) "
        + "; ".join(missing)
        + ". A saved model records every setting, so the file was edited or damaged: put the keys back "
        "with the values the model was trained with (or save the model again)"
    )
