"""The dispatch rules and the per-layer kernel contract (kernels/__init__.py, kernels/common.py)."""

from __future__ import annotations

import pytest
import torch

import lstmkit.nn as lnn
from lstmkit.errors import ConfigError
from lstmkit.nn import kernels
from lstmkit.nn.kernels import KernelPath, force_path, select_path
from lstmkit.nn.kernels import reference as reference_module
from lstmkit.nn.kernels.common import LayerOutput, LayerWeights, reverse_padded


def _request(**kw):
    base = dict(mode="lstm", device=torch.device("cpu"), dtype=torch.float32, num_layers=1, bidirectional=False,
                proj_size=0, bias=True, has_lengths=False, needs_grad=False, return_gates=False, dropout=0.0)
    return kernels.KernelRequest(**{**base, **kw})


def test_default_dispatch_prefers_torch_and_force_overrides():
    assert {"torch", "reference"} <= set(kernels.available_paths())
    assert select_path(_request()).name != "reference"
    with force_path("reference"):
        assert select_path(_request()).name == "reference"
    with force_path("torch"), pytest.raises(ConfigError, match="cannot run this configuration"):
        select_path(_request(mode="lstm_peephole"))
    assert select_path(_request(mode="gru", dtype=torch.float64)).name == "torch"


def test_a_registered_path_receives_the_documented_per_layer_call(monkeypatch):
    calls = []

    def run_layer(x, weights, h0, c0, *, mode, lengths, reverse, return_gates):
        calls.append((tuple(x.shape), type(weights), tuple(h0.shape), tuple(c0.shape), mode,
                      None if lengths is None else lengths.tolist(), reverse, return_gates))
        return reference_module.run_layer(x, weights, h0, c0, mode=mode, lengths=lengths, reverse=reverse,
                                          return_gates=return_gates)

    monkeypatch.setitem(kernels._PATHS, "spy", KernelPath("spy", run_layer, lambda r: r.mode == "lstm", priority=99))
    lstm = lnn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    x = torch.randn(5, 2, 3)
    out, _ = lstm(x, lengths=torch.tensor([5, 3]))
    assert calls == [
        ((5, 2, 3), LayerWeights, (2, 2), (2, 4), "lstm", [5, 3], False, False),
        ((5, 2, 3), LayerWeights, (2, 2), (2, 4), "lstm", [5, 3], True, False),
        ((5, 2, 4), LayerWeights, (2, 2), (2, 4), "lstm", [5, 3], False, False),
        ((5, 2, 4), LayerWeights, (2, 2), (2, 4), "lstm", [5, 3], True, False),
    ]
    with force_path("torch"):
        torch.testing.assert_close(out, lstm(x, lengths=torch.tensor([5, 3]))[0])
    gru = lnn.GRU(3, 4)
    gru(x)  # the spy does not support GRU, so torch runs it
    assert len(calls) == 4


def test_run_layer_contract_on_every_path():
    torch.manual_seed(0)
    H, F, T, B = 3, 2, 6, 3
    w = LayerWeights(torch.randn(4 * H, F), torch.randn(4 * H, H), torch.randn(4 * H), torch.randn(4 * H))
    x, h0, c0 = torch.randn(T, B, F), torch.randn(B, H), torch.randn(B, H)
    lengths = torch.tensor([6, 1, 4])
    results = {}
    for name in ("reference", "torch"):
        for reverse in (False, True):
            res = kernels._PATHS[name].run_layer(x, w, h0, c0, mode="lstm", lengths=lengths, reverse=reverse,
                                                 return_gates=True)
            assert isinstance(res, LayerOutput)
            assert res.output.shape == (T, B, H) and res.h_n.shape == (B, H) and res.c_n.shape == (B, H)
            assert len(res.gates) == 5 and all(g.shape == (T, B, H) for g in res.gates)
            assert res.output[1:, 1].abs().max() == 0 and res.output[4:, 2].abs().max() == 0
            results[name, reverse] = res
    for reverse in (False, True):
        a, b = results["reference", reverse], results["torch", reverse]
        for u, v in zip([a.output, a.h_n, a.c_n, *a.gates], [b.output, b.h_n, b.c_n, *b.gates]):
            torch.testing.assert_close(u, v, atol=1e-5, rtol=1e-5)
    # The reverse direction's last step is t = 0, so its h_n is its output at t = 0.
    torch.testing.assert_close(results["torch", True].h_n, results["torch", True].output[0])


def test_reverse_padded_reverses_within_each_length_and_is_an_involution():
    x = torch.arange(12.0).view(4, 3)  # (T, B)
    lengths = torch.tensor([4, 2, 1])
    r = reverse_padded(x, lengths)
    assert r[:, 0].tolist() == [9.0, 6.0, 3.0, 0.0]
    assert r[:, 1].tolist() == [4.0, 1.0, 7.0, 10.0]
    assert r[:, 2].tolist() == x[:, 2].tolist()
    assert torch.equal(reverse_padded(r, lengths), x)
