"""Real datasets loaded offline from well-kept packages that ship them.

``load(name)`` returns a pandas object (or the task's documented structure);
``list_datasets()`` describes what is available. Each dataset names the optional extra
that provides it; a missing package gives a clear error with the ``pip install`` line.
Nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lstmkit.errors import ConfigError, DataError, suggest

__all__ = ["DatasetInfo", "register_dataset", "load", "list_datasets", "require"]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: str  # "forecasting", "classification", "tagging", ...
    description: str
    extra: str  # the pip extra that provides the source package
    loader: Callable[..., Any]


_REGISTRY: dict[str, DatasetInfo] = {}

# Modules that register datasets when imported (one line per task module).
_MODULES: tuple[str, ...] = ("lstmkit.datasets.forecasting", "lstmkit.datasets.classification", "lstmkit.datasets.text",
                            "lstmkit.datasets.music", "lstmkit.datasets.anomaly", "lstmkit.datasets.translation",
                            "lstmkit.datasets.scenes", "lstmkit.datasets.strokes", "lstmkit.datasets.speech",
                            "lstmkit.datasets.handwriting")


def register_dataset(name: str, *, task: str, description: str, extra: str) -> Callable:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY[name] = DatasetInfo(name, task, description, extra, fn)
        return fn

    return deco


def require(module: str, extra: str, dataset: str) -> Any:
    """Import ``module`` or raise a DataError telling which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataError(
            f"dataset {dataset!r} needs the package {module!r}: pip install 'lstmkit[{extra}]'"
        ) from None


def _ensure_registered() -> None:
    for mod in _MODULES:
        importlib.import_module(mod)


def list_datasets(task: str | None = None) -> list[DatasetInfo]:
    _ensure_registered()
    return [d for d in sorted(_REGISTRY.values(), key=lambda d: d.name) if task in (None, d.task)]


def load(name: str, **kwargs: Any) -> Any:
    """Load the named dataset (see :func:`list_datasets`)."""
    _ensure_registered()
    info = _REGISTRY.get(name)
    if info is None:
        raise ConfigError(
            f"unknown dataset {name!r}{suggest(name, _REGISTRY)}; available: {sorted(_REGISTRY)}"
        )
    return info.loader(**kwargs)
