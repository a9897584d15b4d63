"""Task models: one task per module, each registered for :func:`lstmkit.load`."""

from lstmkit.models.base import TaskModel, load_model, register, save_model
from lstmkit.models import classifier as _classifier  # noqa: F401,E402  (registers LSTMClassifier)

__all__ = ["TaskModel", "register", "save_model", "load_model"]
