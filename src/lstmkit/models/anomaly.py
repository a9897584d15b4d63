"""The anomaly-detection networks (a :class:`~lstmkit.models.base.TaskModel`) and the pure
functions that turn their errors into anomaly scores, labels and ranges.

Two scorers, one network class (``config.scorer``):

- ``"prediction"`` (Malhotra et al. 2015, "Long Short Term Memory Networks for Anomaly Detection
  in Time Series"; Hundman et al. KDD 2018, "telemanom")::

      x (B, T, F) --LSTM stack--> (B, T, H) --linear--> x_hat (B, T, L, F),  x_hat[:, t, k] predicts x[:, t + 1 + k]

  L is ``config.horizon``, Malhotra's l: every step predicts the next L points, so point t
  has L errors, ``x_t - x_hat_{t-1-k, k}`` for k = 0..L-1, made from contexts that end 1..L
  points before it (L = 1: the next-step error alone). The state is carried over the whole
  series (training is truncated BPTT over the series), so scoring one point at a time
  (:meth:`AnomalyNetwork.step`) gives the same numbers as scoring the whole series at once.

- ``"reconstruction"`` (Malhotra et al. 2016, "LSTM-based Encoder-Decoder for Multi-sensor
  Anomaly Detection", EncDec-AD)::

      window (B, W, F) --encoder LSTM--> (h, c) --decoder LSTM, in reverse--> x_hat (B, W, F)

  The decoder starts from the encoder's final state, outputs ``x_hat_W`` from it, and each
  further step takes ``x_i`` (training: teacher forcing, as in the paper) or its own ``x_hat_i``
  (scoring, as in the paper) to output ``x_hat_{i-1}``.

The estimator around them is :class:`lstmkit.estimators.LSTMAnomalyDetector`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from lstmkit.data.anomaly import flag_runs
from lstmkit.errors import ConfigError, suggest
from lstmkit.models.base import TaskModel
from lstmkit.nn import LSTM
from lstmkit.persist import register

__all__ = ["LIKELIHOODS", "SCORERS", "AnomalyNetwork", "AnomalyNetworkConfig", "dynamic_threshold", "ewma", "pruned_count", "ranges_of"]

SCORERS = ("prediction", "reconstruction")
LIKELIHOODS = ("mse", "gaussian")
State = list  # one (h, c) per layer, each (1, B, H)


@dataclass
class AnomalyNetworkConfig:
    n_features: int = 1  # channels per step (F)
    scorer: str = "prediction"  # "prediction": next-step errors, streaming O(1) per point; "reconstruction": window errors
    hidden_size: int = 64  # LSTM width: capacity vs fitting noise on short normal data
    num_layers: int = 2  # stacked layers (telemanom uses 2 x 80)
    dropout: float = 0.2  # locked dropout between layers and before the output; regularises short training data
    window: int = 64  # reconstruction: steps per encoded window (longer sees more context, delays the score)
    likelihood: str = "mse"  # prediction: "gaussian" also predicts each step's scale (errors in its units); "mse": mean only
    horizon: int = 1  # prediction: points predicted ahead from each step (Malhotra 2015's l); each point gets that many errors

    def __post_init__(self) -> None:
        problems = []
        for name in ("n_features", "hidden_size", "num_layers", "window", "horizon"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                problems.append(f"{name} must be a positive int, got {v!r}")
        if self.scorer not in SCORERS:
            problems.append(f"scorer must be one of {list(SCORERS)}, got {self.scorer!r}{suggest(str(self.scorer), SCORERS)}")
        if not (isinstance(self.dropout, (int, float)) and not isinstance(self.dropout, bool) and 0.0 <= self.dropout < 1.0):
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.likelihood not in LIKELIHOODS:
            problems.append(f"likelihood must be one of {list(LIKELIHOODS)}, got {self.likelihood!r}"
                            f"{suggest(str(self.likelihood), LIKELIHOODS)}")
        if problems:
            raise ConfigError("AnomalyNetworkConfig: " + "; ".join(problems))


@register
class AnomalyNetwork(TaskModel):
    """Next-step predictor or window encoder-decoder over (B, T, F) series (see the module docstring)."""

    config_class = AnomalyNetworkConfig

    def __init__(self, config: AnomalyNetworkConfig) -> None:
        super().__init__(config)
        c = config
        F, H = c.n_features, c.hidden_size
        self.encoder = nn.ModuleList(LSTM(F if k == 0 else H, H, batch_first=True) for k in range(c.num_layers))
        if c.scorer == "reconstruction":
            self.decoder = nn.ModuleList(LSTM(F if k == 0 else H, H, batch_first=True) for k in range(c.num_layers))
        L = c.horizon if c.scorer == "prediction" else 1
        self.head = nn.Linear(H, F * L)
        if c.scorer == "prediction" and c.likelihood == "gaussian":
            self.scale_head = nn.Linear(H, F * L)

    # --- the stack ---------------------------------------------------------------------------
    def _run(self, layers: nn.ModuleList, x: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """x (B, T, F) through ``layers`` from ``state`` (None: zeros); (B, T, H) and the new state."""
        p = self.config.dropout if self.training else 0.0
        new_state = []
        out = x
        for k, layer in enumerate(layers):
            if k > 0 and p:
                out = out * _locked_mask(out, p)  # (B, T, H): one mask per sequence, all steps
            out, s = layer(out, None if state is None else state[k])
            new_state.append(s)
        if p:
            out = out * _locked_mask(out, p)
        return out, new_state

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State | None]:
        """Prediction: (x_hat (B, T, L, F), state), x_hat[:, t, k] predicting x[:, t + 1 + k].
        Reconstruction: (x_hat (B, W, F) of the windows x (B, W, F), None)."""
        if self.config.scorer == "prediction":
            mu, _, state = self.predict_ahead(x, state)
            return mu, state
        return self.reconstruct(x), None

    def predict_ahead(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Prediction scorer: x (B, T, F) -> (mean (B, T, L, F), scale (B, T, L, F), state);
        ``[:, t, k]`` is about x[:, t + 1 + k] (L = ``config.horizon``).

        The scale is ``softplus(linear(h)) + 1e-3`` with ``likelihood="gaussian"``, else ones."""
        out, state = self._run(self.encoder, x, state)  # (B, T, H)
        B, T, F = x.shape[0], x.shape[1], self.config.n_features
        mu = self.head(out).reshape(B, T, self.config.horizon, F)
        if self.config.likelihood == "gaussian":
            sigma = nn.functional.softplus(self.scale_head(out)).reshape(B, T, self.config.horizon, F) + 1e-3
            return mu, sigma, state
        return mu, torch.ones_like(mu), state

    @torch.no_grad()
    def step(self, x_t: torch.Tensor, state: State | None) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Prediction scorer, one step: x_t (B, F) -> (mean, scale of x_{t+1..t+L}, each (B, L, F), state)."""
        mu, sigma, state = self.predict_ahead(x_t[:, None, :], state)  # (B, 1, L, F)
        return mu[:, 0], sigma[:, 0], state

    def reconstruct(self, x: torch.Tensor, teacher_forcing: bool | None = None) -> torch.Tensor:
        """Reconstruction scorer: windows x (B, W, F) -> x_hat (B, W, F) in the original order.

        ``teacher_forcing`` (default: while training) feeds the true ``x_i`` to the decoder,
        else its own reconstruction (Malhotra et al. 2016, section 2.1)."""
        teacher = self.training if teacher_forcing is None else teacher_forcing
        _, state = self._run(self.encoder, x, None)
        W = x.shape[1]
        h_last = state[-1][0][-1]  # (B, H): the top layer's final hidden state
        first = self.head(h_last)  # (B, F): x_hat_W
        if W == 1:
            return first[:, None]
        if teacher:
            rev = x.flip(1)[:, :-1]  # (B, W-1, F): x_W .. x_2
            out, _ = self._run(self.decoder, rev, state)
            rest = self.head(out)  # (B, W-1, F): x_hat_{W-1} .. x_hat_1
            return torch.cat([first[:, None], rest], 1).flip(1)  # (B, W, F)
        outs = [first]
        prev = first
        for _ in range(W - 1):
            out, state = self._run(self.decoder, prev[:, None], state)  # (B, 1, H)
            prev = self.head(out[:, 0])  # (B, F)
            outs.append(prev)
        return torch.stack(outs, 1).flip(1)  # (B, W, F)

    # --- training ----------------------------------------------------------------------------
    def stream_loss(self, chunk: Any, state: State | None) -> tuple[torch.Tensor, State]:
        """Prediction scorer, one TBPTT chunk with targets chunk.y (B, K, L * F) (x[t + 1 .. t + L]):
        the mean loss over real steps, horizons and columns, squared error (``"mse"``) or
        Gaussian negative log-likelihood without its constant (``"gaussian"``)."""
        mu, sigma, state = self.predict_ahead(chunk.x, state)  # (B, K, L, F) each
        y = chunk.y.reshape(mu.shape)
        m = chunk.mask[..., None, None].to(mu.dtype)  # (B, K, 1, 1)
        if self.config.likelihood == "gaussian":
            per = torch.log(sigma) + 0.5 * ((y - mu) / sigma) ** 2
        else:
            per = (mu - y) ** 2
        return (per * m).sum() / (m.sum() * mu.shape[-2] * mu.shape[-1]).clamp(min=1), state

    def loss(self, batch: Any) -> torch.Tensor:
        """Reconstruction scorer: mean squared reconstruction error of windows batch["x"] (B, W, F)."""
        if not isinstance(batch, dict):
            return self.stream_loss(batch, None)[0]
        x = batch["x"]
        return ((self.reconstruct(x) - x) ** 2).mean()


def _locked_mask(x: torch.Tensor, p: float) -> torch.Tensor:
    """Dropout mask (B, 1, H), scaled by 1/(1-p), shared over time (Gal & Ghahramani 2016)."""
    return x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p) / (1 - p)


# --- scores -> labels -> ranges (numpy) ----------------------------------------------------------
def ewma(x: np.ndarray, span: int) -> np.ndarray:
    """Exponentially weighted moving average (pandas ``ewm(span, adjust=False)``) of x (T,):
    ``s_t = a x_t + (1 - a) s_{t-1}``, ``a = 2 / (span + 1)``, ``s_0 = x_0``; span 1 returns x.
    The streaming update is the same recursion, so both agree exactly."""
    x = np.asarray(x, dtype=np.float64)
    if span <= 1 or len(x) == 0:
        return x.copy()
    return pd.Series(x).ewm(span=span, adjust=False).mean().to_numpy()


def ranges_of(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) of each run of True in flags (T,) (:func:`lstmkit.data.anomaly.flag_runs`)."""
    starts, ends = flag_runs(flags)
    return list(zip(starts.tolist(), ends.tolist()))


def dynamic_threshold(e_s: np.ndarray, *, z_range: tuple[float, float, float] = (2.5, 12.0, 0.5),
                      min_decrease: float = 0.13, error_buffer: int = 10) -> tuple[float, np.ndarray]:
    """Nonparametric dynamic threshold with pruning (Hundman et al. KDD 2018, section 3.2) on the
    smoothed errors ``e_s`` (W,) of one window.

    For each z in ``z_range`` (start, stop, step), ``eps = mean(e_s) + z std(e_s)`` is scored by
    ``(dmean / mean + dstd / std) / (|E_seq|^2 + |e_a|)``, where dmean and dstd are the drops of
    the mean and std when the points above eps are removed, e_a the points above eps (each
    widened by ``error_buffer`` points on both sides) and E_seq their contiguous runs; the best
    eps with at most 5 runs and fewer than half of the points wins (telemanom's guard rails).
    Pruning: the runs' maxima, sorted descending with the largest error below eps appended; while
    the relative drop between consecutive maxima stays below ``min_decrease`` from some point on,
    those trailing runs are returned to normal.

    When no z passes the guard rails, eps is ``mean + 12 std`` (telemanom's ``sd_lim``). Not
    implemented from telemanom: its check that errors exceed 5 % of the values' range, and the
    second pass on inverted errors (for drops below the prediction).

    Returns:
        (eps, flags (W,) bool): the threshold (inf for constant errors) and the points of the
        runs that survive pruning.
    """
    e_s = np.asarray(e_s, dtype=np.float64)
    n = len(e_s)
    flags = np.zeros(n, dtype=bool)
    if n == 0:
        return float("inf"), flags
    mean, std = float(e_s.mean()), float(e_s.std())
    if std <= 1e-12 * max(1.0, abs(mean)):
        return float("inf"), flags
    best, best_eps = -np.inf, mean + z_range[1] * std  # telemanom's fallback: mean + sd_lim std
    for z in np.arange(*z_range):
        eps = mean + z * std
        above = e_s >= eps
        if not above.any():
            continue
        pruned = e_s[~above]
        widened = _widen(above, error_buffer)
        n_seq = sum(1 for s, e in ranges_of(widened) if e > s)
        d_mean = (mean - pruned.mean()) / mean if mean else 0.0
        d_std = (std - pruned.std()) / std
        score = (d_mean + d_std) / (n_seq ** 2 + int(widened.sum()))
        if score >= best and n_seq <= 5 and widened.sum() < n * 0.5:
            best, best_eps = score, float(eps)
    widened = _widen(e_s >= best_eps, error_buffer)
    runs = ranges_of(widened)
    if not runs:
        return best_eps, flags
    maxima = np.array([e_s[s:e + 1].max() for s, e in runs])
    rest = e_s[~widened]
    order = np.argsort(-maxima, kind="stable")
    keep = pruned_count(maxima[order], rest.max() if len(rest) else 0.0, min_decrease)
    for j in order[:keep]:
        s, e = runs[j]
        flags[s:e + 1] = True
    return best_eps, flags


def pruned_count(maxima: np.ndarray, normal_max: float, min_decrease: float) -> int:
    """Telemanom's pruning (Hundman et al. 2018, section 3.2.1): of the anomalous runs, sorted by
    their maxima (descending), how many stay anomalous.

    With ``normal_max`` (the largest error left below the threshold) appended, the relative drop
    ``d_i = (m_i - m_{i+1}) / m_i`` is computed between neighbours; the trailing runs whose drops
    all stay below ``min_decrease`` return to normal, the others (up to the last big drop) stay.
    """
    chain = np.append(np.asarray(maxima, dtype=np.float64), normal_max)
    keep = len(chain) - 1
    for i in range(len(chain) - 2, -1, -1):  # from the smallest run maximum upwards
        drop = (chain[i] - chain[i + 1]) / chain[i] if chain[i] > 0 else 0.0
        if drop >= min_decrease:
            break
        keep = i
    return keep


def _widen(flags: np.ndarray, k: int) -> np.ndarray:
    """flags (W,) with each True spread ``k`` points to both sides."""
    if k <= 0 or not flags.any():
        return flags.copy()
    c = np.concatenate([[0], np.cumsum(flags.astype(np.int64))])  # (W+1,)
    idx = np.arange(len(flags))
    return (c[np.minimum(idx + k + 1, len(flags))] - c[np.maximum(idx - k, 0)]) > 0
