"""Data at the edge: read and validate input once, and the fitted pipelines (scalers, target
transforms, label encoders, vocabularies, sequence and forecast pipelines) that learn from
training data, invert exactly and serialise to JSON.

The names below are loaded on first use (PEP 562), so reading and checking a table
(``lstmkit.data.timeseries``) does not import torch: the CLI reports a bad file or column at once.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "TimeSeries": "timeseries", "SeriesSet": "timeseries", "read_series": "timeseries", "read_table": "timeseries",
    "check_min_length": "timeseries", "future_index": "timeseries",
    "Scaler": "scalers", "StandardScaler": "scalers", "MinMaxScaler": "scalers", "RobustScaler": "scalers",
    "IdentityScaler": "scalers", "make_scaler": "scalers", "scaler_from_dict": "scalers",
    "WindowDataset": "windows", "WindowBatchSampler": "windows", "SeriesDataset": "windows", "collate_windows": "windows",
    "materialize_windows": "windows",
    "TargetTransform": "transforms", "TRANSFORMS": "transforms",
    "LabelEncoder": "labels",
    "Vocabulary": "vocab", "TokenPipeline": "vocab",
    "SequencePipeline": "sequence_pipeline", "SEQUENCE_SCALERS": "sequence_pipeline",
    "ForecastPipeline": "forecast_pipeline",
    "SupervisedPipeline": "supervised",
    "TextPipeline": "text", "read_text": "text",
}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"lstmkit.data.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lstmkit.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
