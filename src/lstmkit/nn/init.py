"""Initialisation schemes for the recurrent cells and layers.

``reset_parameters(module)`` first draws every parameter from U(-1/sqrt(H), 1/sqrt(H)) in
registration order, exactly as torch.nn.LSTM/GRU/RNN do (so under the same seed the
weights are identical), then applies the options:

* ``forget_bias`` (LSTM only): added to the forget-gate block of every ``bias_ih``.
  1.0 (lstmkit's default; Gers et al. 2000, Jozefowicz et al. 2015) keeps memory
  flowing early in training; 0.0 reproduces torch's initialisation exactly.
* ``recurrent_init="orthogonal"``: each gate block of every ``weight_hh`` becomes a
  (semi-)orthogonal matrix (Saxe et al. 2014), which helps very long sequences.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["reset_parameters", "orthogonal_recurrent_", "RECURRENT_INITS"]

RECURRENT_INITS = ("uniform", "orthogonal")


@torch.no_grad()
def orthogonal_recurrent_(weight_hh: torch.Tensor, hidden_size: int) -> torch.Tensor:
    """Make each (H, R) gate block of ``weight_hh`` (G*H, R) orthogonal, in place."""
    for block in weight_hh.split(hidden_size, dim=0):  # G x (H, R) views
        nn.init.orthogonal_(block)
    return weight_hh


@torch.no_grad()
def reset_parameters(
    module: nn.Module,
    *,
    forget_bias: float = 0.0,
    recurrent_init: str = "uniform",
    is_lstm: bool = False,
) -> None:
    """Initialise a cell or layer in place (see the module docstring)."""
    H = module.hidden_size
    stdv = 1.0 / math.sqrt(H) if H > 0 else 0.0
    for weight in module.parameters():
        nn.init.uniform_(weight, -stdv, stdv)
    for name, p in module.named_parameters():
        if is_lstm and forget_bias and name.startswith("bias_ih"):
            p[H : 2 * H] += forget_bias  # gate order i, f, g, o: f is the second block
        if recurrent_init == "orthogonal" and name.startswith("weight_hh"):
            orthogonal_recurrent_(p, H)
