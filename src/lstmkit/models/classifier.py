"""Sequence classification: (Bi)LSTM -> pooling -> dense -> softmax.

``LSTMClassifierModel`` is the task model (a TaskModel the trainer fits);
``LSTMClassifier`` the scikit-learn estimator around it::

    from lstmkit.models.classifier import LSTMClassifier
    from lstmkit.train import TrainerConfig

    clf = LSTMClassifier(hidden_size=64, pooling="attention",
                         trainer=TrainerConfig(max_epochs=100, lr=3e-3))
    clf.fit(X_train, y_train)          # (n, T, F) array, list of (T_i, F) arrays, or long DataFrame
    clf.predict_proba(X_test)          # (n, C), rows sum to one
    clf.save("gunpoint.lstm"); lstmkit.load("gunpoint.lstm").predict(X_test)

Variable lengths are carried as ``lengths`` through the LSTM and the pooling; padding is
never read as data.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from torch import nn

from lstmkit.data.sequences import SequenceDataset, downsample, pad_sequences, patch, to_sequences
from lstmkit.errors import ConfigError, DataError, NotFittedError, ShapeError, suggest
from lstmkit.models._fitting import (
    check_known_labels,
    encode_labels,
    label_array,
    labels_from_json,
    labels_to_json,
    make_trainer_config,
    run_trainer,
    to_python,
    trainer_config_to_dict,
)
from lstmkit.models.base import TaskModel, _load_tensors, register, save_model
from lstmkit.models.heads import POOLINGS, DenseHead, LSTMEncoder, SequencePooling

__all__ = ["LSTMClassifier", "LSTMClassifierModel", "LSTMClassifierConfig"]

NORMALIZE = ("global", "series", "none")


@dataclasses.dataclass
class LSTMClassifierConfig:
    input_size: int  # features per step F (set from the data at fit time)
    num_classes: int  # C (set from the labels at fit time)
    hidden_size: int = 64  # LSTM units per direction; more capacity, slower, overfits small sets
    num_layers: int = 1  # stacked LSTM layers; deeper rarely helps on short series
    bidirectional: bool = True  # read both ways; better pooling features, twice the cost
    dropout: float = 0.0  # between LSTM layers and before the output layer; regularises small sets
    pooling: str = "mean"  # last | mean | max | attention: how steps become one vector
    dense_size: int = 64  # hidden dense layer before softmax (0: linear read-out)
    class_weight: list[float] | None = None  # per-class loss weights (imbalance); None: uniform

    def __post_init__(self) -> None:
        problems = []
        for name in ("input_size", "num_classes", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
                problems.append(f"{name} must be a positive int, got {v!r}")
        if not (isinstance(self.dense_size, int) and self.dense_size >= 0):
            problems.append(f"dense_size must be a non-negative int, got {self.dense_size!r}")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.pooling not in POOLINGS:
            problems.append(f"pooling must be one of {list(POOLINGS)}, got {self.pooling!r}{suggest(str(self.pooling), POOLINGS)}")
        if self.class_weight is not None and len(self.class_weight) != self.num_classes:
            problems.append(f"class_weight must have num_classes={self.num_classes} entries, got {len(self.class_weight)}")
        if problems:
            raise ConfigError("LSTMClassifierConfig: " + "; ".join(problems))


@register
class LSTMClassifierModel(TaskModel):
    """Task model: logits (B, C) from a padded batch ``x`` (B, T, F) and ``lengths`` (B,)."""

    config_class = LSTMClassifierConfig

    def __init__(self, config: LSTMClassifierConfig) -> None:
        super().__init__(config)
        c = config
        self.encoder = LSTMEncoder(c.input_size, c.hidden_size, c.num_layers, c.bidirectional, c.dropout)
        self.pool = SequencePooling(c.pooling, self.encoder.output_size)
        self.head = DenseHead(self.encoder.output_size, c.dense_size, c.num_classes, c.dropout)
        weight = torch.tensor(c.class_weight, dtype=torch.float32) if c.class_weight is not None else None
        self.register_buffer("class_weight", weight, persistent=False)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, last = self.encoder(x, lengths)  # (B, T, D*H), (B, D*H)
        return self.head(self.pool(out, last, lengths))  # (B, C)

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = self(batch["x"], batch["lengths"])
        return nn.functional.cross_entropy(logits, batch["y"], weight=self.class_weight)

    @torch.no_grad()
    def metrics(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        logits = self(batch["x"], batch["lengths"])
        return {
            "loss": float(nn.functional.cross_entropy(logits, batch["y"], weight=self.class_weight)),
            "accuracy": float((logits.argmax(1) == batch["y"]).float().mean()),
        }


@register
class LSTMClassifier(ClassifierMixin, BaseEstimator):
    """Scikit-learn classifier of sequences with a (Bi)LSTM, pooling and a dense softmax head.

    Parameters
    ----------
    hidden_size, num_layers, bidirectional, dropout, pooling, dense_size:
        architecture (see :class:`LSTMClassifierConfig`); pooling is last | mean | max | attention.
    normalize:
        "global" (per-feature z-score with training statistics), "series" (z-normalise each
        series and feature on its own, the UCR convention) or "none".
    downsample:
        average non-overlapping windows of this many steps before the LSTM (long series:
        fewer recurrent steps, faster, smoother; 1 = off).
    patch_size:
        after normalising, stack non-overlapping frames of this many steps into one step
        of patch_size*F features (long series: fewer steps, no information averaged away).
    class_weight:
        None, "balanced" (n / (C * count_c)) or a dict label -> weight.
    validation_fraction:
        stratified share of the training set held out for early stopping (needs
        ``trainer.patience``); 0 uses all data for fitting.
    trainer:
        a :class:`lstmkit.train.TrainerConfig` (or dict); None: 100 epochs, batch 16, Adam 3e-3.
    id_column, time_column:
        for long-format DataFrame input: the series id and the ordering column. Labels
        are then a Series indexed by id, or an array in the order the ids first appear.
    """

    def __init__(
        self,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = True,
        pooling: str = "mean",
        dense_size: int = 64,
        dropout: float = 0.0,
        normalize: str = "global",
        downsample: int = 1,
        patch_size: int = 1,
        class_weight: Any = None,
        validation_fraction: float = 0.0,
        trainer: Any = None,
        id_column: str = "id",
        time_column: str | None = "time",
    ) -> None:
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.dense_size = dense_size
        self.dropout = dropout
        self.normalize = normalize
        self.downsample = downsample
        self.patch_size = patch_size
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.trainer = trainer
        self.id_column = id_column
        self.time_column = time_column

    # --- preprocessing ------------------------------------------------------------------
    def _check_params(self) -> None:
        problems = []
        if self.normalize not in NORMALIZE:
            problems.append(f"normalize must be one of {list(NORMALIZE)}, got {self.normalize!r}{suggest(str(self.normalize), NORMALIZE)}")
        for name in ("downsample", "patch_size"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                problems.append(f"{name} must be an int >= 1, got {v!r}")
        if not (isinstance(self.validation_fraction, (int, float)) and 0 <= self.validation_fraction < 1):
            problems.append(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        if problems:
            raise ConfigError("LSTMClassifier: " + "; ".join(problems))

    def _sequences(self, X: Any, lengths: Any, fitting: bool) -> list[np.ndarray]:
        seqs, _ = to_sequences(X, lengths, id_column=self.id_column, time_column=self.time_column)
        if not fitting and hasattr(self, "n_features_in_"):
            F = seqs[0].shape[1]
            if F != self.n_features_in_:
                raise ShapeError(f"X has {F} features per step, but the model was fitted with {self.n_features_in_}")
        seqs = downsample(seqs, self.downsample)
        if self.normalize == "series":
            seqs = [((s - s.mean(0)) / np.maximum(s.std(0), 1e-8)).astype(np.float32) for s in seqs]
        elif self.normalize == "global":
            if fitting:
                allsteps = np.concatenate(seqs)
                self.scaler_ = {"mean": allsteps.mean(0).tolist(), "std": np.maximum(allsteps.std(0), 1e-8).tolist()}
            mean = np.asarray(self.scaler_["mean"], dtype=np.float32)
            std = np.asarray(self.scaler_["std"], dtype=np.float32)
            seqs = [((s - mean) / std).astype(np.float32) for s in seqs]
        return patch(seqs, self.patch_size)

    def _class_weights(self, codes: np.ndarray) -> list[float] | None:
        C = len(self.classes_)
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, str):
            if self.class_weight != "balanced":
                raise ConfigError(f"class_weight must be None, 'balanced' or a dict label -> weight, got {self.class_weight!r}")
            counts = np.bincount(codes, minlength=C)
            return [float(len(codes) / (C * c)) for c in counts]
        if isinstance(self.class_weight, dict):
            unknown = [k for k in self.class_weight if k not in set(self.classes_.tolist())]
            if unknown:
                raise ConfigError(f"class_weight names label(s) {unknown} that are not in y; labels: {self.classes_.tolist()}")
            return [float(self.class_weight.get(c, 1.0)) for c in self.classes_.tolist()]
        raise ConfigError(f"class_weight must be None, 'balanced' or a dict label -> weight, got {type(self.class_weight).__name__}")

    # --- fit / predict ------------------------------------------------------------------
    def fit(self, X: Any, y: Any, lengths: Any = None) -> "LSTMClassifier":
        """Fit on ``X`` (see the class docstring) and labels ``y`` (n,) of any hashable type."""
        self._check_params()
        if hasattr(X, "columns") and hasattr(y, "index") and hasattr(y, "loc"):
            ids = list(dict.fromkeys(X[self.id_column].tolist())) if self.id_column in X.columns else None
            if ids is not None and set(ids) <= set(y.index):
                y = y.loc[ids].to_numpy()
        seqs = self._sequences(X, lengths, fitting=True)
        self.n_features_in_ = int(seqs[0].shape[1]) // self.patch_size
        self.classes_, codes = encode_labels(y)
        if len(codes) != len(seqs):
            raise ShapeError(f"y has {len(codes)} labels, X has {len(seqs)} samples")
        if len(self.classes_) < 2:
            raise DataError(f"y must hold at least 2 classes, got only {self.classes_.tolist()}")
        tcfg = make_trainer_config(self.trainer, max_epochs=100, batch_size=16, lr=3e-3)
        self.trainer_config_ = tcfg
        seed = tcfg.seed if tcfg.seed is not None else 0
        torch.manual_seed(seed)
        config = LSTMClassifierConfig(
            input_size=self.n_features_in_ * self.patch_size,
            num_classes=len(self.classes_),
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            pooling=self.pooling,
            dense_size=self.dense_size,
            class_weight=self._class_weights(codes),
        )
        self.model_ = LSTMClassifierModel(config)
        idx_train, idx_val = np.arange(len(seqs)), None
        if self.validation_fraction > 0:
            from sklearn.model_selection import train_test_split

            strat = codes if np.bincount(codes).min() >= 2 else None
            idx_train, idx_val = train_test_split(
                idx_train, test_size=self.validation_fraction, random_state=seed, stratify=strat
            )
        train = SequenceDataset([seqs[i] for i in idx_train], codes[idx_train])
        val = None if idx_val is None else SequenceDataset([seqs[i] for i in idx_val], codes[idx_val])
        self.history_ = run_trainer(self.model_, train, val, tcfg)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this LSTMClassifier is not fitted yet; call fit(X, y) first")

    @torch.no_grad()
    def predict_proba(self, X: Any, lengths: Any = None) -> np.ndarray:
        """Class probabilities (n, C), columns in the order of ``classes_``."""
        self._check_fitted()
        seqs = self._sequences(X, lengths, fitting=False)
        self.model_.eval()
        out = []
        order = np.argsort([len(s) for s in seqs], kind="stable")  # similar lengths per batch
        for start in range(0, len(seqs), 256):
            idx = order[start : start + 256]
            x, lens = pad_sequences([seqs[i] for i in idx])
            out.append(torch.softmax(self.model_(x, lens).double(), dim=1).numpy())
        proba = np.empty((len(seqs), len(self.classes_)))
        proba[order] = np.concatenate(out)
        return proba

    def predict(self, X: Any, lengths: Any = None) -> np.ndarray:
        self._check_fitted()
        return self.classes_[self.predict_proba(X, lengths).argmax(1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None, lengths: Any = None) -> float:
        """Mean accuracy; a DataError if ``y`` holds labels never seen at fit time."""
        self._check_fitted()
        codes = check_known_labels(y, self.classes_)
        pred = self.predict_proba(X, lengths).argmax(1)
        if len(pred) != len(codes):
            raise ShapeError(f"y has {len(codes)} labels, X has {len(pred)} samples")
        w = np.ones(len(codes)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        return float(np.sum(w * (pred == codes)) / np.sum(w))

    # --- persistence --------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the fitted model to directory ``path`` (see :func:`lstmkit.models.base.save_model`)."""
        self._check_fitted()
        return save_model(self, path, overwrite=overwrite)

    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        params = self.get_params(deep=False)
        params["trainer"] = trainer_config_to_dict(self.trainer)
        if isinstance(params["class_weight"], dict):  # JSON keys are strings: keep labels typed like classes_
            cw = params["class_weight"]
            params["class_weight"] = {"labels": labels_to_json(label_array(list(cw))),
                                      "weights": [to_python(w) for w in cw.values()]}
        config = {"params": params, "model": self.model_.get_config()}
        state = {
            "classes": labels_to_json(self.classes_),
            "n_features_in": self.n_features_in_,
            "scaler": getattr(self, "scaler_", None),
            "history": self.history_,
        }
        return config, dict(self.model_.state_dict()), state

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "LSTMClassifier":
        params = dict(config["params"])
        if params.get("trainer") is not None:
            params["trainer"] = make_trainer_config(params["trainer"])
        if isinstance(params.get("class_weight"), dict):  # written by _saved_state as labels + weights
            cw = params["class_weight"]
            params["class_weight"] = dict(zip(labels_from_json(cw["labels"]).tolist(), cw["weights"]))
        est = cls(**params)
        est.model_ = LSTMClassifierModel.from_config(config["model"])
        _load_tensors(est.model_, tensors)
        est.model_.eval()
        est.classes_ = labels_from_json(state["classes"])
        est.n_features_in_ = int(state["n_features_in"])
        if state.get("scaler") is not None:
            est.scaler_ = state["scaler"]
        est.history_ = state.get("history", [])
        return est
