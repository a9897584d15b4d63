"""Data at the edge: read and validate time series, scale them, window them lazily."""

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
]
