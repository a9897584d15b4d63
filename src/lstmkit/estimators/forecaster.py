"""``LSTMForecaster``: a global LSTM forecaster over one or many series, scikit-learn style.

The network is :class:`~lstmkit.models.forecaster.ForecasterNetwork`; what is learned from
the data (column roles, transform, per-series scalers, contexts) is a
:class:`~lstmkit.data.ForecastPipeline`; training, saving and ensembles come from
:class:`~lstmkit.estimators.base.Estimator`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from lstmkit.data.forecast_pipeline import ForecastPipeline
from lstmkit.data.seasonality import detect_season_length, naive_scale, season_length_for
from lstmkit.data.timeseries import SeriesSet, check_min_length, read_series
from lstmkit.data.transforms import TRANSFORMS
from lstmkit.data.windows import WindowBatchSampler, WindowDataset
from lstmkit.errors import ConfigError, DataError
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.models.forecaster import ForecasterNetwork, ForecasterNetworkConfig
from lstmkit.persist import migration, register
from lstmkit.utils.io import atomic_write_json

__all__ = ["LSTMForecaster", "auto_settings"]

_LIST_SAMPLER_LIMIT = 1_000_000  # windows above which training batches come from WindowBatchSampler


def _is_int(v: Any, low: int) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low


def auto_settings(targets: list[np.ndarray], freq: Any, horizon: int, val_size: int, *, season_length: Any = "auto",
                  lookback: Any = "auto", transform: Any = "auto", positive: bool | None = None) -> dict[str, Any]:
    """Resolve the ``"auto"`` settings of :class:`LSTMForecaster` from the training targets only.

    Rules (H: the horizon; values other than ``"auto"`` pass through; ``lookback=None`` means
    ``"auto"``):

    - ``season_length`` m: the usual period of the frequency (monthly 12, quarterly 4, weekly 52,
      daily 7, hourly 24: :func:`~lstmkit.data.seasonality.season_length_for`); for yearly data,
      integer steps or an unknown frequency, the period detected from the series' mean
      autocorrelation (:func:`~lstmkit.data.seasonality.detect_season_length`: 10 for yearly
      sunspots), else 1.
    - ``lookback`` L: max(4H, 3m), so the encoder reads four horizons and three seasons (N-BEATS
      reads 2H to 7H, Oreshkin et al. 2020), capped at half of what the longest training part
      leaves after one horizon, (T_max - H) // 2, so that a single series still gives many
      windows. Shorter series are left-padded (see the class docstring).
    - ``transform``: the candidates ``[None, "log"]`` when every value is positive (validation
      part included: ``positive``), else ``[None]``; with several candidates and a validation split (``val_size`` > 0) fit
      tries each and keeps the one with the lower validation MASE; without a validation split,
      None.

    Args:
        targets: each series' target values before its validation part (T_i,).
        freq: the series' pandas frequency (or an integer step, or None).
        horizon: H. val_size: V, points held out at the end of each series.
        positive: whether every value of every series, validation part included, is > 0
            (default: computed from ``targets``).

    Returns:
        dict with ``season_length`` (int), ``lookback`` (int) and ``transforms`` (the candidate
        list; ``transform`` is added by fit once it is chosen).
    """
    H = int(horizon)
    if season_length == "auto":
        m = season_length_for(freq)
        season_length = m if m > 1 else detect_season_length(targets)
    m = int(season_length)
    if lookback in ("auto", None):
        longest = max((len(t) for t in targets), default=0)
        lookback = max(1, min(max(4 * H, 3 * m), (longest - H) // 2))
    if transform == "auto":
        if positive is None:
            positive = all(len(t) and float(np.min(t)) > 0 for t in targets)
        transforms = [None, "log"] if positive and val_size > 0 else [None]
    else:
        transforms = [transform]
    return {"season_length": m, "lookback": int(lookback), "transforms": transforms}


@register
class LSTMForecaster(Estimator):
    """A global LSTM forecaster over one or many series, scikit-learn style.

    Args:
        horizon: steps predicted from the end of each series.
        lookback: past steps the encoder reads; ``"auto"``: see :func:`auto_settings`. A series
            shorter than ``lookback + horizon`` (+ ``val_size``) is left-padded with its first value
            so that a global model can learn from short series too (as N-BEATS does); it needs at
            least ``horizon + 1`` points (+ ``val_size``), and no training target is a padded point.
        season_length: the seasonal period m (12 for monthly data); ``"auto"``: from the frequency,
            else detected (:func:`auto_settings`). Sets the automatic lookback and the MASE scale.
        hidden_size: LSTM units (the network: see :class:`ForecasterNetworkConfig`).
        num_layers: stacked LSTM layers.
        dropout: dropout between layers and before the head.
        head_hidden_size: width of the dense layer of the output head (0: linear head).
        decoder: ``"direct"`` (one head for the whole horizon) or ``"autoregressive"`` (a decoder LSTM).
        likelihood: ``"quantile"`` (pinball loss at ``quantiles``; the point forecast is the median,
            which minimises absolute error), ``"gaussian"`` (NLL, intervals from a normal) or
            ``"mse"`` (point only). The default was ``"gaussian"`` before format 4: quantile loss
            measured lower error on the development splits of M1 yearly, sunspots and airline
            (``benchmarks/RESULTS.md``).
        quantiles: the levels reported as ``q0.1``-style columns.
        use_instance_norm: subtract each window's last value (level-free learning, trend extrapolation).
        transform: ``None``, ``"log"`` or ``"log1p"`` applied before scaling (log needs
            positive values; multiplicative seasonality becomes additive); ``"auto"``: the one of
            None and log (for positive data) with the lower validation MASE (:func:`auto_settings`).
            With a ``trainer.run_dir``, each candidate trains in ``run_dir/transform-<kind>`` and
            ``run_dir/settings.json`` says which won.
        scaler: ``"standard"``, ``"minmax"``, ``"robust"`` or ``"none"``, fitted per series
            on the training part only.
        past_covariates: covariate columns known only in the past; every other covariate
            is known in the future too and must be given to ``predict`` as ``X_future``.
        val_size: points at the end of each series held out for early stopping and the
            ``"auto"`` transform. Default ``None``: ``horizon`` points, and a series shorter than
            ``2 * horizon + 1`` keeps all its points for training. An int is held out of every
            series (each then needs ``horizon + val_size + 1`` points); 0 trains on everything for
            the trainer's ``max_epochs``.
        n_models: ensemble size (seeds ``random_state + k``); forecasts are averaged.
        trainer: a :class:`lstmkit.train.TrainerConfig` or dict; the fields you set override
            ``trainer_defaults`` (300 epochs, batch 16, lr 3e-3, patience 30).
        time_col: time column of DataFrame input.
        target_col: target column of DataFrame input.
        id_col: series id column of a long-format DataFrame of many series.
        nan_policy: ``"error"``, ``"interpolate"`` or ``"ffill"`` for NaN/inf in the data.
        fill_missing: insert the timestamps missing from the regular frequency (given or
            inferred) as NaN, which ``nan_policy`` then fills.
        freq: pandas frequency, if it cannot be inferred.
        random_state: seed of the first ensemble member.

    What the ``"auto"`` settings became is in ``settings_`` (also saved): ``season_length``,
    ``lookback``, ``transform``, ``transforms`` (the candidates), ``validation_mase`` (per
    candidate, when there were several), ``padded_series`` (how many series were padded) and
    ``series_without_validation`` (how many kept every point for training).

    Raises:
        ConfigError: a bad argument (at fit); DataError: bad data, naming the column and row.

    Example::

        >>> f = LSTMForecaster(horizon=12).fit(y)   # y monthly: season 12, lookback 36, transform chosen
        >>> f.predict()            # DataFrame: index = next 12 months, columns mean, q0.1, q0.5, q0.9
    """

    network_class = ForecasterNetwork
    pipeline_class = ForecastPipeline
    trainer_defaults: ClassVar[dict[str, Any]] = {"max_epochs": 300, "batch_size": 16, "lr": 3e-3, "patience": 30,
                                                  "device": "cpu"}

    def __init__(
        self,
        horizon: int = 12,
        lookback: int | str | None = "auto",
        *,
        season_length: int | str = "auto",
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        head_hidden_size: int = 0,
        decoder: str = "direct",
        likelihood: str = "quantile",
        quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
        transform: str | None = "auto",
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
        fill_missing: bool = False,
        freq: str | None = None,
        random_state: int = 0,
    ) -> None:
        self.horizon = horizon
        self.lookback = lookback
        self.season_length = season_length
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
        self.fill_missing = fill_missing
        self.freq = freq
        self.random_state = random_state

    # --- parameters -------------------------------------------------------------------------
    def _val_size(self) -> int:
        return int(self.horizon) if self.val_size is None else int(self.val_size)

    def _val_sizes(self, data: SeriesSet) -> list[int]:
        """Points held out of each series: ``_val_size()``, or 0 for a series too short to spare
        them when ``val_size`` is None (the default)."""
        H, V = int(self.horizon), self._val_size()
        if self.val_size is None:
            return [V if len(s) >= H + 1 + V else 0 for s in data]
        return [V] * len(data)

    def _n_networks(self) -> int:
        return int(self.n_models)

    def _check_params(self) -> None:
        problems = [f"{n} must be a positive int, got {getattr(self, n)!r}" for n in ("horizon", "n_models")
                    if not _is_int(getattr(self, n), 1)]
        if self.lookback not in ("auto", None) and not _is_int(self.lookback, 1):
            problems.append(f"lookback must be a positive int or 'auto', got {self.lookback!r}")
        if self.season_length != "auto" and not _is_int(self.season_length, 1):
            problems.append(f"season_length must be a positive int or 'auto', got {self.season_length!r}")
        if self.transform != "auto" and self.transform not in TRANSFORMS:
            problems.append(f"transform must be 'auto' or one of {list(TRANSFORMS)}, got {self.transform!r}")
        if self.val_size is not None and not _is_int(self.val_size, 0):
            problems.append(f"val_size must be an int >= 0 or None, got {self.val_size!r}")
        elif not problems and 0 < self._val_size() < int(self.horizon):
            problems.append(f"val_size must be 0 or at least horizon ({self.horizon}) so a validation window fits, got {self.val_size}")
        if problems:
            raise ConfigError("LSTMForecaster: " + "; ".join(problems))

    # --- fit ----------------------------------------------------------------------------------
    def fit(self, y: Any, X: Any = None, *, resume: bool = False) -> "LSTMForecaster":
        """Fit on ``y`` (Series with DatetimeIndex, long DataFrame with ``id_col``, array, file or
        :class:`~lstmkit.data.SeriesSet`).

        ``X``: covariates aligned with ``y`` (a DataFrame for a Series ``y``; for long
        DataFrames the extra columns are the covariates). ``resume``: continue an interrupted
        fit from ``trainer.run_dir``.
        """
        self._check_params()
        data = self._read(y, X)
        H, V = int(self.horizon), self._val_size()
        if self.val_size is None or V == 0:
            check_min_length(data, H + 1, why=f"horizon {H} + 1 past point")
        else:
            check_min_length(data, H + 1 + V, why=f"horizon {H} + val_size {V} + 1 past point")
        held_out = self._val_sizes(data)
        settings = auto_settings([s.target[: len(s) - v] for s, v in zip(data, held_out)], data.freq, H, max(held_out),
                                 season_length=self.season_length, lookback=self.lookback, transform=self.transform,
                                 positive=all(float(np.min(s.target)) > 0 for s in data))
        candidates = settings["transforms"]
        try:
            if len(candidates) == 1:
                self._settings = {**settings, "transform": candidates[0]}
                self._fit(data, resume=resume)
            else:  # one fit per candidate transform; the lower validation MASE wins
                fits, scores = {}, {}
                for kind in candidates:
                    self._settings = {**settings, "transform": kind}
                    self._fit(data, resume=resume, run_subdir=f"transform-{kind}")
                    scores[str(kind)] = self._validation_mase()
                    fits[str(kind)] = (self.pipeline_, self.networks_, self.history_, self._settings)
                best = min(scores, key=lambda k: (not np.isfinite(scores[k]), scores[k]))
                self.pipeline_, self.networks_, self.history_, self._settings = fits[best]
                self._settings["validation_mase"] = scores
                run_dir = self.trainer_config().run_dir
                if run_dir is not None:  # each candidate's run is in run_dir/transform-<kind>: say which won
                    atomic_write_json(Path(run_dir) / "settings.json", _jsonable_settings(self._settings))
            self.settings_ = self._settings
        finally:  # the fit's scratch state, whether it finished or not
            for name in ("_settings", "_val_windows", "_train_scales"):
                self.__dict__.pop(name, None)
        return self

    def _validation_mase(self) -> float:
        """Mean over the validation windows of MAE / the series' in-sample naive error (MASE with
        the seasonal naive scale), in the series' own units."""
        val, pipe = self._val_windows
        if val is None:
            return float("nan")
        ids = list(pipe.scalers)
        errors = []
        for start in range(0, len(val), 256):
            batch = val.__getitems__(list(range(start, min(start + 256, len(val)))))
            with torch.no_grad():
                pred = torch.stack([net.predict_batch(batch["past"], batch["future_cov"])["mean"]
                                    for net in self.networks_]).mean(0).double().numpy()  # (B, H)
            for i, k in enumerate(batch["series"].tolist()):
                sid = ids[k]
                sc = pipe.scalers[sid]
                f = pipe.inverse_target(pred[i], sc)
                a = pipe.inverse_target(batch["y"][i].double().numpy(), sc)
                scale = self._train_scales.get(sid, np.nan)
                if np.isfinite(scale) and scale > 0:
                    errors.append(float(np.mean(np.abs(a - f)) / scale))
        return float(np.mean(errors)) if errors else float("nan")

    def _read(self, y: Any, X: Any = None) -> Any:
        return read_series(y, X, time_col=self.time_col, target=self.target_col, id_col=self.id_col,
                           nan_policy=self.nan_policy, freq=self.freq, fill_missing=self.fill_missing)

    def _prepare(self, data: SeriesSet) -> Prepared:
        """Fit the pipeline with the resolved settings (``self._settings``, set by :meth:`fit`)."""
        st = self._settings
        H, L = int(self.horizon), st["lookback"]
        held_out = self._val_sizes(data)
        pipe, mats = ForecastPipeline.fit(data, lookback=L, transform=st["transform"], scaler=self.scaler,
                                          past_covariates=self.past_covariates, val_size=held_out)
        pads = [max(0, L + H + v - len(m)) for m, v in zip(mats, held_out)]  # left-pad short series with their first row
        mats = [np.concatenate([np.repeat(m[:1], p, axis=0), m]) if p else m for m, p in zip(mats, pads)]
        st["padded_series"] = int(sum(p > 0 for p in pads))
        st["series_without_validation"] = int(sum(v == 0 for v in held_out))
        # a training window's targets are real points: its end e satisfies e - H >= pad + 1
        train = WindowDataset(mats, L, H, n_future=pipe.n_future,
                              ranges=[(max(L + H, p + H + 1), len(m) - v) for m, p, v in zip(mats, pads, held_out)])
        val = None
        if max(held_out):  # a series without a validation part gives the empty range (len + 1, len)
            val = WindowDataset(mats, L, H, n_future=pipe.n_future,
                                ranges=[(len(m) - v + H, len(m)) if v else (len(m) + 1, len(m)) for m, v in zip(mats, held_out)])
        self._val_windows = (val, pipe)
        self._train_scales = {s.id: naive_scale(s.target[: len(s) - v], st["season_length"]) for s, v in zip(data, held_out)}
        config = ForecasterNetworkConfig(
            n_features=1 + len(pipe.column_order), n_future=pipe.n_future, lookback=L, horizon=H,
            hidden_size=self.hidden_size, num_layers=self.num_layers, dropout=self.dropout, decoder=self.decoder,
            likelihood=self.likelihood, quantiles=list(self.quantiles), use_instance_norm=bool(self.use_instance_norm),
            head_hidden_size=self.head_hidden_size,
        )

        def training_data(cfg: Any) -> Any:  # torch's samplers would hold a Python list of every index
            if len(train) > _LIST_SAMPLER_LIMIT:
                return WindowBatchSampler(len(train), cfg.batch_size, seed=cfg.seed).loader(train)
            return train

        return Prepared(pipe, config, training_data, val)

    def _baselines(self, prepared: Prepared) -> Any:
        """Naive (the last observed value) and the lookback window's mean, on the same windows."""

        def run(batch: dict[str, torch.Tensor]) -> list[tuple[str, dict[str, float]]]:
            past, y = batch["past"][..., 0], batch["y"]  # (B, L), (B, H): the target column, scaled
            return [("naive (last observed value)", {"mae": float((y - past[:, -1:]).abs().mean())}),
                    ("mean of the lookback window", {"mae": float((y - past.mean(1, keepdim=True)).abs().mean())})]

        return run

    def _record_notes(self) -> dict[str, Any]:
        return {"units": f"errors in the model's scaled space (transform={self._settings['transform']!r}, scaler={self.scaler!r}), "
                         f"over every {int(self.horizon)}-step window of the split"}

    # --- predict ------------------------------------------------------------------------------
    def predict(self, horizon: int | None = None, X_future: Any = None, y: Any = None, X: Any = None) -> pd.DataFrame:
        """Forecast ``horizon`` steps (default: the fitted horizon) after each series' end.

        ``y`` (and ``X``): forecast from this history instead of the training series (same
        columns; series seen in training keep their scalers, new ones are scaled on their
        own history). ``X_future``: the known-future covariates over the forecast steps.
        Returns a DataFrame indexed by future timestamps (a (id, time) MultiIndex for many
        series) with columns ``mean`` and ``q<level>`` per quantile.
        """
        self._check_fitted()
        pipe = self.pipeline_
        h = int(self.horizon) if horizon is None else horizon
        if not _is_int(h, 1):
            raise ConfigError(f"horizon must be a positive int, got {horizon!r}")
        H = self.networks_[0].config.horizon
        if h > H and pipe.n_past:
            raise ConfigError(
                f"horizon {h} exceeds the fitted horizon {H} and the model has past-only covariates "
                f"{pipe.column_order[:pipe.n_past]}, which cannot be extended; refit with horizon={h}"
            )
        if h > H:
            warnings.warn(
                f"horizon {h} exceeds the trained horizon {H}: steps {H + 1}..{h} are forecast from the model's own "
                f"forecasts fed back as inputs, and their intervals do not account for that extra error; refit with "
                f"horizon={h} for calibrated intervals", UserWarning, stacklevel=2)
        single_fit = pipe.id_name is None and len(pipe.contexts) == 1
        contexts = pipe.contexts_for(None if y is None else self._read(y, X), keep_single_scaler=single_fit)
        future = pipe.future_covariates(X_future, contexts, h)
        qcols = [f"q{q:g}" for q in self.networks_[0].config.quantiles]
        frames = {}
        for sid, (ctx, sc) in contexts.items():
            z = sc.transform(pipe.matrix(ctx))  # (L, C)
            zf = pipe.scale_future(future[sid], sc) if pipe.n_future else None
            mean, quant = self._roll(z, zf, h)
            mean, quant = pipe.inverse_target(mean, sc), pipe.inverse_target(quant, sc)
            df = pd.DataFrame({"mean": mean, **{c: quant[:, j] for j, c in enumerate(qcols)}},
                              index=pipe.future_index(ctx, h))
            df.index.name = pipe.time_name or "time"
            frames[sid] = df
        one_in = self._single_input(y) if y is not None else single_fit
        if one_in and len(frames) == 1:
            return next(iter(frames.values()))
        return pd.concat(frames, names=[pipe.id_name or "id", next(iter(frames.values())).index.name])

    def score(self, y: Any, X: Any = None) -> float:
        """Negative mean absolute error of the forecast of ``y``, the points that follow the end
        of the (single) training series (scikit-learn's "greater is better"), so that
        ``GridSearchCV(est, ..., cv=TimeSeriesSplit(k))`` works on one series.

        Raises DataError when the model was fitted on several series (score each with
        :func:`lstmkit.evaluation.backtest` instead).
        """
        self._check_fitted()
        pipe = self.pipeline_
        if pipe.id_name is not None or len(pipe.contexts) != 1:
            raise DataError("score() forecasts one series: this model was fitted on several; use lstmkit.evaluation.backtest")
        actual = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y, dtype=np.float64).reshape(-1)
        if actual.size == 0:
            raise DataError("y is empty: give the points that follow the training series")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a test fold longer than the horizon is forecast recursively
            pred = self.predict(horizon=len(actual), X_future=X)["mean"].to_numpy()
        return -float(np.mean(np.abs(pred - actual)))

    def _single_input(self, y: Any) -> bool:
        return isinstance(y, pd.Series) or (isinstance(y, np.ndarray) and y.ndim == 1) or (
            isinstance(y, pd.DataFrame) and self.id_col is None) or (isinstance(y, SeriesSet) and y.id_name is None)

    def _roll(self, z: np.ndarray, zf: np.ndarray | None, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Forecast h steps (scaled) from the scaled context z (L, C); chunks of H fed back if h > H.

        ``zf`` (h, n_future): scaled known-future covariates. Returns mean (h,) and quantiles (h, Q).
        """
        cfg = self.networks_[0].config
        L, H, nf = cfg.lookback, cfg.horizon, cfg.n_future
        C = z.shape[1]
        means, quants = [], []
        if len(z) < L:  # a series shorter than the lookback: left-padded with its first row, as in fit
            z = np.concatenate([np.repeat(z[:1], L - len(z), axis=0), z])
        ctx = z
        for done in range(0, h, H):
            past = torch.tensor(ctx[-L:], dtype=torch.float32)[None]  # (1, L, C)
            fc = None
            if nf:
                chunk = zf[done : done + H]
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], H - len(chunk), axis=0)])  # (H, nf): pad the last chunk
                fc = torch.tensor(chunk, dtype=torch.float32)[None]  # (1, H, nf)
            outs = [net.predict_batch(past, fc) for net in self.networks_]
            mean = torch.stack([o["mean"][0] for o in outs]).mean(0).double().numpy()  # (H,)
            means.append(mean)
            quants.append(torch.stack([o["quantiles"][0] for o in outs]).mean(0).double().numpy())  # (H, Q)
            if done + H < h:
                step = np.zeros((H, C))  # (H, C): the forecast fed back as the next context
                step[:, 0] = mean
                if nf:
                    step[:, C - nf:] = chunk
                ctx = np.concatenate([ctx, step])
        return np.concatenate(means)[:h], np.concatenate(quants)[:h]

    # --- persistence --------------------------------------------------------------------------
    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        config, tensors, state = super()._saved_state()
        return config, tensors, {**state, "settings": _jsonable_settings(getattr(self, "settings_", None))}

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "LSTMForecaster":
        est = super()._from_saved(config, tensors, state)
        if state.get("settings") is not None:  # files before format 4 have none
            est.settings_ = state["settings"]
        return est

    @classmethod
    def _params_from_json(cls, params: dict[str, Any]) -> dict[str, Any]:
        params = super()._params_from_json(params)
        if "quantiles" in params:  # a missing key is reported by load_model with the others
            params["quantiles"] = tuple(params["quantiles"])
        return params


def _jsonable_settings(settings: dict[str, Any] | None) -> dict[str, Any] | None:
    """settings_ with NaN validation scores as None (strict JSON)."""
    if settings is None:
        return None
    out = dict(settings)
    if "validation_mase" in out:
        out["validation_mase"] = {k: (v if np.isfinite(v) else None) for k, v in out["validation_mase"].items()}
    return out


@migration(3, "LSTMForecaster")
def _from_v3(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """Format 3 had no ``season_length`` and read ``lookback=None`` as max(3 * horizon, 24); the
    lookback the network was built with is written in, so a refit builds the same model."""
    config = dict(meta["config"])
    params = {**config["params"], "season_length": "auto"}  # likelihood was saved: kept
    if params.get("lookback") is None:
        params["lookback"] = int(config["network"]["lookback"])
    return {**meta, "config": {**config, "params": params}}, tensors


@migration(1, "LSTMForecaster")
def _from_v1(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """0.1.0 saved the parameters flat, the learned state as loose fields, tensors as ``m<k>.``."""
    params, state = dict(meta["config"]), meta["state"]  # a TrainerConfig was already saved with "__class__"
    params.setdefault("fill_missing", False)  # added in 0.2.0; 0.1.0 never filled gaps
    kind = state["index_kind"]
    pipeline = {
        "lookback": state["core_config"]["lookback"], "transform": params.get("transform"),
        "scaler": params.get("scaler", "standard"), "scalers": state["scalers"],
        **{k: state[k] for k in ("target_name", "covariate_names", "column_order", "n_future", "freq", "time_name", "id_name")},
        "contexts": {sid: {**c, "index_kind": kind} for sid, c in state["context"].items()},
    }
    n = int(state["n_models"])
    renamed = {f"networks.{k[1:]}": t for k, t in tensors.items()}  # "m0.encoder..." -> "networks.0.encoder..."
    return ({**meta, "config": {"params": params, "network": state["core_config"]},
             "state": {"pipeline": pipeline, "history": state.get("history", []), "n_networks": n}}, renamed)
