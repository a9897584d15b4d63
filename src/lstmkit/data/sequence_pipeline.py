"""What a sequence model learns from its numeric training sequences, fitted once.

:class:`SequencePipeline` validates the input (:func:`~lstmkit.data.sequences.to_sequences`),
optionally averages every ``downsample`` steps, scales, optionally appends each series' own
statistics as constant channels (``series_stats``), and stacks ``patch_size`` steps into one (long
series: fewer recurrent steps). It serialises to JSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit.data.scalers import SCALERS, Scaler, make_scaler, scaler_from_dict
from lstmkit.data.sequences import downsample, patch, to_sequences
from lstmkit.errors import ConfigError, NotFittedError, ShapeError, suggest

__all__ = ["SequencePipeline", "SEQUENCE_SCALERS"]

# "sequence": z-normalise each sequence and feature on its own (the UCR convention); the others
# are one scaler per feature fitted on every step of the training set.
SEQUENCE_SCALERS = (*SCALERS, "sequence")
MIN_SPREAD = 0.05  # series_stats: a statistic is kept when it varies this much across the training set
STATS_CLIP = 5.0  # series_stats: standardised statistics are clipped to +-this (flat series, outliers)


def _stats(seqs: list[np.ndarray]) -> np.ndarray:
    """(n, 2F + 1): each series' mean per feature, log standard deviation per feature, log length."""
    return np.array([np.concatenate([s.mean(0), np.log(np.maximum(s.std(0), 1e-8)), [np.log(len(s))]])
                     for s in seqs], dtype=np.float64).reshape(len(seqs), -1)


class SequencePipeline:
    """Numeric sequences (n, T_i, F) -> model input: a list of float32 (T_i', F') arrays.

    Args:
        scaler: one of :data:`SEQUENCE_SCALERS`.
        downsample: average non-overlapping windows of this many steps (1 = off).
        series_stats: append each series' statistics as constant channels after scaling and
            patching (the last ``n_stats`` of every step): its mean and log standard deviation per
            feature (what the ``"sequence"`` scaler takes away: level and amplitude) and its log
            length (what masked pooling takes away). One that hardly varies across the training set (spread below ``MIN_SPREAD``: the means relative to the
            median standard deviation, the logs as they are) is left out, so already z-normalised
            series of one length get no channel. The others are centred on their training median,
            divided by 1.4826 x the median absolute deviation (the standard deviation where that
            is 0) and clipped to +-``STATS_CLIP``. Level and scale as inputs: as DeepAR feeds the
            log scale (Salinas et al. 2020).
        patch_size: stack this many steps into one step of patch_size*F features (1 = off).
        id_col, time_col: for long-format DataFrame input.
    """

    def __init__(self, scaler: str = "standard", downsample: int = 1, patch_size: int = 1,
                 id_col: str = "id", time_col: str | None = "time", series_stats: bool = False) -> None:
        if scaler not in SEQUENCE_SCALERS:
            raise ConfigError(f"scaler must be one of {list(SEQUENCE_SCALERS)}, got {scaler!r}{suggest(str(scaler), SEQUENCE_SCALERS)}")
        if not isinstance(series_stats, (bool, np.bool_)):
            raise ConfigError(f"series_stats must be True or False, got {series_stats!r}")
        for name, v in (("downsample", downsample), ("patch_size", patch_size)):
            if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1):
                raise ConfigError(f"{name} must be an int >= 1, got {v!r}")
        self.scaler = scaler
        self.downsample = int(downsample)
        self.patch_size = int(patch_size)
        self.id_col = id_col
        self.time_col = time_col
        self.series_stats = bool(series_stats)
        self.n_features_in_: int | None = None
        self.scaler_: Scaler | None = None
        self.stats_: dict[str, list] | None = None  # series_stats: kept columns, their training median and robust scale

    @property
    def n_features_out(self) -> int:
        """Features per model step: F * patch_size, then the kept series statistics (last)."""
        if self.n_features_in_ is None:
            raise NotFittedError("SequencePipeline is not fitted; call fit_transform(X) first")
        return self.n_features_in_ * self.patch_size + self.n_stats

    @property
    def n_stats(self) -> int:
        """Constant channels appended by ``series_stats`` (0 when off or nothing varies)."""
        return 0 if self.stats_ is None else len(self.stats_["columns"])

    def read(self, X: Any, lengths: Any = None, name: str = "X") -> tuple[list[np.ndarray], list[Any] | None]:
        """Validated raw sequences and the ids of a long DataFrame (None otherwise)."""
        return to_sequences(X, lengths, name=name, id_col=self.id_col, time_col=self.time_col)

    def fit_transform(self, X: Any, lengths: Any = None) -> list[np.ndarray]:
        seqs, _ = self.read(X, lengths)
        self.n_features_in_ = int(seqs[0].shape[1])
        seqs = downsample(seqs, self.downsample)
        if self.scaler != "sequence":
            self.scaler_ = make_scaler(self.scaler).fit(np.concatenate(seqs))
        self.stats_ = None
        if self.series_stats:
            st, F = _stats(seqs), self.n_features_in_
            spread = st.std(0)
            spread[:F] /= np.maximum(np.median(np.exp(st[:, F : 2 * F]), axis=0), 1e-8)  # means: relative to the scale
            keep = np.flatnonzero(spread > MIN_SPREAD)
            center = np.median(st[:, keep], axis=0)
            scale = 1.4826 * np.median(np.abs(st[:, keep] - center), axis=0)  # robust: flat series give log(1e-8)
            scale = np.where(scale > 1e-8, scale, st[:, keep].std(0))
            self.stats_ = {"columns": keep.tolist(), "center": center.tolist(), "scale": scale.tolist()}
        return self._finish(seqs)

    def transform(self, X: Any, lengths: Any = None, *, scaled_only: bool = False) -> list[np.ndarray]:
        """Model input for ``X``; ``scaled_only``: the scaled (and downsampled) steps (T_i', F)
        only, without patches or statistics (what the classifier's MiniRocket reads)."""
        if self.n_features_in_ is None:
            raise NotFittedError("SequencePipeline is not fitted; call fit_transform(X) first")
        seqs, _ = self.read(X, lengths)
        F = seqs[0].shape[1]
        if F != self.n_features_in_:
            raise ShapeError(f"X has {F} features per step, but the model was fitted with {self.n_features_in_}")
        return self._finish(downsample(seqs, self.downsample), scaled_only)

    def _finish(self, seqs: list[np.ndarray], scaled_only: bool = False) -> list[np.ndarray]:
        raw = seqs
        if self.scaler == "sequence":
            seqs = [((s - s.mean(0)) / np.maximum(s.std(0), 1e-8)).astype(np.float32) for s in seqs]
        else:
            seqs = [self.scaler_.transform(s).astype(np.float32) for s in seqs]
        if scaled_only:
            return seqs
        seqs = patch(seqs, self.patch_size)
        if self.n_stats:
            cols = np.asarray(self.stats_["columns"])
            z = (_stats(raw)[:, cols] - np.asarray(self.stats_["center"])) / np.asarray(self.stats_["scale"])
            z = np.clip(z, -STATS_CLIP, STATS_CLIP)
            seqs = [np.concatenate([s, np.broadcast_to(v.astype(np.float32), (len(s), len(v)))], axis=1)
                    for s, v in zip(seqs, z)]
        return seqs

    def to_dict(self) -> dict[str, Any]:
        return {"scaler": self.scaler, "downsample": self.downsample, "patch_size": self.patch_size,
                "id_col": self.id_col, "time_col": self.time_col, "n_features_in": self.n_features_in_,
                "fitted_scaler": None if self.scaler_ is None else self.scaler_.to_dict(),
                "series_stats": self.series_stats, "fitted_stats": self.stats_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SequencePipeline":
        p = cls(d["scaler"], d["downsample"], d["patch_size"], d["id_col"], d["time_col"],
                d.get("series_stats", False))  # files before series_stats have neither key
        p.n_features_in_ = d["n_features_in"]
        p.stats_ = d.get("fitted_stats")
        p.scaler_ = None if d["fitted_scaler"] is None else scaler_from_dict(d["fitted_scaler"])
        return p
