"""Helpers for the lstmkit.nn tests: random configurations and torch.nn as the oracle."""

from __future__ import annotations

import contextlib
import random

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstmkit.nn as lnn
from lstmkit.errors import ConfigError
from lstmkit.nn import kernels

# Every registered execution path (a path added later, e.g. a fused C++ kernel, is tested
# automatically); a test skips the configurations its path does not run.
PATHS = tuple(kernels.available_paths())


@contextlib.contextmanager
def on_path(name: str):
    """force_path(name), skipping the test when that path cannot run the configuration."""
    try:
        with kernels.force_path(name):
            yield
    except ConfigError as e:
        if "cannot run this configuration" in str(e):
            pytest.skip(f"path {name!r} does not run this configuration")
        raise
TORCH_CLASSES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
OURS = {"lstm": lnn.LSTM, "gru": lnn.GRU, "rnn": lnn.RNN}


def tol(dtype: torch.dtype) -> dict:
    return {"atol": 1e-5, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-10, "rtol": 1e-10}


def random_config(seed: int, kind: str = "lstm") -> dict:
    """A small random configuration; every axis of the acceptance criteria appears across seeds."""
    r = random.Random(seed)
    H = r.randint(2, 6)
    cfg = dict(
        kind=kind,
        input_size=r.randint(1, 5),
        hidden_size=H,
        num_layers=r.randint(1, 3),
        bias=r.random() < 0.8,
        batch_first=r.random() < 0.5,
        bidirectional=r.random() < 0.5,
        T=r.randint(1, 6),
        B=r.randint(1, 4),
        unbatched=r.random() < 0.2,
        dtype=torch.float64 if r.random() < 0.3 else torch.float32,
        with_state=r.random() < 0.5,
    )
    cfg["use_lengths"] = (not cfg["unbatched"]) and r.random() < 0.6
    if kind == "lstm":
        cfg["proj_size"] = r.randint(1, H - 1) if r.random() < 0.4 else 0
    if kind == "rnn":
        cfg["nonlinearity"] = r.choice(["tanh", "relu"])
    return cfg


def build_pair(cfg: dict, seed: int = 0):
    """(torch module, lstmkit module) with identical weights."""
    torch.manual_seed(seed)
    kw = dict(
        input_size=cfg["input_size"], hidden_size=cfg["hidden_size"], num_layers=cfg["num_layers"],
        bias=cfg["bias"], batch_first=cfg["batch_first"], bidirectional=cfg["bidirectional"], dtype=cfg["dtype"],
    )
    if cfg["kind"] == "lstm":
        kw["proj_size"] = cfg["proj_size"]
    if cfg["kind"] == "rnn":
        kw["nonlinearity"] = cfg["nonlinearity"]
    ref = TORCH_CLASSES[cfg["kind"]](**kw)
    return ref, OURS[cfg["kind"]].from_torch(ref)


def make_inputs(cfg: dict, seed: int = 1):
    """x, state (or None), lengths (or None), all requiring grad where floating."""
    g = torch.Generator().manual_seed(seed)
    T, B, F, dt = cfg["T"], cfg["B"], cfg["input_size"], cfg["dtype"]
    if cfg["unbatched"]:
        shape = (T, F)
    else:
        shape = (B, T, F) if cfg["batch_first"] else (T, B, F)
    x = torch.randn(shape, generator=g, dtype=dt).requires_grad_()
    lengths = None
    if cfg["use_lengths"]:
        lengths = torch.randint(1, T + 1, (B,), generator=g)
        lengths[torch.randint(0, B, (1,), generator=g)] = T  # pad_packed_sequence needs one full-length sequence
    state = None
    if cfg["with_state"]:
        LD = cfg["num_layers"] * (2 if cfg["bidirectional"] else 1)
        H = cfg["hidden_size"]
        R = cfg.get("proj_size") or H
        lead = (LD,) if cfg["unbatched"] else (LD, B)
        h0 = torch.randn(*lead, R, generator=g, dtype=dt).requires_grad_()
        if cfg["kind"] == "lstm":
            c0 = torch.randn(*lead, H, generator=g, dtype=dt).requires_grad_()
            state = (h0, c0)
        else:
            state = h0
    return x, state, lengths


def torch_forward(module, x, state, lengths, batch_first: bool):
    """torch.nn's answer, with lengths handled by packing (outputs padded back to T with zeros)."""
    if lengths is None:
        return module(x, state)
    T = x.shape[1] if batch_first else x.shape[0]
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    out, hidden = module(packed, state)
    out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    return out, hidden


def flat_outputs(result) -> list[torch.Tensor]:
    out, hidden = result[0], result[1]
    return [out, *hidden] if isinstance(hidden, tuple) else [out, hidden]


def loss_of(tensors: list[torch.Tensor], seed: int = 7) -> torch.Tensor:
    """A generic scalar that reaches every element with a different weight."""
    g = torch.Generator().manual_seed(seed)
    return sum((t * torch.randn(t.shape, generator=g, dtype=t.dtype)).sum() for t in tensors)


def grads(loss, tensors):
    return torch.autograd.grad(loss, tensors, allow_unused=True)


# ------------------------------------------------------------------ float32 accuracy, referenced to float64
# A float32 fast path (lstmkit's fused kernel) is judged against the pure-PyTorch float32 path of the
# same computation, both measured against a float64 run of it (same weights, inputs and masks): the
# fast path's error may be at most F32_FACTOR times the pure-PyTorch path's, plus F32_FLOOR. A fixed
# tolerance on the difference of two float32 paths holds only where rounding happens to be kind (a
# long layer-norm sequence amplifies 1-ulp differences past 1e-3 on some CPUs); this test holds on any
# CPU. Measured on an AMD EPYC (Zen 3, AVX2): the fused kernel's error is 0.1-2.8 times the
# pure-PyTorch path's over the 263 comparisons in tests/nn, 0.2-4.8 over 64 seeded layer configurations
# (T = 30, B = 40; the tail from undamped layer-norm LSTMs, whose rounding is amplified chaotically);
# typically 1-2.5: its weight-gradient GEMMs sum over whole chunks of steps and its float32 exp/tanh
# are a few ulp less accurate. In float64 the two paths agree to ~1e-12.
F32_FACTOR = 8.0
F32_FLOOR = 4 * torch.finfo(torch.float32).eps


def f32_error(got, exact) -> float:
    """Relative error in the 2-norm of float32 tensors ``got`` against their float64 run ``exact``,
    all tensors of the group taken together."""
    g = torch.cat([t.detach().double().flatten() for t in got])
    e = torch.cat([t.detach().double().flatten() for t in exact])
    return float((g - e).norm() / e.norm().clamp_min(1e-300))


def assert_f32_as_accurate(fast, reference, exact, what: str = "", factor: float = F32_FACTOR,
                           floor: float = F32_FLOOR) -> tuple[float, float]:
    """Assert err(fast) <= factor * err(reference) + floor, errors from :func:`f32_error`; returns both."""
    fast, reference, exact = list(fast), list(reference), list(exact)
    assert len(fast) == len(reference) == len(exact) and fast, what
    for a, b, c in zip(fast, reference, exact):
        assert a.shape == b.shape == c.shape, (what, a.shape, b.shape, c.shape)
    ef, er = f32_error(fast, exact), f32_error(reference, exact)
    assert ef <= factor * er + floor, (
        f"{what}: the fast path's float32 error {ef:.2e} (relative, against float64) exceeds {factor:g} x the "
        f"pure-PyTorch path's {er:.2e} + {floor:.1e}"
    )
    return ef, er


@contextlib.contextmanager
def replayed_masks():
    """Within the block, the variants' masks (weight drop, recurrent dropout, zoneout) drawn in the first
    run are recorded and every later run gets the same ones, cast to its dtype: a float64 run of the
    same computation as a float32 one. Yields ``next_run``, to call between runs.

    >>> with replayed_masks() as next_run:
    ...     fast = run(m, x, "fused"); next_run()
    ...     exact = run(m64, x64, "variant_reference")
    """
    from lstmkit.nn import cells, variants
    from lstmkit.nn.kernels import variant_reference

    draw = variants.sample_masks
    recorded: list = []
    calls = {"n": 0, "first_len": None}

    def sample(v, w_hh, T, B, like):
        k = calls["n"]
        calls["n"] += 1
        if calls["first_len"] is None:  # still in the first forward call: draw and record
            m = draw(v, w_hh, T, B, like)
            recorded.append(m)
            return m
        m = recorded[k % calls["first_len"]]
        cast = lambda t: None if t is None else t.to(like.dtype)  # noqa: E731
        w = w_hh
        if v.training and v.options.weight_drop:  # the same DropConnect mask on these weights
            w = w_hh * (m.w_hh != 0).to(w_hh.dtype) / (1.0 - v.options.weight_drop)
        return variants.Masks(w, cast(m.rd), cast(m.zc), cast(m.zh), m.zc_p, m.zh_p)

    def next_run():
        if calls["first_len"] is None:
            calls["first_len"] = max(calls["n"], 1)
        calls["n"] = 0

    modules = (variants, variant_reference, cells)
    saved = [getattr(mod, "sample_masks") for mod in modules]
    for mod in modules:
        mod.sample_masks = sample
    try:
        yield next_run
    finally:
        for mod, f in zip(modules, saved):
            mod.sample_masks = f
