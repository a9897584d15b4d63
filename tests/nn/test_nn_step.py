"""step() fed one step at a time reproduces forward() on every path."""

from __future__ import annotations

import pytest
import torch
from nn_helpers import PATHS, on_path

import lstmkit.nn as lnn
from lstmkit.errors import ConfigError


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "make",
    [
        lambda: lnn.LSTM(3, 5, num_layers=2, proj_size=2),
        lambda: lnn.LSTM(3, 4, batch_first=True, bias=False),
        lambda: lnn.GRU(3, 4, num_layers=3, batch_first=True),
        lambda: lnn.RNN(3, 4, num_layers=2, nonlinearity="relu"),
    ],
)
def test_step_reproduces_forward(make, path):
    torch.manual_seed(0)
    layer = make()
    x = torch.randn(4, 9, 3)  # (B, T, F)
    seq = x if layer.batch_first else x.transpose(0, 1)
    with on_path(path):
        full_out, full_state = layer(seq)
        state, outs = None, []
        for t in range(x.shape[1]):
            h_out, state = layer.step(x[:, t], state)
            outs.append(h_out)
    stepped = torch.stack(outs, dim=1 if layer.batch_first else 0)
    torch.testing.assert_close(stepped, full_out, atol=1e-6, rtol=1e-5)
    for a, b in zip(state if isinstance(state, tuple) else [state],
                    full_state if isinstance(full_state, tuple) else [full_state]):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_step_unbatched_and_resuming_from_forward_state():
    torch.manual_seed(1)
    lstm = lnn.LSTM(2, 3, num_layers=2)
    x = torch.randn(10, 2)  # unbatched (T, F)
    out, _ = lstm(x)
    _, state = lstm(x[:6])  # forward on a prefix, then stream the rest
    for t in range(6, 10):
        h, state = lstm.step(x[t], state)
        assert h.shape == (3,)
        torch.testing.assert_close(h, out[t], atol=1e-6, rtol=1e-5)


def test_step_rejects_bidirectional():
    with pytest.raises(ConfigError, match="step needs bidirectional=False"):
        lnn.LSTM(2, 3, bidirectional=True).step(torch.randn(1, 2))
