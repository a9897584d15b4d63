"""Many-to-one sequence model: a recurrent core read at the last step, plus a linear head.

Used by the long-time-lag experiments (adding problem, temporal order) to compare the LSTM
with the GRU and the vanilla RNN on the same footing: same head, same trainer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from lstmkit.errors import ConfigError, suggest
from lstmkit.models.base import TaskModel
from lstmkit.nn import GRU, LSTM, RNN
from lstmkit.persist import migration, register

__all__ = ["SequenceNetwork", "SequenceNetworkConfig"]

CELLS = ("lstm", "lstm-ln", "gru", "rnn")
TASKS = ("regression", "classification")


@dataclasses.dataclass
class SequenceNetworkConfig:
    input_size: int = 2  # features per step (F)
    output_size: int = 1  # regression targets, or number of classes
    hidden_size: int = 64  # H: more memory cells learn faster per step, cost H^2 per step
    num_layers: int = 1  # stacked layers; deeper is slower and rarely needed for long lags
    cell: str = "lstm"  # "lstm" | "lstm-ln" (layer-norm LSTM, fused kernel) | "gru" | "rnn" (vanilla tanh RNN, the baseline)
    task: str = "regression"  # "regression" (MSE, MAE metric) | "classification" (cross-entropy, error rate)
    forget_bias: float = 1.0  # LSTM forget-gate bias at init: 1 keeps memory open early (Gers et al.)
    dropout: float = 0.0  # dropout between stacked layers; only acts when num_layers > 1

    def __post_init__(self) -> None:
        problems = []
        for name in ("input_size", "output_size", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                problems.append(f"{name} must be a positive int, got {v!r}")
        if self.cell not in CELLS:
            problems.append(f"cell must be one of {list(CELLS)}, got {self.cell!r}{suggest(str(self.cell), CELLS)}")
        if self.task not in TASKS:
            problems.append(f"task must be one of {list(TASKS)}, got {self.task!r}{suggest(str(self.task), TASKS)}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if problems:
            raise ConfigError("SequenceNetworkConfig: " + "; ".join(problems))


def _recurrent(config: SequenceNetworkConfig) -> nn.Module:
    kw: dict[str, Any] = dict(num_layers=config.num_layers, batch_first=True, dropout=config.dropout if config.num_layers > 1 else 0.0)
    if config.cell in ("lstm", "lstm-ln"):
        return LSTM(config.input_size, config.hidden_size, forget_bias=config.forget_bias, layer_norm=config.cell == "lstm-ln", **kw)
    cls = GRU if config.cell == "gru" else RNN
    return cls(config.input_size, config.hidden_size, **kw)


@register
class SequenceNetwork(TaskModel):
    """Sequence in, one answer out: ``x`` (B, T, F) -> (B, output_size).

    Batches are ``(x, y)``: y (B,) floats for regression (output_size 1) or (B,) class
    indices for classification. The answer is read from the last time step (left-padded
    sequences, as the synthetic datasets produce).
    """

    config_class = SequenceNetworkConfig

    def __init__(self, config: SequenceNetworkConfig) -> None:
        super().__init__(config)
        self.rnn = _recurrent(config)
        self.head = nn.Linear(config.hidden_size, config.output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (B, T, H)
        return self.head(out[:, -1])  # (B, output_size)

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        out = self(x)
        if self.config.task == "classification":
            return nn.functional.cross_entropy(out, y)
        return nn.functional.mse_loss(out.squeeze(-1), y)

    @torch.no_grad()
    def metrics(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        x, y = batch
        out = self(x)
        if self.config.task == "classification":
            return {
                "loss": float(nn.functional.cross_entropy(out, y)),
                "error": float((out.argmax(-1) != y).float().mean()),
            }
        pred = out.squeeze(-1)
        err = (pred - y).abs()
        return {
            "loss": float(nn.functional.mse_loss(pred, y)),
            "mae": float(err.mean()),
            "wrong": float((err >= 0.04).float().mean()),  # fraction the paper would count as wrong
        }


@migration(1, "LSTMSequenceModel")
def _from_v1(meta: dict, tensors: dict) -> tuple[dict, dict]:
    """0.1.0 called this network LSTMSequenceModel; its config and weights are unchanged."""
    return {**meta, "type": "SequenceNetwork"}, tensors
