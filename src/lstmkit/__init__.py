"""lstmkit: Long Short-Term Memory networks on PyTorch.

Layers, lowest first (a module imports only from layers below it):
:mod:`lstmkit.nn` (the recurrent engine) < :mod:`lstmkit.data` (readers, validation, fitted
pipelines, datasets) < :mod:`lstmkit.models` (task networks) < :mod:`lstmkit.train` (trainer,
checkpoints) < :mod:`lstmkit.estimators` (scikit-learn-style fronts) < :mod:`lstmkit.evaluation`,
:mod:`lstmkit.viz` < :mod:`lstmkit.cli`. :mod:`lstmkit.errors` and :mod:`lstmkit.persist` (model
files) sit below them all.

The estimators and :func:`load` are available here (``lstmkit.LSTMForecaster(...)``) and are
imported on first use, so ``import lstmkit`` stays light (no torch).
"""

from __future__ import annotations

from typing import Any

from lstmkit.errors import (
    ConfigError,
    DataError,
    LstmkitError,
    ModelFileError,
    NotFittedError,
    ShapeError,
)

__version__ = "0.2.0"

__all__ = [
    "__version__",
    "load",
    "LSTMForecaster",
    "ESRNNForecaster",
    "LSTMClassifier",
    "LSTMTagger",
    "LSTMLanguageModel",
    "LSTMMusicModel",
    "LSTMAnomalyDetector",
    "LSTMSeq2Seq",
    "LSTMCaptioner",
    "LSTMTranscriber",
    "LstmkitError",
    "ConfigError",
    "DataError",
    "ShapeError",
    "NotFittedError",
    "ModelFileError",
]

# name -> module that defines it; loaded by __getattr__ on first access (PEP 562)
_LAZY = {
    "LSTMForecaster": "lstmkit.estimators",
    "ESRNNForecaster": "lstmkit.estimators",
    "LSTMClassifier": "lstmkit.estimators",
    "LSTMTagger": "lstmkit.estimators",
    "LSTMLanguageModel": "lstmkit.estimators",
    "LSTMMusicModel": "lstmkit.estimators",
    "LSTMAnomalyDetector": "lstmkit.estimators",
    "LSTMSeq2Seq": "lstmkit.estimators",
    "LSTMCaptioner": "lstmkit.estimators",
    "LSTMTranscriber": "lstmkit.estimators",
}

def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def load(path: Any) -> Any:
    """Load any model saved by lstmkit (a directory with model.safetensors + config.json).

    Nothing is unpickled and no code from the file is executed; files of older format
    versions are migrated. Raises :class:`ModelFileError` for a missing, damaged or unknown file.
    """
    import importlib

    return importlib.import_module("lstmkit.persist").load_model(path)
