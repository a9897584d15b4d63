"""``ESRNNForecaster``: the ES-RNN hybrid of exponential smoothing and a global LSTM (Smyl 2020).

The network is :class:`~lstmkit.models.es_rnn.ESRNNNetwork`; the data side reuses
:class:`~lstmkit.data.ForecastPipeline` (log transform, no scaler, each series' whole history as
its context), and training, saving and ensembles come from
:class:`~lstmkit.estimators.base.Estimator`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from lstmkit.data.forecast_pipeline import ForecastPipeline
from lstmkit.data.timeseries import SeriesSet, check_min_length, read_series
from lstmkit.data.windows import SeriesDataset
from lstmkit.errors import ConfigError, DataError
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.estimators.forecaster import auto_settings
from lstmkit.models.es_rnn import ESRNNNetwork, ESRNNNetworkConfig
from lstmkit.persist import register

__all__ = ["ESRNNForecaster"]


def _is_int(v: Any, low: int) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low


@register
class ESRNNForecaster(Estimator):
    """Exponential smoothing with per-series coefficients learned jointly with a global LSTM.

    Each series gets its own level and seasonality smoothing coefficients and initial seasonal
    factors (multiplicative, fitted on log values); the LSTM, shared by every series, reads
    deseasonalised, level-normalised windows and predicts quantiles of the next ``horizon`` steps
    (Smyl, "A hybrid method of exponential smoothing and recurrent neural networks for time series
    forecasting", IJF 2020; simplified, see :mod:`lstmkit.models.es_rnn`).

    Args:
        horizon: steps predicted (forecasts are for at most this many steps).
        lookback: deseasonalised points the LSTM reads; ``"auto"`` (or None): as :class:`LSTMForecaster`
            (:func:`lstmkit.estimators.forecaster.auto_settings`). Windows that reach before a
            series' start repeat its first point.
        season_length: m; ``"auto"``: from the frequency, else detected; 1: level only.
        hidden_size, num_layers, dropout: the LSTM.
        quantiles: levels of the ``q<level>`` columns; the point forecast is the median
            (0.5 is added when missing).
        val_size: points at the end of each series held out for early stopping (default: horizon,
            or 0 for a series shorter than 2 * horizon + 1).
        n_models: ensemble size (seeds ``random_state + k``); quantiles are averaged in log space.
        trainer: a :class:`lstmkit.train.TrainerConfig` or dict over ``trainer_defaults``
            (300 epochs, batches of 16 series, lr 3e-3, patience 30).
        time_col, target_col, id_col, nan_policy, fill_missing, freq: as :class:`LSTMForecaster`.
        random_state: seed of the first ensemble member.

    Raises:
        ConfigError: a bad argument. DataError: a value <= 0 (the model is multiplicative),
        covariates (not supported), series shorter than ``horizon + 1`` points, or a series at
        predict time that was not in fit (its coefficients are learned per series).

    Example::

        >>> f = ESRNNForecaster(horizon=6, id_col="series", time_col="year", target_col="value").fit(df)
        >>> f.predict()          # (series, year) MultiIndex; columns mean, q0.1, q0.5, q0.9
    """

    network_class = ESRNNNetwork
    pipeline_class = ForecastPipeline
    trainer_defaults: ClassVar[dict[str, Any]] = {"max_epochs": 300, "batch_size": 16, "lr": 3e-3, "patience": 30,
                                                  "device": "cpu"}

    def __init__(self, horizon: int = 12, lookback: int | str = "auto", *, season_length: int | str = "auto",
                 hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0,
                 quantiles: tuple[float, ...] = (0.1, 0.5, 0.9), val_size: int | None = None, n_models: int = 1,
                 trainer: Any = None, time_col: str | None = None, target_col: str | None = None,
                 id_col: str | None = None, nan_policy: str = "error", fill_missing: bool = False,
                 freq: str | None = None, random_state: int = 0) -> None:
        self.horizon = horizon
        self.lookback = lookback
        self.season_length = season_length
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.quantiles = quantiles
        self.val_size = val_size
        self.n_models = n_models
        self.trainer = trainer
        self.time_col = time_col
        self.target_col = target_col
        self.id_col = id_col
        self.nan_policy = nan_policy
        self.fill_missing = fill_missing
        self.freq = freq
        self.random_state = random_state

    def _n_networks(self) -> int:
        return int(self.n_models)

    def _check_params(self) -> None:
        p = [f"{n} must be a positive int, got {getattr(self, n)!r}" for n in ("horizon", "n_models") if not _is_int(getattr(self, n), 1)]
        if self.lookback not in ("auto", None) and not _is_int(self.lookback, 1):
            p.append(f"lookback must be a positive int or 'auto', got {self.lookback!r}")
        if self.season_length != "auto" and not _is_int(self.season_length, 1):
            p.append(f"season_length must be a positive int or 'auto', got {self.season_length!r}")
        if self.val_size is not None and not _is_int(self.val_size, 0):
            p.append(f"val_size must be an int >= 0 or None, got {self.val_size!r}")
        elif not p and self.val_size is not None and 0 < self.val_size < int(self.horizon):
            p.append(f"val_size must be 0 or at least horizon ({self.horizon}), got {self.val_size}")
        if p:
            raise ConfigError("ESRNNForecaster: " + "; ".join(p))

    def _read(self, y: Any, X: Any = None) -> SeriesSet:
        data = read_series(y, X, time_col=self.time_col, target=self.target_col, id_col=self.id_col,
                           nan_policy=self.nan_policy, freq=self.freq, fill_missing=self.fill_missing)
        if data.covariate_names:
            raise DataError(f"ESRNNForecaster takes the target alone; got covariates {data.covariate_names} "
                            f"(use LSTMForecaster for covariates)")
        return data

    def _quantiles(self) -> list[float]:
        return sorted({float(q) for q in self.quantiles} | {0.5})

    # --- fit ----------------------------------------------------------------------------------
    def fit(self, y: Any, X: Any = None, *, resume: bool = False) -> "ESRNNForecaster":
        """Fit on ``y`` (as :meth:`LSTMForecaster.fit`; no covariates). ``resume``: continue an
        interrupted fit from ``trainer.run_dir``."""
        self._check_params()
        return self._fit(self._read(y, X), resume=resume)

    def _prepare(self, data: SeriesSet) -> Prepared:
        H = int(self.horizon)
        V = H if self.val_size is None else int(self.val_size)
        if self.val_size is None or V == 0:
            check_min_length(data, H + 1, why=f"horizon {H} + 1 past point")
        else:
            check_min_length(data, H + 1 + V, why=f"horizon {H} + val_size {V} + 1 past point")
        held_out = [V if (self.val_size is not None or len(s) >= H + 1 + V) else 0 for s in data]
        st = auto_settings([s.target[: len(s) - v] for s, v in zip(data, held_out)], data.freq, H, max(held_out),
                           season_length=self.season_length, lookback=self.lookback, transform=None)
        for s in data:
            bad = np.flatnonzero(~(s.target > 0))
            if len(bad):
                raise DataError(f"ESRNNForecaster is multiplicative (it smooths log values) and needs values > 0; series "
                                f"{s.id!r} has {float(s.target[bad[0]])!r} at position {int(bad[0])}")
        longest = max(len(s) for s in data)
        # the log transform names the first value <= 0; contexts hold every point (the smoothing runs from the start)
        pipe, mats = ForecastPipeline.fit(data, lookback=longest, transform="log", scaler="none", past_covariates=None,
                                          val_size=held_out)
        z = [m[:, 0] for m in mats]
        train = SeriesDataset(z, [(0, len(s) - v - H - 1) for s, v in zip(z, held_out)])
        val = None
        if max(held_out):  # only the series that kept a validation part: a batch without windows has no loss
            keep = [i for i, v in enumerate(held_out) if v]
            val = SeriesDataset([z[i] for i in keep], [(len(z[i]) - held_out[i] - 1, len(z[i]) - H - 1) for i in keep],
                                numbers=keep)
        self.settings_ = {"season_length": st["season_length"], "lookback": st["lookback"],
                          "series_without_validation": int(sum(v == 0 for v in held_out))}
        config = ESRNNNetworkConfig(n_series=len(z), season_length=st["season_length"], lookback=st["lookback"],
                                    horizon=H, hidden_size=self.hidden_size, num_layers=self.num_layers,
                                    dropout=self.dropout, quantiles=self._quantiles())
        return Prepared(pipe, config, train, val)

    # --- predict ------------------------------------------------------------------------------
    def predict(self, horizon: int | None = None, y: Any = None) -> pd.DataFrame:
        """Forecast ``horizon`` (<= the fitted horizon) steps after each series' end.

        ``y``: forecast from this history instead (only series seen in fit: their coefficients are
        per series). Returns a DataFrame indexed by the future timestamps (a (id, time) MultiIndex
        for many series) with ``mean`` (the median) and ``q<level>`` columns.
        """
        self._check_fitted()
        pipe, net0 = self.pipeline_, self.networks_[0]
        H = net0.config.horizon
        h = H if horizon is None else horizon
        if not _is_int(h, 1) or h > H:
            raise ConfigError(f"horizon must be an int in [1, {H}] (the fitted horizon), got {horizon!r}")
        ids = list(pipe.scalers)
        if y is None:
            contexts = {sid: ctx for sid, (ctx, _) in pipe.contexts_for(None, keep_single_scaler=False).items()}
        else:
            data = self._read(y)
            if pipe.id_name is None and len(ids) == 1 and len(data) == 1:
                contexts = {ids[0]: next(iter(data))}
            else:
                unknown = [s.id for s in data if s.id not in ids]
                if unknown:
                    raise DataError(f"series {unknown[:5]} were not in fit: ESRNNForecaster learns coefficients per series")
                contexts = {s.id: s for s in data}
        z = [pipe.matrix(ctx)[:, 0] for ctx in contexts.values()]
        batch = SeriesDataset.collate([SeriesDataset(z, [(0, 0)] * len(z))[i] for i in range(len(z))])
        series = torch.tensor([ids.index(sid) for sid in contexts])
        with torch.no_grad():
            q = torch.stack([net.forecast(batch["z"], batch["length"], series) for net in self.networks_]).mean(0)
        q = np.exp(q.double().numpy())[:, :h]  # (B, h, Q)
        levels = net0.config.quantiles
        frames = {}
        for i, (sid, ctx) in enumerate(contexts.items()):
            df = pd.DataFrame({"mean": q[i, :, levels.index(0.5)], **{f"q{lv:g}": q[i, :, j] for j, lv in enumerate(levels)}},
                              index=pipe.future_index(ctx, h))
            df.index.name = pipe.time_name or "time"
            frames[sid] = df
        if pipe.id_name is None and len(frames) == 1:
            return next(iter(frames.values()))
        return pd.concat(frames, names=[pipe.id_name or "id", next(iter(frames.values())).index.name])

    def score(self, y: Any, X: Any = None) -> float:
        """Negative mean absolute error of the forecast of ``y``, the points that follow the end of
        the (single) training series, as :meth:`LSTMForecaster.score` (so ``GridSearchCV`` with
        ``TimeSeriesSplit`` works on one series). Raises DataError for a model of several series
        or more points than the fitted horizon."""
        self._check_fitted()
        if self.pipeline_.id_name is not None or len(self.pipeline_.contexts) != 1:
            raise DataError("score() forecasts one series: this model was fitted on several; use lstmkit.evaluation.backtest")
        actual = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y, dtype=np.float64).reshape(-1)
        H = self.networks_[0].config.horizon
        if not 1 <= actual.size <= H:
            raise DataError(f"y must hold 1 to {H} points (the fitted horizon) that follow the training series, got {actual.size}")
        pred = self.predict(horizon=actual.size)["mean"].to_numpy()
        return -float(np.mean(np.abs(pred - actual)))

    # --- persistence --------------------------------------------------------------------------
    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        config, tensors, state = super()._saved_state()
        return config, tensors, {**state, "settings": getattr(self, "settings_", None)}

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "ESRNNForecaster":
        est = super()._from_saved(config, tensors, state)
        if state.get("settings") is not None:
            est.settings_ = state["settings"]
        return est

    @classmethod
    def _params_from_json(cls, params: dict[str, Any]) -> dict[str, Any]:
        params = super()._params_from_json(params)
        if "quantiles" in params:
            params["quantiles"] = tuple(params["quantiles"])
        return params
