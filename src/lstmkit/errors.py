"""lstmkit's exception hierarchy. Imports nothing of ours.

Every error a user can provoke is an ``LstmkitError``; its message names the argument
(or column, file, line), what was expected and what was received. Several problems found
at once are reported together.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "LstmkitError",
    "ConfigError",
    "DataError",
    "ShapeError",
    "ShapeRuntimeError",
    "ShapeTypeError",
    "ConfigTypeError",
    "NotFittedError",
    "ModelFileError",
    "MissingDependencyError",
    "suggest",
]


class LstmkitError(Exception):
    """Base of every error lstmkit raises on purpose."""


class ConfigError(LstmkitError, ValueError):
    """An argument or configuration value is invalid."""


class DataError(LstmkitError, ValueError):
    """Input data is malformed: names the column/row/file and the fix."""


class ShapeError(LstmkitError, ValueError):
    """A tensor has the wrong rank, size or dtype."""


# Drop-in classes: where torch.nn raises RuntimeError or TypeError for the same mistake, lstmkit's
# error is also an instance of that class, so code written against torch.nn (``except RuntimeError``,
# ``pytest.raises(TypeError)``) keeps working; ``except ShapeError`` / ``except ValueError`` do too.
class ShapeRuntimeError(ShapeError, RuntimeError):
    """A size that does not fit the module (input_size, hidden state shape, zero time steps,
    lengths out of range): a ShapeError that is also the RuntimeError torch.nn raises there."""


class ShapeTypeError(ShapeError, TypeError):
    """An argument of the wrong Python type (input not a tensor, state not a tuple): also a TypeError."""


class ConfigTypeError(ConfigError, TypeError):
    """A constructor argument of the wrong type (``hidden_size=4.5``, ``bias="yes"``): a ConfigError
    (so a ValueError) that is also the TypeError torch.nn raises."""


class NotFittedError(LstmkitError, ValueError, AttributeError):
    """An estimator was used before ``fit`` (ValueError and AttributeError, like scikit-learn's)."""


class ModelFileError(LstmkitError, OSError):
    """A saved model directory is missing, truncated, tampered with or of an unknown type."""


class MissingDependencyError(LstmkitError, ImportError):
    """An optional package a function needs is not installed; the message has the ``pip install`` line.
    An ImportError too, so ``except ImportError`` keeps working."""


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class ExportError(LstmkitError, RuntimeError):
    """An exported model disagrees with the PyTorch model beyond the tolerance (nothing is written)."""
