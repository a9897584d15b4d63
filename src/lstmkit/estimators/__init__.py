"""The scikit-learn-style estimators (fit / predict / save), all on :class:`Estimator`."""

from lstmkit.estimators.anomaly import LSTMAnomalyDetector
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.estimators.captioner import LSTMCaptioner
from lstmkit.estimators.classifier import LSTMClassifier
from lstmkit.estimators.es_rnn import ESRNNForecaster
from lstmkit.estimators.forecaster import LSTMForecaster
from lstmkit.estimators.language_model import LSTMLanguageModel
from lstmkit.estimators.music import LSTMMusicModel
from lstmkit.estimators.seq2seq import LSTMSeq2Seq
from lstmkit.estimators.tagger import LSTMTagger
from lstmkit.estimators.transcriber import LSTMTranscriber

__all__ = ["Estimator", "Prepared", "LSTMForecaster", "LSTMClassifier", "LSTMTagger", "LSTMLanguageModel", "LSTMMusicModel",
           "LSTMAnomalyDetector", "LSTMSeq2Seq", "LSTMCaptioner", "LSTMTranscriber", "ESRNNForecaster"]
