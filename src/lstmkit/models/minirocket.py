"""MiniRocket features (Dempster, Schmidt & Webb 2021, "MiniRocket: A Very Fast (Almost)
Deterministic Transform for Time Series Classification", KDD) in torch, for variable lengths.

84 fixed kernels of length 9 (weight -1, and 2 at three of the nine positions), each at a set of
dilations spaced exponentially up to (T - 1) / 8; each kernel-dilation pair's output is compared
against biases taken from quantiles of its output on one random training series, and each
feature is the proportion of positive values (PPV) over the series' valid steps (every other
kernel-dilation pair leaves out the zero-padded edges). Multivariate input: each pair sums its
convolution over a random subset of the channels, as aeon's ``MiniRocket`` does.

The fitting procedure of the reference (aeon's ``MiniRocket``; the random draws are lstmkit's
own), and given the same parameters the same features for series of one length (but for float
ties; :meth:`MiniRocketFeatures.from_aeon`); for a batch of variable lengths the features are
computed over each series' own steps, never its padding.

:func:`fit_minirocket` fits from training sequences; :class:`MiniRocketFeatures` holds the result
as buffers, so it saves as tensors (safetensors), runs on any device and exports to ONNX.
:class:`MiniRocketRidge` adds the fitted ridge read-out; :class:`MiniRocketFusion` joins it to a
classifier's networks (what ``LSTMClassifier(minirocket=True)`` predicts).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lstmkit.errors import ConfigError

__all__ = ["MiniRocketFeatures", "MiniRocketRidge", "MiniRocketFusion", "fit_minirocket", "fit_temperature",
           "KERNEL_LENGTH", "N_KERNELS"]

KERNEL_LENGTH = 9
ELEMENTS = 1 << 24  # forward: about this many step-bias comparisons at once (64 MiB of float32) where possible
TRIPLES = np.array(list(itertools.combinations(range(KERNEL_LENGTH), 3)), dtype=np.int64)  # (84, 3)
N_KERNELS = len(TRIPLES)  # 84


def _kernels() -> torch.Tensor:
    """(84, 1, 9) conv1d weights: -1 everywhere, 2 at each kernel's three positions."""
    w = -torch.ones(N_KERNELS, KERNEL_LENGTH)
    w[torch.arange(N_KERNELS)[:, None], torch.as_tensor(TRIPLES)] = 2.0
    return w[:, None, :]


def fit_dilations(length: int, n_features: int = 10_000, max_dilations: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """MiniRocket's dilations for series of ``length`` steps: (dilations (D,), features per kernel
    at each dilation (D,)), about ``n_features`` // 84 features per kernel in all."""
    per_kernel = n_features // N_KERNELS
    true_max = min(per_kernel, max_dilations)
    max_exponent = np.log2(max(length - 1, 1) / (KERNEL_LENGTH - 1))
    dilations, counts = np.unique(np.logspace(0, max(max_exponent, 0.0), true_max, base=2).astype(np.int32),
                                  return_counts=True)
    counts = (counts * (per_kernel / true_max)).astype(np.int32)
    i = 0
    while counts.sum() < per_kernel:  # the remainder, one per dilation from the smallest
        counts[i] += 1
        i = (i + 1) % len(counts)
    return dilations.astype(np.int64), counts.astype(np.int64)


def quantiles(n: int) -> np.ndarray:
    """The low-discrepancy quantiles (k * golden ratio) mod 1, k = 1..n, float32 as the reference."""
    return np.array([(k * ((np.sqrt(5) + 1) / 2)) % 1 for k in range(1, n + 1)], dtype=np.float32)


class MiniRocketFeatures(nn.Module):
    """Fixed MiniRocket transform: (B, T, F) sequences and lengths (B,) -> (B, n_features) PPVs.

    Buffers: ``dilations`` (D,), ``counts`` (D,): features per kernel at each dilation,
    ``channels`` (D * 84, F): 1 for the channels each kernel-dilation pair sums over,
    ``biases`` (84 * sum(counts),), in the reference's feature order (dilation, kernel, bias).
    Build it with :func:`fit_minirocket`, or from saved buffers with :meth:`from_tensors`.
    """

    def __init__(self, dilations: torch.Tensor, counts: torch.Tensor, channels: torch.Tensor, biases: torch.Tensor) -> None:
        super().__init__()
        D = len(dilations)
        if counts.shape != (D,) or channels.shape[0] != D * N_KERNELS or biases.shape != (N_KERNELS * int(counts.sum()),):
            raise ConfigError(f"MiniRocketFeatures: inconsistent buffers: dilations {tuple(dilations.shape)}, counts "
                              f"{tuple(counts.shape)}, channels {tuple(channels.shape)}, biases {tuple(biases.shape)}")
        self.register_buffer("dilations", dilations.long())
        self.register_buffer("counts", counts.long())
        self.register_buffer("channels", channels.float())
        self.register_buffer("biases", biases.float())
        self.register_buffer("weight", _kernels(), persistent=False)  # fixed: not saved

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], prefix: str = "") -> "MiniRocketFeatures":
        return cls(*(tensors[prefix + k] for k in ("dilations", "counts", "channels", "biases")))

    @classmethod
    def from_aeon(cls, fitted: Any, n_channels: int) -> "MiniRocketFeatures":
        """The transform of a fitted aeon ``MiniRocket`` (its ``parameters``: channels per pair,
        channel indices, dilations, features per dilation, biases) for input of ``n_channels``."""
        per_pair, indices, dilations, counts, biases = fitted.parameters
        channels, start = np.zeros((len(per_pair), n_channels), np.float32), 0
        for p, c in enumerate(per_pair):
            channels[p, indices[start:start + c]] = 1.0
            start += c
        if n_channels == 1:  # aeon's univariate transform reads the one channel for every pair
            channels[:] = 1.0
        return cls(*(torch.as_tensor(np.asarray(a)) for a in
                     (dilations.astype(np.int64), counts.astype(np.int64), channels, biases)))

    @property
    def n_features(self) -> int:
        return int(self.biases.numel())

    def convolve(self, x: torch.Tensor, j: int) -> torch.Tensor:
        """The 84 kernels at dilation ``j`` over (B, T, F) zero-padded input: (B, 84, T), each
        summed over its pair's channels."""
        B, T, Fn = x.shape
        d = int(self.dilations[j])
        c = F.conv1d(x.transpose(1, 2).reshape(B * Fn, 1, T), self.weight.to(x.dtype), dilation=d,
                     padding=(KERNEL_LENGTH // 2) * d)  # (B*F, 84, T)
        mask = self.channels[j * N_KERNELS:(j + 1) * N_KERNELS].to(x.dtype)  # (84, F)
        return torch.einsum("bfkt,kf->bkt", c.view(B, Fn, N_KERNELS, T), mask)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, batch_size: int = 64) -> torch.Tensor:
        """PPV features (B, n_features) of (B, T, F) input, zero past each series' ``lengths``.

        Memory: at most ``batch_size`` series at a time, fewer for long ones, and the biases of
        each kernel in groups, so that about :data:`ELEMENTS` step-bias comparisons are held at
        once (one series of T steps needs at least 84 * T)."""
        if x.dim() != 3 or x.shape[2] != self.channels.shape[1]:
            raise ConfigError(f"MiniRocketFeatures: x must be (B, T, {self.channels.shape[1]}), got {tuple(x.shape)}")
        B, T, _ = x.shape
        lengths = torch.full((B,), T, dtype=torch.long) if lengths is None else torch.as_tensor(lengths).long().cpu()
        batch_size = max(1, min(batch_size, ELEMENTS // max(1, N_KERNELS * T)))
        if B > batch_size:
            return torch.cat([self(x[i:i + batch_size], lengths[i:i + batch_size], batch_size)
                              for i in range(0, B, batch_size)])
        t = torch.arange(T)[None, :]
        lengths = lengths.to(x.device)
        t = t.to(x.device)
        full = (t < lengths[:, None]).to(x.dtype)  # (B, T) valid steps, as 0/1 (arithmetic, not where: ONNX)
        out, f0 = [], 0
        for j in range(len(self.dilations)):
            pad = (KERNEL_LENGTH // 2) * int(self.dilations[j])
            inner = full * ((t >= pad) & (t < lengths[:, None] - pad)).to(x.dtype)
            some = (inner.sum(1, keepdim=True) > 0).to(x.dtype)
            inner = some * inner + (1 - some) * full  # too short for the inner part: all steps
            C = self.convolve(x, j)  # (B, 84, T)
            n = int(self.counts[j])
            b = self.biases[f0:f0 + N_KERNELS * n].view(N_KERNELS, n).to(x.dtype)
            # pairs (j + k) even read every valid step, odd ones the steps away from the padded edges
            odd = ((torch.arange(N_KERNELS, device=x.device) + j) % 2).to(x.dtype)[None, :, None]
            valid = odd * inner[:, None, :] + (1 - odd) * full[:, None, :]  # (B, 84, T)
            step = max(1, min(n, ELEMENTS // max(1, B * N_KERNELS * T)))  # biases per group
            hits = [((C[:, :, None, :] > b[None, :, m:m + step, None]).to(x.dtype)  # (B, 84, step, T)
                     * valid[:, :, None, :]).sum(-1) for m in range(0, n, step)]  # positive valid steps (B, 84, step)
            ppv = (hits[0] if len(hits) == 1 else torch.cat(hits, dim=2)) / valid.sum(-1)[:, :, None]
            out.append(ppv.reshape(B, -1))
            f0 += N_KERNELS * n
        return torch.cat(out, dim=1)


def fit_minirocket(seqs: Sequence[np.ndarray], n_features: int = 10_000, max_dilations: int = 32,
                   seed: int = 0) -> MiniRocketFeatures:
    """Fit MiniRocket on training sequences (each (T_i, F)): dilations from the longest length,
    channel subsets, and biases from quantiles of each kernel-dilation output on one random
    training series (its valid steps only).

    Raises:
        ConfigError: no sequences, mixed feature counts, or n_features < 84.
    """
    if not len(seqs):
        raise ConfigError("fit_minirocket: seqs is empty; expected at least one (T, F) sequence")
    seqs = [np.asarray(s, dtype=np.float32).reshape(len(s), -1) for s in seqs]
    Fn = seqs[0].shape[1]
    if any(s.shape[1] != Fn for s in seqs):
        raise ConfigError(f"fit_minirocket: every sequence needs {Fn} features, got {sorted({s.shape[1] for s in seqs})}")
    if n_features < N_KERNELS:
        raise ConfigError(f"fit_minirocket: n_features must be >= {N_KERNELS}, got {n_features}")
    rng = np.random.default_rng(seed)
    dilations, counts = fit_dilations(max(len(s) for s in seqs), n_features, max_dilations)
    n_pairs = len(dilations) * N_KERNELS
    max_exponent = np.log2(min(Fn, 9) + 1)
    n_channels = (2 ** rng.uniform(0, max_exponent, n_pairs)).astype(np.int64)
    channels = np.zeros((n_pairs, Fn), dtype=np.float32)
    for p in range(n_pairs):
        channels[p, rng.choice(Fn, n_channels[p], replace=False)] = 1.0
    q = quantiles(N_KERNELS * int(counts.sum()))
    module = MiniRocketFeatures(torch.as_tensor(dilations), torch.as_tensor(counts), torch.as_tensor(channels),
                                torch.zeros(len(q)))
    biases, f0 = np.zeros(len(q), dtype=np.float32), 0
    with torch.no_grad():
        for j in range(len(dilations)):
            n = int(counts[j])
            examples = rng.integers(len(seqs), size=N_KERNELS)
            outputs = {e: module.convolve(torch.as_tensor(seqs[e])[None], j)[0].numpy()  # (84, T_i), once per series
                       for e in np.unique(examples).tolist()}
            for k in range(N_KERNELS):
                biases[f0:f0 + n] = np.quantile(outputs[int(examples[k])][k], q[f0:f0 + n])
                f0 += n
    module.biases.copy_(torch.as_tensor(biases))
    return module


class MiniRocketRidge(nn.Module):
    """MiniRocket features read out by a fitted linear classifier (the reference's ridge, fitted by
    the estimator): (B, T, F) and lengths (B,) -> class probabilities (B, C).

    Buffers: ``scale`` (D,): the features' training standard deviations (the reference scales
    without centring); ``coef`` (C', D) and ``intercept`` (C',): one-vs-rest ridge scores s for
    targets -1 / +1, C' = C (C' = 1 for two classes: the score of the second, the first gets -s);
    ``temperature`` (): probabilities are softmax(temperature * s), the temperature fitted to the
    ridge's own leave-one-out scores on the training set (Platt 1999's scaling, one parameter).
    """

    def __init__(self, features: MiniRocketFeatures, scale: torch.Tensor, coef: torch.Tensor, intercept: torch.Tensor,
                 temperature: torch.Tensor) -> None:
        super().__init__()
        if scale.shape != (features.n_features,) or coef.dim() != 2 or coef.shape[1] != features.n_features \
                or intercept.shape != (coef.shape[0],) or temperature.numel() != 1:
            raise ConfigError(f"MiniRocketRidge: inconsistent buffers for {features.n_features} features: scale "
                              f"{tuple(scale.shape)}, coef {tuple(coef.shape)}, intercept {tuple(intercept.shape)}, "
                              f"temperature {tuple(temperature.shape)}")
        self.features = features
        self.register_buffer("scale", scale.double().contiguous())
        self.register_buffer("coef", coef.double().contiguous())  # as loaded: the same sums
        self.register_buffer("intercept", intercept.double().contiguous())
        self.register_buffer("temperature", temperature.double().reshape(()))

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], prefix: str = "") -> "MiniRocketRidge":
        features = MiniRocketFeatures.from_tensors(tensors, prefix + "features.")
        return cls(features, *(tensors[prefix + k] for k in ("scale", "coef", "intercept", "temperature")))

    def scores(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Ridge scores (B, C) in the buffers' precision (float64 unless converted; two classes: -s and s)."""
        s = (self.features(x, lengths).to(self.scale.dtype) / self.scale) @ self.coef.T + self.intercept
        return torch.cat([-s, s], dim=1) if s.shape[1] == 1 else s

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return torch.softmax(self.temperature * self.scores(x, lengths), dim=1)


def fit_temperature(scores: np.ndarray, codes: np.ndarray, grid: np.ndarray | None = None) -> float:
    """The temperature t minimising the mean negative log-likelihood of softmax(t * scores) for
    classes ``codes`` (n,), over ``grid`` (default 61 values, 0.1 to 100, log-spaced). ``scores``:
    (n, C) or (n,) for two classes (the second's)."""
    s = np.stack([-scores, scores], 1) if scores.ndim == 1 else scores
    grid = np.logspace(-1, 2, 61) if grid is None else grid
    z = grid[:, None, None] * s[None]  # (G, n, C)
    z = z - z.max(2, keepdims=True)
    logp = z - np.log(np.exp(z).sum(2, keepdims=True))
    nll = -logp[:, np.arange(len(codes)), codes].mean(1)
    return float(grid[int(np.argmin(nll))])


class MiniRocketFusion(nn.Module):
    """A classifier's networks and its MiniRocket half as one module, for export: (B, T, F') model
    input (the first F features of each step are the scaled series; the rest, if any, per-series
    statistics) and lengths (B,) -> log class probabilities (B, C): the networks' softmax averaged,
    then averaged with MiniRocket's, half each (what ``LSTMClassifier.predict_proba`` returns)."""

    def __init__(self, networks: Sequence[nn.Module], rocket: MiniRocketRidge) -> None:
        super().__init__()
        self.networks = nn.ModuleList(networks)
        self.rocket = rocket
        self.n_series_features = int(rocket.features.channels.shape[1])

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        net = torch.stack([torch.softmax(n(x, lengths), dim=1) for n in self.networks]).mean(0)
        rocket = self.rocket(x[:, :, :self.n_series_features], lengths).to(net.dtype)
        return torch.log((net + rocket) / 2)
