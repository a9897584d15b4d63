"""Recurrent layers LSTM, GRU and RNN: time, stacking, directions, lengths and state.

Drop-in for torch.nn.LSTM/GRU/RNN: the same constructor arguments and parameter names
(``weight_ih_l{k}[_reverse]``, ...), so state dicts load both ways, plus

* ``lengths=``: right-padded variable-length batches without packing by hand;
* ``return_gates=True``: every gate of every layer, direction and step (LSTM);
* ``step(x_t, state)``: one step at a time for streaming, identical to ``forward``.

The layer never computes a cell itself: it validates, then runs an execution path
chosen by :func:`lstmkit.nn.kernels.select_path` (reference loop, PyTorch's fused
kernel, ...), all of which give the same numbers.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as TF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit.errors import ConfigError, ShapeError, ShapeRuntimeError, ShapeTypeError, suggest
from lstmkit.nn import _validate as V
from lstmkit.nn.init import RECURRENT_INITS, reset_parameters
from lstmkit.nn.kernels import KernelRequest, LayerWeights, select_path
from lstmkit.nn.kernels.common import GATE_COUNT, functorch_active, is_lstm_mode
from lstmkit.nn.variants import VariantOptions

__all__ = ["LSTM", "GRU", "RNN", "LSTMGates"]


class LSTMGates(NamedTuple):
    """Gate activations of an LSTM, each (L*D, T, B, H) (``(L*D, T, H)`` for unbatched input).

    Index k = layer * num_directions + direction, as in h_n. Time is real time for both
    directions (the reverse direction's entry at t is the step that read x_t). Entries
    past a sequence's length are zero. ``cell`` is c_t; with ``c_{-1}`` the initial state
    (in each direction's processing order), c_t = forget_gate*c_{t-1} +
    input_gate*candidate and h_t = output_gate*tanh(c_t).
    """

    input_gate: Tensor
    forget_gate: Tensor
    output_gate: Tensor
    candidate: Tensor
    cell: Tensor


_TORCH_HIDDEN = "Expected hidden size {expected}, got {got}"  # torch.nn's wording, which tests match


def _no_projection(owner: str, proj_size) -> None:
    """torch.nn.GRU/RNN reject any ``proj_size`` with a ValueError; so do these."""
    if proj_size is not None:
        raise ConfigError(
            f"{owner}: proj_size argument is only supported for LSTM, not RNN or GRU; got proj_size={proj_size!r} "
            "(use lstmkit.nn.LSTM for a projection)"
        )


class _RNNBase(nn.Module):
    """Shared machinery of LSTM, GRU and RNN (not public)."""

    _torch_class: type[nn.Module]

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        forget_bias: float = 0.0,
        recurrent_init: str = "uniform",
        device=None,
        dtype=None,
        extra_problems: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        problems: list[str] = list(extra_problems)
        V.positive_int("input_size", input_size, problems)
        V.positive_int("hidden_size", hidden_size, problems)
        V.positive_int("num_layers", num_layers, problems)
        V.positive_int("proj_size", proj_size, problems, minimum=0)
        for name, value in (("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)):
            V.boolean(name, value, problems)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            problems.append(f"dropout must be a float in [0, 1], got {dropout!r}")  # torch accepts p = 1
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)):
            problems.append(f"forget_bias must be a float, got {forget_bias!r}")
        if recurrent_init not in RECURRENT_INITS:
            problems.append(
                f"recurrent_init must be one of {RECURRENT_INITS}, got {recurrent_init!r}"
                + suggest(str(recurrent_init), RECURRENT_INITS)
            )
        if not problems and proj_size >= hidden_size:
            problems.append(f"proj_size must be smaller than hidden_size={hidden_size}, got {proj_size}")
        V.raise_problems(owner, problems)
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{owner}: dropout={dropout} does nothing with num_layers=1 (dropout is applied between "
                "layers, after all but the last); use num_layers > 1 or dropout=0.0",
                UserWarning,
                stacklevel=3,
            )
        self.mode = mode  # kernel mode; LSTM variants use "lstm_<name>" (4 gate blocks, state (h, c))
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        self.dropout, self.proj_size = float(dropout), proj_size
        self.forget_bias, self.recurrent_init = float(forget_bias), recurrent_init

        kw = {"device": device, "dtype": dtype}
        G, H, D = GATE_COUNT.get(mode, 4), hidden_size, self.num_directions
        R = proj_size or hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else R * D
            for direction in range(D):
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [(f"weight_ih{sfx}", (G * H, layer_input)), (f"weight_hh{sfx}", (G * H, R))]
                if bias:
                    shapes += [(f"bias_ih{sfx}", (G * H,)), (f"bias_hh{sfx}", (G * H,))]
                if proj_size:
                    shapes += [(f"weight_hr{sfx}", (R, H))]
                for name, shape in shapes:  # torch's registration order, so state_dict keys match
                    setattr(self, name, nn.Parameter(torch.empty(shape, **kw)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    # ---- parameters -------------------------------------------------------------------
    def reset_parameters(self) -> None:
        """Re-initialise (see :mod:`lstmkit.nn.init`)."""
        reset_parameters(
            self, forget_bias=self.forget_bias, recurrent_init=self.recurrent_init, is_lstm=self._is_lstm
        )

    @property
    def _is_lstm(self) -> bool:
        return is_lstm_mode(self.mode)

    def _layer_extras(self, layer: int, direction: int) -> dict:
        """Extra keyword arguments for ``run_layer`` (a variant layer passes its options here)."""
        return {}

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """torch.nn.LSTM's ``all_weights``: one list per layer and direction (index layer * D + direction)
        of its ``weight_ih, weight_hh[, bias_ih, bias_hh][, weight_hr]``. An LSTM variant's own
        parameters (peephole, layer norm) are not in it, as torch has none; ``parameters()`` has all."""
        names = self._flat_weights_names
        per = len(names) // (self.num_layers * self.num_directions)  # tensors per layer-direction
        return [[getattr(self, n) for n in names[k : k + per]] for k in range(0, len(names), per)]

    @property
    def _flat_weights(self) -> list[Tensor]:
        """Parameters in torch's ``_flat_weights`` order (layer, direction, w_ih w_hh b_ih b_hh w_hr)."""
        return [getattr(self, name) for name in self._flat_weights_names]

    def _layer_weights(self, ws: list[Tensor]) -> LayerWeights:
        """The LayerWeights of one layer-direction from its slice of the flat weights (torch's order
        w_ih, w_hh[, b_ih, b_hh][, w_hr])."""
        biases = (ws[2], ws[3]) if self.bias else (None, None)
        return LayerWeights(ws[0], ws[1], *biases, ws[-1] if self.proj_size else None)

    def flatten_parameters(self) -> None:
        """No-op, for code written against torch.nn.LSTM."""

    def _torch_kwargs(self) -> dict:
        kw = dict(
            input_size=self.input_size, hidden_size=self.hidden_size, num_layers=self.num_layers,
            bias=self.bias, batch_first=self.batch_first, dropout=self.dropout, bidirectional=self.bidirectional,
        )
        return kw

    @classmethod
    def from_torch(cls, module: nn.Module):
        """A copy of a torch.nn.LSTM/GRU/RNN (same arguments, weights, device, dtype, mode)."""
        if not isinstance(module, cls._torch_class):
            raise ConfigError(
                f"{cls.__name__}.from_torch expects a {cls._torch_class.__module__}.{cls._torch_class.__name__}, "
                f"got {type(module).__name__}"
            )
        kwargs = cls._kwargs_from_torch(module)
        p = next(module.parameters())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch already warned about dropout with one layer
            new = cls(**kwargs, device=p.device, dtype=p.dtype)
        new.load_state_dict(module.state_dict())
        return new.train(module.training)

    @classmethod
    def _kwargs_from_torch(cls, m: nn.Module) -> dict:
        return dict(
            input_size=m.input_size, hidden_size=m.hidden_size, num_layers=m.num_layers, bias=m.bias,
            batch_first=m.batch_first, dropout=float(m.dropout), bidirectional=m.bidirectional,
        )

    def to_torch(self) -> nn.Module:
        """A torch.nn.LSTM/GRU/RNN with the same arguments, weights, device, dtype and mode."""
        p = self.weight_ih_l0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = self._torch_class(**self._torch_kwargs(), device=p.device, dtype=p.dtype)
        module.load_state_dict(self.state_dict())
        return module.train(self.training)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False, proj_size=0)
        for name, default in defaults.items():
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        if self._is_lstm and self.forget_bias != 1.0:
            s += f", forget_bias={self.forget_bias}"
        if self.recurrent_init != "uniform":
            s += f", recurrent_init={self.recurrent_init!r}"
        return s

    # ---- forward ------------------------------------------------------------------------
    def _run(self, input, state, lengths, return_gates: bool):
        """Validate, dispatch, run. Returns (output, h_n, c_n, gates) shaped for the user."""
        is_lstm = self._is_lstm
        dtype = self.weight_ih_l0.dtype
        low = V.autocast_dtype(self.weight_ih_l0.device.type, dtype)  # torch.autocast's dtype, or None
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ConfigError("lengths must be None when input is a PackedSequence (it carries its own lengths)")
            V.floating_tensor("input", input.data, dtype, low)
            x, lengths = pad_packed_sequence(input)  # (T, B, F) in the caller's batch order, lengths (B,)
            batched = True
        else:
            x = V.floating_tensor("input", input, dtype, low)
            if x.dim() not in (2, 3):
                layout = "(B, T, F)" if self.batch_first else "(T, B, F)"
                raise ShapeError(
                    f"input must have 3 dimensions {layout} or 2 (T, F) for one unbatched sequence, "
                    f"got {x.dim()} dimensions with shape {tuple(x.shape)}"
                )
            batched = x.dim() == 3
            if not batched:
                x = x.unsqueeze(1)  # (T, 1, F)
            elif self.batch_first:
                x = x.transpose(0, 1)  # (B, T, F) -> (T, B, F)
        if x.shape[-1] != self.input_size:
            raise ShapeRuntimeError(
                f"input feature size (last dimension) must be input_size={self.input_size}, got {x.shape[-1]}: "
                "input.size(-1) must be equal to input_size"
            )
        T, B = x.shape[0], x.shape[1]
        if T == 0:
            raise ShapeRuntimeError(
                "input must have at least one time step, got T=0: Expected sequence length to be larger than 0"
            )
        lengths = V.lengths_tensor(lengths, T, B)
        if return_gates and not is_lstm:
            raise ConfigError(f"return_gates=True is only available for LSTM, not {type(self).__name__}")
        # torch.autocast (float32 parameters), as torch.nn: an LSTM runs in autocast's dtype (torch's CPU
        # LSTM kernel is on autocast's lower-precision list), so input, state and weights are cast here
        # and every path (lstmkit's kernel included) sees one dtype. The LSTM variants have no
        # lower-precision kernel: they compute in float32 and return autocast's dtype. A GRU/RNN is
        # passed through as torch.nn.GRU/RNN does (autocast acts inside torch's kernel).
        compute = out_dtype = x.dtype
        if low is not None and is_lstm:
            out_dtype, compute = low, (low if self.mode in GATE_COUNT else dtype)
            x = x.to(compute)
        h0, c0 = self._initial_state(state, B, batched, x, low)

        params = self._flat_weights
        if low is not None and is_lstm and compute != dtype:
            params = [p.to(compute) for p in params]
        needs_grad = torch.is_grad_enabled() and (
            x.requires_grad or h0.requires_grad or (c0 is not None and c0.requires_grad)
            or any(p.requires_grad for p in params)
        )
        dropout = self.dropout if (self.training and self.num_layers > 1) else 0.0
        request = KernelRequest(
            self.mode, x.device, compute, self.num_layers, self.bidirectional, self.proj_size, self.bias,
            lengths is not None, needs_grad, return_gates, dropout, empty=B == 0, transformed=functorch_active(),
        )
        path = select_path(request)
        gates = None
        # an LSTM under autocast: every tensor is already in its compute dtype, no op inside may re-cast
        with contextlib.nullcontext() if low is None or not is_lstm else torch.autocast(x.device.type, enabled=False):
            if path.run_stack is not None and not return_gates and self.mode in GATE_COUNT:  # not for variants
                output, h_n, c_n = path.run_stack(
                    x, params, h0, c0, mode=self.mode, lengths=lengths, num_layers=self.num_layers,
                    bidirectional=self.bidirectional, dropout=dropout, training=self.training, has_biases=self.bias,
                )
            else:
                output, h_n, c_n, gates = self._run_layers(path, x, h0, c0, lengths, dropout, return_gates, params)
        if out_dtype != compute:
            output, h_n = output.to(out_dtype), h_n.to(out_dtype)
            c_n = None if c_n is None else c_n.to(out_dtype)
            gates = None if gates is None else LSTMGates(*(g.to(out_dtype) for g in gates))

        if packed:
            order = input.sorted_indices
            out_sorted = output if order is None else output.index_select(1, order.to(output.device))
            lens = torch.full((B,), T, dtype=torch.int64) if lengths is None else lengths  # (B,)
            lens_sorted = lens if order is None else lens[order.cpu()]
            data = pack_padded_sequence(out_sorted, lens_sorted, enforce_sorted=True).data
            output = PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        elif not batched:
            output, h_n = output[:, 0], h_n[:, 0]  # (T, D*R), (L*D, R)
            c_n = c_n[:, 0] if c_n is not None else None
            if gates is not None:
                gates = LSTMGates(*(g[:, :, 0] for g in gates))  # each (L*D, T, H)
        elif self.batch_first:
            output = output.transpose(0, 1)  # (T, B, D*R) -> (B, T, D*R)
        return output, h_n, c_n, gates

    def _initial_state(self, state, B: int, batched: bool, x: Tensor, low=None) -> tuple[Tensor, Tensor | None]:
        """(h0, c0) in x's dtype (a given state may also be in autocast's dtype ``low``)."""
        h0, c0 = self._validated_state(state, B, batched, x, low)
        if h0.dtype != x.dtype:  # only under autocast
            h0, c0 = h0.to(x.dtype), (None if c0 is None else c0.to(x.dtype))
        return h0, c0

    def _validated_state(self, state, B: int, batched: bool, x: Tensor, low) -> tuple[Tensor, Tensor | None]:
        LD, H, R = self.num_layers * self.num_directions, self.hidden_size, self.proj_size or self.hidden_size
        dtype = self.weight_ih_l0.dtype
        meaning = "(num_layers * num_directions, B, hidden)" if batched else "(num_layers * num_directions, hidden)"
        shape = (lambda n: (LD, B, n)) if batched else (lambda n: (LD, n))
        if self._is_lstm:
            if state is None:
                z = x.new_zeros(LD, B, R)
                return z, (z if R == H else x.new_zeros(LD, B, H))
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ShapeTypeError(f"state must be a tuple (h0, c0) for LSTM, got {type(state).__name__}")
            h0 = V.state_tensor("state h0", state[0], shape(R), dtype, meaning, _TORCH_HIDDEN, low)
            c0 = V.state_tensor("state c0", state[1], shape(H), dtype, meaning, _TORCH_HIDDEN, low)
            return (h0, c0) if batched else (h0.unsqueeze(1), c0.unsqueeze(1))
        if state is None:
            return x.new_zeros(LD, B, H), None
        if isinstance(state, (tuple, list)):
            raise ShapeTypeError(
                f"state must be a single tensor h0 for {type(self).__name__}, got a {type(state).__name__}"
            )
        h0 = V.state_tensor("state h0", state, shape(H), dtype, meaning, _TORCH_HIDDEN, low)
        return (h0 if batched else h0.unsqueeze(1)), None

    def _run_layers(self, path, x, h0, c0, lengths, dropout: float, return_gates: bool, params: list[Tensor]):
        """Layer by layer, direction by direction, through ``path.run_layer`` (``params``: the flat
        weights in torch's order, as the layer runs them)."""
        D = self.num_directions
        per = len(params) // (self.num_layers * D)  # tensors per layer-direction
        h_n, c_n, gates = [], [], []
        layer_input = x  # (T, B, F)
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                k = layer * D + direction
                res = path.run_layer(
                    layer_input, self._layer_weights(params[k * per : (k + 1) * per]), h0[k],
                    None if c0 is None else c0[k],
                    mode=self.mode, lengths=lengths, reverse=direction == 1, return_gates=return_gates,
                    **self._layer_extras(layer, direction),
                )
                outputs.append(res.output)  # (T, B, R)
                h_n.append(res.h_n)
                c_n.append(res.c_n)
                gates.append(res.gates)
            layer_input = torch.cat(outputs, dim=-1) if D == 2 else outputs[0]  # (T, B, D*R)
            if dropout and layer < self.num_layers - 1:
                layer_input = TF.dropout(layer_input, dropout, training=True)
        h_n = torch.stack(h_n, 0)  # (L*D, B, R)
        c_n = torch.stack(c_n, 0) if self._is_lstm else None  # (L*D, B, H)
        gate_tuple = None
        if return_gates:
            stack = (lambda ts: ts[0].unsqueeze(0)) if len(gates) == 1 else (lambda ts: torch.stack(ts, 0))
            gate_tuple = LSTMGates(*(stack([g[j] for g in gates]) for j in range(5)))  # each (L*D, T, B, H)
        return layer_input, h_n, c_n, gate_tuple

    def _step_sequence(self, x_t: Tensor) -> Tensor:
        if self.bidirectional:
            raise ConfigError(
                f"{type(self).__name__}.step needs bidirectional=False: the reverse direction reads the whole "
                "sequence; use forward() instead"
            )
        x_t = V.floating_tensor("x_t", x_t, self.weight_ih_l0.dtype)
        if x_t.dim() not in (1, 2):
            raise ShapeError(
                f"x_t must have 2 dimensions (B, F) or 1 (F,) for one step, got shape {tuple(x_t.shape)}"
            )
        if x_t.dim() == 1:
            return x_t.unsqueeze(0)  # (1, F): an unbatched sequence of one step
        return x_t.unsqueeze(1) if self.batch_first else x_t.unsqueeze(0)  # one-step sequence


class LSTM(_RNNBase):
    r"""A multi-layer LSTM, a drop-in for torch.nn.LSTM with lengths, gates and streaming.

    Each layer computes, for every step (equations of :class:`lstmkit.nn.LSTMCell`)::

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
        f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
        o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)            (h_t = W_hr h_t with proj_size > 0)

    Arguments are torch.nn.LSTM's, plus ``forget_bias`` (added to the forget-gate bias
    at initialisation; 1.0 by default, 0.0 reproduces torch's init exactly) and
    ``recurrent_init`` ("uniform" like torch, or "orthogonal").

    ``forward(input, state=None, *, lengths=None, return_gates=False)``:

    * input (T, B, F), (B, T, F) with batch_first, (T, F) unbatched, or a PackedSequence;
    * state (h0, c0): (L*D, B, R), (L*D, B, H); zeros when None;
    * lengths: 1-D ints (B,), any device, 1 <= lengths <= T, for right-padded batches:
      outputs past each end are zero, h_n/c_n are each sequence's last valid state and
      the reverse direction starts at each sequence's own end;
    * returns ``(output, (h_n, c_n))``, or ``(output, (h_n, c_n), gates)`` with
      ``return_gates=True``, gates an :class:`LSTMGates`.

    >>> lstm = LSTM(8, 32, num_layers=2, batch_first=True)
    >>> out, (h, c), gates = lstm(x, lengths=lengths, return_gates=True)
    """

    _torch_class = nn.LSTM
    _mode = "lstm"  # a variant subclass sets "lstm_<variant>" and overrides _layer_extras

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
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
        problems: list[str] = []
        variant = VariantOptions.build(
            problems, peephole=peephole, layer_norm=layer_norm, coupled_gates=coupled_gates,
            recurrent_dropout=recurrent_dropout, weight_drop=weight_drop, zoneout=zoneout,
            gate_activation=gate_activation,
        )
        super().__init__(
            "lstm_variant" if variant.active else self._mode, input_size, hidden_size, num_layers, bias,
            batch_first, dropout, bidirectional, proj_size, forget_bias=forget_bias, recurrent_init=recurrent_init,
            device=device, dtype=dtype, extra_problems=tuple(problems),
        )
        self.variant = variant  # see lstmkit.nn.variants for the equations and parameter names
        for sfx in self._variant_suffixes():
            variant.add_parameters(self, sfx, hidden_size, device, dtype)
            variant.reset_parameters(self, sfx, hidden_size)

    # ---- variants (lstmkit.nn.variants; run by the fused CPU kernel) ------------------------
    def _variant_suffixes(self) -> list[str]:
        return [f"_l{k}" + ("_reverse" if d else "") for k in range(self.num_layers) for d in range(self.num_directions)]

    def reset_parameters(self) -> None:
        super().reset_parameters()
        variant = getattr(self, "variant", None)
        if variant is not None:
            for sfx in self._variant_suffixes():
                variant.reset_parameters(self, sfx, self.hidden_size)

    def _layer_extras(self, layer: int, direction: int) -> dict:
        if not self.variant.active:
            return {}
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        return {"variant": self.variant.layer_variant(self, sfx, self.training)}

    def extra_repr(self) -> str:
        return ", ".join([super().extra_repr(), *self.variant.repr_items()])

    def to_torch(self) -> nn.Module:
        if self.variant.active:
            raise ConfigError(
                "to_torch: torch.nn.LSTM has no LSTM variants; this LSTM uses "
                + ", ".join(self.variant.repr_items()) + " (only a standard LSTM converts)"
            )
        return super().to_torch()

    def forward(self, input, state: tuple[Tensor, Tensor] | None = None, *, lengths=None, return_gates: bool = False):
        output, h_n, c_n, gates = self._run(input, state, lengths, return_gates)
        if return_gates:
            return output, (h_n, c_n), gates
        return output, (h_n, c_n)

    def step(self, x_t: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Advance one time step: x_t (B, F) or (F,) -> (h_out (B, R), (h_n, c_n)).

        Feeding a sequence step by step, passing the returned state back in, gives the
        same outputs as one ``forward`` call. Unidirectional layers only.
        """
        out, state = self.forward(self._step_sequence(x_t), state)
        return (out[:, 0] if self.batch_first and out.dim() == 3 else out[0]), state

    @classmethod
    def _kwargs_from_torch(cls, m):
        return {**super()._kwargs_from_torch(m), "proj_size": m.proj_size}

    def _torch_kwargs(self) -> dict:
        return {**super()._torch_kwargs(), "proj_size": self.proj_size}


class GRU(_RNNBase):
    r"""A multi-layer GRU, a drop-in for torch.nn.GRU (equations in :class:`lstmkit.nn.GRUCell`),
    with ``lengths`` and ``step`` as in :class:`LSTM`. Returns ``(output, h_n)``."""

    _torch_class = nn.GRU

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        recurrent_init: str = "uniform",
        proj_size: int | None = None,
        device=None,
        dtype=None,
    ) -> None:
        _no_projection("GRU", proj_size)
        super().__init__(
            "gru", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            recurrent_init=recurrent_init, device=device, dtype=dtype,
        )

    def forward(self, input, state: Tensor | None = None, *, lengths=None, return_gates: bool = False):
        output, h_n, _, _ = self._run(input, state, lengths, return_gates)
        return output, h_n

    def step(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Advance one time step: x_t (B, F) or (F,) -> (h_out (B, H), h_n)."""
        out, state = self.forward(self._step_sequence(x_t), state)
        return (out[:, 0] if self.batch_first and out.dim() == 3 else out[0]), state


class RNN(GRU):
    r"""A multi-layer vanilla (Elman) RNN, a drop-in for torch.nn.RNN:
    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or ReLU). Returns ``(output, h_n)``.
    The comparator the LSTM was invented to beat on long lags."""

    _torch_class = nn.RNN

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        recurrent_init: str = "uniform",
        proj_size: int | None = None,
        device=None,
        dtype=None,
    ) -> None:
        _no_projection("RNN", proj_size)
        problems = ()
        if nonlinearity not in ("tanh", "relu"):
            problems = (
                f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
                + suggest(str(nonlinearity), ("tanh", "relu")),
            )
        _RNNBase.__init__(
            self, "rnn_relu" if nonlinearity == "relu" else "rnn_tanh", input_size, hidden_size, num_layers, bias,
            batch_first, dropout, bidirectional, recurrent_init=recurrent_init, device=device, dtype=dtype,
            extra_problems=problems,
        )
        self.nonlinearity = nonlinearity

    @classmethod
    def _kwargs_from_torch(cls, m):
        return {**super()._kwargs_from_torch(m), "nonlinearity": m.nonlinearity}

    def _torch_kwargs(self) -> dict:
        return {**super()._torch_kwargs(), "nonlinearity": self.nonlinearity}

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")
