"""The pure-PyTorch path of the LSTM variants: a readable loop over
:func:`lstmkit.nn.variants.lstm_variant_cell` with autograd. It runs every variant on
every device and dtype, returns differentiable gates, and is what the layers use when the
fused CPU kernel is unavailable (no compiler) or cannot run a request (GPU, half precision,
gates with gradients). Contract: kernels/common.py, plus ``variant``.

:func:`lstm_layer` is the same loop with the masks given (as the fused kernel takes them): the
fused kernel's equations in PyTorch operations, differentiable to any order, which its backward
runs when it is itself differentiated (double backward)."""

from __future__ import annotations

import torch
from torch import Tensor

from lstmkit.nn.kernels.common import LayerOutput, LayerWeights, is_lstm_mode
from lstmkit.nn.variants import LayerVariant, VariantOptions, lstm_variant_cell, sample_masks

__all__ = ["run_layer", "supports", "lstm_layer"]


def supports(request) -> bool:
    return is_lstm_mode(request.mode) and request.mode != "lstm"


def run_layer(
    x: Tensor,
    weights: LayerWeights,
    h0: Tensor,
    c0: Tensor,
    *,
    mode: str,
    lengths: Tensor | None,
    reverse: bool,
    return_gates: bool,
    variant: LayerVariant,
) -> LayerOutput:
    T, B = x.shape[0], x.shape[1]
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    m = sample_masks(variant, w_hh, T, B, x)  # before the time loop
    bias = None if b_ih is None else b_ih + b_hh  # (4H,)
    valid = None if lengths is None else (torch.arange(T).unsqueeze(1) < lengths.cpu().unsqueeze(0)).to(x.device)
    if valid is not None:  # padding may hold anything (NaN, inf): never read it, not even in the backward
        x = torch.where(valid.unsqueeze(-1), x, 0.0)
    h, c = h0, c0
    ys: list[Tensor | None] = [None] * T
    gates: list[tuple[Tensor, ...] | None] = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):  # reverse: t >= len_b are skipped below
        zc = m.zc[t] if m.zc is not None else m.zc_p
        zh = m.zh[t] if m.zh is not None else m.zh_p
        h_new, c_new, (i, f, g, o), _ = lstm_variant_cell(x[t], h, c, w_ih, m.w_hh, bias, w_hr, variant, m.rd, zc, zh)
        if valid is not None:  # past a sequence's end: state carried, output and gates zero
            keep = valid[t].unsqueeze(-1)  # (B, 1)
            h, c = torch.where(keep, h_new, h), torch.where(keep, c_new, c)
            ys[t] = h_new.masked_fill(~keep, 0.0)
            if return_gates:
                gates[t] = tuple(v.masked_fill(~keep, 0.0) for v in (i, f, o, g, c_new))
        else:
            h, c = h_new, c_new
            ys[t] = h_new
            if return_gates:
                gates[t] = (i, f, o, g, c_new)
    output = torch.stack(ys, 0)  # (T, B, R)
    gate_seq = None
    if return_gates:
        gate_seq = tuple(torch.stack([step[k] for step in gates], 0) for k in range(5))  # 5 x (T, B, H)
    return LayerOutput(output, h, c, gate_seq)


def lstm_layer(
    x: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    bias: Tensor | None,
    w_hr: Tensor | None,
    h0: Tensor,
    c0: Tensor,
    *,
    lengths: Tensor | None = None,
    reverse: bool = False,
    peephole: Tensor | None = None,
    ln: tuple[Tensor, Tensor, Tensor, Tensor] | None = None,
    coupled: bool = False,
    hard: bool = False,
    rd: Tensor | None = None,
    zc: Tensor | None = None,
    zh: Tensor | None = None,
    zc_p: float = 0.0,
    zh_p: float = 0.0,
) -> tuple[Tensor, Tensor, Tensor]:
    """One layer and direction with the fused kernel's arguments (``bias`` = b_ih + b_hh, masks
    given: rd (B, R), zc (T, B, H), zh (T, B, R), or constant zoneout weights zc_p / zh_p);
    returns y (T, B, R) (zero past each end), h_n (B, R), c_n (B, H). PyTorch operations only."""
    opts = VariantOptions(peephole=peephole is not None, layer_norm=ln is not None, coupled_gates=coupled,
                          gate_activation="hard_sigmoid" if hard else "sigmoid")
    v = LayerVariant(opts, False, peephole, ln)
    T = x.shape[0]
    valid = None if lengths is None else (torch.arange(T).unsqueeze(1) < lengths.cpu().unsqueeze(0)).to(x.device)
    if valid is not None:  # never read padding
        x = torch.where(valid.unsqueeze(-1), x, 0.0)
    h, c = h0, c0
    ys: list[Tensor | None] = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        zct = zc[t] if zc is not None else zc_p
        zht = zh[t] if zh is not None else zh_p
        h_new, c_new, _, _ = lstm_variant_cell(x[t], h, c, w_ih, w_hh, bias, w_hr, v, rd, zct, zht)
        if valid is not None:  # past a sequence's end: state carried, output zero
            keep = valid[t].unsqueeze(-1)  # (B, 1)
            h, c = torch.where(keep, h_new, h), torch.where(keep, c_new, c)
            ys[t] = h_new.masked_fill(~keep, 0.0)
        else:
            h, c = h_new, c_new
            ys[t] = h_new
    return torch.stack(ys, 0), h, c
