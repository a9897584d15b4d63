"""return_gates: the gate identities hold, every path gives the same gates, and the fast
path is used (no per-op cell loop) whether or not autograd is recording."""

from __future__ import annotations

import pytest
import torch
from nn_helpers import PATHS, on_path

import lstmkit.nn as lnn
from lstmkit.nn import kernels
from lstmkit.nn.kernels import force_path
from lstmkit.nn.kernels import reference as reference_module


def _check_identities(lstm: lnn.LSTM, x, lengths, state, out, h_n, c_n, gates):
    """c_t = f*c_{t-1} + i*g, h_t = o*tanh(c_t) (projected), per layer/direction, in processing order."""
    T, B = x.shape[0], x.shape[1]
    D, H = lstm.num_directions, lstm.hidden_size
    R = lstm.proj_size or H
    lens = lengths if lengths is not None else torch.full((B,), T)
    for layer in range(lstm.num_layers):
        for d in range(D):
            k = layer * D + d
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w_hr = getattr(lstm, "weight_hr" + sfx, None)
            for b in range(B):
                n = int(lens[b])
                order = range(n) if d == 0 else range(n - 1, -1, -1)
                c_prev = state[1][k, b]
                for t in order:
                    i, f, o, g, c = (getattr(gates, a)[k, t, b] for a in
                                     ("input_gate", "forget_gate", "output_gate", "candidate", "cell"))
                    torch.testing.assert_close(c, f * c_prev + i * g)
                    h = o * torch.tanh(c)
                    if w_hr is not None:
                        h = w_hr @ h
                    if layer == lstm.num_layers - 1:  # the last layer's h is the output
                        torch.testing.assert_close(out[t, b, d * R:(d + 1) * R], h)
                    c_prev = c
                torch.testing.assert_close(c_n[k, b], c_prev)
                last = n - 1 if d == 0 else 0
                h_last = gates.output_gate[k, last, b] * torch.tanh(gates.cell[k, last, b])
                torch.testing.assert_close(h_n[k, b], h_last if w_hr is None else w_hr @ h_last)
                for a in gates:  # zero past the end
                    assert a[k, n:, b].abs().max() == 0 if n < T else True


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "layers,bidir,proj,use_lengths", [(1, False, 0, False), (2, True, 0, True), (3, True, 2, True), (2, False, 3, True)]
)
def test_gate_identities(path, layers, bidir, proj, use_lengths):
    torch.manual_seed(layers * 10 + proj)
    lstm = lnn.LSTM(3, 5, num_layers=layers, bidirectional=bidir, proj_size=proj, dtype=torch.float64)
    T, B = 6, 3
    x = torch.randn(T, B, 3, dtype=torch.float64)
    LD, R = layers * (2 if bidir else 1), proj or 5
    state = (torch.randn(LD, B, R, dtype=torch.float64), torch.randn(LD, B, 5, dtype=torch.float64))
    lengths = torch.tensor([6, 2, 4]) if use_lengths else None
    with on_path(path), torch.no_grad():
        out, (h_n, c_n), gates = lstm(x, state, lengths=lengths, return_gates=True)
    assert isinstance(gates, lnn.LSTMGates)
    for g in gates:
        assert g.shape == (LD, T, B, 5)
    _check_identities(lstm, x, lengths, state, out, h_n, c_n, gates)


def test_gates_batch_first_and_unbatched_shapes():
    lstm = lnn.LSTM(2, 4, num_layers=2, batch_first=True)
    _, _, g = lstm(torch.randn(3, 7, 2), return_gates=True)
    assert g.cell.shape == (2, 7, 3, 4)  # (L*D, T, B, H) whatever the input layout
    _, _, g = lstm(torch.randn(7, 2), return_gates=True)
    assert g.forget_gate.shape == (2, 7, 4)  # unbatched: (L*D, T, H)


def _no_reference(*args, **kwargs):
    raise AssertionError("the reference (per-op) loop must not run here")


@pytest.mark.parametrize("grad", [False, True])
def test_return_gates_uses_fast_path_and_matches_reference(monkeypatch, grad):
    torch.manual_seed(0)
    lstm = lnn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)
    x = torch.randn(8, 5, 4, requires_grad=grad)
    lengths = torch.tensor([8, 1, 5, 3, 8])
    with torch.set_grad_enabled(grad), force_path("reference"):
        ref = lstm(x, lengths=lengths, return_gates=True)
    # Automatic dispatch must not touch the reference loop, with or without autograd.
    broken = kernels.KernelPath("reference", run_layer=_no_reference, supports=reference_module.supports)
    monkeypatch.setitem(kernels._PATHS, "reference", broken)
    with torch.set_grad_enabled(grad):
        fast = lstm(x, lengths=lengths, return_gates=True)
    monkeypatch.undo()
    for a, b in zip([ref[0], *ref[1], *ref[2]], [fast[0], *fast[1], *fast[2]]):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)
    if grad:  # gradients through the gates agree too (e.g. a gate regulariser)
        wsum = lambda r: r[2].forget_gate.pow(2).sum() + r[2].cell.sum() + r[0].sum()  # noqa: E731
        params = [x, *lstm.parameters()]
        g_ref = torch.autograd.grad(wsum(ref), params)
        g_fast = torch.autograd.grad(wsum(fast), params)
        for a, b in zip(g_ref, g_fast):
            torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)


def test_return_gates_only_for_lstm():
    from lstmkit.errors import ConfigError

    with pytest.raises(ConfigError, match="return_gates=True is only available for LSTM, not GRU"):
        lnn.GRU(2, 3)(torch.randn(4, 2), return_gates=True)
