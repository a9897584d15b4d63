"""Forecasting datasets, read offline from files that well-kept packages ship.

* ``airline``: monthly international airline passengers 1949-1960 (Box & Jenkins),
  read from aeon's bundled CSV via importlib.resources (aeon itself is not imported: it
  pulls numba).
* ``sunspots``: yearly sunspot numbers 1700-2008 (statsmodels).
* ``co2``: Mauna Loa atmospheric CO2, weekly 1958-2001 averaged to monthly, gaps
  interpolated (statsmodels).
* ``m1_yearly``: the 181 yearly series of the M1 competition (Makridakis et al. 1982), from
  the Monash archive's file that aeon ships (Godahewa et al. 2021), as a long DataFrame.

Each single-series loader returns a ``pandas.Series`` with a DatetimeIndex carrying its
frequency.
"""

from __future__ import annotations

import importlib.resources
import importlib.util

import pandas as pd

from lstmkit.datasets import register_dataset, require
from lstmkit.errors import DataError

__all__ = ["load_airline", "load_sunspots", "load_co2", "load_m1_yearly"]


@register_dataset(
    "airline",
    task="forecasting",
    description="Monthly airline passengers 1949-1960, 144 points (Box & Jenkins); from aeon's data files",
    extra="forecast",
)
def load_airline() -> pd.Series:
    if importlib.util.find_spec("aeon") is None:
        raise DataError("dataset 'airline' needs the package 'aeon' (its data file): pip install 'lstmkit[forecast]'")
    ref = importlib.resources.files("aeon").joinpath("datasets/data/Airline/Airline.csv")
    with importlib.resources.as_file(ref) as path:
        df = pd.read_csv(path)
    index = pd.DatetimeIndex(pd.to_datetime(df["Date"], format="%Y-%m"), freq="MS", name="month")
    return pd.Series(df["Passengers"].to_numpy(dtype=float), index=index, name="passengers")


@register_dataset(
    "sunspots",
    task="forecasting",
    description="Yearly sunspot numbers 1700-2008, 309 points; from statsmodels",
    extra="forecast",
)
def load_sunspots() -> pd.Series:
    sm_datasets = require("statsmodels.datasets.sunspots", "forecast", "sunspots")
    df = sm_datasets.load_pandas().data
    years = df["YEAR"].astype(int).astype(str)
    index = pd.DatetimeIndex(pd.to_datetime(years, format="%Y"), freq="YS", name="year")
    return pd.Series(df["SUNACTIVITY"].to_numpy(dtype=float), index=index, name="sunspots")


@register_dataset(
    "co2",
    task="forecasting",
    description="Mauna Loa CO2 (ppm), monthly means 1958-2001, 526 points; from statsmodels",
    extra="forecast",
)
def load_co2() -> pd.Series:
    sm_datasets = require("statsmodels.datasets.co2", "forecast", "co2")
    s = sm_datasets.load_pandas().data["co2"]
    monthly = s.resample("MS").mean().interpolate(limit_direction="both")
    monthly.index = pd.DatetimeIndex(monthly.index, freq="MS", name="month")
    return monthly.rename("co2")


@register_dataset(
    "m1_yearly",
    task="forecasting",
    description="M1 competition, 181 yearly series of 15-58 points, horizon 6 (Monash archive); from aeon's data files",
    extra="forecast",
)
def load_m1_yearly() -> pd.DataFrame:
    """The M1 yearly series as a long DataFrame: columns ``series`` ("T1".."T181"), ``year``
    (datetime, January 1st) and ``value``, in the file's order.

    The Monash archive's protocol (Godahewa et al. 2021) holds out each series' last 6 points
    (its ``@horizon``). The file notes that the 51st series' start year lost its last two digits
    (read as 1900). Parsed here from the ``.tsf`` text (aeon itself is not imported: it pulls numba).
    """
    if importlib.util.find_spec("aeon") is None:
        raise DataError("dataset 'm1_yearly' needs the package 'aeon' (its data file): pip install 'lstmkit[forecast]'")
    ref = importlib.resources.files("aeon").joinpath("datasets/data/m1_yearly_dataset/m1_yearly_dataset.tsf")
    frames = []
    with importlib.resources.as_file(ref) as path:
        in_data = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if not in_data:
                in_data = line.strip().lower() == "@data"
                continue
            if not line.strip():
                continue
            name, start, values = line.strip().split(":")
            v = [float(x) for x in values.split(",")]
            years = pd.date_range(start[:4], periods=len(v), freq="YS")
            frames.append(pd.DataFrame({"series": name, "year": years, "value": v}))
    if len(frames) != 181:
        raise DataError(f"m1_yearly: expected 181 series in aeon's file, read {len(frames)}")
    return pd.concat(frames, ignore_index=True)
