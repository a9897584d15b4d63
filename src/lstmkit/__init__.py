"""lstmkit: Long Short-Term Memory networks on PyTorch.

The recurrent engine lives in :mod:`lstmkit.nn`; task models in :mod:`lstmkit.models`;
training and persistence in :mod:`lstmkit.train`; the ``lstmkit`` command in
:mod:`lstmkit.cli`.
"""

from __future__ import annotations

from lstmkit.errors import (
    ConfigError,
    DataError,
    LstmkitError,
    ModelFileError,
    NotFittedError,
    ShapeError,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "load",
    "LstmkitError",
    "ConfigError",
    "DataError",
    "ShapeError",
    "NotFittedError",
    "ModelFileError",
]


def load(path):
    """Load any model saved by lstmkit (a directory with model.safetensors + config.json).

    Nothing is unpickled and no code from the file is executed.
    """
    from lstmkit.models.base import load_model

    return load_model(path)
