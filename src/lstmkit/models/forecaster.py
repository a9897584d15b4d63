"""Forecasting: the ``ForecasterCore`` task model and the ``LSTMForecaster`` estimator.

Core (a :class:`~lstmkit.models.base.TaskModel`)::

    past (B, L, C) --encoder LSTM--> (h_n, c_n)
        direct:          [h_n[-1], future_cov (B, H*Kf)] --head--> (B, H, P)
        autoregressive:  decoder LSTM from (h_n, c_n) over [y_{t-1}, future_cov_t] --head--> (B, H, P)

C = 1 + past covariates + known-future covariates (target first, known-future last);
P = 2 (Gaussian mean, scale), Q (quantiles) or 1 (MSE). With ``use_instance_norm`` the
last observed target of each window is subtracted from the target column and added back
to the output, so one network serves series at any level.

Estimator: :class:`LSTMForecaster` follows scikit-learn conventions (``__init__`` only
stores arguments, learned state ends in ``_``) and owns the data path: validation,
per-series transform + scaling fitted on the training part only, lazy windows, a
validation split at the end of each series, training through :mod:`lstmkit.train`, and
predictions back in each series' own scale, indexed by future timestamps.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from torch import nn

from lstmkit.data.scalers import make_scaler, scaler_from_dict
from lstmkit.data.timeseries import SeriesSet, TimeSeries, check_min_length, future_index, read_series
from lstmkit.data.windows import WindowBatchSampler, WindowDataset
from lstmkit.errors import ConfigError, DataError, NotFittedError, suggest
from lstmkit.models.base import TaskModel, config_from_dict, register

from lstmkit.nn import LSTM

__all__ = ["ForecasterCoreConfig", "ForecasterCore", "LSTMForecaster"]

DECODERS = ("direct", "autoregressive")
LIKELIHOODS = ("gaussian", "quantile", "mse")
TRANSFORMS = (None, "log", "log1p")
_LIST_SAMPLER_LIMIT = 1_000_000  # windows above which training batches come from WindowBatchSampler


@dataclass
class ForecasterCoreConfig:
    n_features: int = 1  # input columns per step: target + covariates (more = richer context)
    n_future: int = 0  # trailing columns known over the horizon too (calendar, promotions)
    lookback: int = 36  # past steps seen per window: longer sees more seasons, costs time
    horizon: int = 12  # steps predicted at once
    hidden_size: int = 64  # LSTM width: capacity vs overfitting on short series
    num_layers: int = 1  # stacked encoder layers: depth rarely pays on short series
    dropout: float = 0.0  # between stacked layers and before the head; regularises, slows fitting
    decoder: str = "direct"  # "direct": one head for the whole horizon (no error feedback); "autoregressive": decoder LSTM
    likelihood: str = "gaussian"  # "gaussian" NLL (intervals from a normal), "quantile" (pinball), "mse" (point only)
    quantiles: list[float] = field(default_factory=lambda: [0.1, 0.5, 0.9])  # reported interval levels
    use_instance_norm: bool = True  # subtract each window's last value: level-free learning, trend extrapolation
    head_hidden_size: int = 0  # 0 = linear head; >0 adds one hidden ReLU layer

    def __post_init__(self) -> None:
        problems = []
        for name in ("n_features", "lookback", "horizon", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                problems.append(f"{name} must be a positive int, got {v!r}")
        if not isinstance(self.n_future, int) or not 0 <= self.n_future < max(int(self.n_features), 1):
            problems.append(f"n_future must be an int in [0, n_features - 1], got {self.n_future!r}")
        if not isinstance(self.head_hidden_size, int) or self.head_hidden_size < 0:
            problems.append(f"head_hidden_size must be an int >= 0, got {self.head_hidden_size!r}")
        if not (isinstance(self.dropout, (int, float)) and 0.0 <= self.dropout < 1.0):
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.decoder not in DECODERS:
            problems.append(f"decoder must be one of {list(DECODERS)}, got {self.decoder!r}{suggest(str(self.decoder), DECODERS)}")
        if self.likelihood not in LIKELIHOODS:
            problems.append(
                f"likelihood must be one of {list(LIKELIHOODS)}, got {self.likelihood!r}{suggest(str(self.likelihood), LIKELIHOODS)}"
            )
        qs = list(self.quantiles)
        if not qs or any(not isinstance(q, (int, float)) or not 0.0 < q < 1.0 for q in qs) or sorted(set(qs)) != qs:
            problems.append(f"quantiles must be increasing distinct numbers in (0, 1), got {self.quantiles!r}")
        if problems:
            raise ConfigError("ForecasterCoreConfig: " + "; ".join(problems))
        self.quantiles = [float(q) for q in qs]


@register
class ForecasterCore(TaskModel):
    """Encoder LSTM over the lookback window plus a direct or autoregressive multi-step head."""

    config_class = ForecasterCoreConfig

    def __init__(self, config: ForecasterCoreConfig) -> None:
        super().__init__(config)
        c = config
        self.n_params = {"gaussian": 2, "quantile": len(c.quantiles), "mse": 1}[c.likelihood]
        self.encoder = LSTM(c.n_features, c.hidden_size, num_layers=c.num_layers, batch_first=True,
                            dropout=c.dropout if c.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(c.dropout)
        if c.decoder == "direct":
            head_in = c.hidden_size + c.horizon * c.n_future
            head_out = c.horizon * self.n_params
        else:
            self.decoder = LSTM(1 + c.n_future, c.hidden_size, num_layers=c.num_layers, batch_first=True,
                                dropout=c.dropout if c.num_layers > 1 else 0.0)
            head_in, head_out = c.hidden_size, self.n_params
        if c.head_hidden_size:
            self.head = nn.Sequential(nn.Linear(head_in, c.head_hidden_size), nn.ReLU(),
                                      nn.Linear(c.head_hidden_size, head_out))
        else:
            self.head = nn.Linear(head_in, head_out)
        self.register_buffer("_q", torch.tensor(c.quantiles, dtype=torch.float32), persistent=False)

    # --- forward ----------------------------------------------------------------------------
    def _normalise(self, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Subtract each window's last target value from the target column."""
        if not self.config.use_instance_norm:
            return past, past.new_zeros(past.shape[0])
        level = past[:, -1, 0]  # (B,)
        past = torch.cat([past[:, :, :1] - level[:, None, None], past[:, :, 1:]], dim=2)  # (B, L, C)
        return past, level

    def forward(self, past: torch.Tensor, future_cov: torch.Tensor | None = None,
                y_teacher: torch.Tensor | None = None) -> torch.Tensor:
        """Raw output parameters (B, H, P) in the level-normalised space.

        ``y_teacher`` (B, H), already normalised, feeds the autoregressive decoder during
        training (teacher forcing); without it the decoder feeds back its own point forecast.
        """
        c = self.config
        B = past.shape[0]
        if future_cov is None:
            future_cov = past.new_zeros(B, c.horizon, c.n_future)
        _, (h_n, c_n) = self.encoder(past)  # h_n: (L_layers, B, H)
        if c.decoder == "direct":
            feats = torch.cat([self.drop(h_n[-1]), future_cov.reshape(B, -1)], dim=1)  # (B, H + horizon*Kf)
            return self.head(feats).reshape(B, c.horizon, self.n_params)  # (B, horizon, P)
        prev = past[:, -1:, :1]  # (B, 1, 1) last observed (normalised) target
        if y_teacher is not None:
            prev_y = torch.cat([prev, y_teacher[:, :-1, None]], dim=1)  # (B, horizon, 1)
            out, _ = self.decoder(torch.cat([prev_y, future_cov], dim=2), (h_n, c_n))  # (B, horizon, H)
            return self.head(self.drop(out))  # (B, horizon, P)
        state = (h_n, c_n)
        outs = []
        for t in range(c.horizon):
            step_in = torch.cat([prev, future_cov[:, t : t + 1]], dim=2)  # (B, 1, 1 + Kf)
            o, state = self.decoder(step_in, state)
            p = self.head(o)  # (B, 1, P)
            outs.append(p)
            prev = self._point(p)[:, :, None]  # (B, 1, 1)
        return torch.cat(outs, dim=1)  # (B, horizon, P)

    def _point(self, params: torch.Tensor) -> torch.Tensor:
        """Point forecast (B, H) from parameters (B, H, P): Gaussian mean or median quantile."""
        if self.config.likelihood == "quantile":
            q = self._q
            k = int(torch.argmin((q - 0.5).abs()))
            return params[..., k]
        return params[..., 0]

    def _sigma(self, params: torch.Tensor) -> torch.Tensor:
        return nn.functional.softplus(params[..., 1]) + 1e-3

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        past, level = self._normalise(batch["past"])
        y = batch["y"] - level[:, None]  # (B, H)
        teacher = y if self.config.decoder == "autoregressive" else None
        params = self(past, batch.get("future_cov"), y_teacher=teacher)
        lk = self.config.likelihood
        if lk == "gaussian":
            mu, sigma = params[..., 0], self._sigma(params)
            return (torch.log(sigma) + 0.5 * ((y - mu) / sigma) ** 2).mean() + 0.5 * math.log(2 * math.pi)
        if lk == "quantile":
            diff = y[..., None] - params  # (B, H, Q)
            return torch.maximum(self._q * diff, (self._q - 1) * diff).mean() * 2
        return nn.functional.mse_loss(params[..., 0], y)

    @torch.no_grad()
    def metrics(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        out = {"loss": float(self.loss(batch))}
        pred = self.predict_batch(batch["past"], batch.get("future_cov"))["mean"]
        out["mae"] = float((pred - batch["y"]).abs().mean())
        return out

    @torch.no_grad()
    def predict_batch(self, past: torch.Tensor, future_cov: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Forecast in the (scaled) input space: ``mean`` (B, H) and ``quantiles`` (B, H, Q)."""
        norm, level = self._normalise(past)
        params = self(norm, future_cov)
        mean = self._point(params) + level[:, None]
        if self.config.likelihood == "gaussian":
            z = torch.distributions.Normal(0.0, 1.0).icdf(self._q.to(params.dtype))  # (Q,)
            q = mean[..., None] + self._sigma(params)[..., None] * z  # (B, H, Q)
        elif self.config.likelihood == "quantile":
            q = torch.sort(params, dim=-1).values + level[:, None, None]
        else:
            q = mean[..., None].expand(*mean.shape, len(self.config.quantiles))
        return {"mean": mean, "quantiles": q}


# --- the estimator ----------------------------------------------------------------------------


def _default_trainer_config(seed: int) -> Any:
    from lstmkit.train import TrainerConfig

    return TrainerConfig(max_epochs=300, batch_size=16, lr=3e-3, patience=30, seed=seed, quiet=True, device="cpu")


def _train(core: ForecasterCore, train: WindowDataset, val: WindowDataset | None, config: Any) -> list[dict]:
    from lstmkit.train import Trainer

    history = Trainer(config).fit(core, train, val)
    core.cpu()
    return list(history)


def _config_to_dict(cfg: Any) -> dict[str, Any] | None:
    if cfg is None:
        return None
    if dataclasses.is_dataclass(cfg):
        return {"__class__": type(cfg).__name__, **dataclasses.asdict(cfg)}
    raise ConfigError(f"trainer must be a TrainerConfig, got {type(cfg).__name__}")


def _config_from_dict(d: dict[str, Any] | None) -> Any:
    if d is None:
        return None
    from lstmkit.train import TrainerConfig

    d = {k: v for k, v in d.items() if k != "__class__"}
    return config_from_dict(TrainerConfig, d, where="trainer config")


@register
class LSTMForecaster(BaseEstimator):
    """A global LSTM forecaster over one or many series, scikit-learn style.

    Args:
        horizon: steps predicted from the end of each series.
        lookback: past steps the encoder reads (default ``max(3 * horizon, 24)``).
        hidden_size, num_layers, dropout, head_hidden_size: network size (see
            :class:`ForecasterCoreConfig`).
        decoder: ``"direct"`` (one head for the whole horizon) or ``"autoregressive"``.
        likelihood: ``"gaussian"``, ``"quantile"`` or ``"mse"``; ``quantiles`` are the
            levels reported as ``q0.1``-style columns.
        transform: ``None``, ``"log"`` or ``"log1p"`` applied before scaling (log needs
            positive values; multiplicative seasonality becomes additive).
        scaler: ``"standard"``, ``"minmax"``, ``"robust"`` or ``"none"``, fitted per series
            on the training part only.
        use_instance_norm: subtract each window's last value (level-free windows).
        past_covariates: covariate columns known only in the past; every other covariate
            is known in the future too and must be given to ``predict`` as ``X_future``.
        val_size: points at the end of each series held out for early stopping (default:
            ``horizon``; 0 trains on everything for the trainer's ``max_epochs``).
        n_models: ensemble size (seeds ``random_state + k``); forecasts are averaged.
        trainer: a :class:`lstmkit.train.TrainerConfig` (default: 300 epochs, patience 30).
        time_col, target_col, id_col: column names for DataFrame input (long format with
            ``id_col`` for many series).
        nan_policy: ``"error"``, ``"interpolate"`` or ``"ffill"`` for NaN/inf in the data.
        freq: pandas frequency, if it cannot be inferred.
        random_state: seed of the first ensemble member.

    Example::

        >>> f = LSTMForecaster(horizon=12, lookback=36, transform="log").fit(y)
        >>> f.predict()            # DataFrame: index = next 12 months, columns mean, q0.1, q0.5, q0.9
    """

    def __init__(
        self,
        horizon: int = 12,
        lookback: int | None = None,
        *,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        head_hidden_size: int = 0,
        decoder: str = "direct",
        likelihood: str = "gaussian",
        quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
        transform: str | None = None,
        scaler: str = "standard",
        use_instance_norm: bool = True,
        past_covariates: list[str] | None = None,
        val_size: int | None = None,
        n_models: int = 1,
        trainer: Any = None,
        time_col: str | None = None,
        target_col: str | None = None,
        id_col: str | None = None,
        nan_policy: str = "error",
        freq: str | None = None,
        random_state: int = 0,
    ) -> None:
        self.horizon = horizon
        self.lookback = lookback
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.head_hidden_size = head_hidden_size
        self.decoder = decoder
        self.likelihood = likelihood
        self.quantiles = quantiles
        self.transform = transform
        self.scaler = scaler
        self.use_instance_norm = use_instance_norm
        self.past_covariates = past_covariates
        self.val_size = val_size
        self.n_models = n_models
        self.trainer = trainer
        self.time_col = time_col
        self.target_col = target_col
        self.id_col = id_col
        self.nan_policy = nan_policy
        self.freq = freq
        self.random_state = random_state

    # --- parameters ---------------------------------------------------------------------
    def set_params(self, **params: Any) -> "LSTMForecaster":
        """scikit-learn ``set_params``, plus nested trainer fields: ``trainer__lr=1e-3``."""
        nested = {k.split("__", 1)[1]: params.pop(k) for k in list(params) if k.startswith("trainer__")}
        super().set_params(**params)
        if nested:
            base = self.trainer if self.trainer is not None else _default_trainer_config(int(self.random_state))
            names = {f.name for f in dataclasses.fields(base)}
            bad = [f"unknown trainer field {k!r}{suggest(k, names)}" for k in nested if k not in names]
            if bad:
                raise ConfigError("; ".join(bad))
            self.trainer = dataclasses.replace(base, **nested)
        return self

    def _lookback(self) -> int:
        return int(self.lookback) if self.lookback is not None else max(3 * int(self.horizon), 24)

    def _val_size(self) -> int:
        return int(self.horizon) if self.val_size is None else int(self.val_size)

    def _check_params(self) -> None:
        problems = []
        for name in ("horizon", "n_models"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                problems.append(f"{name} must be a positive int, got {v!r}")
        if self.lookback is not None and (not isinstance(self.lookback, (int, np.integer)) or self.lookback < 1):
            problems.append(f"lookback must be a positive int or None, got {self.lookback!r}")
        if self.transform not in TRANSFORMS:
            problems.append(f"transform must be one of {list(TRANSFORMS)}, got {self.transform!r}")
        if self.val_size is not None and (not isinstance(self.val_size, (int, np.integer)) or self.val_size < 0):
            problems.append(f"val_size must be an int >= 0 or None, got {self.val_size!r}")
        elif not problems and 0 < self._val_size() < int(self.horizon):
            problems.append(
                f"val_size must be 0 or at least horizon ({self.horizon}) so a validation window fits, got {self.val_size}"
            )
        if problems:
            raise ConfigError("LSTMForecaster: " + "; ".join(problems))
        make_scaler(self.scaler)

    # --- data -----------------------------------------------------------------------------
    def _read(self, y: Any, X: Any = None) -> SeriesSet:
        kw = dict(time_col=self.time_col, target=self.target_col, id_col=self.id_col,
                  nan_policy=self.nan_policy, freq=self.freq)
        if X is not None:
            if isinstance(y, pd.Series):
                if not isinstance(X, pd.DataFrame):
                    raise DataError(f"X must be a DataFrame indexed like y, got {type(X).__name__}")
                if not X.index.equals(y.index):
                    raise DataError("X must have exactly the index of y (same timestamps, same order)")
                name = str(y.name) if y.name is not None else "y"
                if name in map(str, X.columns):
                    raise DataError(f"X has a column named like the target {name!r}")
                frame = pd.concat([y.rename(name), X], axis=1)
                kw.update(target=name, covariates=[str(c) for c in X.columns])
                return read_series(frame, **kw)
            if isinstance(y, (np.ndarray, list)) and np.ndim(y) == 1:
                Xa = np.asarray(X)
                Xa = Xa[:, None] if Xa.ndim == 1 else Xa
                if Xa.ndim != 2 or len(Xa) != len(y):
                    raise DataError(f"X must have shape ({len(y)}, n_covariates) like y, got {Xa.shape}")
                frame = pd.DataFrame({"y": np.asarray(y), **{f"x{i}": Xa[:, i] for i in range(Xa.shape[1])}})
                return read_series(frame, time_col=None, target="y", nan_policy=self.nan_policy)
            raise DataError("X is supported with a Series or 1-D array y; for long DataFrames put covariates in columns")
        if isinstance(y, pd.DataFrame) and self.target_col is None and self.id_col is None and y.shape[1] == 1:
            kw["target"] = str(y.columns[0])
        return read_series(y, **kw)

    def _column_order(self, data: SeriesSet) -> tuple[list[int], int]:
        """Column permutation (past covariates first, known-future last) and n_future."""
        names = data.covariate_names
        past = list(self.past_covariates or [])
        unknown = [c for c in past if c not in names]
        if unknown:
            raise DataError(
                "past_covariates: " + "; ".join(f"{c!r} is not a covariate{suggest(c, names)}" for c in unknown)
                + f"; covariates are {names}"
            )
        order = [names.index(c) for c in past] + [i for i, c in enumerate(names) if c not in past]
        return order, len(names) - len(past)

    def _transform(self, sid: str, v: np.ndarray) -> np.ndarray:
        if self.transform is None:
            return v
        if self.transform == "log":
            if np.any(v <= 0):
                i = int(np.flatnonzero(v <= 0)[0])
                raise DataError(f"transform='log' needs positive values; series {sid!r} has {v[i]!r} at position {i}")
            return np.log(v)
        if np.any(v <= -1):
            i = int(np.flatnonzero(v <= -1)[0])
            raise DataError(f"transform='log1p' needs values > -1; series {sid!r} has {v[i]!r} at position {i}")
        return np.log1p(v)

    def _untransform(self, v: np.ndarray) -> np.ndarray:
        if self.transform == "log":
            return np.exp(v)
        if self.transform == "log1p":
            return np.expm1(v)
        return v

    def _matrix(self, s: TimeSeries, order: list[int]) -> np.ndarray:
        """(T, C) raw matrix: transformed target, then covariates in model order."""
        return np.concatenate([self._transform(s.id, s.target)[:, None], s.covariates[:, order]], axis=1)

    # --- fit ------------------------------------------------------------------------------
    def fit(self, y: Any, X: Any = None) -> "LSTMForecaster":
        """Fit on ``y`` (Series with DatetimeIndex, long DataFrame with ``id_col``, or array).

        ``X``: covariates aligned with ``y`` (a DataFrame for a Series ``y``; for long
        DataFrames the extra columns are the covariates).
        """
        self._check_params()
        data = self._read(y, X)
        H, L, V = int(self.horizon), self._lookback(), self._val_size()
        check_min_length(data, L + H + V, why=f"lookback {L} + horizon {H}" + (f" + val_size {V}" if V else ""))
        order, n_future = self._column_order(data)
        mats, scalers, ranges, vranges = [], {}, [], []
        for s in data:
            m = self._matrix(s, order)
            n = len(m)
            sc = make_scaler(self.scaler).fit(m[: n - V])  # training part only
            scalers[s.id] = sc.to_dict()
            mats.append(sc.transform(m))
            ranges.append((L + H, n - V))
            vranges.append((n - V + H, n))
        train = WindowDataset(mats, L, H, n_future=n_future, ranges=ranges)
        val = WindowDataset(mats, L, H, n_future=n_future, ranges=vranges) if V else None
        core_config = ForecasterCoreConfig(
            n_features=1 + len(order), n_future=n_future, lookback=L, horizon=H,
            hidden_size=int(self.hidden_size), num_layers=int(self.num_layers), dropout=float(self.dropout),
            decoder=self.decoder, likelihood=self.likelihood, quantiles=list(self.quantiles),
            use_instance_norm=bool(self.use_instance_norm), head_hidden_size=int(self.head_hidden_size),
        )
        models, histories = [], []
        for k in range(int(self.n_models)):
            seed = int(self.random_state) + k
            cfg = self.trainer if self.trainer is not None else _default_trainer_config(seed)
            cfg = dataclasses.replace(cfg, seed=seed) if hasattr(cfg, "seed") else cfg
            torch.manual_seed(seed)
            core = ForecasterCore(core_config)
            data_in = train
            if len(train) > _LIST_SAMPLER_LIMIT:  # torch's samplers would hold a Python list of every index
                data_in = WindowBatchSampler(len(train), cfg.batch_size, seed=seed).loader(train)
            histories.append(_train(core, data_in, val, cfg))
            core.eval()
            models.append(core)
        self.models_ = models
        self.history_ = histories[0] if len(histories) == 1 else histories
        self.core_config_ = core_config
        self.scalers_ = scalers
        self.column_order_ = [data.covariate_names[i] for i in order]
        self.n_future_ = n_future
        self.target_name_ = data.target_name
        self.covariate_names_ = data.covariate_names
        self.freq_ = data.freq
        self.series_ids_ = data.ids
        self.time_name_ = data.time_name
        self.id_name_ = data.id_name
        self.single_ = len(data) == 1 and data.id_name is None
        self.index_kind_ = "datetime" if isinstance(data.series[0].index, pd.DatetimeIndex) else "int"
        self.context_ = {s.id: self._context(s, L) for s in data}
        self.n_train_windows_ = len(train)
        return self

    def _context(self, s: TimeSeries, L: int) -> dict[str, Any]:
        """The last ``lookback`` raw points of a series (JSON-able, exact floats)."""
        idx = s.index[-L:]
        return {
            "index": [str(t) for t in idx] if isinstance(idx, pd.DatetimeIndex) else [int(t) for t in idx],
            "target": s.target[-L:].tolist(),
            "covariates": s.covariates[-L:].tolist(),
        }

    # --- predict ----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError("LSTMForecaster is not fitted; call fit(y) first")

    def predict(self, horizon: int | None = None, X_future: Any = None, y: Any = None, X: Any = None) -> pd.DataFrame:
        """Forecast ``horizon`` steps (default: the fitted horizon) after each series' end.

        ``y`` (and ``X``): forecast from this history instead of the training series (same
        columns; series seen in training keep their scalers, new ones are scaled on their
        own history). ``X_future``: the known-future covariates over the forecast steps.
        Returns a DataFrame indexed by future timestamps (a (id, time) MultiIndex for many
        series) with columns ``mean`` and ``q<level>`` per quantile.
        """
        self._check_fitted()
        h = int(self.horizon) if horizon is None else horizon
        if not isinstance(h, (int, np.integer)) or isinstance(h, bool) or h < 1:
            raise ConfigError(f"horizon must be a positive int, got {horizon!r}")
        L, H = self.core_config_.lookback, self.core_config_.horizon
        n_past = len(self.column_order_) - self.n_future_
        if h > H and n_past:
            raise ConfigError(
                f"horizon {h} exceeds the fitted horizon {H} and the model has past-only covariates "
                f"{self.column_order_[:n_past]}, which cannot be extended; refit with horizon={h}"
            )
        contexts = self._contexts(y, X, L)
        order = [self.covariate_names_.index(c) for c in self.column_order_]
        fut = self._future_covariates(X_future, contexts, h, order)
        qcols = [f"q{q:g}" for q in self.core_config_.quantiles]
        frames = []
        for sid, (index, target, cov, sc_dict) in contexts.items():
            sc = scaler_from_dict(sc_dict)
            m = np.concatenate([self._transform(sid, target)[:, None], cov[:, order]], axis=1)
            z = sc.transform(m)  # (L, C)
            mean, quant = self._roll(z, fut.get(sid), h, sc, n_past)
            findex = future_index(index, self.freq_, h)
            df = pd.DataFrame({"mean": mean, **{c: quant[:, j] for j, c in enumerate(qcols)}}, index=findex)
            df.index.name = self.time_name_ or "time"
            frames.append((sid, df))
        if self.single_ and len(frames) == 1 and y is None or (y is not None and self._single_input(y)):
            return frames[0][1]
        out = pd.concat({sid: df for sid, df in frames}, names=[self.id_name_ or "id", frames[0][1].index.name])
        return out

    def _single_input(self, y: Any) -> bool:
        return isinstance(y, pd.Series) or (isinstance(y, np.ndarray) and y.ndim == 1) or (
            isinstance(y, pd.DataFrame) and self.id_col is None)

    def _contexts(self, y: Any, X: Any, L: int) -> dict[str, tuple[pd.Index, np.ndarray, np.ndarray, dict]]:
        if y is None:
            out = {}
            for sid, c in self.context_.items():
                idx = (pd.DatetimeIndex(pd.to_datetime(c["index"]), freq=self.freq_) if self.index_kind_ == "datetime"
                       else pd.Index(c["index"], dtype="int64"))
                cov = np.asarray(c["covariates"], dtype=np.float64).reshape(len(c["target"]), len(self.covariate_names_))
                out[sid] = (idx, np.asarray(c["target"], dtype=np.float64), cov, self.scalers_[sid])
            return out
        data = self._read(y, X)
        if data.covariate_names != self.covariate_names_:
            raise DataError(f"covariates {data.covariate_names} differ from those seen in fit {self.covariate_names_}")
        check_min_length(data, L, why=f"lookback {L}")
        order = [self.covariate_names_.index(c) for c in self.column_order_]
        out = {}
        for s in data:
            if self.single_ and len(data) == 1:  # one series in, one out: keep its fitted scaler
                sc = self.scalers_[self.series_ids_[0]]
            elif s.id in self.scalers_:
                sc = self.scalers_[s.id]
            else:  # a series not seen in fit: scale it on its own history
                sc = make_scaler(self.scaler).fit(self._matrix(s, order)).to_dict()
            out[s.id] = (s.index[-L:], s.target[-L:], s.covariates[-L:], sc)
        return out

    def _future_covariates(self, X_future: Any, contexts: dict, h: int, order: list[int]) -> dict[str, np.ndarray]:
        nf = self.n_future_
        if nf == 0:
            return {}
        future_names = self.column_order_[len(self.column_order_) - nf:]
        if X_future is None:
            raise DataError(f"X_future is required: the model uses known-future covariates {future_names}")
        if not isinstance(X_future, pd.DataFrame):
            raise DataError(f"X_future must be a DataFrame with columns {future_names}, got {type(X_future).__name__}")
        missing = [c for c in future_names if c not in X_future.columns]
        if missing:
            raise DataError(f"X_future lacks covariate column(s) {missing}; columns are {list(X_future.columns)}")
        out = {}
        for sid, (index, _, _, _) in contexts.items():
            fi = future_index(index, self.freq_, h)
            if self.id_name_ is not None and self.id_name_ in X_future.columns:
                part = X_future[X_future[self.id_name_].astype(str) == sid]
                tcol = self.time_name_
                part = part.set_index(pd.to_datetime(part[tcol]) if self.index_kind_ == "datetime" else part[tcol])
            else:
                part = X_future
            try:
                vals = part.loc[fi, future_names].to_numpy(dtype=np.float64)
            except KeyError:
                raise DataError(
                    f"X_future must cover the {h} steps {fi[0]} .. {fi[-1]} of series {sid!r} (index by those timestamps)"
                ) from None
            if not np.all(np.isfinite(vals)):
                raise DataError(f"X_future has NaN/inf for series {sid!r}")
            out[sid] = vals
        return out

    def _roll(self, z: np.ndarray, fut: np.ndarray | None, h: int, sc: Any, n_past: int) -> tuple[np.ndarray, np.ndarray]:
        """Forecast h steps from the scaled context z (L, C); chunks of H fed back if h > H."""
        L, H, nf = self.core_config_.lookback, self.core_config_.horizon, self.n_future_
        C = z.shape[1]
        zf = None
        if nf:  # scale the future covariates with the same per-column scaler
            raw = np.concatenate([np.zeros((len(fut), 1 + n_past)), fut], axis=1)
            zf = sc.transform(raw)[:, C - nf:]
        means, quants = [], []
        ctx = z.copy()
        done = 0
        while done < h:
            past = torch.tensor(ctx[-L:], dtype=torch.float32)[None]  # (1, L, C)
            fc = None
            if nf:
                chunk = zf[done : done + H]
                if len(chunk) < H:  # pad the last chunk (outputs beyond h are dropped)
                    chunk = np.concatenate([chunk, np.repeat(chunk[-1:], H - len(chunk), axis=0)])
                fc = torch.tensor(chunk, dtype=torch.float32)[None]  # (1, H, nf)
            outs = [core.predict_batch(past, fc) for core in self.models_]
            mean = torch.stack([o["mean"][0] for o in outs]).mean(0).double().numpy()  # (H,)
            q = torch.stack([o["quantiles"][0] for o in outs]).mean(0).double().numpy()  # (H, Q)
            means.append(mean)
            quants.append(q)
            if done + H < h:
                step = np.zeros((H, C))
                step[:, 0] = mean
                if nf:
                    step[:, C - nf:] = zf[done : done + H] if len(zf[done: done + H]) == H else np.resize(zf[done:], (H, nf))
                ctx = np.concatenate([ctx, step])
            done += H
        mean = np.concatenate(means)[:h]
        q = np.concatenate(quants)[:h]
        c0, s0 = sc.center_[0], sc.scale_[0]
        return self._untransform(mean * s0 + c0), self._untransform(q * s0 + c0)

    # --- persistence ----------------------------------------------------------------------
    def save(self, path: Any, *, overwrite: bool = False) -> Any:
        """Write the fitted model to directory ``path`` (see :func:`lstmkit.models.base.save_model`)."""
        from lstmkit.models.base import save_model

        self._check_fitted()
        return save_model(self, path, overwrite=overwrite)

    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        self._check_fitted()
        params = self.get_params(deep=False)
        params["trainer"] = _config_to_dict(params["trainer"])
        params["quantiles"] = list(params["quantiles"])
        tensors = {f"m{k}.{name}": t for k, core in enumerate(self.models_) for name, t in core.state_dict().items()}
        state = {
            "core_config": dataclasses.asdict(self.core_config_),
            "n_models": len(self.models_),
            "scalers": self.scalers_,
            "column_order": self.column_order_,
            "n_future": self.n_future_,
            "target_name": self.target_name_,
            "covariate_names": self.covariate_names_,
            "freq": self.freq_,
            "series_ids": self.series_ids_,
            "time_name": self.time_name_,
            "id_name": self.id_name_,
            "single": self.single_,
            "index_kind": self.index_kind_,
            "context": self.context_,
            "history": self.history_,
        }
        return params, tensors, state

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "LSTMForecaster":
        config = dict(config)
        config["trainer"] = _config_from_dict(config.get("trainer"))
        config["quantiles"] = tuple(config.get("quantiles", (0.1, 0.5, 0.9)))
        est = cls(**config)
        core_config = config_from_dict(ForecasterCoreConfig, state["core_config"], where="core_config")
        models = []
        for k in range(int(state["n_models"])):
            core = ForecasterCore(core_config)
            prefix = f"m{k}."
            from lstmkit.models.base import _load_tensors

            _load_tensors(core, {n[len(prefix):]: t for n, t in tensors.items() if n.startswith(prefix)})
            core.eval()
            models.append(core)
        est.models_ = models
        est.core_config_ = core_config
        est.scalers_ = state["scalers"]
        est.column_order_ = list(state["column_order"])
        est.n_future_ = int(state["n_future"])
        est.target_name_ = state["target_name"]
        est.covariate_names_ = list(state["covariate_names"])
        est.freq_ = state["freq"]
        est.series_ids_ = list(state["series_ids"])
        est.time_name_ = state["time_name"]
        est.id_name_ = state["id_name"]
        est.single_ = bool(state["single"])
        est.index_kind_ = state["index_kind"]
        est.context_ = state["context"]
        est.history_ = state.get("history", [])
        return est
