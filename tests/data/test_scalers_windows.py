"""Scalers (JSON round-trip, training data only) and lazy windows (equal to materialised ones)."""

import json

import numpy as np
import pytest
import torch

from lstmkit.data import (
    MinMaxScaler,
    WindowBatchSampler,
    RobustScaler,
    StandardScaler,
    WindowDataset,
    make_scaler,
    materialize_windows,
    scaler_from_dict,
)
from lstmkit.errors import ConfigError, NotFittedError


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler, RobustScaler])
def test_scaler_json_round_trip_is_exact(cls):
    rng = np.random.default_rng(0)
    x = rng.normal(5, 3, size=(50, 2))
    sc = cls().fit(x)
    back = scaler_from_dict(json.loads(json.dumps(sc.to_dict())))
    np.testing.assert_array_equal(back.transform(x), sc.transform(x))
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(x)), x, rtol=1e-12)


def test_scaler_statistics():
    x = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    np.testing.assert_allclose(StandardScaler().fit(x).transform(x).mean(), 0, atol=1e-12)
    mm = MinMaxScaler().fit(x).transform(x)
    assert mm.min() == 0 and mm.max() == 1
    rb = RobustScaler().fit(x)
    assert rb.center_[0] == 3.0 and rb.scale_[0] == 2.0  # median, IQR: outlier-insensitive
    const = StandardScaler().fit(np.full(5, 7.0))
    assert const.scale_[0] == 1.0  # no division by zero


def test_scaler_errors():
    with pytest.raises(ConfigError, match=r"did you mean 'robust'"):
        make_scaler("robst")
    with pytest.raises(NotFittedError):
        StandardScaler().transform(np.ones(3))


def test_lazy_windows_equal_materialised():
    s = np.sin(np.arange(60) / 3.0).astype(np.float32)
    ds = WindowDataset([s], lookback=8, horizon=3)
    past, fut = materialize_windows(s, 8, 3)
    assert len(ds) == len(past) == 60 - 11 + 1
    batch = ds.__getitems__(list(range(len(ds))))
    np.testing.assert_array_equal(batch["past"][..., 0].numpy(), past)
    np.testing.assert_array_equal(batch["y"].numpy(), fut)
    item = ds[17]
    np.testing.assert_array_equal(item["past"][:, 0].numpy(), past[17])
    # through torch's DataLoader with the dataset's collate (uses __getitems__)
    dl = torch.utils.data.DataLoader(ds, batch_size=7, collate_fn=ds.collate)
    got = torch.cat([b["y"] for b in dl]).numpy()
    np.testing.assert_array_equal(got, fut)


def test_lazy_windows_store_the_series_once():
    s = np.arange(10_000, dtype=np.float32)
    ds = WindowDataset([s], lookback=100, horizon=10)
    assert np.shares_memory(ds.values, s)  # no copy of a float32 series, no per-window arrays
    extra = sum(a.nbytes for a in (ds._cum, ds._start0, ds.offsets, ds._steps))
    assert extra < 2_000


def test_windows_many_series_ranges_and_covariates():
    a = np.stack([np.arange(20.0), 100 + np.arange(20.0), 200 + np.arange(20.0)], axis=1)  # y, past x, future x
    b = a + 1000
    ds = WindowDataset([a, b[:15]], lookback=4, horizon=2, n_future=1, ranges=[(6, 10), (6, 15)])
    assert len(ds) == 5 + 10
    first_b = ds[5]
    assert first_b["series"].item() == 1
    np.testing.assert_array_equal(first_b["past"][:, 0].numpy(), [1000, 1001, 1002, 1003])
    np.testing.assert_array_equal(first_b["future_cov"][:, 0].numpy(), [1204, 1205])
    np.testing.assert_array_equal(first_b["y"].numpy(), [1004, 1005])
    last_a = ds[4]
    np.testing.assert_array_equal(last_a["y"].numpy(), [8, 9])  # window end 10 is the last allowed
    strided = WindowDataset([a], lookback=4, horizon=2, stride=5)
    assert [strided.window_bounds(i)[1] for i in range(len(strided))] == [0, 5, 10]
    with pytest.raises(IndexError):
        ds.__getitems__([len(ds)])
    with pytest.raises(ConfigError, match="lookback must be a positive int"):
        WindowDataset([a], lookback=0, horizon=2)


def test_batch_sampler_covers_every_window_once_per_pass_and_reshuffles():
    s = np.arange(50, dtype=np.float32)
    ds = WindowDataset([s], lookback=5, horizon=2)
    sampler = WindowBatchSampler(len(ds), 8, seed=3)
    first = np.concatenate(list(sampler))
    second = np.concatenate(list(sampler))
    assert sorted(first) == list(range(len(ds))) == sorted(second)
    assert not np.array_equal(first, second) and len(sampler) == 6
    ys = torch.cat([b["y"] for b in sampler.loader(ds)])
    assert ys.shape == (len(ds), 2)
