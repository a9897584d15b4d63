"""The sequence-classification network: (Bi)LSTM -> pooling -> dense -> softmax.

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
from lstmkit.models.heads import POOLINGS, DenseHead, LSTMEncoder, SequencePooling
from lstmkit.persist import migration, register

__all__ = ["ClassifierNetwork", "ClassifierNetworkConfig"]


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

    def __post_init__(self) -> None:
        problems = []
        for name in ("input_size", "num_classes", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
                problems.append(f"{name} must be a positive int, got {v!r}")
        if not (isinstance(self.head_hidden_size, int) and self.head_hidden_size >= 0):
            problems.append(f"head_hidden_size must be a non-negative int, got {self.head_hidden_size!r}")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.pooling not in POOLINGS:
            problems.append(f"pooling must be one of {list(POOLINGS)}, got {self.pooling!r}{suggest(str(self.pooling), POOLINGS)}")
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
        self.encoder = LSTMEncoder(c.input_size, c.hidden_size, c.num_layers, c.bidirectional, c.dropout)
        self.pool = SequencePooling(c.pooling, self.encoder.output_size)
        self.head = DenseHead(self.encoder.output_size, c.head_hidden_size, c.num_classes, c.dropout)
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


def config_from_v1(config: dict) -> dict:
    """0.1.0's LSTMClassifierConfig named the head width ``dense_size``."""
    config = dict(config)
    config["head_hidden_size"] = config.pop("dense_size")
    return config


@migration(1, "LSTMClassifierModel")
def _from_v1(meta: dict, tensors: dict) -> tuple[dict, dict]:
    return {**meta, "type": "ClassifierNetwork", "config": config_from_v1(meta["config"])}, tensors
