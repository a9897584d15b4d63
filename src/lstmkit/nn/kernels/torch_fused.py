"""The torch path: PyTorch's own fused recurrent kernels (the ``torch._VF`` functions that
torch.nn.LSTM/GRU/RNN call; oneDNN on CPU, cuDNN on GPU). Variable lengths go through
``pack_padded_sequence(enforce_sorted=False)``. Contract: kernels/common.py."""

from __future__ import annotations

import torch
from torch import Tensor, _VF
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmkit.nn.kernels.common import (
    GATE_COUNT,
    LSTM_MODES,
    LayerOutput,
    LayerWeights,
    lstm_gates_from_outputs,
    reverse_padded,
)

__all__ = ["run_layer", "run_stack", "supports"]

_VF_FUNCTIONS = {"lstm": _VF.lstm, "gru": _VF.gru, "rnn_tanh": _VF.rnn_tanh, "rnn_relu": _VF.rnn_relu}


def supports(request) -> bool:
    # under a torch.func transform, packing (lengths) has no functorch support: the reference path runs
    return (
        request.mode in GATE_COUNT
        and request.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16)
        and not (request.transformed and request.has_lengths)
    )


def run_stack(
    x: Tensor,
    flat_weights: list[Tensor],
    h0: Tensor,
    c0: Tensor | None,
    *,
    mode: str,
    lengths: Tensor | None,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    training: bool,
    has_biases: bool,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """All layers and directions in one fused call; returns (output (T,B,D*R), h_n, c_n)."""
    fn = _VF_FUNCTIONS[mode]
    is_lstm = mode in LSTM_MODES
    if lengths is None:
        hx = (h0, c0) if is_lstm else h0
        result = fn(x, hx, flat_weights, has_biases, num_layers, dropout, training, bidirectional, False)
        return result[0], result[1], (result[2] if is_lstm else None)
    T = x.shape[0]
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    order = packed.sorted_indices.to(h0.device)  # (B,) longest first
    hx = (h0.index_select(1, order), c0.index_select(1, order)) if is_lstm else h0.index_select(1, order)
    result = fn(
        packed.data, packed.batch_sizes, hx, flat_weights, has_biases, num_layers, dropout, training, bidirectional
    )
    out_packed = packed._replace(data=result[0])
    output, _ = pad_packed_sequence(out_packed, total_length=T)  # (T, B, D*R), original order, zero-padded
    back = packed.unsorted_indices.to(h0.device)
    h_n = result[1].index_select(1, back)
    c_n = result[2].index_select(1, back) if is_lstm else None
    return output, h_n, c_n


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
    is_lstm = mode in LSTM_MODES
    flat = [w for w in weights if w is not None]  # torch's order: w_ih, w_hh, b_ih, b_hh, w_hr
    if reverse:
        x = reverse_padded(x, lengths)  # each sequence now runs from its own end
    y, h_n, c_n = run_stack(
        x,
        flat,
        h0.unsqueeze(0),
        c0.unsqueeze(0) if is_lstm else None,
        mode=mode,
        lengths=lengths,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        training=False,
        has_biases=weights.b_ih is not None,
    )
    gates = None
    if return_gates and is_lstm:
        gates = lstm_gates_from_outputs(x, y, weights, h0, c0, lengths)  # 5 x (T, B, H)
    if reverse:
        y = reverse_padded(y, lengths)  # back to real time
        if gates is not None:
            gates = tuple(reverse_padded(v, lengths) for v in gates)
    return LayerOutput(y, h_n[0], c_n[0] if is_lstm else None, gates)
