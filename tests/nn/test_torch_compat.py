"""lstmkit.nn as a drop-in for torch.nn's recurrent modules (issue 13).

PyTorch's own recurrent-layer tests (test/test_nn.py, the RNN entries of test/test_modules.py
and test/test_autograd.py), re-written here from what they check and run against lstmkit,
parametrised over LSTM/GRU/RNN (and the cells where it applies), with torch.nn as the oracle
wherever torch runs the same thing: empty batches, double backward (gradgradcheck in float64),
torch.func (jacrev, vmap(grad) per-sample gradients), bf16 autocast, non-finite padding,
``all_weights``, dropout edge values, zero sizes and exception classes.
"""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call, grad, jacrev, vmap

import lstmkit.nn as lnn
from lstmkit.errors import LstmkitError
from lstmkit.nn.kernels import force_path

KINDS = ["LSTM", "GRU", "RNN"]
TORCH = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}
OURS = {"LSTM": lnn.LSTM, "GRU": lnn.GRU, "RNN": lnn.RNN}
CELLS = {"LSTMCell": (torch.nn.LSTMCell, lnn.LSTMCell), "GRUCell": (torch.nn.GRUCell, lnn.GRUCell),
         "RNNCell": (torch.nn.RNNCell, lnn.RNNCell)}
VARIANT = dict(layer_norm=True, peephole=True)  # an LSTM variant: always lstmkit's fused kernel


def pair(kind: str, dtype=torch.float32, seed: int = 0, **kw):
    """(torch module, lstmkit module) with identical weights."""
    torch.manual_seed(seed)
    ref = TORCH[kind](3, 4, dtype=dtype, **kw)
    return ref, OURS[kind].from_torch(ref)


def hidden_of(result):
    """h_n of a layer's result (h_n for GRU/RNN, (h_n, c_n)[0] for LSTM)."""
    h = result[1]
    return h[0] if isinstance(h, tuple) else h


def states(result) -> list[torch.Tensor]:
    h = result[1]
    return list(h) if isinstance(h, tuple) else [h]


def state_like(kind: str, h: torch.Tensor):
    return (h, torch.zeros_like(h)) if kind == "LSTM" else h


# ------------------------------------------------------------------ 1. empty batch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", KINDS + ["LSTM-variant"])
def test_empty_batch_returns_empty_outputs_and_backward_works(kind, batch_first):
    """torch: LSTM(3, 4)(torch.zeros(5, 0, 3)) returns (5, 0, 4) and states (1, 0, 4); backward runs."""
    kw = dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    if kind == "LSTM-variant":
        m, ref = lnn.LSTM(3, 4, **kw, **VARIANT), torch.nn.LSTM(3, 4, **kw)
    else:
        ref, m = pair(kind, **kw)
    x = torch.zeros((0, 5, 3) if batch_first else (5, 0, 3), requires_grad=True)
    for training in (True, False):
        m.train(training)
        ours, theirs = m(x), ref(x)
        assert ours[0].shape == theirs[0].shape
        assert [s.shape for s in states(ours)] == [s.shape for s in states(theirs)]
        (ours[0].sum() + sum(s.sum() for s in states(ours))).backward()
        assert x.grad.shape == x.shape
        assert all(p.grad is None or torch.count_nonzero(p.grad) == 0 for p in m.parameters())
    with torch.no_grad():
        assert m(x, lengths=torch.zeros(0, dtype=torch.int64))[0].shape == theirs[0].shape


@pytest.mark.parametrize("name", list(CELLS))
def test_cells_on_an_empty_batch(name):
    theirs_cls, ours_cls = CELLS[name]
    torch.manual_seed(0)
    x = torch.zeros(0, 3, requires_grad=True)
    ours, theirs = ours_cls(3, 4)(x), theirs_cls(3, 4)(x)
    ours, theirs = (ours if isinstance(ours, tuple) else (ours,)), (theirs if isinstance(theirs, tuple) else (theirs,))
    assert [t.shape for t in ours] == [t.shape for t in theirs]
    sum(t.sum() for t in ours).backward()


# ------------------------------------------------------------------ 2. double backward
@pytest.mark.parametrize("kind", KINDS + ["LSTM-variant"])
def test_gradgradcheck_float64_on_the_default_path(kind):
    """gradgradcheck (test_autograd's RNN entries) through the path a user gets: for an LSTM that
    is lstmkit's fused kernel, whose backward recomputes through PyTorch operations when it is
    itself differentiated. Inputs x, h0 and a recurrent weight; lengths and both directions."""
    kw = dict(bidirectional=True, dtype=torch.float64)
    torch.manual_seed(0)
    m = lnn.LSTM(3, 3, **kw, **VARIANT) if kind == "LSTM-variant" else OURS[kind](3, 3, **kw)
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    w_hh = m.weight_hh_l0.detach().clone().requires_grad_()
    lengths = torch.tensor([4, 2])
    is_lstm = kind.startswith("LSTM")

    def f(x, h0, w_hh):
        state = (h0, torch.zeros_like(h0)) if is_lstm else h0
        out = functional_call(m, {"weight_hh_l0": w_hh}, (x, state), {"lengths": lengths})
        return (out[0], *states(out))

    assert torch.autograd.gradgradcheck(f, (x, h0, w_hh))


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_penalty_equals_torch(kind):
    """create_graph=True then backward (a gradient penalty): the weights' gradients equal torch.nn's."""
    ref, m = pair(kind, torch.float64, num_layers=2, bidirectional=True)
    x = torch.randn(5, 3, 3, dtype=torch.float64)
    results = []
    for module in (ref, m):
        xi = x.clone().requires_grad_()
        out = module(xi)[0]
        (gx,) = torch.autograd.grad((out**2).sum(), xi, create_graph=True)
        penalty = gx.pow(2).sum()
        results.append(torch.autograd.grad(penalty, list(module.parameters())))
    for a, b in zip(*results):
        torch.testing.assert_close(b, a)


# ------------------------------------------------------------------ 3. torch.func
@pytest.mark.parametrize("kind", KINDS)
def test_jacrev_equals_torch(kind):
    ref, m = pair(kind, num_layers=2, bidirectional=True)
    x = torch.randn(4, 2, 3)
    torch.testing.assert_close(jacrev(lambda v: m(v)[0])(x), jacrev(lambda v: ref(v)[0])(x))


@pytest.mark.parametrize("kind", KINDS)
def test_per_sample_gradients_vmap_grad_equal_torch(kind):
    """Opacus-style per-sample gradients: vmap(grad(loss)) over the batch with functional_call, equal
    to torch.nn's gradients of each sample alone (ordinary autograd; torch 2.13's own GRU/RNN
    fail under this vmap, its LSTM runs)."""
    ref, m = pair(kind, batch_first=True)
    x, target = torch.randn(3, 5, 3), torch.randn(3, 5, 4)

    def loss(module, p, xi, ti):
        out = functional_call(module, p, (xi.unsqueeze(0),))[0]
        return ((out[0] - ti) ** 2).mean()

    params = {k: v.detach() for k, v in m.named_parameters()}
    ours = vmap(grad(lambda p, xi, ti: loss(m, p, xi, ti)), in_dims=(None, 0, 0))(params, x, target)
    for b in range(3):
        theirs = torch.autograd.grad(loss(ref, dict(ref.named_parameters()), x[b], target[b]), list(ref.parameters()))
        for (name, _), g in zip(ref.named_parameters(), theirs):
            torch.testing.assert_close(ours[name][b], g)


def test_per_sample_gradients_of_a_variant_and_jacrev_with_lengths():
    """No torch peer for the variants: vmap(grad) equals a loop of ordinary backward passes; jacrev
    with lengths equals torch.autograd.functional.jacobian (plain autograd, the fused path)."""
    torch.manual_seed(0)
    m = lnn.LSTM(3, 4, **VARIANT).eval()
    x = torch.randn(5, 3, 3)
    params = {k: v.detach() for k, v in m.named_parameters()}

    def loss(p, xi):
        return functional_call(m, p, (xi.unsqueeze(1),))[0].pow(2).sum()

    batched = vmap(grad(loss), in_dims=(None, 1))(params, x)
    for b in range(3):
        looped = torch.autograd.grad(loss(dict(m.named_parameters()), x[:, b]), list(m.parameters()))
        for (name, _), g in zip(m.named_parameters(), looped):
            torch.testing.assert_close(batched[name][b], g)
    lengths = torch.tensor([5, 2, 4])
    f = lambda v: m(v, lengths=lengths)[0]  # noqa: E731
    torch.testing.assert_close(jacrev(f)(x), torch.autograd.functional.jacobian(f, x))


# ------------------------------------------------------------------ 4. autocast
@pytest.mark.parametrize("kind", KINDS)
def test_bf16_autocast_linear_then_layer_like_torch(kind):
    """Linear -> layer under torch.autocast("cpu", bfloat16): the Linear's bf16 output is accepted,
    the result has torch.nn's dtype and values, and float32 weights get float32 gradients."""
    ref, m = pair(kind, num_layers=2)
    torch.manual_seed(1)
    lin = torch.nn.Linear(3, 3)
    x = torch.randn(6, 2, 3)
    outs = []
    for module in (ref, m):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            res = module(lin(x))
        outs.append(res)
        (res[0].float().sum() + hidden_of(res).float().sum()).backward()
    theirs, ours = outs
    assert ours[0].dtype == theirs[0].dtype == torch.bfloat16
    assert [s.dtype for s in states(ours)] == [s.dtype for s in states(theirs)]
    torch.testing.assert_close(ours[0], theirs[0])
    for p, q in zip(m.parameters(), ref.parameters()):
        assert p.grad.dtype == torch.float32
        torch.testing.assert_close(p.grad, q.grad, atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_input_under_autocast_has_torchs_output_dtype(kind):
    """A float32 input under bf16 autocast: torch runs its LSTM kernel in bf16 (it is on autocast's
    lower-precision list; on CPUs without native bf16 torch's oneDNN call itself may fail) and
    passes GRU/RNN through. lstmkit's default path (its fused kernel for LSTM training) must not
    ignore autocast: the LSTM returns bf16."""
    ref, m = pair(kind)
    x = torch.randn(6, 2, 3, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = m(x)
        expected = torch.bfloat16 if kind == "LSTM" else ref(x)[0].dtype
    assert ours[0].dtype == expected
    ours[0].float().sum().backward()
    assert m.weight_ih_l0.grad.dtype == torch.float32


def test_lstm_variant_and_cells_under_autocast():
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 3)
    x = torch.randn(6, 2, 3)
    m = lnn.LSTM(3, 4, **VARIANT)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, (h, c) = m(lin(x))
    assert out.dtype == h.dtype == c.dtype == torch.bfloat16  # computed in float32, returned as autocast's
    out.float().sum().backward()
    assert torch.isfinite(m.ln_weight_hh_l0.grad).all()
    for name, (theirs_cls, ours_cls) in CELLS.items():
        torch.manual_seed(0)
        theirs = theirs_cls(3, 4)
        ours = ours_cls(3, 4, **({"forget_bias": 0.0} if name == "LSTMCell" else {}))
        ours.load_state_dict(theirs.state_dict())
        for inp in (lin(x[0]).detach().bfloat16(), x[0]):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                a, b = ours(inp), theirs(inp)
            a, b = (a if isinstance(a, tuple) else (a,)), (b if isinstance(b, tuple) else (b,))
            assert [t.dtype for t in a] == [t.dtype for t in b], name
            for u, v in zip(a, b):  # bf16 GEMMs summed in another order: bf16's precision
                torch.testing.assert_close(u, v, atol=1e-2, rtol=1e-2)


# ------------------------------------------------------------------ 5. non-finite padding
PADDING_CASES = [("LSTM", None), ("LSTM", "fused"), ("LSTM", "reference"), ("LSTM", "torch"),
                 ("LSTM-variant", None), ("LSTM-variant", "variant_reference"), ("GRU", None), ("GRU", "reference"),
                 ("RNN", None), ("RNN", "reference")]


@pytest.mark.parametrize("kind, path", PADDING_CASES, ids=[f"{k}-{p or 'auto'}" for k, p in PADDING_CASES])
@pytest.mark.parametrize("fill", [float("nan"), float("inf")])
def test_non_finite_padding_leaves_every_gradient_as_with_zero_padding(kind, path, fill):
    """With lengths, what the padded steps hold must not matter, forward or backward (torch's packed
    path never reads them): NaN/inf there give the same outputs and gradients as zeros."""
    torch.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=True)
    m = lnn.LSTM(3, 4, **kw, **VARIANT) if kind == "LSTM-variant" else OURS[kind](3, 4, **kw)
    lengths = torch.tensor([6, 3, 1, 4])
    base = torch.randn(6, 4, 3)
    pad = torch.arange(6).unsqueeze(1) >= lengths.unsqueeze(0)  # (T, B)
    results = []
    for filler in (0.0, fill):
        x = base.masked_fill(pad.unsqueeze(-1), filler).requires_grad_()
        if path is None:
            res = m(x, lengths=lengths)
        else:
            with force_path(path):
                res = m(x, lengths=lengths)
        loss = res[0].pow(2).sum() + sum(s.sum() for s in states(res))
        grads = torch.autograd.grad(loss, [x, *m.parameters()])
        results.append((res[0], *states(res), *grads))
    for clean, dirty in zip(*results):
        assert torch.isfinite(dirty).all()
        torch.testing.assert_close(dirty, clean)


# ------------------------------------------------------------------ 6. torch surface
@pytest.mark.parametrize("kw", [dict(), dict(num_layers=2, bidirectional=True), dict(bias=False, num_layers=2),
                                dict(proj_size=2, bidirectional=True)], ids=["plain", "2-layer-bi", "no-bias", "proj"])
@pytest.mark.parametrize("kind", KINDS)
def test_all_weights_like_torch(kind, kw):
    if "proj_size" in kw and kind != "LSTM":
        pytest.skip("proj_size is LSTM-only")
    ref, m = pair(kind, **kw)
    assert [[tuple(p.shape) for p in group] for group in m.all_weights] == [
        [tuple(p.shape) for p in group] for group in ref.all_weights
    ]
    for group, ref_group in zip(m.all_weights, ref.all_weights):
        for p, q in zip(group, ref_group):
            assert isinstance(p, torch.nn.Parameter)
            torch.testing.assert_close(p, q)
    ours_params = {id(p) for p in m.parameters()}
    assert all(id(p) in ours_params for group in m.all_weights for p in group)


@pytest.mark.parametrize("dropout", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("kind", KINDS)
def test_dropout_edge_values(kind, dropout):
    """torch accepts p in [0, 1]; with p = 1 every layer after the first sees zeros in training, so
    the output is deterministic and equals torch's. Eval mode ignores dropout."""
    ref, m = pair(kind, num_layers=3, dropout=dropout)
    x = torch.randn(5, 2, 3)
    if dropout in (0.0, 1.0):
        torch.testing.assert_close(m.train()(x)[0], ref.train()(x)[0])
    torch.testing.assert_close(m.eval()(x)[0], ref.eval()(x)[0])
    lnn.LSTM(3, 4, num_layers=2, dropout=1, **VARIANT).train()(x)[0].sum().backward()
    for bad in (1.5, -0.1):
        with pytest.raises(ValueError):
            TORCH[kind](3, 4, num_layers=2, dropout=bad)
        with pytest.raises(ValueError, match=r"dropout must be a float in \[0, 1\]"):
            OURS[kind](3, 4, num_layers=2, dropout=bad)


@pytest.mark.parametrize("sizes", [(3, 0), (0, 4), (0, 0)], ids=["hidden0", "input0", "both0"])
@pytest.mark.parametrize("name", list(CELLS) + ["LSTMCell-variant"])
def test_cells_with_zero_sizes_like_torch(name, sizes):
    F, H = sizes
    theirs_cls, ours_cls = CELLS[name.removesuffix("-variant")]
    ours = ours_cls(F, H, **(VARIANT if name.endswith("variant") else {}))
    x = torch.randn(2, F, requires_grad=True)
    a, b = ours(x), theirs_cls(F, H)(x)
    a, b = (a if isinstance(a, tuple) else (a,)), (b if isinstance(b, tuple) else (b,))
    assert [t.shape for t in a] == [t.shape for t in b]
    sum(t.sum() for t in a).backward()
    assert ours.weight_hh.shape == theirs_cls(F, H).weight_hh.shape


@pytest.mark.parametrize("kind", KINDS)
def test_zero_hidden_size_layer_raises_value_error_like_torch(kind):
    with pytest.raises(ValueError):
        TORCH[kind](3, 0)
    with pytest.raises(ValueError, match="hidden_size"):
        OURS[kind](3, 0)


@pytest.mark.parametrize("kind", ["GRU", "RNN"])
def test_proj_size_on_gru_rnn_raises_torchs_value_error(kind):
    message = "proj_size argument is only supported for LSTM, not RNN or GRU"
    with pytest.raises(ValueError, match=message):
        TORCH[kind](3, 4, proj_size=2)
    with pytest.raises(ValueError, match=message):
        OURS[kind](3, 4, proj_size=2)


# ------------------------------------------------------------------ 7. exception classes
def _raised(fn) -> Exception:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the test inspects whatever was raised
        return e
    pytest.fail("no exception raised")


X = torch.randn(5, 2, 3)
LAYER_ERRORS = {
    # name: (kinds, call(module class, kind)); torch raises deliberately in each
    "feature size": (KINDS, lambda M, k: M(3, 4)(torch.randn(5, 2, 7))),
    "hidden batch": (KINDS, lambda M, k: M(3, 4)(X, state_like(k, torch.zeros(1, 3, 4)))),
    "hidden size": (KINDS, lambda M, k: M(3, 4)(X, state_like(k, torch.zeros(1, 2, 5)))),
    "hidden rank": (KINDS, lambda M, k: M(3, 4)(X, state_like(k, torch.zeros(2, 4)))),
    "cell size": (["LSTM"], lambda M, k: M(3, 4)(X, (torch.zeros(1, 2, 4), torch.zeros(1, 2, 5)))),
    "zero steps": (KINDS, lambda M, k: M(3, 4)(torch.randn(0, 2, 3))),
    "input rank": (KINDS, lambda M, k: M(3, 4)(torch.randn(5, 2, 3, 1))),
    "input dtype": (KINDS, lambda M, k: M(3, 4)(X.double())),
    "hidden_size float": (KINDS, lambda M, k: M(3, 4.5)),
    "input_size float": (KINDS, lambda M, k: M(3.0, 4)),
    "bias not bool": (KINDS, lambda M, k: M(3, 4, bias="yes")),
    "batch_first not bool": (KINDS, lambda M, k: M(3, 4, batch_first=1)),
    "hidden_size zero": (KINDS, lambda M, k: M(3, 0)),
    "num_layers zero": (KINDS, lambda M, k: M(3, 4, num_layers=0)),
    "dropout > 1": (KINDS, lambda M, k: M(3, 4, num_layers=2, dropout=1.5)),
    "proj_size >= hidden": (["LSTM"], lambda M, k: M(3, 4, proj_size=4)),
    "proj_size negative": (["LSTM"], lambda M, k: M(3, 4, proj_size=-1)),
    "proj_size on GRU/RNN": (["GRU", "RNN"], lambda M, k: M(3, 4, proj_size=2)),
    "nonlinearity": (["RNN"], lambda M, k: M(3, 4, nonlinearity="rleu")),
}
LAYER_CASES = [(name, kind) for name, (kinds, _) in LAYER_ERRORS.items() for kind in kinds]


@pytest.mark.parametrize("name, kind", LAYER_CASES, ids=[f"{k}-{n}" for n, k in LAYER_CASES])
def test_layer_errors_are_instances_of_what_torch_raises(name, kind):
    """An ``except RuntimeError`` / ``pytest.raises(TypeError)`` written for torch.nn catches
    lstmkit's error too; it stays an LstmkitError with lstmkit's message."""
    call = LAYER_ERRORS[name][1]
    theirs = _raised(lambda: call(TORCH[kind], kind))
    ours = _raised(lambda: call(OURS[kind], kind))
    assert isinstance(ours, LstmkitError), repr(ours)
    assert isinstance(ours, type(theirs)), f"torch raised {type(theirs).__name__}, lstmkit {type(ours).__mro__}"


CELL_ERRORS = {
    "feature size": lambda C: C(3, 4)(torch.randn(5, 2)),
    "hidden size": lambda C: C(3, 4)(torch.randn(5, 3), *(
        [(torch.zeros(5, 3), torch.zeros(5, 4))] if C in (lnn.LSTMCell, torch.nn.LSTMCell) else [torch.zeros(5, 3)])),
    "input rank": lambda C: C(3, 4)(torch.randn(5, 2, 3)),
}
CELL_CASES = [(n, c) for n in CELL_ERRORS for c in CELLS]


@pytest.mark.parametrize("name, cell", CELL_CASES, ids=[f"{c}-{n}" for n, c in CELL_CASES])
def test_cell_errors_are_instances_of_what_torch_raises(name, cell):
    theirs_cls, ours_cls = CELLS[cell]
    theirs = _raised(lambda: CELL_ERRORS[name](theirs_cls))
    ours = _raised(lambda: CELL_ERRORS[name](ours_cls))
    assert isinstance(ours, LstmkitError) and isinstance(ours, type(theirs)), (type(theirs), type(ours).__mro__)


@pytest.mark.parametrize("kind", KINDS)
def test_torch_key_phrases_in_messages(kind):
    """The phrases tests written against torch.nn commonly match."""
    with pytest.raises(RuntimeError, match=r"input\.size\(-1\) must be equal to input_size"):
        OURS[kind](3, 4)(torch.randn(5, 2, 7))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        OURS[kind](3, 4)(X, state_like(kind, torch.zeros(1, 3, 4)))
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        OURS[kind](3, 4)(torch.randn(0, 2, 3))
