"""ES-RNN (Smyl 2020): the learned exponential smoothing is Holt-Winters exactly, gradients reach the
per-series coefficients, windows never read past a series' end, and the estimator learns."""

import numpy as np
import pandas as pd
import pytest
import torch

import lstmkit
from lstmkit.data.windows import SeriesDataset
from lstmkit.errors import ConfigError, DataError
from lstmkit.estimators import ESRNNForecaster
from lstmkit.evaluation.metrics import mase
from lstmkit.models.es_rnn import ESRNNNetwork, ESRNNNetworkConfig


def holt_winters(z, alpha, gamma, init):
    """Additive Holt-Winters on log values (level and season, no trend), written out in NumPy."""
    m = len(init)
    s = list(init)
    levels = []
    for t, v in enumerate(z):
        level = v - s[t] if t == 0 else alpha * (v - s[t]) + (1 - alpha) * levels[-1]
        levels.append(level)
        s.append(gamma * (v - level) + (1 - gamma) * s[t])
    return np.array(levels), np.array(s)


def test_smoothing_is_holt_winters_in_float64():
    rng = np.random.default_rng(0)
    net = ESRNNNetwork(ESRNNNetworkConfig(n_series=3, season_length=4, lookback=5, horizon=2, hidden_size=3)).double()
    with torch.no_grad():
        net.alpha_logit.copy_(torch.tensor([-1.0, 0.3, 2.0]))
        net.gamma_logit.copy_(torch.tensor([-2.0, 0.0, 1.0]))
        net.init_season.normal_()
    z = torch.tensor(rng.normal(size=(3, 11)))
    level, s = net.smooth(z, torch.tensor([2, 0, 1]))
    for row, k in enumerate([2, 0, 1]):
        a, g = torch.sigmoid(net.alpha_logit[k]).item(), torch.sigmoid(net.gamma_logit[k]).item()
        want_l, want_s = holt_winters(z[row].numpy(), a, g, net.init_season[k].detach().numpy())
        np.testing.assert_allclose(level[row].detach().numpy(), want_l, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(s[row].detach().numpy(), want_s, rtol=1e-12, atol=1e-12)


def test_gradients_reach_the_per_series_coefficients_and_pass_gradcheck():
    torch.manual_seed(0)
    net = ESRNNNetwork(ESRNNNetworkConfig(n_series=2, season_length=3, lookback=4, horizon=2, hidden_size=3)).double()
    z = torch.randn(2, 9, dtype=torch.float64)
    batch = {"z": z, "series": torch.tensor([0, 1]), "t_lo": torch.tensor([0, 2]), "t_hi": torch.tensor([6, 4]),
             "length": torch.tensor([9, 7])}
    net.loss(batch).backward()
    for p in (net.alpha_logit, net.gamma_logit, net.init_season):
        assert p.grad is not None and torch.all(p.grad.abs().sum(-1) > 0 if p.dim() > 1 else p.grad.abs() > 0)
    x = torch.randn(2, 4, 1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: net(x), (x,))


def test_windows_only_read_points_up_to_their_end():
    net = ESRNNNetwork(ESRNNNetworkConfig(n_series=1, season_length=2, lookback=4, horizon=3, hidden_size=3)).double()
    z = torch.randn(1, 10, dtype=torch.float64)
    base = net.forecast(z, torch.tensor([6]), torch.tensor([0]))
    z2 = z.clone()
    z2[0, 6:] = 1e6  # what follows the series' end (length 6) must not matter
    assert torch.equal(net.forecast(z2, torch.tensor([6]), torch.tensor([0])), base)
    ds = SeriesDataset([np.arange(5.0), np.arange(8.0)], [(0, 1), (3, 2)], numbers=[4, 7])
    item = ds[1]
    assert item["series"] == 7 and item["z"].tolist() == list(range(8)) and ds[0]["z"][5:].tolist() == [4.0] * 3
    assert ds.n_windows() == 2  # the second range is empty
    b, t = ESRNNNetwork._pairs(SeriesDataset.collate([ds[0], ds[1]]))
    assert b.tolist() == [0, 0] and t.tolist() == [0, 1]


def _seasonal_set(n_series=8, n=60, m=4, seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_series):
        t = np.arange(n)
        v = (20 + k) * np.exp(0.01 * t) * (1 + 0.3 * np.sin(2 * np.pi * (t + k) / m)) * np.exp(0.02 * rng.normal(size=n))
        frames.append(pd.DataFrame({"id": f"s{k}", "t": pd.date_range("2000-01", periods=n, freq="QS"), "v": v}))
    return pd.concat(frames, ignore_index=True)


def test_es_rnn_learns_seasonal_series_better_than_seasonal_naive(tmp_path):
    df = _seasonal_set()
    H = 4
    is_train = df.groupby("id").cumcount(ascending=False) >= H
    train, test = df[is_train], df[~is_train]
    f = ESRNNForecaster(horizon=H, hidden_size=16, id_col="id", time_col="t", target_col="v", random_state=0,
                        trainer={"max_epochs": 60, "quiet": True}).fit(train)
    assert f.settings_["season_length"] == 4  # quarterly
    pred = f.predict()
    ours, naive = [], []
    for k, g in train.groupby("id"):
        y, actual = g["v"].to_numpy(), test[test["id"] == k]["v"].to_numpy()
        ours.append(mase(actual, pred.loc[k]["mean"].to_numpy(), y, 4))
        naive.append(mase(actual, y[-4:], y, 4))
    assert np.mean(ours) < 0.8 * np.mean(naive), (np.mean(ours), np.mean(naive))
    q = pred[["q0.1", "q0.5", "q0.9"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0) and np.array_equal(pred["mean"].to_numpy(), q[:, 1])
    f.save(tmp_path / "m")
    g = lstmkit.load(tmp_path / "m")
    assert g.settings_ == f.settings_
    pd.testing.assert_frame_equal(g.predict(), pred)
    # forecasting from a given history of known series; fewer steps
    short = g.predict(horizon=2, y=train[train["id"].isin(["s1", "s3"])])
    assert short.index.get_level_values(0).unique().tolist() == ["s1", "s3"] and len(short) == 4


def test_es_rnn_errors_name_the_problem():
    df = _seasonal_set(n_series=2, n=30)
    kw = dict(horizon=4, hidden_size=4, id_col="id", time_col="t", target_col="v", trainer={"max_epochs": 1, "quiet": True})
    with pytest.raises(DataError, match=r"takes the target alone; got covariates \['x'\]"):
        ESRNNForecaster(**kw).fit(df.assign(x=1.0))
    f = ESRNNForecaster(**kw).fit(df)
    with pytest.raises(ConfigError, match=r"horizon must be an int in \[1, 4\] \(the fitted horizon\), got 5"):
        f.predict(horizon=5)
    with pytest.raises(DataError, match=r"series \['zz'\] were not in fit"):
        f.predict(y=df[df["id"] == "s0"].assign(id="zz"))
    with pytest.raises(ConfigError, match=r"lookback must be a positive int or 'auto', got 'long'"):
        ESRNNForecaster(**{**kw, "lookback": "long"}).fit(df)


def test_es_rnn_scores_one_series_and_names_non_positive_values():
    y = pd.Series(cycle_values := 10 + np.sin(np.arange(48) * np.pi / 2), index=pd.date_range("2000-01", periods=48, freq="MS"))
    f = ESRNNForecaster(horizon=4, hidden_size=4, lookback=None, trainer={"max_epochs": 1, "quiet": True}).fit(y.iloc[:-4])
    assert f.score(y.iloc[-4:]) == pytest.approx(-np.mean(np.abs(f.predict()["mean"].to_numpy() - cycle_values[-4:])))
    with pytest.raises(DataError, match=r"y must hold 1 to 4 points"):
        f.score(y.iloc[-8:])
    with pytest.raises(DataError, match=r"multiplicative .* needs values > 0; series 'y' has -1.0 at position 3"):
        ESRNNForecaster(horizon=4, trainer={"max_epochs": 1, "quiet": True}).fit(y.rename("y").where(y.index != y.index[3], -1.0))
