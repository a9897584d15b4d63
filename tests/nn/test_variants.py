"""LSTM variants as options of lstmkit.nn.LSTM / LSTMCell (issue 3): paths agree, masks are
seeded and off in eval, bad options raise ConfigError, torch.compile traces the LSTM without
a graph break, and a failed kernel build falls back with one warning."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from nn_helpers import assert_f32_as_accurate, replayed_masks

import lstmkit.nn as lnn
from lstmkit.errors import ConfigError
from lstmkit.nn.kernels import fused_cpu as fc
from lstmkit.nn.kernels import force_path, select_path

needs_kernel = pytest.mark.skipif(not fc.available(), reason=f"fused kernel unavailable: {fc.build_error()}")

ALL = dict(peephole=True, layer_norm=True, coupled_gates=False, recurrent_dropout=0.3, weight_drop=0.2,
           zoneout=(0.2, 0.1), gate_activation="sigmoid")


def _run(m, x, path, seed, lengths=None):
    torch.manual_seed(seed)
    with force_path(path):
        y, (h, c) = m(x, lengths=lengths)
    gy = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)
    loss = (y * gy).sum() + h.sum() + c.sum()
    grads = torch.autograd.grad(loss, [x, *m.parameters()])
    return (y, h, c), grads


def _fused_as_accurate_as_reference(m, x, lengths=None, seed=7):
    """The fused path and the pure-PyTorch path in float32, and a float64 run of the same computation
    (same weights, inputs and masks): the fused path's error within a small factor of the pure-PyTorch
    path's (nn_helpers.assert_f32_as_accurate), for the outputs and for all gradients."""
    m64 = copy.deepcopy(m).double()
    x64 = x.detach().double().requires_grad_()
    with replayed_masks() as next_run:
        fused = _run(m, x, "fused", seed, lengths)
        next_run()
        ref = _run(m, x, "variant_reference", seed, lengths)
        next_run()
        exact = _run(m64, x64, "variant_reference", seed, lengths)
    # in float64 both paths compute the same function (to ~1e-12): any difference is rounding
    assert_f32_as_accurate(fused[0], ref[0], exact[0], "outputs")
    assert_f32_as_accurate(fused[1], ref[1], exact[1], "gradients")


@needs_kernel
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    "opts",
    [
        ALL,
        dict(coupled_gates=True, gate_activation="hard_sigmoid", zoneout=0.3),
        dict(layer_norm=True, weight_drop=0.5),
    ],
    ids=["ln+peephole+dropouts+zoneout", "coupled+hard+zoneout", "ln+weight_drop"],
)
def test_fused_path_equals_pure_pytorch_path(opts, training):
    """Same seed -> same masks on both paths; outputs and all gradients agree (2 layers,
    bidirectional, projection, lengths): in float64 to 1e-10, in float32 the fused path as accurate
    as the pure-PyTorch path within a small factor, both against float64."""
    torch.manual_seed(0)
    m = lnn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=4, dropout=0.0, **opts).train(training)
    x = torch.randn(5, 3, 3, requires_grad=True)
    lengths = torch.tensor([5, 2, 4])
    _fused_as_accurate_as_reference(m, x, lengths)
    m64, x64 = copy.deepcopy(m).double(), x.detach().double().requires_grad_()
    out_f, g_f = _run(m64, x64, "fused", 7, lengths)
    out_r, g_r = _run(m64, x64, "variant_reference", 7, lengths)
    for a, b in zip([*out_f, *g_f], [*out_r, *g_r]):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_variant_layer_dispatches_to_the_kernel_and_never_to_torch():
    m = lnn.LSTM(2, 3, layer_norm=True)
    x = torch.randn(4, 2, 2)
    from lstmkit.nn.kernels import KernelRequest

    req = KernelRequest(m.mode, x.device, x.dtype, 1, False, 0, True, False, True, False, 0.0)
    assert select_path(req).name == ("fused" if fc.available() else "variant_reference")
    with pytest.raises(ConfigError, match="cannot run"):
        with force_path("torch"):
            m(x)


def test_masks_are_seeded_and_off_in_eval():
    torch.manual_seed(0)
    m = lnn.LSTM(3, 5, recurrent_dropout=0.4, weight_drop=0.4, zoneout=(0.3, 0.3))
    x = torch.randn(6, 2, 3)
    torch.manual_seed(1)
    a = m(x)[0]
    torch.manual_seed(1)
    b = m(x)[0]
    torch.manual_seed(2)
    c = m(x)[0]
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    # eval: no dropout masks; zoneout uses its expectation, deterministic
    m.eval()
    e1, e2 = m(x)[0], m(x)[0]
    torch.testing.assert_close(e1, e2)
    plain = lnn.LSTM(3, 5, zoneout=(0.3, 0.3)).eval()
    plain.load_state_dict(m.state_dict())
    torch.testing.assert_close(e1, plain(x)[0])


def test_zoneout_eval_is_the_expectation():
    """Eval-mode zoneout: c_t = p c_{t-1} + (1 - p) c'_t, checked on one step against the cell maths."""
    torch.manual_seed(0)
    m = lnn.LSTM(2, 3, zoneout=(0.25, 0.5)).eval()
    base = lnn.LSTM(2, 3).eval()
    base.load_state_dict(m.state_dict())
    x = torch.randn(1, 1, 2)
    h0, c0 = torch.randn(1, 1, 3), torch.randn(1, 1, 3)
    _, (h, c) = m(x, (h0, c0))
    _, (hb, cb) = base(x, (h0, c0))
    torch.testing.assert_close(c, 0.25 * c0 + 0.75 * cb)
    torch.testing.assert_close(h, 0.5 * h0 + 0.5 * hb)


def test_cell_loop_equals_layer_in_eval():
    """LSTMCell with the same options and parameters, stepped by hand, equals the layer (eval)."""
    torch.manual_seed(0)
    opts = dict(peephole=True, layer_norm=True, coupled_gates=True, gate_activation="hard_sigmoid", zoneout=0.2,
                recurrent_dropout=0.3)
    layer = lnn.LSTM(3, 4, proj_size=2, **opts).eval()
    cell = lnn.LSTMCell(3, 4, proj_size=2, **opts).eval()
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    x = torch.randn(5, 2, 3)

    def loop(cell, x):
        h, c = x.new_zeros(2, 2), x.new_zeros(2, 4)
        hs = []
        for t in range(5):
            h, c = cell(x[t], (h, c))
            hs.append(h)
        return [torch.stack(hs), c]

    y, (h_n, c_n) = layer(x)
    fast, ref, exact = [y, c_n[0]], loop(cell, x), loop(copy.deepcopy(cell).double(), x.double())
    assert_f32_as_accurate(fast, ref, exact, "layer (fused) vs cell loop")
    y64, (_, c64) = copy.deepcopy(layer).double()(x.double())
    torch.testing.assert_close([y64, c64[0]], exact, atol=1e-12, rtol=1e-12)


def test_parameters_names_init_and_repr():
    m = lnn.LSTM(3, 4, num_layers=2, bidirectional=True, peephole=True, layer_norm=True, zoneout=0.1)
    names = dict(m.named_parameters())
    for sfx in ("_l0", "_l0_reverse", "_l1", "_l1_reverse"):
        assert names[f"weight_peephole{sfx}"].shape == (3, 4)
        assert names[f"ln_weight_ih{sfx}"].shape == (16,) and torch.all(names[f"ln_weight_ih{sfx}"] == 1)
        assert torch.all(names[f"ln_bias_c{sfx}"] == 0)
    r = repr(m)
    assert "peephole=True" in r and "layer_norm=True" in r and "zoneout=(0.1, 0.1)" in r
    assert "peephole" not in repr(lnn.LSTM(3, 4))
    # a standard LSTM still converts to torch; a variant one refuses with a clear error
    lnn.LSTM(3, 4).to_torch()
    with pytest.raises(ConfigError, match="layer_norm"):
        m.to_torch()


def test_bad_options_raise_config_error_naming_each():
    with pytest.raises(ConfigError) as e:
        lnn.LSTM(3, 4, zoneout=1.5, gate_activation="hard_sigmoi", recurrent_dropout=-0.1, peephole="yes")
    msg = str(e.value)
    for part in ("zoneout", "gate_activation", "did you mean 'hard_sigmoid'", "recurrent_dropout", "peephole"):
        assert part in msg
    with pytest.raises(ConfigError, match="weight_drop"):
        lnn.LSTMCell(3, 4, weight_drop=1.0)


def test_torch_compile_no_graph_break_same_output():
    """A small model containing lstmkit.nn.LSTM (standard and layer-norm) compiles with
    fullgraph=True (so no graph break) and gives the same output and gradients. aot_eager
    keeps it cheap; it exercises the custom op's fake implementation and autograd formula."""

    class Model(torch.nn.Module):
        def __init__(self, **kw):
            super().__init__()
            self.lstm = lnn.LSTM(3, 8, batch_first=True, **kw)
            self.head = torch.nn.Linear(8, 1)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])

    x = torch.randn(4, 6, 3)
    for kw in ({}, {"layer_norm": True, "peephole": True}):
        torch.manual_seed(0)
        model = Model(**kw)
        ref = model(x)
        (g_ref,) = torch.autograd.grad(ref.sum(), [model.lstm.weight_hh_l0])
        graphs = []

        def backend(gm, example_inputs):
            graphs.append(gm)
            from functorch.compile import make_boxed_func

            compiler = lambda g, _: make_boxed_func(g)  # noqa: E731
            return torch._dynamo.backends.common.aot_autograd(fw_compiler=compiler, bw_compiler=compiler)(
                gm, example_inputs
            )

        torch._dynamo.reset()
        out = torch.compile(model, fullgraph=True, backend=backend)(x)
        (g_out,) = torch.autograd.grad(out.sum(), [model.lstm.weight_hh_l0])
        torch.testing.assert_close(out, ref)
        torch.testing.assert_close(g_out, g_ref)
        assert len(graphs) == 1
        if fc.available():
            assert "lstmkit_fused.lstm_fwd" in graphs[0].code
        # inference: the op is called with save=False (no by-products), through its fake too
        with torch.no_grad():
            torch._dynamo.reset()
            graphs.clear()
            out = torch.compile(model, fullgraph=True, backend=backend)(x)
            torch.testing.assert_close(out, model(x))
        assert len(graphs) == 1


def test_failed_build_falls_back_with_one_warning(monkeypatch):
    """No compiler: one RuntimeWarning naming the cause; standard LSTM on torch's kernel,
    variants on the pure-PyTorch path, same numbers."""
    torch.manual_seed(0)
    m = lnn.LSTM(3, 4, layer_norm=True)
    x = torch.randn(5, 2, 3)
    expected = m(x)[0]
    monkeypatch.setattr(fc, "_STATE", {"loaded": None, "error": None, "warned": False})

    def broken():
        raise RuntimeError("no C++ compiler found (looked for 'c++' on PATH)")

    monkeypatch.setattr(fc, "_build", broken)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = m(x)[0]
        std = lnn.LSTM(3, 4)(x)[0]
        m(x)
    msgs = [str(r.message) for r in w if issubclass(r.category, RuntimeWarning)]
    assert len(msgs) == 1 and "no C++ compiler" in msgs[0]
    assert fc.available() is False and "no C++ compiler" in fc.build_error()
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert std.shape == (5, 2, 4)


@needs_kernel
def test_variant_gates_fused_equal_reference_and_differentiable_with_grad():
    """return_gates: without autograd the fused path's by-product gates equal the pure-PyTorch
    path's; with autograd the request goes to the differentiable path."""
    torch.manual_seed(0)
    m = lnn.LSTM(3, 4, num_layers=2, bidirectional=True, layer_norm=True, peephole=True, zoneout=0.2).eval()
    x = torch.randn(5, 2, 3)
    lengths = torch.tensor([5, 3])
    with torch.no_grad():
        with force_path("fused"):
            y, _, g = m(x, lengths=lengths, return_gates=True)
        with force_path("variant_reference"):
            y_r, _, g_r = m(x, lengths=lengths, return_gates=True)
            y_64, _, g_64 = copy.deepcopy(m).double()(x.double(), lengths=lengths, return_gates=True)
    assert_f32_as_accurate([y, *g], [y_r, *g_r], [y_64, *g_64], "outputs and gates")
    _, _, g = m(x, lengths=lengths, return_gates=True)  # autograd on: differentiable gates
    (grad,) = torch.autograd.grad(g.forget_gate.sum(), [m.ln_weight_hh_l0])
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


@needs_kernel
@pytest.mark.parametrize(
    "opts",
    [dict(peephole=True, recurrent_dropout=0.3, zoneout=(0.2, 0.1)), dict(layer_norm=True, peephole=True,
                                                                         recurrent_dropout=0.3)],
    ids=["peephole+dropout+zoneout", "ln+peephole+dropout"],
)
def test_fused_path_equals_pure_pytorch_path_over_several_gradient_chunks(opts):
    """T = 30, B = 40: the backward's weight-gradient GEMMs run per chunk of 13 steps; every chunk
    boundary, both directions, lengths and the recurrent-dropout mask on h_{t-1} agree with the
    pure-PyTorch path, judged against a float64 run of the same computation (same masks).

    This test used fixed tolerances (1e-3 on the gradients with layer norm) and failed on an AMD EPYC
    (2.1e-3): the tolerance was wrong, not the kernel (in float64 the paths agree to 1e-12). With a
    random layer-norm LSTM (recurrent gain 1) over 30 steps, rounding is amplified chaotically: the
    pure-PyTorch float32 path is itself up to 4.4e-3 off float64 there, and the ratio of the two
    paths' errors is a widely spread random number (0.2-4.8 over 10 seeds; 0.1-8.9 before the
    kernel's layer-norm statistics went to two passes). So the layer-norm case damps the recurrent
    gain to 0.2 (as test_inference_over_several_projection_chunks does), where the comparison
    measures the kernel, not the chaos (ratio 1.6-3.7 over 20 seeded configurations)."""
    torch.manual_seed(0)
    m = lnn.LSTM(3, 6, num_layers=1, bidirectional=True, **opts).train(True)
    if opts.get("layer_norm"):
        with torch.no_grad():
            for name, p in m.named_parameters():
                if name.startswith("ln_weight_hh"):
                    p.fill_(0.2)
    x = torch.randn(30, 40, 3, requires_grad=True)
    lengths = torch.randint(1, 31, (40,))
    lengths[0] = 30
    _fused_as_accurate_as_reference(m, x, lengths)
