"""What a sequence model learns from its numeric training sequences, fitted once.

:class:`SequencePipeline` validates the input (:func:`~lstmkit.data.sequences.to_sequences`),
optionally averages every ``downsample`` steps, scales, and stacks ``patch_size`` steps into one
(long series: fewer recurrent steps). It serialises to JSON.
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


class SequencePipeline:
    """Numeric sequences (n, T_i, F) -> model input: a list of float32 (T_i', F') arrays.

    Args:
        scaler: one of :data:`SEQUENCE_SCALERS`.
        downsample: average non-overlapping windows of this many steps (1 = off).
        patch_size: stack this many steps into one step of patch_size*F features (1 = off).
        id_col, time_col: for long-format DataFrame input.
    """

    def __init__(self, scaler: str = "standard", downsample: int = 1, patch_size: int = 1,
                 id_col: str = "id", time_col: str | None = "time") -> None:
        if scaler not in SEQUENCE_SCALERS:
            raise ConfigError(f"scaler must be one of {list(SEQUENCE_SCALERS)}, got {scaler!r}{suggest(str(scaler), SEQUENCE_SCALERS)}")
        for name, v in (("downsample", downsample), ("patch_size", patch_size)):
            if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1):
                raise ConfigError(f"{name} must be an int >= 1, got {v!r}")
        self.scaler = scaler
        self.downsample = int(downsample)
        self.patch_size = int(patch_size)
        self.id_col = id_col
        self.time_col = time_col
        self.n_features_in_: int | None = None
        self.scaler_: Scaler | None = None

    @property
    def n_features_out(self) -> int:
        """Features per model step: F * patch_size."""
        if self.n_features_in_ is None:
            raise NotFittedError("SequencePipeline is not fitted; call fit_transform(X) first")
        return self.n_features_in_ * self.patch_size

    def read(self, X: Any, lengths: Any = None, name: str = "X") -> tuple[list[np.ndarray], list[Any] | None]:
        """Validated raw sequences and the ids of a long DataFrame (None otherwise)."""
        return to_sequences(X, lengths, name=name, id_col=self.id_col, time_col=self.time_col)

    def fit_transform(self, X: Any, lengths: Any = None) -> list[np.ndarray]:
        seqs, _ = self.read(X, lengths)
        self.n_features_in_ = int(seqs[0].shape[1])
        seqs = downsample(seqs, self.downsample)
        if self.scaler != "sequence":
            self.scaler_ = make_scaler(self.scaler).fit(np.concatenate(seqs))
        return self._finish(seqs)

    def transform(self, X: Any, lengths: Any = None) -> list[np.ndarray]:
        if self.n_features_in_ is None:
            raise NotFittedError("SequencePipeline is not fitted; call fit_transform(X) first")
        seqs, _ = self.read(X, lengths)
        F = seqs[0].shape[1]
        if F != self.n_features_in_:
            raise ShapeError(f"X has {F} features per step, but the model was fitted with {self.n_features_in_}")
        return self._finish(downsample(seqs, self.downsample))

    def _finish(self, seqs: list[np.ndarray]) -> list[np.ndarray]:
        if self.scaler == "sequence":
            seqs = [((s - s.mean(0)) / np.maximum(s.std(0), 1e-8)).astype(np.float32) for s in seqs]
        else:
            seqs = [self.scaler_.transform(s).astype(np.float32) for s in seqs]
        return patch(seqs, self.patch_size)

    def to_dict(self) -> dict[str, Any]:
        return {"scaler": self.scaler, "downsample": self.downsample, "patch_size": self.patch_size,
                "id_col": self.id_col, "time_col": self.time_col, "n_features_in": self.n_features_in_,
                "fitted_scaler": None if self.scaler_ is None else self.scaler_.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SequencePipeline":
        p = cls(d["scaler"], d["downsample"], d["patch_size"], d["id_col"], d["time_col"])
        p.n_features_in_ = d["n_features_in"]
        p.scaler_ = None if d["fitted_scaler"] is None else scaler_from_dict(d["fitted_scaler"])
        return p
