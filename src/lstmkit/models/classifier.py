"""The sequence-classification network: (Bi)LSTM -> pooling -> dense -> softmax, or LSTM-FCN.

``architecture="lstm"``: (Bi)LSTM -> pooling -> dense head. ``architecture="lstm-fcn"`` (Karim et
al. 2017, "LSTM Fully Convolutional Networks for Time Series Classification"; with
squeeze-and-excite, MLSTM-FCN, Karim et al. 2019): the LSTM branch reads the sequence in patches
of ``patch_size`` steps (``patch_size`` = T is Karim's "dimension shuffle" for a univariate
series), an FCN branch (:class:`~lstmkit.models.heads.FCNBranch`) reads every step, and the
concatenated features go through dropout to the head. With ``static_size`` S > 0 the last S inputs
of every step are per-series constants (the estimator's ``series_stats``): they skip the LSTM and
the FCN and join the pooled features, read at the first step.

``ClassifierNetwork`` is a :class:`~lstmkit.models.base.TaskModel` (logits from a padded batch
and its lengths); the estimator around it is :class:`lstmkit.estimators.LSTMClassifier`.
Variable lengths are carried as ``lengths`` through the LSTM and the pooling; padding is never
read as data.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from lstmkit.errors import ConfigError, suggest
from lstmkit.models.base import TaskModel
from lstmkit.models.heads import POOLINGS, DenseHead, FCNBranch, LSTMEncoder, SequencePooling, length_mask
from lstmkit.persist import migration, register

__all__ = ["ClassifierNetwork", "ClassifierNetworkConfig", "ARCHITECTURES"]

ARCHITECTURES = ("lstm", "lstm-fcn")


@dataclasses.dataclass
class ClassifierNetworkConfig:
    input_size: int  # features per step F (set from the data at fit time)
    num_classes: int  # C (set from the labels at fit time)
    hidden_size: int = 64  # LSTM units per direction; more capacity, slower, overfits small sets
    num_layers: int = 1  # stacked LSTM layers; deeper rarely helps on short series
    bidirectional: bool = True  # read both ways; better pooling features, twice the cost
    dropout: float = 0.0  # between LSTM layers and before the output layer; regularises small sets
    pooling: str = "mean"  # last | mean | max | attention: how steps become one vector
    head_hidden_size: int = 64  # hidden dense layer before softmax (0: linear read-out)
    class_weight: list[float] | None = None  # per-class loss weights (imbalance); None: uniform
    architecture: str = "lstm"  # "lstm" | "lstm-fcn" (an FCN branch beside the LSTM, Karim et al.)
    patch_size: int = 1  # steps stacked into one LSTM step (lstm-fcn: the FCN still reads every step)
    fcn_filters: tuple[int, ...] = (128, 256, 128)  # lstm-fcn: channels of the convolution blocks
    fcn_kernels: tuple[int, ...] = (8, 5, 3)  # lstm-fcn: kernel widths of the blocks
    squeeze_excite: bool = True  # lstm-fcn: squeeze-and-excite gates (MLSTM-FCN) after blocks 1..n-1
    static_size: int = 0  # the last inputs of every step are per-series constants that go straight to the head

    def __post_init__(self) -> None:
        problems = []
        for name in ("input_size", "num_classes", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
                problems.append(f"{name} must be a positive int, got {v!r}")
        if not (isinstance(self.static_size, int) and not isinstance(self.static_size, bool)
                and 0 <= self.static_size < self.input_size):
            problems.append(f"static_size must be an int in [0, input_size={self.input_size}), got {self.static_size!r}")
        if not (isinstance(self.head_hidden_size, int) and self.head_hidden_size >= 0):
            problems.append(f"head_hidden_size must be a non-negative int, got {self.head_hidden_size!r}")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.pooling not in POOLINGS:
            problems.append(f"pooling must be one of {list(POOLINGS)}, got {self.pooling!r}{suggest(str(self.pooling), POOLINGS)}")
        if self.architecture not in ARCHITECTURES:
            problems.append(f"architecture must be one of {list(ARCHITECTURES)}, got {self.architecture!r}"
                            f"{suggest(str(self.architecture), ARCHITECTURES)}")
        if not (isinstance(self.patch_size, int) and not isinstance(self.patch_size, bool) and self.patch_size > 0):
            problems.append(f"patch_size must be a positive int, got {self.patch_size!r}")
        for name in ("fcn_filters", "fcn_kernels"):
            v = getattr(self, name)
            if not isinstance(v, (tuple, list)) or not all(isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in v):
                problems.append(f"{name} must be a sequence of positive ints, got {v!r}")
            else:
                setattr(self, name, tuple(v))  # JSON gives lists
        if isinstance(self.fcn_filters, tuple) and isinstance(self.fcn_kernels, tuple) and (
                len(self.fcn_filters) != len(self.fcn_kernels) or not self.fcn_filters):
            problems.append(f"fcn_filters and fcn_kernels must be equally long and non-empty, got "
                            f"{self.fcn_filters!r} and {self.fcn_kernels!r}")
        if self.class_weight is not None and len(self.class_weight) != self.num_classes:
            problems.append(f"class_weight must have num_classes={self.num_classes} entries, got {len(self.class_weight)}")
        if problems:
            raise ConfigError("ClassifierNetworkConfig: " + "; ".join(problems))


@register
class ClassifierNetwork(TaskModel):
    """Task model: logits (B, C) from a padded batch ``x`` (B, T, F) and ``lengths`` (B,)."""

    config_class = ClassifierNetworkConfig

    def __init__(self, config: ClassifierNetworkConfig) -> None:
        super().__init__(config)
        c = config
        n_in = c.input_size - c.static_size  # per-step inputs; the static ones skip the LSTM and the FCN
        self.encoder = LSTMEncoder(n_in * c.patch_size, c.hidden_size, c.num_layers, c.bidirectional, c.dropout)
        self.pool = SequencePooling(c.pooling, self.encoder.output_size)
        features = self.encoder.output_size + c.static_size
        if c.architecture == "lstm-fcn":
            self.fcn = FCNBranch(n_in, c.fcn_filters, c.fcn_kernels, c.squeeze_excite)
            self.drop = nn.Dropout(c.dropout)
            features += self.fcn.output_size
        self.head = DenseHead(features, c.head_hidden_size, c.num_classes, c.dropout)
        weight = torch.tensor(c.class_weight, dtype=torch.float32) if c.class_weight is not None else None
        self.register_buffer("class_weight", weight, persistent=False)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        c, p = self.config, self.config.patch_size
        fcn = c.architecture == "lstm-fcn"
        static = None
        if c.static_size:  # (B, S): constant over steps; read at the first step
            static, x = x[:, 0, x.shape[2] - c.static_size:], x[:, :, : x.shape[2] - c.static_size]
        if fcn or p > 1:  # patches and convolutions read the padding: zero it
            x = x * length_mask(lengths, x.shape[1]).unsqueeze(-1).to(x.dtype)
        seq, seq_lengths = x, lengths
        if p > 1:
            # (B, ceil(T / p), p F): pad p - 1 zero steps and keep whole patches (written so that the
            # ONNX trace keeps T symbolic: no pad amount computed from T)
            n = (x.shape[1] + p - 1) // p
            seq = nn.functional.pad(x, (0, 0, 0, p - 1))[:, : n * p].reshape(x.shape[0], -1, p * x.shape[2])
            seq_lengths = torch.div(lengths + p - 1, p, rounding_mode="floor")
        out, last = self.encoder(seq, seq_lengths)  # (B, T', D*H), (B, D*H)
        features = self.pool(out, last, seq_lengths)  # (B, D*H)
        if static is not None:
            features = torch.cat([features, static], dim=1)  # (B, D*H + S)
        if fcn:
            features = self.drop(torch.cat([features, self.fcn(x, lengths)], dim=1))  # (B, D*H [+ S] + C_fcn)
        return self.head(features)  # (B, C)

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


def config_from_v1(config: dict) -> dict:
    """0.1.0's LSTMClassifierConfig named the head width ``dense_size``."""
    config = dict(config)
    config["head_hidden_size"] = config.pop("dense_size")
    return config


@migration(1, "LSTMClassifierModel")
def _from_v1(meta: dict, tensors: dict) -> tuple[dict, dict]:
    return {**meta, "type": "ClassifierNetwork", "config": config_from_v1(meta["config"])}, tensors


def config_from_v2(config: dict) -> dict:
    """Format 2 (lstmkit 0.2) had the LSTM architecture only: the LSTM-FCN fields take the values
    that reproduce it."""
    return {**config, "architecture": "lstm", "patch_size": 1, "fcn_filters": [128, 256, 128],
            "fcn_kernels": [8, 5, 3], "squeeze_excite": True}


@migration(2, "ClassifierNetwork")
def _from_v2(meta: dict, tensors: dict) -> tuple[dict, dict]:
    return {**meta, "config": config_from_v2(meta["config"])}, tensors


def config_from_v4(config: dict) -> dict:
    """Format 4 had no ``static_size``: 0, no per-series statistics."""
    return {**config, "static_size": 0}


@migration(4, "ClassifierNetwork")
def _from_v4(meta: dict, tensors: dict) -> tuple[dict, dict]:
    return {**meta, "config": config_from_v4(meta["config"])}, tensors
