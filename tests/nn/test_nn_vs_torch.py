"""Outputs, final states and gradients equal torch.nn.LSTM / GRU / RNN on every path."""

from __future__ import annotations

import pytest
import torch
from nn_helpers import (
    PATHS,
    build_pair,
    flat_outputs,
    grads,
    loss_of,
    make_inputs,
    on_path,
    random_config,
    tol,
    torch_forward,
)
from torch.nn.utils.rnn import pack_sequence

import lstmkit.nn as lnn
from lstmkit.nn.kernels import force_path

CASES = [("lstm", s) for s in range(40)] + [("gru", s) for s in range(100, 112)] + [("rnn", s) for s in range(200, 212)]


def _check_against_torch(kind: str, seed: int, path: str) -> None:
    cfg = random_config(seed, kind)
    ref, ours = build_pair(cfg, seed)
    x, state, lengths = make_inputs(cfg, seed)
    expected = flat_outputs(torch_forward(ref, x, state, lengths, cfg["batch_first"]))
    with on_path(path):
        got = flat_outputs(ours(x, state, lengths=lengths))
    for e, g, name in zip(expected, got, ["output", "h_n", "c_n"]):
        assert g.shape == e.shape, (name, cfg)
        torch.testing.assert_close(g, e, **tol(cfg["dtype"]), msg=lambda m: f"{name} {cfg}: {m}")
    leaves = [x] + ([] if state is None else list(state) if isinstance(state, tuple) else [state])
    g_exp = grads(loss_of(expected), leaves + list(ref.parameters()))
    g_got = grads(loss_of(got), leaves + list(ours.parameters()))
    names = ["input"] + [f"state{i}" for i in range(len(leaves) - 1)] + [n for n, _ in ours.named_parameters()]
    for e, g, name in zip(g_exp, g_got, names):
        torch.testing.assert_close(g, e, **tol(cfg["dtype"]), msg=lambda m: f"grad {name} {cfg}: {m}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind,seed", CASES)
def test_matches_torch_outputs_states_and_gradients(kind, seed, path):
    _check_against_torch(kind, seed, path)


def test_random_configs_cover_every_axis():
    cfgs = [random_config(s, k) for k, s in CASES if k == "lstm"]
    for key in ("bidirectional", "batch_first", "unbatched", "use_lengths", "with_state", "bias"):
        assert {c[key] for c in cfgs} == {True, False}, key
    assert {c["num_layers"] for c in cfgs} == {1, 2, 3}
    assert {c["dtype"] for c in cfgs} == {torch.float32, torch.float64}
    assert any(c["proj_size"] for c in cfgs) and any(not c["proj_size"] for c in cfgs)
    assert any(c["use_lengths"] and c["bidirectional"] and c["num_layers"] > 1 for c in cfgs)
    for kind in ("gru", "rnn"):  # the comparators too: every depth, both directions, both dtypes
        cs = [random_config(s, k) for k, s in CASES if k == kind]
        assert {c["num_layers"] for c in cs} == {1, 2, 3}, kind
        assert {c["dtype"] for c in cs} == {torch.float32, torch.float64}, kind
        for key in ("bidirectional", "use_lengths", "unbatched"):
            assert {c[key] for c in cs} == {True, False}, (kind, key)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind,sizes", [("lstm", (2, 5, 3, 5)), ("gru", (2, 5, 3, 5)), ("rnn", (2, 5, 3, 5)),
                                        ("lstm", (4, 4, 4, 4))])
def test_packed_sequence_in_and_out(kind, sizes, path):
    torch.manual_seed(3)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    ref = cls(3, 4, num_layers=2, bidirectional=True)
    ours = {"lstm": lnn.LSTM, "gru": lnn.GRU, "rnn": lnn.RNN}[kind].from_torch(ref)
    seqs = [torch.randn(n, 3) for n in sizes]
    packed = pack_sequence(seqs, enforce_sorted=False)
    h0 = torch.randn(4, 4, 4)  # (L*D, B, H) in the caller's batch order, as torch expects
    state = (h0, torch.randn(4, 4, 4)) if kind == "lstm" else h0
    out_e, hid_e = ref(packed, state)
    with on_path(path):
        out_g, hid_g = ours(packed, state)
    assert isinstance(out_g, torch.nn.utils.rnn.PackedSequence)
    torch.testing.assert_close(out_g.data, out_e.data, atol=1e-5, rtol=1e-5)
    assert torch.equal(out_g.batch_sizes, out_e.batch_sizes)
    assert torch.equal(out_g.sorted_indices, out_e.sorted_indices)
    for e, g in zip(hid_e if kind == "lstm" else [hid_e], hid_g if kind == "lstm" else [hid_g]):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=1e-5)


def test_lengths_on_any_device_and_as_list():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(2, 3)
    ours = lnn.LSTM.from_torch(ref)
    x = torch.randn(4, 3, 2)
    a = ours(x, lengths=torch.tensor([4, 2, 1], dtype=torch.int32))
    b = ours(x, lengths=[4, 2, 1])
    c = torch_forward(ref, x, None, torch.tensor([4, 2, 1]), False)
    for u, v, w in zip(flat_outputs(a), flat_outputs(b), flat_outputs(c)):
        torch.testing.assert_close(u, w)
        torch.testing.assert_close(v, w)
    assert a[0][2:, 1].abs().max() == 0 and a[0][1:, 2].abs().max() == 0  # zeros past each end


@pytest.mark.parametrize("path", [p for p in PATHS if p != "reference"])
def test_reference_and_fast_paths_agree_on_a_larger_stack(path):
    torch.manual_seed(0)
    lstm = lnn.LSTM(7, 16, num_layers=3, bidirectional=True, proj_size=5, batch_first=True)
    x = torch.randn(6, 20, 7)
    lengths = torch.tensor([20, 3, 11, 1, 20, 7])
    with torch.no_grad():
        with force_path("reference"):
            a = lstm(x, lengths=lengths, return_gates=True)
        with on_path(path):
            b = lstm(x, lengths=lengths, return_gates=True)
        c = lstm(x, lengths=lengths)  # automatic choice
    for u, v in zip([a[0], *a[1], *a[2]], [b[0], *b[1], *b[2]]):
        torch.testing.assert_close(u, v, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(c[0], a[0], atol=1e-5, rtol=1e-5)


def test_dropout_between_layers_like_torch():
    torch.manual_seed(0)
    lstm = lnn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = torch.randn(5, 2, 3)
    lstm.eval()
    e1, e2 = lstm(x)[0], lstm(x)[0]
    assert torch.equal(e1, e2)  # no dropout in eval mode
    lstm.train()
    for path in PATHS:
        with on_path(path):
            t = lstm(x)[0]
        assert not torch.allclose(t, e1)
        t.sum().backward()
    single = lnn.LSTM(3, 4, num_layers=1, dropout=0.0).train()
    torch.testing.assert_close(single(x)[0], single.eval()(x)[0])
