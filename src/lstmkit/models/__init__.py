"""Task models: one task per module, each registered for :func:`lstmkit.load`."""

from lstmkit.models.base import TaskModel, load_model, register, save_model
from lstmkit.models import classifier as _classifier  # noqa: F401,E402  (registers LSTMClassifier)
from lstmkit.models import tagger as _tagger  # noqa: F401,E402  (registers LSTMTagger)

__all__ = ["TaskModel", "register", "save_model", "load_model"]
