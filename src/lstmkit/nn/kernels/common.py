"""Types and helpers shared by every execution path (no dispatch here).

Every path runs ONE layer and ONE direction with the same signature::

    run_layer(x, weights, h0, c0, *, mode, lengths, reverse, return_gates, **extras) -> LayerOutput

    x        (T, B, F)  layer input, time-major, contiguous or not
    weights  LayerWeights of this layer and direction (torch's parameter tensors, as is)
    h0       (B, R)     initial hidden state, R = proj_size or H
    c0       (B, H)     initial cell state (LSTM modes), else None
    mode     "lstm" | "gru" | "rnn_tanh" | "rnn_relu" (a variant path may add its own)
    lengths  None (every sequence has T steps) or an int64 CPU tensor (B,), validated:
             1 <= lengths[b] <= T
    reverse  False: t = 0 .. len_b-1; True: each sequence runs from its own last valid
             step len_b-1 back to 0 (the reverse direction of a bidirectional layer)
    return_gates  LSTM modes only: also return the five (T, B, H) gate tensors; when
             autograd is recording, they must carry gradients (a path whose gates are
             detached should return False from ``supports`` for
             ``request.return_gates and request.needs_grad``)
    **extras a variant layer may pass more keyword arguments (``_layer_extras``); a path
             that does not know them is never selected for that variant's mode

The returned ``LayerOutput.output`` is indexed by real time (also for ``reverse``) and
is zero at t >= len_b; ``h_n``/``c_n`` are the states after each sequence's last
processed step. Gates follow the same time indexing and are zero past each end.

A path may also offer ``run_stack`` (all layers and directions at once, torch's
calling convention, see ``torch_fused.run_stack``); the layer uses it when no gates are
requested.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "LayerWeights",
    "LayerOutput",
    "LSTM_MODES",
    "is_lstm_mode",
    "GATE_COUNT",
    "reverse_padded",
    "valid_mask",
    "lstm_gates_from_outputs",
    "functorch_active",
]

# Modes torch's own kernels know; number of gate blocks stacked in weight_ih / weight_hh.
GATE_COUNT = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
LSTM_MODES = frozenset({"lstm"})


def is_lstm_mode(mode: str) -> bool:
    """LSTM and its variants ("lstm_<variant>"): state (h, c), 4 gate blocks i f g o."""
    return mode == "lstm" or mode.startswith("lstm_")


class LayerWeights(NamedTuple):
    """Parameters of one layer and direction, named and shaped as in torch.nn.LSTM."""

    w_ih: Tensor  # (G*H, F)
    w_hh: Tensor  # (G*H, R)
    b_ih: Tensor | None = None  # (G*H,)
    b_hh: Tensor | None = None  # (G*H,)
    w_hr: Tensor | None = None  # (R, H) LSTM projection (proj_size > 0)


class LayerOutput(NamedTuple):
    """What every ``run_layer`` returns."""

    output: Tensor  # (T, B, R), zero past each sequence's end
    h_n: Tensor  # (B, R)
    c_n: Tensor | None = None  # (B, H) for LSTM modes
    # (input_gate, forget_gate, output_gate, candidate, cell), each (T, B, H), or None
    gates: tuple[Tensor, Tensor, Tensor, Tensor, Tensor] | None = None


_TRANSFORMS_ACTIVE = getattr(torch._C, "_are_functorch_transforms_active", None)


def functorch_active() -> bool:
    """Whether a torch.func transform (grad, vmap, jacrev, functional per-sample gradients) is
    running. Under one, lstmkit's C++ autograd Function cannot run (functorch has no rule for
    it), so the dispatch picks a path made of PyTorch operations. False while torch.compile
    traces (dynamo handles its own transforms)."""
    if _TRANSFORMS_ACTIVE is None or torch.compiler.is_compiling():
        return False
    return bool(_TRANSFORMS_ACTIVE())


def valid_mask(lengths: Tensor | None, T: int, B: int, device: torch.device) -> Tensor | None:
    """(T, B, 1) bool mask, True where t < lengths[b]; None when lengths is None."""
    if lengths is None:
        return None
    t = torch.arange(T, device=device).unsqueeze(1)  # (T, 1)
    return (t < lengths.to(device).unsqueeze(0)).unsqueeze(-1)  # (T, B, 1)


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of ``x`` (T, B, ...) within its own length.

    Steps past a sequence's end stay where they are, so applying it twice is the
    identity. Differentiable (a gather).
    """
    T, B = x.shape[0], x.shape[1]
    if lengths is None:
        return x.flip(0)
    t = torch.arange(T).unsqueeze(1)  # (T, 1)
    L = lengths.to(torch.int64).unsqueeze(0)  # (1, B)
    idx = torch.where(t < L, L - 1 - t, t)  # (T, B)
    idx = idx.to(x.device).view(T, B, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(0, idx)


def lstm_gates_from_outputs(
    x: Tensor,
    y: Tensor,
    w: LayerWeights,
    h0: Tensor,
    c0: Tensor,
    lengths: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Recompute an LSTM layer's gates from its known outputs, without a cell loop.

    ``x`` (T, B, F) and ``y`` (T, B, R) are in processing order (already reversed for a
    reverse direction). Since h_{t-1} is the previous output (the projected h with
    proj_size), all gate pre-activations come from one hoisted GEMM per weight; only
    c_t = f*c_{t-1} + i*g needs a (cheap, elementwise) recurrence. Differentiable: with
    autograd on, gradients reach the weights and the input through ``y`` as well.
    Returns (i, f, o, g, c), each (T, B, H), zero past each sequence's end.
    """
    T, B, H = x.shape[0], x.shape[1], w.w_hh.shape[0] // 4
    mask = valid_mask(lengths, T, B, x.device)  # (T, B, 1) or None
    if mask is not None:  # padding may hold anything (NaN, inf): never read it, not even in the backward
        x = torch.where(mask, x, 0.0)
    bias = None if w.b_ih is None else w.b_ih + w.b_hh  # (4H,)
    grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, y, h0, c0, *w)
    )
    pre = torch.nn.functional.linear(x, w.w_ih, bias)  # (T, B, 4H): input projection, all steps at once
    if grad:
        h_prev = torch.cat([h0.unsqueeze(0), y[:-1]], dim=0)  # (T, B, R): h_{t-1} for every t
        pre = pre + torch.nn.functional.linear(h_prev, w.w_hh)  # (T, B, 4H)
        i, f, g, o = pre.chunk(4, dim=-1)  # each (T, B, H)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    else:  # in place: one GEMM into the same buffer, activations without copies
        pre[0].addmm_(h0, w.w_hh.t())  # h_{-1} = h0
        if T > 1:  # h_{t-1} = y_{t-1}: one GEMM over all remaining steps
            pre[1:].view((T - 1) * B, 4 * H).addmm_(y[:-1].reshape((T - 1) * B, -1), w.w_hh.t())
        pre[..., : 2 * H].sigmoid_()
        pre[..., 2 * H : 3 * H].tanh_()
        pre[..., 3 * H :].sigmoid_()
        i, f, g, o = pre.chunk(4, dim=-1)  # each (T, B, H), views
    ig = i * g  # (T, B, H)
    if grad:
        cells, c = [], c0
        for t in range(T):
            c = f[t] * c + ig[t]  # (B, H)
            cells.append(c)
        c_seq = torch.stack(cells, 0)  # (T, B, H)
    else:
        c_seq, c = torch.empty_like(ig), c0
        for t in range(T):
            c = torch.addcmul(ig[t], f[t], c, out=c_seq[t])  # c_t = f_t * c_{t-1} + i_t * g_t
    if mask is not None:
        i, f, o, g, c_seq = (v.masked_fill(~mask, 0.0) for v in (i, f, o, g, c_seq))
    return i, f, o, g, c_seq
