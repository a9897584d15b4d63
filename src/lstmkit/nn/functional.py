"""One time step of each recurrent cell, as pure functions of tensors.

Shapes: x (B, F), h_prev (B, R), c_prev (B, H); weights as in torch.nn.LSTM:
w_ih (G*H, F), w_hh (G*H, R), b_ih/b_hh (G*H,), w_hr (R, H). R = proj_size or H.
Gate blocks are stacked in torch's order: LSTM (i, f, g, o), GRU (r, z, n).
"""

from __future__ import annotations

from torch import Tensor
from torch.nn import functional as F

__all__ = ["lstm_cell", "gru_cell", "rnn_cell", "STEP_FUNCTIONS"]


def lstm_cell(
    x: Tensor,
    h_prev: Tensor,
    c_prev: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor, Tensor]]:
    r"""One LSTM step; returns ``(h, c, (i, f, g, o))``.

    .. math::
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})
        c_t = f_t \odot c_{t-1} + i_t \odot g_t
        h_t = o_t \odot \tanh(c_t)          (then h_t = W_{hr} h_t with a projection)
    """
    gates = F.linear(x, w_ih, b_ih) + F.linear(h_prev, w_hh, b_hh)  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)  # each (B, H)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c = f * c_prev + i * g  # (B, H)
    h = o * c.tanh()  # (B, H)
    if w_hr is not None:
        h = F.linear(h, w_hr)  # (B, R)
    return h, c, (i, f, g, o)


def gru_cell(
    x: Tensor,
    h_prev: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    r"""One GRU step (torch's formulation); returns ``h``.

    .. math::
        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})
        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}
    """
    gi = F.linear(x, w_ih, b_ih)  # (B, 3H)
    gh = F.linear(h_prev, w_hh, b_hh)  # (B, 3H)
    i_r, i_z, i_n = gi.chunk(3, dim=-1)  # each (B, H)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)  # each (B, H)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return (1 - z) * n + z * h_prev


def rnn_cell(
    x: Tensor,
    h_prev: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    r"""One vanilla RNN step: :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`
    (``relu`` instead of ``tanh`` with ``nonlinearity="relu"``)."""
    pre = F.linear(x, w_ih, b_ih) + F.linear(h_prev, w_hh, b_hh)  # (B, H)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def _rnn_tanh(x, h_prev, w_ih, w_hh, b_ih=None, b_hh=None):
    return rnn_cell(x, h_prev, w_ih, w_hh, b_ih, b_hh, "tanh")


def _rnn_relu(x, h_prev, w_ih, w_hh, b_ih=None, b_hh=None):
    return rnn_cell(x, h_prev, w_ih, w_hh, b_ih, b_hh, "relu")


# Single-state step functions by mode (the reference path's table; LSTM is handled apart
# because it carries (h, c)).
STEP_FUNCTIONS = {"gru": gru_cell, "rnn_tanh": _rnn_tanh, "rnn_relu": _rnn_relu}
