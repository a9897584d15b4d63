"""Data at the edge: read and validate input once, and the fitted pipelines (scalers, target
transforms, label encoders, vocabularies, sequence and forecast pipelines) that learn from
training data, invert exactly and serialise to JSON."""

from lstmkit.data.scalers import (
    IdentityScaler,
    MinMaxScaler,
    RobustScaler,
    Scaler,
    StandardScaler,
    make_scaler,
    scaler_from_dict,
)
from lstmkit.data.timeseries import SeriesSet, TimeSeries, check_min_length, future_index, read_series, read_table
from lstmkit.data.forecast_pipeline import ForecastPipeline
from lstmkit.data.labels import LabelEncoder
from lstmkit.data.sequence_pipeline import SEQUENCE_SCALERS, SequencePipeline
from lstmkit.data.supervised import SupervisedPipeline
from lstmkit.data.transforms import TRANSFORMS, TargetTransform
from lstmkit.data.vocab import TokenPipeline, Vocabulary
from lstmkit.data.windows import WindowBatchSampler, WindowDataset, collate_windows, materialize_windows

__all__ = [
    "TimeSeries",
    "SeriesSet",
    "read_series",
    "read_table",
    "check_min_length",
    "future_index",
    "Scaler",
    "StandardScaler",
    "MinMaxScaler",
    "RobustScaler",
    "IdentityScaler",
    "make_scaler",
    "scaler_from_dict",
    "WindowDataset",
    "WindowBatchSampler",
    "collate_windows",
    "materialize_windows",
    "TargetTransform",
    "TRANSFORMS",
    "LabelEncoder",
    "Vocabulary",
    "TokenPipeline",
    "SequencePipeline",
    "SEQUENCE_SCALERS",
    "ForecastPipeline",
    "SupervisedPipeline",
]
