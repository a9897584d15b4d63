r"""The classic LSTM variants, as composable options of :class:`lstmkit.nn.LSTM` and
:class:`lstmkit.nn.LSTMCell`.

One step with every option (gate order i, f, g, o; ``act`` = sigmoid or hard_sigmoid)::

    r_t  = m_rd * h_{t-1}                                  recurrent_dropout (Gal & Ghahramani 2016)
    a_t  = LN(W_ih x_t; g_ih) + LN(W'_hh r_t; g_hh) + b    layer_norm (Ba et al. 2016, Haste's LayerNormLSTM)
           (else W_ih x_t + W'_hh r_t + b)                 W'_hh = W_hh * M / (1 - p): weight_drop (AWD-LSTM)
    i_t  = act(a_i + w_ci * c_{t-1})                       peephole (Gers & Schmidhuber 2000)
    f_t  = act(a_f + w_cf * c_{t-1})                       coupled_gates: i_t = 1 - f_t (CIFG)
    g_t  = tanh(a_g)
    c'_t = f_t * c_{t-1} + i_t * g_t
    o_t  = act(a_o + w_co * c'_t)                          the output gate sees the new cell
    h'_t = o_t * tanh(LN(c'_t; g_c, b_c))                  (else o_t * tanh(c'_t)); W_hr h'_t with proj_size
    c_t  = z_c * c_{t-1} + (1 - z_c) * c'_t                zoneout (Krueger et al. 2016): z ~ Bernoulli(p)
    h_t  = z_h * h_{t-1} + (1 - z_h) * h'_t                in training, z = p (the expectation) in eval

LN(v; g) = g * (v - mean(v)) / sqrt(var(v) + 1e-5) over the feature dimension (4H or H).
``gate_activation="hard_sigmoid"`` is Keras' (<= 2.x, tf.keras) clip(0.2 x + 0.5, 0, 1), for
ported models. With ``coupled_gates`` the input-gate rows of the weights are unused
(kept so that shapes and state dicts stay torch's).

Masks are drawn from torch's global generator (reproducible under ``torch.manual_seed``)
before the time loop, in a fixed order (weight_drop, recurrent_dropout, zoneout c, zoneout
h), once per layer and direction per forward call; none in eval mode. A layer draws one
recurrent-dropout mask per sequence and a zoneout mask per step; an LSTMCell (one step per
call) draws them per call.

With ``return_gates=True`` the ``cell`` entry is the state c_t (after zoneout, so with zoneout
c_t = f*c_{t-1} + i*g holds for c'_t only). Without autograd the fused kernel returns the gates
it computed anyway; with autograd the pure-PyTorch path runs, so the gates carry gradients.

New parameters (layer names add the usual ``_l{k}`` / ``_reverse`` suffix):
``weight_peephole`` (3, H) rows (w_ci, w_cf, w_co), initialised like the weights;
``ln_weight_ih`` (4H,), ``ln_weight_hh`` (4H,), ``ln_weight_c`` (H,) = 1 and ``ln_bias_c`` (H,) = 0.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as TF

from lstmkit.errors import suggest

__all__ = ["VariantOptions", "LayerVariant", "GATE_ACTIVATIONS", "lstm_variant_cell", "sample_masks"]

GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid")
LN_EPS = 1e-5


@dataclass(frozen=True)
class VariantOptions:
    """The variant options of one LSTM (validated by :meth:`build`)."""

    peephole: bool = False
    layer_norm: bool = False
    coupled_gates: bool = False
    recurrent_dropout: float = 0.0
    weight_drop: float = 0.0
    zoneout: tuple[float, float] = (0.0, 0.0)  # (p_c, p_h)
    gate_activation: str = "sigmoid"

    @classmethod
    def build(cls, problems: list[str], *, peephole=False, layer_norm=False, coupled_gates=False,
              recurrent_dropout=0.0, weight_drop=0.0, zoneout=0.0, gate_activation="sigmoid") -> VariantOptions:
        """Validate constructor arguments; appends messages to ``problems``."""
        for name, value in (("peephole", peephole), ("layer_norm", layer_norm), ("coupled_gates", coupled_gates)):
            if not isinstance(value, bool):
                problems.append(f"{name} must be True or False, got {value!r}")
        for name, value in (("recurrent_dropout", recurrent_dropout), ("weight_drop", weight_drop)):
            if not _is_prob(value):
                problems.append(f"{name} must be a float in [0, 1), got {value!r}")
        if _is_prob(zoneout):
            zc = zh = float(zoneout)
        elif (isinstance(zoneout, (tuple, list)) and len(zoneout) == 2 and all(_is_prob(v) for v in zoneout)):
            zc, zh = float(zoneout[0]), float(zoneout[1])
        else:
            problems.append(f"zoneout must be a float in [0, 1) or a pair (p_c, p_h) of them, got {zoneout!r}")
            zc = zh = 0.0
        if gate_activation not in GATE_ACTIVATIONS:
            problems.append(
                f"gate_activation must be one of {GATE_ACTIVATIONS}, got {gate_activation!r}"
                + suggest(str(gate_activation), GATE_ACTIVATIONS)
            )
            gate_activation = "sigmoid"
        return cls(bool(peephole), bool(layer_norm), bool(coupled_gates), float(recurrent_dropout)
                   if _is_prob(recurrent_dropout) else 0.0, float(weight_drop) if _is_prob(weight_drop) else 0.0,
                   (zc, zh), gate_activation)

    @property
    def active(self) -> bool:
        return self != VariantOptions()

    @property
    def hard_sigmoid(self) -> bool:
        return self.gate_activation == "hard_sigmoid"

    def repr_items(self) -> list[str]:
        """``name=value`` for the options that differ from the defaults (extra_repr)."""
        out = []
        for name, default in (("peephole", False), ("layer_norm", False), ("coupled_gates", False),
                              ("recurrent_dropout", 0.0), ("weight_drop", 0.0), ("zoneout", (0.0, 0.0)),
                              ("gate_activation", "sigmoid")):
            if getattr(self, name) != default:
                out.append(f"{name}={getattr(self, name)!r}")
        return out

    # ---- parameters --------------------------------------------------------------------
    def add_parameters(self, module: nn.Module, suffix: str, H: int, device=None, dtype=None) -> None:
        kw = {"device": device, "dtype": dtype}
        if self.peephole:
            module.register_parameter(f"weight_peephole{suffix}", nn.Parameter(torch.empty(3, H, **kw)))
        if self.layer_norm:
            for name, n in (("ln_weight_ih", 4 * H), ("ln_weight_hh", 4 * H), ("ln_weight_c", H), ("ln_bias_c", H)):
                module.register_parameter(f"{name}{suffix}", nn.Parameter(torch.empty(n, **kw)))

    @torch.no_grad()
    def reset_parameters(self, module: nn.Module, suffix: str, H: int) -> None:
        if self.peephole:
            bound = 1.0 / H**0.5 if H > 0 else 0.0
            nn.init.uniform_(getattr(module, f"weight_peephole{suffix}"), -bound, bound)
        if self.layer_norm:
            for name in ("ln_weight_ih", "ln_weight_hh", "ln_weight_c"):
                nn.init.ones_(getattr(module, f"{name}{suffix}"))
            nn.init.zeros_(getattr(module, f"ln_bias_c{suffix}"))

    def layer_variant(self, module: nn.Module, suffix: str, training: bool) -> LayerVariant:
        ln = None
        if self.layer_norm:
            ln = tuple(getattr(module, f"{n}{suffix}") for n in ("ln_weight_ih", "ln_weight_hh", "ln_weight_c",
                                                                   "ln_bias_c"))
        return LayerVariant(self, training, getattr(module, f"weight_peephole{suffix}", None), ln)


def _is_prob(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and 0.0 <= float(v) < 1.0


@dataclass(frozen=True)
class LayerVariant:
    """What an execution path receives (``run_layer(..., variant=...)``) for one layer-direction."""

    options: VariantOptions
    training: bool
    peephole: Tensor | None = None  # (3, H)
    ln: tuple[Tensor, Tensor, Tensor, Tensor] | None = None  # gains ih (4H), hh (4H), c (H), bias c (H)


@dataclass(frozen=True)
class Masks:
    """Sampled masks of one forward call (None where an option is off or in eval)."""

    w_hh: Tensor  # the recurrent weights to use (weight-dropped in training)
    rd: Tensor | None  # (B, R), scaled by 1 / (1 - p)
    zc: Tensor | None  # (T, B, H) weight on c_{t-1}; None: constant zc_p
    zh: Tensor | None  # (T, B, R)
    zc_p: float  # constant zoneout weight when the mask is None (eval: the expectation)
    zh_p: float


def sample_masks(v: LayerVariant, w_hh: Tensor, T: int, B: int, like: Tensor) -> Masks:
    """Draw this call's masks before the time loop (fixed order; none in eval)."""
    o = v.options
    H, R = w_hh.shape[0] // 4, w_hh.shape[1]
    if not v.training:
        return Masks(w_hh, None, None, None, o.zoneout[0], o.zoneout[1])
    if o.weight_drop:
        w_hh = TF.dropout(w_hh, o.weight_drop, training=True)  # DropConnect once per forward
    rd = None
    if o.recurrent_dropout:
        keep = 1.0 - o.recurrent_dropout
        rd = torch.bernoulli(torch.full((B, R), keep, dtype=like.dtype, device=like.device)) / keep
    zc = zh = None
    if o.zoneout[0]:
        zc = torch.bernoulli(torch.full((T, B, H), o.zoneout[0], dtype=like.dtype, device=like.device))
    if o.zoneout[1]:
        zh = torch.bernoulli(torch.full((T, B, R), o.zoneout[1], dtype=like.dtype, device=like.device))
    return Masks(w_hh, rd, zc, zh, 0.0, 0.0)


def _ln(v: Tensor, gain: Tensor, bias: Tensor | None = None) -> Tensor:
    return TF.layer_norm(v, v.shape[-1:], gain, bias, LN_EPS)


def lstm_variant_cell(
    x: Tensor,
    h_prev: Tensor,
    c_prev: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b: Tensor | None,
    w_hr: Tensor | None,
    v: LayerVariant,
    rd: Tensor | None,
    zc: Tensor | float,
    zh: Tensor | float,
) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor, Tensor], Tensor]:
    """One step of the module-docstring equations; returns (h_t, c_t, (i, f, g, o), c'_t).

    x (B, F), h_prev (B, R), c_prev (B, H); ``w_hh`` already weight-dropped; b = b_ih + b_hh.
    """
    o_ = v.options
    act = (lambda a: torch.clamp(0.2 * a + 0.5, 0.0, 1.0)) if o_.hard_sigmoid else torch.sigmoid
    r = h_prev if rd is None else h_prev * rd  # (B, R)
    wx, rh = TF.linear(x, w_ih), TF.linear(r, w_hh)  # (B, 4H) each
    a = _ln(wx, v.ln[0]) + _ln(rh, v.ln[1]) if v.ln is not None else wx + rh
    if b is not None:
        a = a + b
    a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)  # each (B, H)
    if v.peephole is not None:
        a_i, a_f = a_i + v.peephole[0] * c_prev, a_f + v.peephole[1] * c_prev
    f = act(a_f)
    i = 1.0 - f if o_.coupled_gates else act(a_i)
    g = torch.tanh(a_g)
    c_new = f * c_prev + i * g  # (B, H)
    if v.peephole is not None:
        a_o = a_o + v.peephole[2] * c_new
    o = act(a_o)
    h_new = o * torch.tanh(_ln(c_new, v.ln[2], v.ln[3]) if v.ln is not None else c_new)  # (B, H)
    if w_hr is not None:
        h_new = TF.linear(h_new, w_hr)  # (B, R)
    c = zc * c_prev + (1.0 - zc) * c_new if _on(zc) else c_new
    h = zh * h_prev + (1.0 - zh) * h_new if _on(zh) else h_new
    return h, c, (i, f, g, o), c_new


def _on(z) -> bool:
    return isinstance(z, Tensor) or z != 0.0

