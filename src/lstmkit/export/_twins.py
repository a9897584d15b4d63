"""TorchScript twins of lstmkit's recurrent layers, for ONNX export.

A twin computes what its layer computes in eval mode (dropout, weight drop and recurrent
dropout off; zoneout at its expectation, as :mod:`lstmkit.nn.variants` defines eval), with the
time loop written so that TorchScript keeps it a loop: the ONNX exporter turns it into a
``Loop`` whose trip count is the input's length, so the exported graph takes any T and B.
Right-padded batches follow the layer's ``lengths`` rules: outputs past each row's end are
zero, the final state is each row's last valid state, and the reverse direction starts at
each row's own end.

The twins are private; :mod:`lstmkit.export.onnx` swaps them in for the layers.
"""

import warnings
from typing import Final, List, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.nn import functional as TF

from lstmkit.errors import ConfigError
from lstmkit.nn import GRU, LSTM, RNN
from lstmkit.nn.variants import LN_EPS

__all__ = ["twin_of", "RECURRENT_TYPES"]

RECURRENT_TYPES = (LSTM, GRU, RNN)
_MODES = {"lstm": 0, "gru": 1, "rnn_tanh": 2, "rnn_relu": 3}


class _Direction(nn.Module):
    """One layer-direction's weights and its time loop (see the module docstring)."""

    mode: Final[int]
    has_proj: Final[bool]
    has_peep: Final[bool]
    has_ln: Final[bool]
    coupled: Final[bool]
    hard: Final[bool]
    zc: Final[float]
    zh: Final[float]
    eps: Final[float]
    gate_size: Final[int]
    cell_size: Final[int]

    def __init__(self, layer: nn.Module, sfx: str) -> None:
        super().__init__()
        is_lstm = isinstance(layer, LSTM)
        mode = "lstm" if is_lstm else layer.mode
        self.mode = _MODES[mode]
        v = layer.variant if is_lstm else None
        G = 4 if is_lstm else (3 if mode == "gru" else 1)
        H = layer.hidden_size

        def grab(name: str) -> Tensor:
            return getattr(layer, name + sfx).detach().clone()

        w_ih = grab("weight_ih")
        self.register_buffer("w_ih", w_ih)
        self.register_buffer("w_hh", grab("weight_hh"))
        zeros = w_ih.new_zeros(G * H)
        self.register_buffer("b_ih", grab("bias_ih") if layer.bias else zeros)
        self.register_buffer("b_hh", grab("bias_hh") if layer.bias else zeros.clone())
        self.has_proj = bool(getattr(layer, "proj_size", 0))
        self.register_buffer("w_hr", grab("weight_hr") if self.has_proj else w_ih.new_zeros(0))
        self.has_peep = bool(v is not None and v.peephole)
        self.register_buffer("peep", grab("weight_peephole") if self.has_peep else w_ih.new_zeros(3, 0))
        self.has_ln = bool(v is not None and v.layer_norm)
        for name in ("ln_weight_ih", "ln_weight_hh", "ln_weight_c", "ln_bias_c"):
            self.register_buffer(name, grab(name) if self.has_ln else w_ih.new_zeros(0))
        self.coupled = bool(v is not None and v.coupled_gates)
        self.hard = bool(v is not None and v.hard_sigmoid)
        self.zc = float(v.zoneout[0]) if v is not None else 0.0
        self.zh = float(v.zoneout[1]) if v is not None else 0.0
        self.eps = LN_EPS
        self.gate_size, self.cell_size = G * H, H

    def _act(self, a: Tensor) -> Tensor:
        if self.hard:
            return torch.clamp(0.2 * a + 0.5, 0.0, 1.0)
        return torch.sigmoid(a)

    def forward(self, x: Tensor, mask: Tensor, h0: Tensor, c0: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """x (T, B, F) in this direction's order, mask (T, B, 1) 1.0 on real steps, h0 (B, R),
        c0 (B, H) (ignored but for LSTM) -> (output (T, B, R), h_n, c_n)."""
        T = x.shape[0]
        xw = torch.matmul(x, self.w_ih.t())  # (T, B, G*H): the input projection, all steps at once
        if self.has_ln:
            xw = TF.layer_norm(xw, [self.gate_size], self.ln_weight_ih, None, self.eps)
        if self.mode == 0:
            xw = xw + (self.b_ih + self.b_hh)
        else:
            xw = xw + self.b_ih
        h, c = h0, c0
        outs: List[Tensor] = []
        for t in range(T):
            m = mask[t]  # (B, 1)
            if self.mode == 0:
                rh = torch.matmul(h, self.w_hh.t())  # (B, 4H)
                if self.has_ln:
                    rh = TF.layer_norm(rh, [self.gate_size], self.ln_weight_hh, None, self.eps)
                a = xw[t] + rh
                a_i, a_f, a_g, a_o = a.chunk(4, 1)
                if self.has_peep:
                    a_i = a_i + self.peep[0] * c
                    a_f = a_f + self.peep[1] * c
                f = self._act(a_f)
                if self.coupled:
                    i = 1.0 - f
                else:
                    i = self._act(a_i)
                c_new = f * c + i * torch.tanh(a_g)
                if self.has_peep:
                    a_o = a_o + self.peep[2] * c_new
                o = self._act(a_o)
                if self.has_ln:
                    h_new = o * torch.tanh(TF.layer_norm(c_new, [self.cell_size], self.ln_weight_c, self.ln_bias_c,
                                                         self.eps))
                else:
                    h_new = o * torch.tanh(c_new)
                if self.has_proj:
                    h_new = torch.matmul(h_new, self.w_hr.t())
                if self.zc != 0.0:
                    c_new = self.zc * c + (1.0 - self.zc) * c_new
                if self.zh != 0.0:
                    h_new = self.zh * h + (1.0 - self.zh) * h_new
                c = m * c_new + (1.0 - m) * c
            elif self.mode == 1:
                gh = torch.matmul(h, self.w_hh.t()) + self.b_hh  # (B, 3H)
                i_r, i_z, i_n = xw[t].chunk(3, 1)
                h_r, h_z, h_n = gh.chunk(3, 1)
                r = torch.sigmoid(i_r + h_r)
                z = torch.sigmoid(i_z + h_z)
                n = torch.tanh(i_n + r * h_n)
                h_new = (1.0 - z) * n + z * h
            else:
                a = xw[t] + torch.matmul(h, self.w_hh.t()) + self.b_hh
                h_new = torch.tanh(a) if self.mode == 2 else torch.relu(a)
            h = m * h_new + (1.0 - m) * h
            outs.append(m * h_new)
        return torch.stack(outs, 0), h, c


class _Stack(nn.Module):
    """The layers and directions of one recurrent module; (T, B, F) in, as lstmkit.nn runs them."""

    num_layers: Final[int]
    num_directions: Final[int]
    batch_first: Final[bool]
    is_lstm: Final[bool]
    state_size: Final[int]
    cell_size: Final[int]

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        D = 2 if layer.bidirectional else 1
        self.num_layers, self.num_directions, self.batch_first = layer.num_layers, D, layer.batch_first
        self.is_lstm = isinstance(layer, LSTM)
        self.cell_size = layer.hidden_size
        self.state_size = getattr(layer, "proj_size", 0) or layer.hidden_size
        self.dirs = nn.ModuleList(
            _Direction(layer, f"_l{k}" + ("_reverse" if d else "")) for k in range(layer.num_layers) for d in range(D))

    def run(self, x: Tensor, h0: Tensor, c0: Tensor, lengths: Optional[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """x (B, T, F) with batch_first else (T, B, F); h0 (L*D, B, R), c0 (L*D, B, H)."""
        if self.batch_first:
            x = x.transpose(0, 1)
        T, B = x.shape[0], x.shape[1]
        steps = torch.arange(T, device=x.device).unsqueeze(1)  # (T, 1)
        if lengths is None:
            lens = torch.full([B], T, dtype=torch.long, device=x.device)
        else:
            lens = lengths.to(x.device).long()
        lens = lens.unsqueeze(0)  # (1, B)
        mask = (steps < lens).to(x.dtype).unsqueeze(2)  # (T, B, 1)
        rev = torch.where(steps < lens, lens - 1 - steps, steps.expand(T, B))  # (T, B): each row reversed in place
        hs: List[Tensor] = []
        cs: List[Tensor] = []
        inp = x
        fwd = x  # the forward direction's output of the current layer (bidirectional)
        for k, d in enumerate(self.dirs):  # unrolled by TorchScript: k is a constant
            if k % self.num_directions == 1:
                idx = rev.unsqueeze(2).expand(T, B, inp.shape[2])
                o, h, c = d(torch.gather(inp, 0, idx), mask, h0[k], c0[k])
                o = torch.gather(o, 0, rev.unsqueeze(2).expand(T, B, o.shape[2]))
                inp = torch.cat([fwd, o], 2)
            else:
                o, h, c = d(inp, mask, h0[k], c0[k])
                if self.num_directions == 1:
                    inp = o
                else:
                    fwd = o
            hs.append(h)
            cs.append(c)
        out = inp.transpose(0, 1) if self.batch_first else inp
        return out, torch.stack(hs, 0), torch.stack(cs, 0)

    def zeros(self, x: Tensor, size: int) -> Tensor:
        B = x.shape[0] if self.batch_first else x.shape[1]
        return x.new_zeros(self.num_layers * self.num_directions, B, size)


class LSTMTwin(_Stack):
    """Called like lstmkit.nn.LSTM (batched input): ``(output, (h_n, c_n))``."""

    def forward(self, input: Tensor, state: Optional[Tuple[Tensor, Tensor]] = None, lengths: Optional[Tensor] = None,
                return_gates: bool = False) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        if state is None:
            h0, c0 = self.zeros(input, self.state_size), self.zeros(input, self.cell_size)
        else:
            h0, c0 = state
        out, h, c = self.run(input, h0, c0, lengths)
        return out, (h, c)


class GRUTwin(_Stack):
    """Called like lstmkit.nn.GRU / RNN (batched input): ``(output, h_n)``."""

    def forward(self, input: Tensor, state: Optional[Tensor] = None, lengths: Optional[Tensor] = None,
                return_gates: bool = False) -> Tuple[Tensor, Tensor]:
        h0 = self.zeros(input, self.state_size) if state is None else state
        out, h, _ = self.run(input, h0, h0, lengths)
        return out, h


def twin_of(layer: nn.Module) -> torch.jit.ScriptModule:
    """The scripted twin of an lstmkit LSTM, GRU or RNN (its weights copied, eval semantics).

    Raises:
        ConfigError: ``layer`` is not an lstmkit recurrent layer.
    """
    if isinstance(layer, (LSTM, GRU, RNN)):
        twin = LSTMTwin(layer) if isinstance(layer, LSTM) else GRUTwin(layer)
        with warnings.catch_warnings():
            # TorchScript is deprecated in favour of torch.export, whose exporter writes the traced
            # length into an LSTM's output shape (see docs/export.md); this path stays until
            # torch.export's scan reaches ONNX.
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.script. is deprecated", category=DeprecationWarning)
            return torch.jit.script(twin)
    raise ConfigError(f"twin_of: expected an lstmkit LSTM, GRU or RNN, got {type(layer).__name__}")
