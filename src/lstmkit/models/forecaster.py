"""The forecasting network (a :class:`~lstmkit.models.base.TaskModel`)::

    past (B, L, C) --encoder LSTM--> (h_n, c_n)
        direct:          [h_n[-1], future_cov (B, H*Kf)] --head--> (B, H, P)
        autoregressive:  decoder LSTM from (h_n, c_n) over [y_{t-1}, future_cov_t] --head--> (B, H, P)

C = 1 + past covariates + known-future covariates (target first, known-future last);
P = 2 (Gaussian mean, scale), Q (quantiles) or 1 (MSE). With ``use_instance_norm`` the
last observed target of each window is subtracted from the target column and added back
to the output, so one network serves series at any level.

The estimator around it is :class:`lstmkit.estimators.LSTMForecaster`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
import torch
from torch import nn

from lstmkit.errors import ConfigError, suggest
from lstmkit.models.base import TaskModel
from lstmkit.nn import LSTM
from lstmkit.persist import migration, register

__all__ = ["ForecasterNetworkConfig", "ForecasterNetwork", "DECODERS", "LIKELIHOODS"]

DECODERS = ("direct", "autoregressive")
LIKELIHOODS = ("gaussian", "quantile", "mse")


@dataclass
class ForecasterNetworkConfig:
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
            raise ConfigError("ForecasterNetworkConfig: " + "; ".join(problems))
        self.quantiles = [float(q) for q in qs]


@register
class ForecasterNetwork(TaskModel):
    """Encoder LSTM over the lookback window plus a direct or autoregressive multi-step head."""

    config_class = ForecasterNetworkConfig

    def __init__(self, config: ForecasterNetworkConfig) -> None:
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
        # the standard normal's quantiles at those levels, a constant (so exported graphs need no erfinv)
        self.register_buffer("_z", torch.distributions.Normal(0.0, 1.0).icdf(self._q.double()).float(), persistent=False)

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
            z = self._z.to(params.dtype)  # (Q,)
            q = mean[..., None] + self._sigma(params)[..., None] * z  # (B, H, Q)
        elif self.config.likelihood == "quantile":  # sorted, so crossing outputs still give ordered quantiles
            q = torch.sort(params, dim=-1).values + level[:, None, None]
            mean = q[..., int(torch.argmin((self._q - 0.5).abs()))]  # the point forecast is the reported median
        else:
            q = mean[..., None].expand(*mean.shape, len(self.config.quantiles))
        return {"mean": mean, "quantiles": q}


@migration(1, "ForecasterCore")
def _from_v1(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """0.1.0 called this network ForecasterCore; its config and weights are unchanged."""
    return {**meta, "type": "ForecasterNetwork"}, tensors
