"""Bundled forecasting series: length, span, frequency and values as published."""

import numpy as np
import pandas as pd

from lstmkit.datasets import load


def test_sunspots_yearly_1700_to_2008():
    y = load("sunspots")
    assert isinstance(y, pd.Series) and y.name == "sunspots" and y.dtype == np.float64
    assert len(y) == 309 and y.index.freqstr.startswith("YS")
    assert y.index[0] == pd.Timestamp("1700-01-01") and y.index[-1] == pd.Timestamp("2008-01-01")
    assert np.isfinite(y).all() and y.min() >= 0


def test_co2_monthly_1958_to_2001_without_gaps():
    y = load("co2")
    assert isinstance(y, pd.Series) and y.name == "co2" and y.dtype == np.float64
    assert len(y) == 526 and y.index.freqstr == "MS"
    assert y.index[0] == pd.Timestamp("1958-03-01") and y.index[-1] == pd.Timestamp("2001-12-01")
    assert np.isfinite(y).all() and 310 < y.min() < y.max() < 380  # ppm


def test_m1_yearly_is_the_monash_file_181_series():
    d = load("m1_yearly")
    assert list(d.columns) == ["series", "year", "value"]
    sizes = d.groupby("series", sort=False).size()
    assert len(sizes) == 181 and sizes.min() == 15 and sizes.max() == 58 and sizes.index[0] == "T1"
    t1 = d[d["series"] == "T1"]
    assert t1["year"].iloc[0] == pd.Timestamp("1972-01-01") and t1["value"].iloc[:3].tolist() == [3600.0, 7700.0, 12300.0]
    assert np.isfinite(d["value"]).all()
