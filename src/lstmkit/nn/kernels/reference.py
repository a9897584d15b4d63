"""The reference path: a readable loop over one cell step. Runs every configuration;
the ground truth the other paths are tested against. Contract: kernels/common.py."""

from __future__ import annotations

import torch
from torch import Tensor

from lstmkit.nn import functional as F
from lstmkit.nn.kernels.common import LSTM_MODES, LayerOutput, LayerWeights, reverse_padded, valid_mask

__all__ = ["run_layer", "supports"]


def supports(request) -> bool:
    return request.mode in LSTM_MODES or request.mode in F.STEP_FUNCTIONS


def run_layer(
    x: Tensor,
    weights: LayerWeights,
    h0: Tensor,
    c0: Tensor | None,
    *,
    mode: str,
    lengths: Tensor | None,
    reverse: bool,
    return_gates: bool,
) -> LayerOutput:
    T, B = x.shape[0], x.shape[1]
    if reverse:
        x = reverse_padded(x, lengths)  # each sequence now runs from its own end
    mask = valid_mask(lengths, T, B, x.device)  # (T, B, 1) or None
    if mask is not None:  # padding may hold anything (NaN, inf): never read it, not even in the backward
        x = torch.where(mask, x, 0.0)
    is_lstm = mode in LSTM_MODES
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    h, c = h0, c0
    outputs: list[Tensor] = []
    gates: list[tuple[Tensor, ...]] = []
    for t in range(T):
        if is_lstm:
            h_new, c_new, (i, f, g, o) = F.lstm_cell(x[t], h, c, w_ih, w_hh, b_ih, b_hh, w_hr)
            if return_gates:
                gates.append((i, f, o, g, c_new))
        else:
            h_new, c_new = F.STEP_FUNCTIONS[mode](x[t], h, w_ih, w_hh, b_ih, b_hh), None
        if mask is not None:  # finished sequences keep their last state
            h = torch.where(mask[t], h_new, h)
            c = torch.where(mask[t], c_new, c) if is_lstm else None
            outputs.append(h_new.masked_fill(~mask[t], 0.0))
        else:
            h, c = h_new, c_new
            outputs.append(h_new)
    output = torch.stack(outputs, 0)  # (T, B, R)
    gate_seq = None
    if return_gates and is_lstm:
        gate_seq = tuple(torch.stack([step[k] for step in gates], 0) for k in range(5))  # 5 x (T, B, H)
        if mask is not None:
            gate_seq = tuple(v.masked_fill(~mask, 0.0) for v in gate_seq)
    if reverse:
        output = reverse_padded(output, lengths)  # back to real time
        if gate_seq is not None:
            gate_seq = tuple(reverse_padded(v, lengths) for v in gate_seq)
    return LayerOutput(output, h, c, gate_seq)
