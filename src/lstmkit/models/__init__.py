"""Task models: one task per module, each registered for :func:`lstmkit.load`."""

from lstmkit.models.base import TaskModel, load_model, register, save_model
from lstmkit.models.forecaster import ForecasterCore, ForecasterCoreConfig, LSTMForecaster
from lstmkit.models.classifier import LSTMClassifier, LSTMClassifierConfig, LSTMClassifierModel
from lstmkit.models.sequence import LSTMSequenceModel, LSTMSequenceModelConfig
from lstmkit.models.tagger import LSTMTagger, LSTMTaggerConfig, LSTMTaggerModel

__all__ = ["TaskModel", "register", "save_model", "load_model", "LSTMSequenceModel", "LSTMSequenceModelConfig",
           "LSTMForecaster", "ForecasterCore", "ForecasterCoreConfig",
           "LSTMClassifier", "LSTMClassifierModel", "LSTMClassifierConfig",
           "LSTMTagger", "LSTMTaggerModel", "LSTMTaggerConfig"]
