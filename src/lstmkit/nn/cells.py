"""Recurrent cells: parameters plus one time step.

Every cell offers the same protocol: ``state_size``, ``initial_state(batch)`` and a
one-step ``forward(input, state=None)``. Parameter names, shapes and gate order are
torch.nn.LSTMCell / GRUCell / RNNCell's, so state dicts move between them unchanged
(plus ``weight_hr`` for an LSTMCell with ``proj_size``, named as in torch.nn.LSTM).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit.errors import ShapeError, ShapeRuntimeError, ShapeTypeError, suggest
from lstmkit.nn import _validate as V
from lstmkit.nn import functional as F
from lstmkit.nn.init import RECURRENT_INITS, reset_parameters
from lstmkit.nn.variants import VariantOptions, lstm_variant_cell, sample_masks

__all__ = ["LSTMCell", "GRUCell", "RNNCell"]


class _CellBase(nn.Module):
    _gates = 1

    def _build(self, owner, input_size, hidden_size, bias, proj_size, recurrent_init, device, dtype, extra=()):
        problems: list[str] = []
        # zero sizes are allowed, as in torch.nn.LSTMCell: the step then returns empty tensors
        V.positive_int("input_size", input_size, problems, minimum=0)
        V.positive_int("hidden_size", hidden_size, problems, minimum=0)
        V.positive_int("proj_size", proj_size, problems, minimum=0)
        V.boolean("bias", bias, problems)
        if recurrent_init not in RECURRENT_INITS:
            problems.append(
                f"recurrent_init must be one of {RECURRENT_INITS}, got {recurrent_init!r}"
                + suggest(str(recurrent_init), RECURRENT_INITS)
            )
        problems.extend(extra)
        if not problems and proj_size and proj_size >= hidden_size:
            problems.append(f"proj_size must be smaller than hidden_size={hidden_size}, got {proj_size}")
        V.raise_problems(owner, problems)
        self.input_size, self.hidden_size, self.bias, self.proj_size = input_size, hidden_size, bias, proj_size
        self.recurrent_init = recurrent_init
        kw = {"device": device, "dtype": dtype}
        G, H, R = self._gates, hidden_size, proj_size or hidden_size
        self.weight_ih = nn.Parameter(torch.empty(G * H, input_size, **kw))  # (G*H, F)
        self.weight_hh = nn.Parameter(torch.empty(G * H, R, **kw))  # (G*H, R)
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G * H, **kw))  # (G*H,)
            self.bias_hh = nn.Parameter(torch.empty(G * H, **kw))  # (G*H,)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        if proj_size:
            self.weight_hr = nn.Parameter(torch.empty(R, H, **kw))  # (R, H)

    def _autocast(self):
        return V.autocast_dtype(self.weight_ih.device.type, self.weight_ih.dtype)

    def _input(self, input: Tensor) -> tuple[Tensor, bool]:
        # under torch.autocast the input may be in autocast's dtype (e.g. a Linear's output), as in torch.nn
        x = V.floating_tensor("input", input, self.weight_ih.dtype, self._autocast())
        if x.dim() not in (1, 2):
            raise ShapeError(
                f"input must have 2 dimensions (B, F) or 1 (F,) for one unbatched step, "
                f"got {x.dim()} dimensions with shape {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ShapeRuntimeError(
                f"input feature size must be input_size={self.input_size}, got {x.shape[-1]} "
                f"(input has inconsistent input_size: got {x.shape[-1]} expected {self.input_size})"
            )
        batched = x.dim() == 2
        return (x if batched else x.unsqueeze(0)), batched

    def _state(self, name: str, value, B: int, size: int, batched: bool, x: Tensor) -> Tensor:
        """A given state, in x's dtype (it may differ only under torch.autocast)."""
        expected = (B, size) if batched else (size,)
        t = V.state_tensor(name, value, expected, self.weight_ih.dtype, "(B, hidden)" if batched else "(hidden,)",
                           "Expected hidden size {expected}, got {got}", self._autocast())
        t = t.to(x.dtype)
        return t if batched else t.unsqueeze(0)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        return s


class LSTMCell(_CellBase):
    r"""One LSTM step (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al.).

    .. math::
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})      input gate
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})      forget gate
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})       candidate
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})      output gate
        c_t = f_t \odot c_{t-1} + i_t \odot g_t
        h_t = o_t \odot \tanh(c_t)         (h_t = W_{hr} h_t when proj_size > 0)

    Parameters (torch.nn.LSTMCell's names; gate blocks stacked i, f, g, o):
    ``weight_ih`` (4H, F), ``weight_hh`` (4H, R), ``bias_ih``/``bias_hh`` (4H,),
    ``weight_hr`` (R, H) with a projection; R = proj_size or H.

    ``forget_bias`` (default 1.0) is added to the forget block of ``bias_ih`` at
    initialisation; 0.0 reproduces torch's initialisation exactly.
    """

    _gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        proj_size: int = 0,
        *,
        forget_bias: float = 1.0,
        recurrent_init: str = "uniform",
        peephole: bool = False,
        layer_norm: bool = False,
        coupled_gates: bool = False,
        recurrent_dropout: float = 0.0,
        weight_drop: float = 0.0,
        zoneout: float | tuple[float, float] = 0.0,
        gate_activation: str = "sigmoid",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        problems: list[str] = []
        variant = VariantOptions.build(
            problems, peephole=peephole, layer_norm=layer_norm, coupled_gates=coupled_gates,
            recurrent_dropout=recurrent_dropout, weight_drop=weight_drop, zoneout=zoneout,
            gate_activation=gate_activation,
        )
        self._build("LSTMCell", input_size, hidden_size, bias, proj_size, recurrent_init, device, dtype,
                    extra=tuple(problems))
        self.forget_bias = float(forget_bias)
        # variants (equations and parameter names: lstmkit.nn.variants); masks are drawn per call
        self.variant = variant
        variant.add_parameters(self, "", hidden_size, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_parameters(self, forget_bias=self.forget_bias, recurrent_init=self.recurrent_init, is_lstm=True)
        self.variant.reset_parameters(self, "", self.hidden_size)

    def extra_repr(self) -> str:
        return ", ".join([super().extra_repr(), *self.variant.repr_items()])

    @property
    def state_size(self) -> tuple[int, int]:
        """(R, H): sizes of h and c."""
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def initial_state(self, batch: int) -> tuple[Tensor, Tensor]:
        """Zero state ``(h, c)``: (B, R), (B, H)."""
        kw = {"device": self.weight_ih.device, "dtype": self.weight_ih.dtype}
        return torch.zeros(batch, self.state_size[0], **kw), torch.zeros(batch, self.hidden_size, **kw)

    def forward(self, input: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """input (B, F) or (F,); state (h_prev, c_prev) or None (zeros). Returns (h, c)."""
        x, batched = self._input(input)
        if state is None:
            h_prev, c_prev = (s.to(x.dtype) for s in self.initial_state(x.shape[0]))
        else:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ShapeTypeError(f"state must be a tuple (h_prev, c_prev), got {type(state).__name__}")
            h_prev = self._state("state h_prev", state[0], x.shape[0], self.state_size[0], batched, x)
            c_prev = self._state("state c_prev", state[1], x.shape[0], self.hidden_size, batched, x)
        if self.variant.active:  # the variant equations, in lstmkit.nn.variants.lstm_variant_cell
            v = self.variant.layer_variant(self, "", self.training)
            m = sample_masks(v, self.weight_hh, 1, x.shape[0], x)
            b = None if self.bias_ih is None else self.bias_ih + self.bias_hh
            h, c, _, _ = lstm_variant_cell(
                x, h_prev, c_prev, self.weight_ih, m.w_hh, b, getattr(self, "weight_hr", None), v, m.rd,
                m.zc[0] if m.zc is not None else m.zc_p, m.zh[0] if m.zh is not None else m.zh_p,
            )
            return (h, c) if batched else (h[0], c[0])
        h, c, _ = F.lstm_cell(
            x, h_prev, c_prev, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
            getattr(self, "weight_hr", None),
        )  # the equations above, in lstmkit.nn.functional.lstm_cell
        return (h, c) if batched else (h[0], c[0])


class GRUCell(_CellBase):
    r"""One GRU step (Cho et al. 2014, torch's formulation).

    .. math::
        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})
        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    Parameters as torch.nn.GRUCell: ``weight_ih`` (3H, F), ``weight_hh`` (3H, H),
    ``bias_ih``/``bias_hh`` (3H,), blocks stacked r, z, n.
    """

    _gates = 3

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 recurrent_init: str = "uniform", device=None, dtype=None) -> None:
        super().__init__()
        self._build("GRUCell", input_size, hidden_size, bias, 0, recurrent_init, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_parameters(self, recurrent_init=self.recurrent_init)

    @property
    def state_size(self) -> int:
        return self.hidden_size

    def initial_state(self, batch: int) -> Tensor:
        return torch.zeros(batch, self.hidden_size, device=self.weight_ih.device, dtype=self.weight_ih.dtype)

    def _step(self, x: Tensor, h_prev: Tensor) -> Tensor:
        return F.gru_cell(x, h_prev, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    def forward(self, input: Tensor, state: Tensor | None = None) -> Tensor:
        """input (B, F) or (F,); state h_prev (B, H) or None (zeros). Returns h."""
        x, batched = self._input(input)
        h_prev = self.initial_state(x.shape[0]).to(x.dtype) if state is None else self._state(
            "state", state, x.shape[0], self.hidden_size, batched, x
        )
        h = self._step(x, h_prev)
        return h if batched else h[0]


class RNNCell(GRUCell):
    r"""One vanilla (Elman) RNN step, the unit the LSTM improves on:
    :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})` (or ReLU).

    Parameters as torch.nn.RNNCell: ``weight_ih`` (H, F), ``weight_hh`` (H, H),
    ``bias_ih``/``bias_hh`` (H,).
    """

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", *,
                 recurrent_init: str = "uniform", device=None, dtype=None) -> None:
        nn.Module.__init__(self)
        extra = []
        if nonlinearity not in ("tanh", "relu"):
            extra.append(
                f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
                + suggest(str(nonlinearity), ("tanh", "relu"))
            )
        self._build("RNNCell", input_size, hidden_size, bias, 0, recurrent_init, device, dtype, extra)
        self.nonlinearity = nonlinearity
        self.reset_parameters()

    def _step(self, x: Tensor, h_prev: Tensor) -> Tensor:
        return F.rnn_cell(x, h_prev, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


