"""Bad input raises lstmkit errors that name the argument, the expected and the received value."""

from __future__ import annotations

import re

import pytest
import torch

import lstmkit.nn as lnn
from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn.kernels import force_path


@pytest.fixture(scope="module")
def lstm():
    return lnn.LSTM(3, 4, num_layers=2)


X = torch.randn(5, 2, 3)  # (T, B, F)

FORWARD_CASES = [
    ("wrong rank", lambda m: m(torch.randn(5, 2, 3, 1)),
     "input must have 3 dimensions (T, B, F) or 2 (T, F) for one unbatched sequence, got 4 dimensions with shape (5, 2, 3, 1)"),
    ("feature size", lambda m: m(torch.randn(5, 2, 7)),
     "input feature size (last dimension) must be input_size=3, got 7"),
    ("non-floating", lambda m: m(torch.ones(5, 2, 3, dtype=torch.int64)),
     "input must be a floating-point tensor (e.g. torch.float32), got dtype torch.int64"),
    ("dtype mismatch", lambda m: m(X.double()),
     "input dtype must match the parameters' dtype torch.float32, got torch.float64"),
    ("not a tensor", lambda m: m([[1.0, 2.0, 3.0]]), "input must be a torch.Tensor, got list"),
    ("state h0 shape", lambda m: m(X, (torch.zeros(1, 2, 4), torch.zeros(2, 2, 4))),
     "state h0 must have shape (2, 2, 4) (num_layers * num_directions, B, hidden), got (1, 2, 4)"),
    ("state c0 shape", lambda m: m(X, (torch.zeros(2, 2, 4), torch.zeros(2, 3, 4))),
     "state c0 must have shape (2, 2, 4) (num_layers * num_directions, B, hidden), got (2, 3, 4)"),
    ("state not a pair", lambda m: m(X, torch.zeros(2, 2, 4)),
     "state must be a tuple (h0, c0) for LSTM, got Tensor"),
    ("lengths > T", lambda m: m(X, lengths=torch.tensor([6, 2])),
     "lengths must be <= T=5 (the input's time dimension), got 6 at index 0"),
    ("lengths zero", lambda m: m(X, lengths=torch.tensor([5, 0])),
     "lengths must be >= 1 (each sequence needs a step), got 0 at index 1"),
    ("lengths negative", lambda m: m(X, lengths=torch.tensor([-1, 5])),
     "lengths must be >= 1 (each sequence needs a step), got -1 at index 0"),
    ("lengths batch size", lambda m: m(X, lengths=torch.tensor([5, 2, 1])),
     "lengths must have one entry per sequence: expected B=2 entries, got 3"),
    ("lengths float", lambda m: m(X, lengths=torch.tensor([5.0, 2.0])),
     "lengths must be an integer tensor (e.g. torch.int64), got dtype torch.float32"),
    ("lengths 2-D", lambda m: m(X, lengths=torch.tensor([[5, 2]])),
     "lengths must be 1-D with one entry per sequence (B=2,), got shape (1, 2)"),
    ("empty time", lambda m: m(torch.randn(0, 2, 3)), "input must have at least one time step, got T=0"),
    ("step rank", lambda m: m.step(torch.randn(1, 2, 3)),
     "x_t must have 2 dimensions (B, F) or 1 (F,) for one step, got shape (1, 2, 3)"),
]


@pytest.mark.parametrize("name,call,message", FORWARD_CASES, ids=[c[0] for c in FORWARD_CASES])
def test_forward_errors(lstm, name, call, message):
    for path in ("reference", "torch"):  # validation happens before dispatch, identically
        with force_path(path), pytest.raises(ShapeError, match=re.escape(message)):
            call(lstm)


def test_gru_state_errors():
    gru = lnn.GRU(3, 4)
    with pytest.raises(ShapeError, match=re.escape("state must be a single tensor h0 for GRU, got a tuple")):
        gru(X, (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))
    with pytest.raises(ShapeError, match=re.escape("state h0 must have shape (1, 2, 4)")):
        gru(X, torch.zeros(1, 2, 5))


def test_unbatched_state_shape():
    with pytest.raises(ShapeError, match=re.escape("state h0 must have shape (1, 4) (num_layers * num_directions, hidden), got (1, 1, 4)")):
        lnn.LSTM(3, 4)(torch.randn(5, 3), (torch.zeros(1, 1, 4), torch.zeros(1, 1, 4)))


CONSTRUCTOR_CASES = [
    (lambda: lnn.LSTM(3, -3), "hidden_size must be a positive int, got -3"),
    (lambda: lnn.LSTM(0, 4), "input_size must be a positive int, got 0"),
    (lambda: lnn.LSTM(3, 4.5), "hidden_size must be a positive int, got 4.5"),
    (lambda: lnn.LSTM(3, 4, num_layers=0), "num_layers must be a positive int, got 0"),
    (lambda: lnn.LSTM(3, 4, num_layers=2, dropout=1.5), "dropout must be a float in [0, 1], got 1.5"),
    (lambda: lnn.LSTM(3, 4, num_layers=2, dropout=-0.1), "dropout must be a float in [0, 1], got -0.1"),
    (lambda: lnn.LSTM(3, 4, proj_size=4), "proj_size must be smaller than hidden_size=4, got 4"),
    (lambda: lnn.LSTM(3, 4, proj_size=-1), "proj_size must be an int >= 0, got -1"),
    (lambda: lnn.LSTM(3, 4, bidirectional="yes"), "bidirectional must be True or False, got 'yes'"),
    (lambda: lnn.LSTM(3, 4, recurrent_init="orthogonl"), "(did you mean 'orthogonal'?)"),
    (lambda: lnn.RNN(3, 4, nonlinearity="rleu"), "nonlinearity must be 'tanh' or 'relu', got 'rleu' (did you mean 'relu'?)"),
    (lambda: lnn.LSTMCell(3, -1), "hidden_size must be an int >= 0, got -1"),
    (lambda: lnn.GRU(-1, 0), "input_size must be a positive int, got -1; hidden_size must be a positive int, got 0"),
]


@pytest.mark.parametrize("make,message", CONSTRUCTOR_CASES)
def test_constructor_errors(make, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make()


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="dropout=0.3 does nothing with num_layers=1"):
        lnn.LSTM(3, 4, dropout=0.3)


def test_cell_errors():
    cell = lnn.LSTMCell(3, 4)
    with pytest.raises(ShapeError, match=re.escape("input feature size must be input_size=3, got 2")):
        cell(torch.randn(5, 2))
    with pytest.raises(ShapeError, match=re.escape("state h_prev must have shape (5, 4) (B, hidden), got (5, 3)")):
        cell(torch.randn(5, 3), (torch.zeros(5, 3), torch.zeros(5, 4)))
    with pytest.raises(ShapeError, match="input must be a floating-point tensor"):
        cell(torch.ones(5, 3, dtype=torch.int32))


def test_packed_with_lengths_and_unknown_path():
    packed = torch.nn.utils.rnn.pack_sequence([torch.randn(3, 3), torch.randn(2, 3)])
    with pytest.raises(ConfigError, match="lengths must be None when input is a PackedSequence"):
        lnn.LSTM(3, 4)(packed, lengths=torch.tensor([3, 2]))
    with pytest.raises(ConfigError, match=re.escape("unknown path 'refrence'")):
        with force_path("refrence"):
            pass
