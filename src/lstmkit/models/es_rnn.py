"""The ES-RNN hybrid (Smyl 2020, the M4 competition's winner), a :class:`~lstmkit.models.base.TaskModel`::

    z = log y (B, T)
    per series i, learned: level smoothing alpha_i, season smoothing gamma_i, initial season s_i (m,)
    Holt-Winters on z:  l_t = alpha (z_t - s_t) + (1 - alpha) l_{t-1};  s_{t+m} = gamma (z_t - l_t) + (1 - gamma) s_t
    window ending at t:  x = z[t-L+1..t] - s[t-L+1..t] - l_t     (deseasonalised, level-normalised)
                         global LSTM(x) -> head -> (H, Q) quantiles of z[t+k] - s_fc(t, k) - l_t

The smoothing coefficients and initial seasonality are parameters trained by backpropagation
together with the global LSTM, as in Smyl (2020). Simplifications against the paper: one plain
(not dilated, not residual) LSTM stack, no level-wiggliness penalty, one seasonality. The
estimator around it is :class:`lstmkit.estimators.ESRNNForecaster`.

Batches (from :class:`lstmkit.data.SeriesDataset`): ``z`` (B, T) log values padded after each
series' end, ``length`` (B,), ``series`` (B,) the series numbers, ``t_lo``/``t_hi`` (B,) the first
and last window ends (the last input point) to score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from lstmkit.errors import ConfigError
from lstmkit.models.base import TaskModel
from lstmkit.nn import LSTM
from lstmkit.persist import register

__all__ = ["ESRNNNetwork", "ESRNNNetworkConfig"]


@dataclass
class ESRNNNetworkConfig:
    n_series: int = 1  # series with their own smoothing coefficients and initial seasonality
    season_length: int = 1  # m; 1 = no seasonality (level only)
    lookback: int = 12  # L: deseasonalised points the LSTM reads per window
    horizon: int = 6  # H
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    quantiles: list[float] = field(default_factory=lambda: [0.1, 0.5, 0.9])

    def __post_init__(self) -> None:
        problems = []
        for name in ("n_series", "season_length", "lookback", "horizon", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                problems.append(f"{name} must be a positive int, got {v!r}")
        if not (isinstance(self.dropout, (int, float)) and 0.0 <= self.dropout < 1.0):
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        qs = list(self.quantiles)
        if not qs or any(not isinstance(q, (int, float)) or not 0.0 < q < 1.0 for q in qs) or sorted(set(qs)) != qs:
            problems.append(f"quantiles must be increasing distinct numbers in (0, 1), got {self.quantiles!r}")
        if problems:
            raise ConfigError("ESRNNNetworkConfig: " + "; ".join(problems))
        self.quantiles = [float(q) for q in qs]


@register
class ESRNNNetwork(TaskModel):
    """Per-series exponential smoothing (learned) feeding a global LSTM; see the module docstring."""

    config_class = ESRNNNetworkConfig

    def __init__(self, config: ESRNNNetworkConfig) -> None:
        super().__init__(config)
        c = config
        n, m = c.n_series, c.season_length
        self.alpha_logit = nn.Parameter(torch.full((n,), -1.0))  # sigmoid(-1) = 0.27
        self.gamma_logit = nn.Parameter(torch.full((n,), -2.0))  # sigmoid(-2) = 0.12
        self.init_season = nn.Parameter(torch.zeros(n, m))  # log seasonal factors of the first m points
        self.encoder = LSTM(1, c.hidden_size, num_layers=c.num_layers, batch_first=True,
                            dropout=c.dropout if c.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden_size, c.horizon * len(c.quantiles))
        self.register_buffer("_q", torch.tensor(c.quantiles, dtype=torch.float32), persistent=False)

    # --- exponential smoothing --------------------------------------------------------------
    def smooth(self, z: torch.Tensor, series: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Levels l (B, T) and seasonal terms s (B, T + m) of log values z (B, T).

        s[:, t] is the seasonal term of step t; s[:, T + j] (j < m) continue the last season, so
        s[:, t + 1 .. t + m] are known at t. Values past a series' end are computed from padding
        and never read for that series' windows.
        """
        m = self.config.season_length
        alpha = torch.sigmoid(self.alpha_logit[series]).to(z.dtype)  # (B,)
        gamma = torch.sigmoid(self.gamma_logit[series]).to(z.dtype)
        season = list(self.init_season[series].to(z.dtype).unbind(1)) if m > 1 else []  # m tensors (B,)
        zero = z.new_zeros(z.shape[0])
        levels = []
        for t in range(z.shape[1]):
            s_t = season[t] if m > 1 else zero
            if t == 0:
                level = z[:, 0] - s_t
            else:
                level = alpha * (z[:, t] - s_t) + (1 - alpha) * levels[-1]
            levels.append(level)
            if m > 1:
                season.append(gamma * (z[:, t] - level) + (1 - gamma) * s_t)
        s = torch.stack(season, dim=1) if m > 1 else z.new_zeros(z.shape[0], z.shape[1] + 1)
        return torch.stack(levels, dim=1), s

    def _windows(self, z: torch.Tensor, series: torch.Tensor, b: torch.Tensor, t: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """For windows (b, t) (W,): LSTM inputs (W, L, 1), the level-plus-season offsets of the H
        forecast steps (W, H), and the input positions clamped at the series' start."""
        c = self.config
        level, s = self.smooth(z, series)
        L, H, m = c.lookback, c.horizon, c.season_length
        pos = (t[:, None] - L + 1 + torch.arange(L, device=z.device)).clamp(min=0)  # (W, L)
        lvl = level[b, t]  # (W,)
        x = z[b[:, None], pos] - s[b[:, None], pos] - lvl[:, None]  # (W, L)
        k = torch.arange(H, device=z.device)
        fc_season = s[b[:, None], t[:, None] + 1 + k % max(m, 1)] if m > 1 else z.new_zeros(len(b), H)
        return x[..., None], lvl[:, None] + fc_season, pos

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Quantiles (W, H, Q) of the deseasonalised, level-normalised future from inputs x (W, L, 1)."""
        c = self.config
        _, (h_n, _) = self.encoder(x)
        return self.head(self.drop(h_n[-1])).reshape(x.shape[0], c.horizon, len(c.quantiles))

    @staticmethod
    def _pairs(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(b, t) of every window end t_lo[b] <= t <= t_hi[b]."""
        lo, hi = batch["t_lo"].long(), batch["t_hi"].long()
        counts = (hi - lo + 1).clamp(min=0)
        b = torch.repeat_interleave(torch.arange(len(lo), device=lo.device), counts)
        start = torch.repeat_interleave(lo, counts)
        offset = torch.arange(int(counts.sum()), device=lo.device) - torch.repeat_interleave(counts.cumsum(0) - counts, counts)
        return b, start + offset

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        z, series = batch["z"], batch["series"].long()
        b, t = self._pairs(batch)
        x, offset, _ = self._windows(z, series, b, t)
        target = z[b[:, None], t[:, None] + 1 + torch.arange(self.config.horizon, device=z.device)] - offset  # (W, H)
        diff = target[..., None] - self(x)  # (W, H, Q)
        return torch.maximum(self._q * diff, (self._q - 1) * diff).mean() * 2

    @torch.no_grad()
    def forecast(self, z: torch.Tensor, lengths: torch.Tensor, series: torch.Tensor) -> torch.Tensor:
        """Quantiles (B, H, Q) of log values after each series' last point (lengths (B,)), sorted."""
        b = torch.arange(z.shape[0], device=z.device)
        x, offset, _ = self._windows(z, series.long(), b, lengths.long() - 1)
        return torch.sort(self(x), dim=-1).values + offset[..., None]
