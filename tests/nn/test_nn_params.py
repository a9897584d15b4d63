"""State dicts move between lstmkit and torch.nn unchanged; initialisation; cells."""

from __future__ import annotations

import pytest
import torch

import lstmkit.nn as lnn


@pytest.mark.parametrize(
    "ours_cls,torch_cls,kwargs",
    [
        (lnn.LSTM, torch.nn.LSTM, dict(num_layers=2, bidirectional=True, proj_size=2)),
        (lnn.LSTM, torch.nn.LSTM, dict(bias=False, batch_first=True)),
        (lnn.GRU, torch.nn.GRU, dict(num_layers=2, bidirectional=True)),
        (lnn.RNN, torch.nn.RNN, dict(num_layers=3, nonlinearity="relu")),
    ],
)
def test_state_dict_round_trip_both_ways(ours_cls, torch_cls, kwargs):
    torch.manual_seed(0)
    theirs = torch_cls(3, 4, **kwargs)
    ours = ours_cls(3, 4, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # same names, same order
    for (n, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert a.shape == b.shape, n
    ours.load_state_dict(theirs.state_dict())  # torch -> lstmkit
    x = torch.randn(5, 2, 3) if not kwargs.get("batch_first") else torch.randn(2, 5, 3)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0])
    fresh = torch_cls(3, 4, **kwargs)
    fresh.load_state_dict(ours_cls(3, 4, **kwargs).state_dict())  # lstmkit -> torch
    back = ours_cls.from_torch(theirs).to_torch()  # from_torch / to_torch
    assert type(back) is torch_cls
    for k, v in theirs.state_dict().items():
        assert torch.equal(back.state_dict()[k], v)
    torch.testing.assert_close(back(x)[0], theirs(x)[0])


def test_from_torch_keeps_dtype_and_mode_and_rejects_other_modules():
    t = torch.nn.LSTM(2, 3, dtype=torch.float64).eval()
    ours = lnn.LSTM.from_torch(t)
    assert ours.weight_ih_l0.dtype == torch.float64 and not ours.training
    from lstmkit.errors import ConfigError

    with pytest.raises(ConfigError, match="LSTM.from_torch expects a torch.nn.modules.rnn.LSTM, got GRU"):
        lnn.LSTM.from_torch(torch.nn.GRU(2, 3))


def test_forget_bias_zero_is_torch_init_exactly_and_one_shifts_forget_gate():
    torch.manual_seed(5)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    torch.manual_seed(5)
    same = lnn.LSTM(3, 4, num_layers=2, bidirectional=True, forget_bias=0.0)
    torch.manual_seed(5)
    default = lnn.LSTM(3, 4, num_layers=2, bidirectional=True)  # forget_bias=1.0
    H = 4
    for name, p in theirs.state_dict().items():
        assert torch.equal(same.state_dict()[name], p), name
        expected = p.clone()
        if name.startswith("bias_ih"):
            expected[H:2 * H] += 1.0
        assert torch.equal(default.state_dict()[name], expected), name
    torch.manual_seed(5)
    cell = lnn.LSTMCell(3, 4, forget_bias=0.0)
    torch.manual_seed(5)
    tcell = torch.nn.LSTMCell(3, 4)
    for name, p in tcell.state_dict().items():
        assert torch.equal(cell.state_dict()[name], p)


def test_orthogonal_recurrent_init():
    lstm = lnn.LSTM(3, 6, num_layers=2, recurrent_init="orthogonal")
    for name, p in lstm.named_parameters():
        if name.startswith("weight_hh"):
            for block in p.detach().split(6):  # (H, H) per gate
                torch.testing.assert_close(block @ block.T, torch.eye(6), atol=1e-5, rtol=0)
    assert "recurrent_init='orthogonal'" in repr(lstm)


def test_extra_repr_shows_only_non_defaults():
    assert repr(lnn.LSTM(3, 4)) == "LSTM(3, 4)"
    assert repr(lnn.LSTM(3, 4, num_layers=2, forget_bias=0.0)) == "LSTM(3, 4, num_layers=2, forget_bias=0.0)"


@pytest.mark.parametrize(
    "ours_cls,torch_cls,kw",
    [(lnn.LSTMCell, torch.nn.LSTMCell, {}), (lnn.GRUCell, torch.nn.GRUCell, {}),
     (lnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}), (lnn.LSTMCell, torch.nn.LSTMCell, {"bias": False})],
)
def test_cells_match_torch_cells(ours_cls, torch_cls, kw):
    torch.manual_seed(0)
    theirs = torch_cls(3, 5, **kw)
    ours = ours_cls(3, 5, **kw)
    ours.load_state_dict(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(4, 3, requires_grad=True)
    is_lstm = ours_cls is lnn.LSTMCell
    state = (torch.randn(4, 5), torch.randn(4, 5)) if is_lstm else torch.randn(4, 5)
    for s in (None, state):
        a, b = ours(x, s), theirs(x, s)
        a, b = (a if is_lstm else (a,)), (b if is_lstm else (b,))
        for u, v in zip(a, b):
            torch.testing.assert_close(u, v)
        ga = torch.autograd.grad(sum(t.sum() for t in a), [x, *ours.parameters()])
        gb = torch.autograd.grad(sum(t.sum() for t in b), [x, *theirs.parameters()])
        for u, v in zip(ga, gb):
            torch.testing.assert_close(u, v)
    one = ours(x[0], None if s is None else (tuple(t[0] for t in state) if is_lstm else state[0]))  # unbatched
    assert (one[0] if is_lstm else one).shape == (5,)


def test_lstm_cell_with_projection_matches_one_lstm_step_and_protocol():
    torch.manual_seed(0)
    layer = torch.nn.LSTM(3, 5, proj_size=2)
    cell = lnn.LSTMCell(3, 5, proj_size=2)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})  # weight_ih_l0 -> weight_ih
    assert cell.state_size == (2, 5)
    h0, c0 = cell.initial_state(4)
    assert h0.shape == (4, 2) and c0.shape == (4, 5)
    x = torch.randn(4, 3)
    h, c = cell(x, (h0 + 0.1, c0 - 0.2))
    out, (h_n, c_n) = layer(x.unsqueeze(0), ((h0 + 0.1).unsqueeze(0), (c0 - 0.2).unsqueeze(0)))
    torch.testing.assert_close(h, h_n[0])
    torch.testing.assert_close(c, c_n[0])
