"""Task networks: ``nn.Module``s with ``forward`` and ``loss`` (one task per module), each
registered for :func:`lstmkit.load`. The scikit-learn-style fronts are in
:mod:`lstmkit.estimators`."""

from lstmkit.models.anomaly import AnomalyNetwork, AnomalyNetworkConfig
from lstmkit.models.base import TaskModel
from lstmkit.models.captioner import CaptionerNetwork, CaptionerNetworkConfig
from lstmkit.models.classifier import ClassifierNetwork, ClassifierNetworkConfig
from lstmkit.models.es_rnn import ESRNNNetwork, ESRNNNetworkConfig
from lstmkit.models.forecaster import ForecasterNetwork, ForecasterNetworkConfig
from lstmkit.models.language_model import LanguageModelNetwork, LanguageModelNetworkConfig
from lstmkit.models.music import MusicNetwork, MusicNetworkConfig
from lstmkit.models.seq2seq import Seq2SeqNetwork, Seq2SeqNetworkConfig
from lstmkit.models.sequence import SequenceNetwork, SequenceNetworkConfig
from lstmkit.models.tagger import TaggerNetwork, TaggerNetworkConfig
from lstmkit.models.transcriber import TranscriberNetwork, TranscriberNetworkConfig

__all__ = ["TaskModel", "SequenceNetwork", "SequenceNetworkConfig", "ForecasterNetwork", "ForecasterNetworkConfig",
           "ClassifierNetwork", "ClassifierNetworkConfig", "TaggerNetwork", "TaggerNetworkConfig",
           "LanguageModelNetwork", "LanguageModelNetworkConfig",
           "MusicNetwork", "MusicNetworkConfig", "AnomalyNetwork", "AnomalyNetworkConfig",
           "Seq2SeqNetwork", "Seq2SeqNetworkConfig", "CaptionerNetwork", "CaptionerNetworkConfig",
           "TranscriberNetwork", "TranscriberNetworkConfig", "ESRNNNetwork", "ESRNNNetworkConfig"]
