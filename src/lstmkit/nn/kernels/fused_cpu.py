"""lstmkit's fused CPU LSTM kernel (C++, ``csrc/lstm_fused.cpp``), every variant included.

One call runs one layer and one direction over a whole sequence as ONE autograd node:
one GEMM for the input projection of all steps, per step one recurrent GEMM plus one
fused pointwise pass, and a hand-written backward whose weight gradients are large GEMMs
over all steps (see the equations at the top of the C++ file).

Build: compiled on first use with :func:`torch.utils.cpp_extension.load` into
``$LSTMKIT_CACHE_DIR`` (default ``~/.cache/lstmkit``), in a folder keyed by the source
hash and path, the torch version and the Python ABI, so a clean machine compiles once (about
10-30 s) and every later process just loads the library. Portable flags only (``-O3``;
the hot loops carry GCC ``target_clones`` for AVX-512 / AVX2 / baseline, picked at run
time); threading goes through ATen's ``parallel_for``, compiled with ``-fopenmp`` and linked
against torch's own libgomp (see :func:`_torch_openmp`), so torch's OpenMP runtime is the only
one. With several threads and enough batch rows, the time loop is split by rows: each thread
runs the whole recurrence of its rows, with no synchronisation per step. If the
build fails (no compiler, no ninja, ...) :func:`available` is False, lstmkit warns ONCE
naming the cause, and the layers use the pure-PyTorch paths. ``LSTMKIT_NO_EXT=1``
disables the kernel on purpose. The kernel keeps freed large buffers (gates, cells, ...) in a
process-wide pool for the next call (no page faults per call): at most ``LSTMKIT_POOL_MB``
MiB (default 512; 0 = off). The per-step GEMMs call the BLAS that torch itself links (``sgemm_``/
``dgemm_``, looked up at run time and checked once; ATen's GEMM otherwise or with
``LSTMKIT_ATEN_GEMM=1``): ATen's per-call overhead was 20-25 % of a (32, 64) x (64, 256) GEMM.
Per-step GEMMs of at most ``LSTMKIT_SERIAL_GEMM`` (default 2^20) multiply-adds run on one MKL
thread (MKL's thread-local setting, restored after each call): split over cores they cost 3-5 us
more per step at B = 32. With two or more threads and at least ``LSTMKIT_SPLIT_ROWS`` (default 4)
batch rows per thread, the time loop is split by rows instead (every GEMM inside it on one
thread; 0 turns the split off, for benchmarking). Called with grad mode off and no gates asked,
the kernel keeps no by-products for a backward (``save=False``): less memory traffic.

torch.compile: the kernel is the custom op ``torch.ops.lstmkit_fused.lstm_fwd`` (backward:
``lstm_bwd``) with fake (meta) implementations and an autograd formula registered in C++
(a ``torch::autograd::Function``; the Python ``register_autograd`` route cost ~290 us per
training step), so dynamo traces a model containing it without a graph break.

Double backward: the hand-written backward is not itself differentiable; when it runs under
``create_graph=True`` it calls ``lstm_bwd_graph`` instead (:func:`_bwd_graph`), which recomputes
the layer through PyTorch operations with the same masks and differentiates that (slower than
the first-order backward, and only then). torch.func transforms and empty batches never reach
the kernel (:func:`supports`). Padding (steps past each sequence's length) is never read by the
backward either: NaN or inf there leave every gradient finite.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from lstmkit.nn.kernels.common import is_lstm_mode

__all__ = [
    "available",
    "build_error",
    "load",
    "lstm_sequence",
    "FusedVariant",
    "run_layer",
    "run_stack",
    "supports",
    "prefer_fused",
]

_SOURCE = Path(__file__).resolve().parent / "csrc" / "lstm_fused.cpp"
_CFLAGS = ["-O3", "-fno-trapping-math", "-fopenmp-simd"]  # portable (no -march); see the C++ header
_LOCK = threading.Lock()
_STATE: dict[str, object] = {"loaded": None, "error": None, "warned": False}


def _torch_openmp() -> Path | None:
    """The GNU OpenMP runtime torch itself has loaded (its own ``libgomp*.so*``), or None.

    ``at::parallel_for`` is a header template: its ``#pragma omp parallel`` is compiled into
    OUR library, so without ``-fopenmp`` every parallel_for in the kernel runs on one thread.
    With it, the library is linked against torch's runtime file itself: the dynamic loader
    finds that SONAME already loaded and reuses it, so there is still one OpenMP runtime in
    the process. Any other runtime (LLVM's libomp, Intel's libiomp5) or none: None, and the
    kernel is built without OpenMP (its loops then run on one thread; results are the same).
    """
    if not torch.backends.openmp.is_available():
        return None
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = {line.split()[-1] for line in fh if "/" in line}
    except OSError:
        return None
    found = sorted(p for p in paths if os.path.basename(p).startswith("libgomp") and ".so" in os.path.basename(p))
    # Other wheels bring their own copy (scikit-learn: scikit_learn.libs/libgomp-<hash>.so): the
    # one in torch's lib folder is torch's; else a single one mapped.
    torch_lib = Path(torch.__file__).resolve().parent / "lib"
    own = [p for p in found if Path(p).resolve().parent == torch_lib]
    if own:
        return Path(own[0])
    return Path(found[0]) if len(found) == 1 else None


def _flags() -> tuple[list[str], list[str]]:
    """(compile flags, link flags) for this process."""
    gomp = _torch_openmp()
    if gomp is None:
        return list(_CFLAGS), []
    cflags = [f for f in _CFLAGS if f != "-fopenmp-simd"] + ["-fopenmp"]
    return cflags, [f"-L{gomp.parent}", f"-l:{gomp.name}", f"-Wl,-rpath,{gomp.parent}"]


def _cache_dir(flags: tuple[list[str], list[str]] | None = None) -> Path:
    root = os.environ.get("LSTMKIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lstmkit"
    )
    cflags, ldflags = flags or _flags()
    src = _SOURCE.read_bytes()
    # The source's path is part of the key: ninja's build file records it, so two checkouts of the same
    # source at different paths (git worktrees) sharing one folder rebuilt each other's library.
    key = hashlib.sha256(
        src + str(_SOURCE).encode() + torch.__version__.encode() + sys.version.encode()
        + " ".join(cflags + ldflags).encode()
    ).hexdigest()[:16]
    return Path(root) / f"lstm_fused-{key}"


def _ninja_on_path() -> None:
    """The pip ``ninja`` lives in the environment's scripts folder (or ninja.BIN_DIR), which is
    not on PATH when the venv is not activated; cpp_extension looks for ``ninja`` on PATH."""
    import sysconfig

    dirs = [sysconfig.get_path("scripts")]
    try:
        import ninja  # type: ignore[import-not-found]

        dirs.insert(0, ninja.BIN_DIR)
    except (ImportError, AttributeError):
        pass
    path = os.environ.get("PATH", "")
    for d in dirs:
        if d and os.path.isdir(d) and d not in path.split(os.pathsep):
            path = d + os.pathsep + path
    os.environ["PATH"] = path


def _build() -> None:
    from torch.utils import cpp_extension

    _ninja_on_path()
    if not shutil.which(os.environ.get("CXX", "c++")):
        raise RuntimeError(f"no C++ compiler found (looked for {os.environ.get('CXX', 'c++')!r} on PATH)")
    if not cpp_extension.is_ninja_available():
        raise RuntimeError("ninja is not installed (pip install ninja)")
    flags = _flags()
    build_dir = _cache_dir(flags)
    build_dir.mkdir(parents=True, exist_ok=True)
    cpp_extension.load(
        name="lstmkit_fused_" + build_dir.name.split("-")[-1],
        sources=[str(_SOURCE)],
        extra_cflags=flags[0],
        extra_ldflags=flags[1],
        build_directory=str(build_dir),
        is_python_module=False,
        verbose=False,
    )
    _register_python_side()


def load() -> bool:
    """Build (first time) or load the kernel; True when it is usable. Never raises."""
    if _STATE["loaded"] is not None:
        return bool(_STATE["loaded"])
    with _LOCK:
        if _STATE["loaded"] is not None:
            return bool(_STATE["loaded"])
        if os.environ.get("LSTMKIT_NO_EXT", "") not in ("", "0"):
            _STATE["error"] = "disabled by LSTMKIT_NO_EXT"
            _STATE["loaded"] = False
            return False
        try:
            _build()
            _STATE["loaded"] = True
        except Exception as exc:  # any build/load failure -> pure-PyTorch paths, one warning
            first = str(exc).strip().splitlines()
            _STATE["error"] = f"{type(exc).__name__}: {first[0] if first else ''}"[:300]
            _STATE["loaded"] = False
            if not _STATE["warned"]:
                _STATE["warned"] = True
                warnings.warn(
                    f"lstmkit: the fused CPU LSTM kernel could not be built ({_STATE['error']}); "
                    "using the pure-PyTorch paths (same results, slower for the LSTM variants)",
                    RuntimeWarning,
                    stacklevel=3,
                )
    return bool(_STATE["loaded"])


def available() -> bool:
    """Whether the fused kernel can run here (builds it on first call)."""
    return load()


def build_error() -> str | None:
    """Why the kernel is unavailable (None when it is available or not yet tried)."""
    return _STATE["error"]  # type: ignore[return-value]


# ------------------------------------------------------------------ custom-op registration
_N_FWD = 15  # y, h_n, c_n, gates, c_seq, h_seq, c_new, tanh_c, h_pre, xhat_ih, rstd_ih, xhat_hh, rstd_hh, xhat_c, rstd_c


def _fwd_fake(x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, peephole, gih, ghh, gc, bc, rd, zcm, zhm,
              zc_p, zh_p, reverse, coupled, hard, save=True):
    T, B, _ = x.shape
    H = w_ih.shape[0] // 4
    P = w_hh.shape[1]
    ln = gih is not None
    e = lambda *s: x.new_empty(s)  # noqa: E731
    none = lambda: x.new_empty((0,))  # noqa: E731
    if not save:  # inference: y, h_n, c_n only
        return (e(T, B, P), e(B, P), e(B, H)) + tuple(none() for _ in range(_N_FWD - 3))
    zc_on = zcm is not None or zc_p != 0.0
    return (
        e(T, B, P), e(B, P), e(B, H), e(T, B, 4 * H), e(T, B, H),
        e(T, B, P) if lengths is not None else none(),
        e(T, B, H) if zc_on else none(),
        e(T, B, H),
        e(T, B, H) if w_hr is not None else none(),
        e(T, B, 4 * H) if ln else none(), e(T, B) if ln else none(),
        e(T, B, 4 * H) if ln else none(), e(T, B) if ln else none(),
        e(T, B, H) if ln else none(), e(T, B) if ln else none(),
    )


def _bwd_fake(x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, peephole, gih, ghh, gc, bc, rd, zcm, zhm,
              zc_p, zh_p, reverse, coupled, hard, *rest):
    need_dx = rest[-1]
    none = lambda: x.new_empty((0,))  # noqa: E731
    H = w_ih.shape[0] // 4
    ln = gih is not None
    return (
        x.new_empty(x.shape) if need_dx else none(),
        w_ih.new_empty(w_ih.shape), w_hh.new_empty(w_hh.shape),
        bias.new_empty(bias.shape) if bias is not None else none(),
        w_hr.new_empty(w_hr.shape) if w_hr is not None else none(),
        h0.new_empty(h0.shape), c0.new_empty(c0.shape),
        x.new_empty((3, H)) if peephole is not None else none(),
        x.new_empty((4 * H,)) if ln else none(), x.new_empty((4 * H,)) if ln else none(),
        x.new_empty((H,)) if ln else none(), x.new_empty((H,)) if ln else none(),
    )


def _bwd_graph(x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, peephole, gih, ghh, gc, bc, rd, zcm, zhm,
               zc_p, zh_p, reverse, coupled, hard, dy, dhn, dcn):
    """lstm_bwd's gradients, differentiably: the C++ backward calls this (op ``lstm_bwd_graph``) when
    it is itself being differentiated (``create_graph=True``: gradient penalties, meta-learning,
    gradgradcheck). Recomputes the layer through PyTorch operations with the same masks
    (:func:`variant_reference.lstm_layer`) and differentiates that with ``create_graph=True``."""
    from lstmkit.nn.kernels.variant_reference import lstm_layer  # same package; at call time: lstmkit.nn.kernels imports this module (cycle)

    ln = None if gih is None else (gih, ghh, gc, bc)
    ins = [x, w_ih, w_hh, bias, w_hr, h0, c0, peephole, gih, ghh, gc, bc]  # lstm_bwd's result order
    wrt = [k for k, t in enumerate(ins) if t is not None and t.requires_grad]
    got: tuple = ()
    if wrt:
        with torch.enable_grad():
            y, h_n, c_n = lstm_layer(x, w_ih, w_hh, bias, w_hr, h0, c0, lengths=lengths, reverse=reverse,
                                     peephole=peephole, ln=ln, coupled=coupled, hard=hard, rd=rd, zc=zcm, zh=zhm,
                                     zc_p=zc_p, zh_p=zh_p)
            got = torch.autograd.grad((y, h_n, c_n), [ins[k] for k in wrt], (dy, dhn.view_as(h_n), dcn.view_as(c_n)),
                                      create_graph=True, allow_unused=True)
    by_index = dict(zip(wrt, got))
    out = []
    for k, t in enumerate(ins):
        g = by_index.get(k)
        out.append(x.new_empty((0,)) if t is None else (torch.zeros_like(t) if g is None else g))
    return tuple(out)


def _register_python_side() -> None:
    # The autograd formula is registered in C++ (Autograd key): see the end of lstm_fused.cpp; its
    # differentiable variant (double backward) is this Python function.
    torch.library.register_fake("lstmkit_fused::lstm_fwd")(_fwd_fake)
    torch.library.register_fake("lstmkit_fused::lstm_bwd")(_bwd_fake)
    torch.library.impl("lstmkit_fused::lstm_bwd_graph", "CompositeImplicitAutograd")(_bwd_graph)


# ------------------------------------------------------------------ the per-layer function
@dataclass(frozen=True)
class FusedVariant:
    """Variant options and parameters of one layer-direction, as the kernel takes them.

    peephole: (3, H) rows (w_ci, w_cf, w_co) or None; ln: (gain_ih (4H), gain_hh (4H),
    gain_c (H), bias_c (H)) or None; rd_mask (B, R) already scaled by 1/(1-p) or None;
    zoneout on c / h: a mask (T, B, H) / (T, B, R) of the weight on the previous state
    (1 = zone out), or None with a constant probability zc_p / zh_p (eval: expectation).
    Weight drop is not here: the layer passes the already-dropped w_hh.
    """

    peephole: Tensor | None = None
    ln: tuple[Tensor, Tensor, Tensor, Tensor] | None = None
    coupled: bool = False
    hard_sigmoid: bool = False
    rd_mask: Tensor | None = None
    zc_mask: Tensor | None = None
    zh_mask: Tensor | None = None
    zc_p: float = 0.0
    zh_p: float = 0.0


_PLAIN = FusedVariant()


def lstm_sequence(
    x: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    bias: Tensor | None,
    h0: Tensor,
    c0: Tensor,
    *,
    w_hr: Tensor | None = None,
    lengths: Tensor | None = None,
    reverse: bool = False,
    variant: FusedVariant = _PLAIN,
    return_gates: bool = True,
) -> tuple[Tensor, Tensor, Tensor, Tensor | None, Tensor | None]:
    """One layer, one direction: x (T, B, F) -> (y (T, B, R), h_n (B, R), c_n (B, H),
    gates (T, B, 4H) activations i f g o, cells (T, B, H)). ``bias`` = b_ih + b_hh (4H,).

    y, gates and cells are indexed by real time for both directions and zero past each
    sequence's end (gates/cells), y zero there too. Gates and cells are by-products of the
    forward pass (no extra work) and carry no gradient. With ``return_gates=False`` and nothing
    to differentiate (grad mode off, or no input requiring grad), the kernel keeps no
    by-products (inference: less memory traffic) and gates and cells are None.
    """
    ln = variant.ln or (None, None, None, None)
    save = return_gates or (
        torch.is_grad_enabled()
        and any(t is not None and t.requires_grad for t in (x, w_ih, w_hh, bias, w_hr, h0, c0, variant.peephole, *ln))
    )
    out = torch.ops.lstmkit_fused.lstm_fwd(
        x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, variant.peephole, *ln, variant.rd_mask, variant.zc_mask,
        variant.zh_mask, float(variant.zc_p), float(variant.zh_p), bool(reverse), bool(variant.coupled),
        bool(variant.hard_sigmoid), save,
    )
    if not save:
        return out[0], out[1], out[2], None, None
    return out[0], out[1], out[2], out[3].detach(), out[4].detach()


def supports(request) -> bool:
    """CPU, float32/float64, LSTM and its variants; needs the compiled kernel. Its gates carry
    no gradient, so ``return_gates`` while autograd records goes to another path; an empty batch
    and torch.func transforms (a C++ autograd Function cannot run under them) too."""
    return (
        is_lstm_mode(request.mode)
        and request.device.type == "cpu"
        and request.dtype in (torch.float32, torch.float64)
        and not (request.return_gates and request.needs_grad)
        and not request.empty
        and not request.transformed
        and available()
    )


def run_layer(
    x: Tensor,
    weights,
    h0: Tensor,
    c0: Tensor | None,
    *,
    mode: str,
    lengths: Tensor | None,
    reverse: bool,
    return_gates: bool,
    variant=None,
):
    """The kernel-path contract of :mod:`lstmkit.nn.kernels.common`, plus ``variant``
    (a :class:`lstmkit.nn.variants.LayerVariant`; masks are sampled here, before the loop)."""
    from lstmkit.nn.kernels.common import LayerOutput  # same package; at call time (import cycle with lstmkit.nn.kernels)
    from lstmkit.nn.variants import sample_masks  # nn.variants imports the kernels package (cycle): at call time

    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    bias = None if b_ih is None else b_ih + b_hh
    if lengths is not None and lengths.device.type != "cpu":
        lengths = lengths.cpu()
    fv = _PLAIN
    if variant is not None:
        m = sample_masks(variant, w_hh, x.shape[0], x.shape[1], x)
        w_hh = m.w_hh
        o = variant.options
        fv = FusedVariant(variant.peephole, variant.ln, o.coupled_gates, o.hard_sigmoid, m.rd, m.zc, m.zh,
                          m.zc_p, m.zh_p)
    y, h_n, c_n, g, cells = lstm_sequence(
        x, w_ih, w_hh, bias, h0, c0, w_hr=w_hr, lengths=lengths, reverse=reverse, variant=fv,
        return_gates=return_gates,
    )
    gates = None
    if return_gates:
        i, f, gg, o_ = g.chunk(4, dim=-1)  # each (T, B, H)
        if lengths is not None:  # contract: zero past each end
            mask = torch.arange(x.shape[0]).unsqueeze(1) < lengths.unsqueeze(0)  # (T, B)
            cells = cells * mask.unsqueeze(-1).to(cells.dtype)
        gates = (i, f, o_, gg, cells)
    return LayerOutput(y, h_n, c_n, gates)


# ------------------------------------------------------------------ dispatch rules (standard LSTM)
# Measured on the 2-core Xeon (AVX-512) with the in-process grid of benchmarks/RESULTS.md (fused /
# torch, one layer, T = 100, F = 32; figures there). The variants always use the kernel (the
# alternative is the per-step autograd loop, 1.1-100x slower than torch's plain LSTM). For the
# standard LSTM the peer is torch's oneDNN kernel:
#   * training (autograd records): ours 0.41-0.92 at every measured shape, B = 1..1024, H = 32..256,
#     one and two threads (one exception: 1.11 at B = 4, H = 256, two threads). Always ours;
#   * inference, one thread: ours 0.43-0.96 up to B = 4, 0.98-1.25 from B = 8 (0.94 at B = 256,
#     H = 128). Ours up to INFER_1T_MAX_BATCH;
#   * inference, two or more threads (the time loop split by batch rows): ours 0.24-0.93 for
#     H = 32..192 except H = 32 with B >= 128 (1.00-1.09); at H = 256 torch's is faster (1.04-1.33)
#     but at B = 256 (0.92). Ours for hidden <= INFER_MT_MAX_HIDDEN, and below
#     INFER_MT_NARROW hidden units only for batches under INFER_MT_NARROW_MAX_BATCH.
# Re-tune these constants from a quiet-machine run of the grid.
INFER_1T_MAX_BATCH = 4
INFER_MT_MAX_HIDDEN = 192
INFER_MT_NARROW = 64
INFER_MT_NARROW_MAX_BATCH = 128


def prefer_fused(batch: int, needs_grad: bool, steps: int | None = None, hidden: int | None = None,
                 threads: int | None = None) -> bool:
    """Whether the fused kernel beats torch.nn.LSTM's kernel for a standard LSTM at this batch
    (and, when given, hidden size; ``threads`` defaults to torch's). ``steps`` is accepted for
    callers but no current rule needs it (the grid is at T = 100; the benchmark shapes, T = 50..1000,
    agree with the rules)."""
    if needs_grad or torch.compiler.is_compiling():
        return True  # under torch.compile: the fused op (torch's LSTM is a graph break)
    nt = torch.get_num_threads() if threads is None else threads
    if nt < 2 or hidden is None:
        return batch <= INFER_1T_MAX_BATCH
    if hidden > INFER_MT_MAX_HIDDEN:
        return False
    return hidden >= INFER_MT_NARROW or batch < INFER_MT_NARROW_MAX_BATCH


def run_stack(
    x: Tensor,
    flat_weights: list[Tensor],
    h0: Tensor,
    c0: Tensor,
    *,
    mode: str,
    lengths: Tensor | None,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    training: bool,
    has_biases: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """All layers and directions (torch's calling convention, see ``torch_fused.run_stack``).

    Standard LSTM only. Where :func:`prefer_fused` says torch's kernel is faster for this
    shape, delegates to it (unless the fused path is forced), so the choice is by measurement.
    """
    from lstmkit.nn.kernels import forced_path, torch_fused  # same package; at call time (import cycle)

    needs_grad = torch.is_grad_enabled() and (
        x.requires_grad or h0.requires_grad or c0.requires_grad or any(w.requires_grad for w in flat_weights)
    )
    hidden = flat_weights[0].shape[0] // 4
    if forced_path() != "fused" and not prefer_fused(x.shape[1], needs_grad, x.shape[0], hidden):
        return torch_fused.run_stack(
            x, flat_weights, h0, c0, mode=mode, lengths=lengths, num_layers=num_layers,
            bidirectional=bidirectional, dropout=dropout, training=training, has_biases=has_biases,
        )
    D = 2 if bidirectional else 1
    per = len(flat_weights) // (num_layers * D)  # tensors per layer-direction: w_ih w_hh [b_ih b_hh] [w_hr]
    if lengths is not None and lengths.device.type != "cpu":
        lengths = lengths.cpu()
    h_n, c_n = [], []
    layer_input = x  # (T, B, F)
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            k = layer * D + d
            ws = flat_weights[k * per : (k + 1) * per]
            w_ih, w_hh = ws[0], ws[1]
            bias = ws[2] + ws[3] if has_biases else None
            w_hr = ws[-1] if per in (3, 5) else None
            y, hn, cn, _, _ = lstm_sequence(layer_input, w_ih, w_hh, bias, h0[k], c0[k], w_hr=w_hr,
                                            lengths=lengths, reverse=d == 1, return_gates=False)
            outs.append(y)  # (T, B, R)
            h_n.append(hn)
            c_n.append(cn)
        layer_input = torch.cat(outs, dim=-1) if D == 2 else outs[0]  # (T, B, D*R)
        if dropout and layer < num_layers - 1:
            layer_input = torch.nn.functional.dropout(layer_input, dropout, training=True)
    return layer_input, torch.stack(h_n, 0), torch.stack(c_n, 0)
