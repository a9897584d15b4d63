"""The fused CPU LSTM kernel (issue 3) against a straightforward reference of the same
equations, written here independently of lstmkit.nn.variants; gradcheck in float64;
the standard configuration against torch.nn.LSTM.

The kernel is compiled once per machine (cached in ~/.cache/lstmkit); the session fixture
builds it before the first test, and the tests skip cleanly where no compiler exists
(the fallback itself is tested in test_variants.py).

Float32 comparisons are referenced to float64 (nn_helpers.assert_f32_as_accurate): the kernel's
float32 error must be within a small factor of the pure-PyTorch float32 computation's error, both
against a float64 run of the same computation, rather than under a fixed tolerance that one CPU's
rounding happens to meet. The float64 runs themselves agree to ~1e-12.
"""

from __future__ import annotations

import ast
import copy
import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from nn_helpers import assert_f32_as_accurate

from lstmkit.nn.kernels import fused_cpu as fc


@pytest.fixture(scope="module", autouse=True)
def kernel():
    if not fc.available():
        pytest.skip(f"fused kernel unavailable: {fc.build_error()}")


# ------------------------------------------------------------------ reference (the equations, one step at a time)
def reference_layer(x, w_ih, w_hh, b, h0, c0, *, w_hr=None, lengths=None, reverse=False, peephole=None, ln=None,
                    coupled=False, hard=False, rd=None, zc=None, zh=None, zc_p=0.0, zh_p=0.0):
    """Returns y (T,B,R), h_n, c_n, gates i f g o (T,B,4H), cells (T,B,H); past the end: state kept, y 0."""
    T, B, _ = x.shape

    def act(v):
        return torch.clamp(0.2 * v + 0.5, 0.0, 1.0) if hard else torch.sigmoid(v)

    def norm(v, gain, beta=None):
        mu = v.mean(-1, keepdim=True)
        var = ((v - mu) ** 2).mean(-1, keepdim=True)
        out = (v - mu) / torch.sqrt(var + 1e-5) * gain
        return out if beta is None else out + beta

    h, c = h0, c0
    ys, gates, cells = [None] * T, [None] * T, [None] * T
    for t in (reversed(range(T)) if reverse else range(T)):
        r = h * rd if rd is not None else h
        wx, rh = x[t] @ w_ih.T, r @ w_hh.T
        a = norm(wx, ln[0]) + norm(rh, ln[1]) if ln is not None else wx + rh
        if b is not None:
            a = a + b
        ai, af, ag, ao = a.chunk(4, -1)
        if peephole is not None:
            ai = ai + peephole[0] * c
            af = af + peephole[1] * c
        f = act(af)
        i = 1 - f if coupled else act(ai)
        g = torch.tanh(ag)
        cn = f * c + i * g
        if peephole is not None:
            ao = ao + peephole[2] * cn
        o = act(ao)
        hn = o * torch.tanh(norm(cn, ln[2], ln[3]) if ln is not None else cn)
        if w_hr is not None:
            hn = hn @ w_hr.T
        zcv = zc[t] if zc is not None else zc_p
        zhv = zh[t] if zh is not None else zh_p
        c_next = zcv * c + (1 - zcv) * cn
        h_next = zhv * h + (1 - zhv) * hn
        gt = torch.cat([i, f, g, o], -1)
        if lengths is not None:
            valid = (t < lengths).view(B, 1)
            c = torch.where(valid, c_next, c)
            h = torch.where(valid, h_next, h)
            ys[t] = torch.where(valid, h, torch.zeros_like(h))
            gates[t] = torch.where(valid, gt, torch.zeros_like(gt))
        else:
            c, h = c_next, h_next
            ys[t], gates[t] = h, gt
        cells[t] = c
    return torch.stack(ys), h, c, torch.stack(gates), torch.stack(cells)


# ------------------------------------------------------------------ random problems
T, B, F, H, P = 5, 3, 4, 6, 3
LENGTHS = torch.tensor([5, 2, 4])


def make(dtype, *, proj=False, peephole=False, ln=False, rd=False, zmask=False, seed=0, requires_grad=True, B=B):
    g = torch.Generator().manual_seed(seed)
    R = P if proj else H

    def rnd(*s, scale=0.5):
        return (torch.randn(*s, generator=g, dtype=dtype) * scale).requires_grad_(requires_grad)

    p = dict(x=rnd(T, B, F, scale=1.0), w_ih=rnd(4 * H, F), w_hh=rnd(4 * H, R), b=rnd(4 * H), h0=rnd(B, R),
             c0=rnd(B, H), w_hr=rnd(R, H) if proj else None)
    v = {}
    if peephole:
        v["peephole"] = rnd(3, H)
    if ln:
        v["ln"] = (1 + rnd(4 * H, scale=0.1), 1 + rnd(4 * H, scale=0.1), 1 + rnd(H, scale=0.1), rnd(H, scale=0.1))
        v["ln"] = tuple(t.detach().requires_grad_(requires_grad) for t in v["ln"])
    if rd:
        v["rd"] = (torch.rand(B, R, generator=g, dtype=dtype) > 0.3).to(dtype) / 0.7
    if zmask:
        v["zc"] = (torch.rand(T, B, H, generator=g, dtype=dtype) < 0.3).to(dtype)
        v["zh"] = (torch.rand(T, B, R, generator=g, dtype=dtype) < 0.3).to(dtype)
    return p, v


def run_fused(p, v, *, lengths=None, reverse=False, coupled=False, hard=False, zc_p=0.0, zh_p=0.0,
              return_gates=True):
    fv = fc.FusedVariant(peephole=v.get("peephole"), ln=v.get("ln"), coupled=coupled, hard_sigmoid=hard,
                         rd_mask=v.get("rd"), zc_mask=v.get("zc"), zh_mask=v.get("zh"), zc_p=zc_p, zh_p=zh_p)
    return fc.lstm_sequence(p["x"], p["w_ih"], p["w_hh"], p["b"], p["h0"], p["c0"], w_hr=p["w_hr"],
                            lengths=lengths, reverse=reverse, variant=fv, return_gates=return_gates)


def run_ref(p, v, *, lengths=None, reverse=False, coupled=False, hard=False, zc_p=0.0, zh_p=0.0):
    return reference_layer(p["x"], p["w_ih"], p["w_hh"], p["b"], p["h0"], p["c0"], w_hr=p["w_hr"], lengths=lengths,
                           reverse=reverse, peephole=v.get("peephole"), ln=v.get("ln"), coupled=coupled, hard=hard,
                           rd=v.get("rd"), zc=v.get("zc"), zh=v.get("zh"), zc_p=zc_p, zh_p=zh_p)


def to64(p, v):
    """The same problem in float64 (leaves stay leaves, masks are cast: the same computation)."""
    cast = lambda t: None if t is None else (  # noqa: E731
        t.detach().double().requires_grad_(t.requires_grad) if t.is_leaf else t.double())
    p64 = {k: cast(t) for k, t in p.items()}
    v64 = {k: (tuple(cast(u) for u in t) if isinstance(t, tuple) else cast(t)) for k, t in v.items()}
    return p64, v64


def check_against_reference(p, v, kw, gy=None, what=""):
    """Fused float32 vs the reference in float32, both against the reference in float64: outputs,
    states, gates, cells and every gradient (the loss weighs y by ``gy``, h_n by 0.7, c_n by 1.3)."""
    p64, v64 = to64(p, v)
    fast, ref, exact = run_fused(p, v, **kw), run_ref(p, v, **kw), run_ref(p64, v64, **kw)
    assert_f32_as_accurate(fast, ref, exact, f"{what} outputs")
    gy = torch.ones_like(fast[0]) if gy is None else gy
    loss = lambda out: (out[0] * gy.to(out[0].dtype)).sum() + (out[1] * 0.7).sum() + (out[2] * 1.3).sum()  # noqa: E731
    g_fast = torch.autograd.grad(loss(fast), leaves(p, v))
    g_ref = torch.autograd.grad(loss(ref), leaves(p, v))
    g_exact = torch.autograd.grad(loss(exact), leaves(p64, v64))
    assert_f32_as_accurate(g_fast, g_ref, g_exact, f"{what} gradients")


def leaves(p, v):
    out = [t for t in p.values() if t is not None and t.requires_grad]
    if "peephole" in v:
        out.append(v["peephole"])
    out += list(v.get("ln", ()))
    return out


# Each variant alone, pairs that interact, and everything at once.
CASES = {
    "plain": dict(),
    "proj": dict(make=dict(proj=True)),
    "peephole": dict(make=dict(peephole=True)),
    "layer_norm": dict(make=dict(ln=True)),
    "coupled": dict(run=dict(coupled=True)),
    "hard_sigmoid": dict(run=dict(hard=True)),
    "recurrent_dropout": dict(make=dict(rd=True)),
    "zoneout_masks": dict(make=dict(zmask=True)),
    "zoneout_eval": dict(run=dict(zc_p=0.3, zh_p=0.2)),
    "peephole+coupled+layer_norm": dict(make=dict(peephole=True, ln=True), run=dict(coupled=True)),
    "layer_norm+proj+zoneout": dict(make=dict(ln=True, proj=True, zmask=True)),
    "everything": dict(make=dict(proj=True, peephole=True, ln=True, rd=True, zmask=True), run=dict(hard=True)),
    "everything_coupled_eval": dict(make=dict(proj=True, peephole=True, ln=True, rd=True),
                                    run=dict(coupled=True, zc_p=0.5, zh_p=0.1)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_reference_float32(case):
    """Outputs, states, gates and every gradient as accurate as the reference's in float32
    (referenced to float64), for both directions, with and without lengths."""
    spec = CASES[case]
    for reverse, lengths in itertools.product((False, True), (None, LENGTHS)):
        p, v = make(torch.float32, **spec.get("make", {}), seed=list(CASES).index(case))
        kw = dict(lengths=lengths, reverse=reverse, **spec.get("run", {}))
        gy = torch.randn(T, B, P if spec.get("make", {}).get("proj") else H)
        check_against_reference(p, v, kw, gy, f"{case} reverse={reverse} lengths={lengths is not None}")


@pytest.mark.parametrize("case", list(CASES))
def test_matches_reference_float64(case):
    """In float64 the kernel and the reference compute the same function: 1e-10."""
    spec = CASES[case]
    for reverse, lengths in itertools.product((False, True), (None, LENGTHS)):
        p, v = make(torch.float64, **spec.get("make", {}), seed=list(CASES).index(case))
        kw = dict(lengths=lengths, reverse=reverse, **spec.get("run", {}))
        got, want = run_fused(p, v, **kw), run_ref(p, v, **kw)
        torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10)
        loss = lambda out: out[0].sum() + (out[1] * 0.7).sum() + (out[2] * 1.3).sum()  # noqa: E731
        torch.testing.assert_close(torch.autograd.grad(loss(got), leaves(p, v)),
                                   torch.autograd.grad(loss(want), leaves(p, v)), atol=1e-10, rtol=1e-10)


@pytest.fixture
def two_threads():
    n = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("case", ["plain", "proj", "layer_norm", "everything", "everything_coupled_eval"])
def test_row_split_matches_reference_on_two_threads(case, two_threads):
    """With two threads and B = 11 the time loop is split by batch rows (tasks of 6 and 5 rows,
    per-task partial sums of the bias/gain/peephole gradients): same results as the reference."""
    spec = CASES[case]
    lengths = torch.tensor([5, 2, 4, 5, 1, 3, 5, 5, 2, 4, 5])
    for reverse in (False, True):
        p, v = make(torch.float32, **spec.get("make", {}), seed=7, B=11)
        kw = dict(lengths=lengths, reverse=reverse, **spec.get("run", {}))
        check_against_reference(p, v, kw, what=f"{case} reverse={reverse}")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_inference_without_saved_buffers_matches_reference(case, threads):
    """no_grad and no gates asked: the kernel keeps no by-products (one-step scratch buffers,
    two state slots); y, h_n, c_n still match the reference (B = 11: row-split on two threads)."""
    spec = CASES[case]
    lengths = torch.tensor([5, 2, 4, 5, 1, 3, 5, 5, 2, 4, 5])
    n = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for reverse, lens in itertools.product((False, True), (None, lengths)):
            p, v = make(torch.float32, **spec.get("make", {}), seed=11, B=11, requires_grad=False)
            kw = dict(lengths=lens, reverse=reverse, **spec.get("run", {}))
            with torch.no_grad():
                y, hn, cn, gates, cells = run_fused(p, v, return_gates=False, **kw)
            assert gates is None and cells is None
            p64, v64 = to64(p, v)
            assert_f32_as_accurate([y, hn, cn], run_ref(p, v, **kw)[:3], run_ref(p64, v64, **kw)[:3],
                                   f"{case} reverse={reverse}")
    finally:
        torch.set_num_threads(n)


@pytest.mark.parametrize("layer_norm", [False, True])
def test_inference_over_several_projection_chunks(layer_norm, two_threads):
    """T*B*4H large enough for several input-projection chunks (B=16, H=64: 64 steps each) and
    the row split: same as the saving path (itself checked against the reference above)."""
    g = torch.Generator().manual_seed(5)
    T_, B_, F_, H_ = 150, 16, 8, 64
    x = torch.randn(T_, B_, F_, generator=g)
    w_ih, w_hh = torch.randn(4 * H_, F_, generator=g) * 0.3, torch.randn(4 * H_, H_, generator=g) * 0.1
    b, h0, c0 = torch.randn(4 * H_, generator=g) * 0.1, torch.randn(B_, H_, generator=g), torch.randn(B_, H_, generator=g)
    # a small recurrent gain: layer norm scales W_hh h to unit variance whatever W_hh is, and with a
    # gain of 1 a random layer-norm LSTM is chaotic enough to grow 1-ulp differences (the two paths add
    # the normalised terms in another order) to 1e-4 over 150 steps
    ln = (1 + 0.1 * torch.randn(4 * H_, generator=g), 0.2 + 0.02 * torch.randn(4 * H_, generator=g),
          1 + 0.1 * torch.randn(H_, generator=g), 0.1 * torch.randn(H_, generator=g)) if layer_norm else None
    lengths = torch.randint(1, T_ + 1, (B_,), generator=g)
    d = lambda t: t.double()  # noqa: E731
    ln64 = None if ln is None else tuple(map(d, ln))
    for reverse in (False, True):
        with torch.no_grad():
            outs = [fc.lstm_sequence(x, w_ih, w_hh, b, h0, c0, lengths=lengths, reverse=reverse,
                                     variant=fc.FusedVariant(ln=ln), return_gates=rg)[:3] for rg in (True, False)]
            ref = reference_layer(x, w_ih, w_hh, b, h0, c0, lengths=lengths, reverse=reverse, ln=ln)[:3]
            exact = reference_layer(d(x), d(w_ih), d(w_hh), d(b), d(h0), d(c0), lengths=lengths, reverse=reverse,
                                    ln=ln64)[:3]
        for saving, got in zip(("saving", "not saving"), outs):  # both kernel modes: chunks, row split
            assert_f32_as_accurate(got, ref, exact, f"{saving} reverse={reverse}")


_RUNTIMES = """
import re, sys, torch
from lstmkit.nn.kernels import fused_cpu as fc
assert fc.available(), fc.build_error()
names = {l.split()[-1] for l in open("/proc/self/maps") if "/" in l}
print(sorted(n for n in names if re.match(r"lib(gomp|iomp5|omp)\\b", n.rsplit("/", 1)[-1])))
print(fc._torch_openmp())
"""


def test_one_openmp_runtime_in_the_process():
    """The kernel's parallel loops use torch's own OpenMP runtime (linked against that file):
    in a fresh process, loading it maps no second runtime. (A fresh process: other wheels, such
    as scikit-learn, bring their own copy when imported.)"""
    if not Path("/proc/self/maps").exists():
        pytest.skip("needs /proc (Linux)")
    out = subprocess.run([sys.executable, "-c", _RUNTIMES], capture_output=True, text=True, check=True).stdout
    runtimes, torch_rt = out.strip().splitlines()
    runtimes = ast.literal_eval(runtimes)
    assert len(runtimes) <= 1, runtimes
    if torch_rt != "None":
        assert runtimes == [torch_rt]


@pytest.mark.parametrize(
    "spec",
    [
        dict(make=dict(proj=True)),
        dict(make=dict(proj=True, peephole=True, ln=True, rd=True, zmask=True)),
        dict(make=dict(peephole=True), run=dict(coupled=True, hard=True, zc_p=0.3, zh_p=0.2)),
    ],
    ids=["plain+proj", "all_variants", "coupled+hard+zoneout_eval"],
)
def test_gradcheck_float64(spec):
    p, v = make(torch.float64, **spec.get("make", {}), seed=3)
    names = [k for k, t in p.items() if t is not None]
    n_p = len(names)
    inputs = [p[k] for k in names] + leaves({}, v)

    def f(*args):
        q = dict(p, **dict(zip(names, args[:n_p])))
        w = dict(v)
        rest = list(args[n_p:])
        if "peephole" in v:
            w["peephole"] = rest.pop(0)
        if "ln" in v:
            w["ln"] = tuple(rest)
        for reverse in (False, True):
            out = run_fused(q, w, lengths=LENGTHS, reverse=reverse, **spec.get("run", {}))
            yield from out[:3]

    assert torch.autograd.gradcheck(lambda *a: tuple(f(*a)), inputs, eps=1e-6, atol=1e-5)


def test_bias_none_and_unbatched_sizes():
    """bias=None, B=1, T=1 (edge sizes of the loops)."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 1, 2, generator=g, requires_grad=True)
    w_ih, w_hh = torch.randn(8, 2, generator=g), torch.randn(8, 2, generator=g)
    h0, c0 = torch.zeros(1, 2), torch.zeros(1, 2)
    y, hn, cn, _, _ = fc.lstm_sequence(x, w_ih, w_hh, None, h0, c0)
    y_r, hn_r, cn_r, _, _ = reference_layer(x, w_ih, w_hh, None, h0, c0)
    torch.testing.assert_close(y, y_r)
    torch.testing.assert_close(torch.autograd.grad(y.sum(), x)[0], torch.autograd.grad(y_r.sum(), x)[0])


@pytest.mark.parametrize("batch", [40, 80])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_larger_shapes_hit_the_blas_path(dtype, batch):
    """Shapes above the small-GEMM threshold call the BLAS gemm that torch links (sgemm_/dgemm_,
    or ATen's GEMM where that lookup fails), forward and backward: batch 40 on one MKL thread
    (40 x 64 x 256 multiply-adds, under the serial limit), batch 80 on torch's threads."""
    g = torch.Generator().manual_seed(2)
    m = torch.nn.LSTM(16, 64).to(dtype)
    x = torch.randn(6, batch, 16, generator=g, requires_grad=True, dtype=dtype)
    gy = torch.randn(6, batch, 64, generator=g, dtype=dtype)

    def run(m, x, fused):
        h0 = torch.zeros(1, x.shape[1], 64, dtype=x.dtype)
        if fused:
            y = fc.lstm_sequence(x, m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0 + m.bias_hh_l0, h0[0], h0[0])[0]
        else:
            y = m(x, (h0, h0))[0]
        return [y, *torch.autograd.grad((y * gy.to(y.dtype)).sum(), [x, m.weight_hh_l0])]

    got, want = run(m, x, True), run(m, x, False)
    if dtype == torch.float64:
        torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10)
    else:
        m64 = copy.deepcopy(m).double()
        exact = run(m64, x.detach().double().requires_grad_(), False)
        assert_f32_as_accurate(got[:1], want[:1], exact[:1], "output")
        assert_f32_as_accurate(got[1:], want[1:], exact[1:], "gradients")


def test_serial_gemm_leaves_mkl_thread_count_as_it_was():
    """The per-step GEMMs set MKL's thread-local thread count to 1 and must restore it: a later
    MKL call from the same thread sees torch's thread count again."""
    import ctypes
    import os

    try:
        lib = ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))
        get_max = lib.mkl_get_max_threads
    except (OSError, AttributeError):
        pytest.skip("torch's BLAS is not MKL here")
    get_max.restype = ctypes.c_int
    before = get_max()
    x = torch.randn(5, 40, 16, requires_grad=True)
    w_ih, w_hh = torch.randn(256, 16, requires_grad=True), torch.randn(256, 64, requires_grad=True)
    h0 = c0 = torch.zeros(40, 64)
    y, *_ = fc.lstm_sequence(x, w_ih, w_hh, None, h0, c0)
    y.sum().backward()
    assert get_max() == before


@pytest.mark.parametrize(
    "batch, steps, dtype",
    [(3, 7, torch.float32), (40, 40, torch.float32), (40, 40, torch.float64)],
    ids=["short", "several-gradient-chunks", "several-gradient-chunks-f64"],
)
def test_standard_layer_matches_torch_lstm_on_fused_path(batch, steps, dtype):
    """lstmkit.nn.LSTM forced onto the fused kernel against torch.nn.LSTM, 2 layers,
    bidirectional, projection, lengths; outputs, states and gradients: in float64 to 1e-10, in
    float32 as accurate as torch's float32 within a small factor (both against torch in float64).
    At T = 40, B = 40 the backward's weight-gradient GEMMs run per chunk of 13 steps."""
    import lstmkit.nn as lnn
    from lstmkit.nn.kernels import force_path

    torch.manual_seed(0)
    ref = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3, batch_first=True).to(dtype)
    ours = lnn.LSTM.from_torch(ref)
    x = torch.randn(batch, steps, 4, requires_grad=True, dtype=dtype)
    lengths = torch.randint(1, steps + 1, (batch,))
    lengths[0] = steps
    gy = torch.randn(batch, steps, 6, dtype=dtype)

    def torch_run(module, x):
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        y_p, (h, c) = module(packed)
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(y_p, batch_first=True, total_length=steps)
        grads = torch.autograd.grad((y * gy.to(y.dtype)).sum() + h.sum(), [x, *module.parameters()])
        return [y, h, c], list(grads)

    with force_path("fused"):
        y, (h, c) = ours(x, lengths=lengths)
    got = [y, h, c], list(torch.autograd.grad((y * gy).sum() + h.sum(), [x, *ours.parameters()]))
    want = torch_run(ref, x)
    if dtype == torch.float64:
        for a, b_ in zip(got, want):
            torch.testing.assert_close(a, b_, atol=1e-10, rtol=1e-10)
        return
    exact = torch_run(copy.deepcopy(ref).double(), x.detach().double().requires_grad_())
    assert_f32_as_accurate(got[0], want[0], exact[0], "outputs and states")
    assert_f32_as_accurate(got[1], want[1], exact[1], "gradients")


def test_return_gates_at_no_extra_pass_match_reference_path():
    """Without autograd the fused path returns the gates it computed anyway; they equal
    the reference path's."""
    import lstmkit.nn as lnn
    from lstmkit.nn.kernels import force_path

    torch.manual_seed(0)
    m = lnn.LSTM(3, 5, num_layers=2, bidirectional=True)
    x = torch.randn(6, 2, 3)
    lengths = torch.tensor([6, 4])
    with torch.no_grad():
        with force_path("fused"):
            y, _, g = m(x, lengths=lengths, return_gates=True)
        with force_path("reference"):
            y_r, _, g_r = m(x, lengths=lengths, return_gates=True)
            y_64, _, g_64 = copy.deepcopy(m).double()(x.double(), lengths=lengths, return_gates=True)
    assert_f32_as_accurate([y, *g], [y_r, *g_r], [y_64, *g_64], "outputs and gates")
