"""Execution paths of the recurrent layers, and the one place that chooses among them.

Users never pick a path: :class:`lstmkit.nn.LSTM` (and GRU/RNN) call :func:`select_path`
on every forward. A path is a :class:`KernelPath`:

``run_layer(x, weights, h0, c0, *, mode, lengths, reverse, return_gates) -> LayerOutput``
    one layer, one direction, over (T, B, F); the contract is documented in
    :mod:`lstmkit.nn.kernels.common` and is the SAME for every path.
``run_stack(x, flat_weights, h0, c0, *, mode, lengths, num_layers, bidirectional,
dropout, training, has_biases) -> (output, h_n, c_n)``  (optional)
    all layers and directions at once (torch's fused calling convention: x (T, B, F),
    flat_weights in torch's ``_flat_weights`` order, h0 (L*D, B, R), c0 (L*D, B, H) or
    None, lengths None or int64 CPU (B,)); output (T, B, D*R) zero past each end.
``supports(request) -> bool``
    whether the path can run a :class:`KernelRequest`.
``priority``
    higher wins among the paths that support a request.

Dispatch rules (:func:`select_path`):

1. Inside ``with force_path("name"):`` that path is used, or ConfigError if it cannot
   run the configuration (this is how tests exercise every path).
2. Otherwise the supporting path with the highest priority. Built in:
   ``"torch"`` (priority 10, PyTorch's fused oneDNN/cuDNN kernels: modes lstm, gru,
   rnn_tanh, rnn_relu, any lengths, proj_size, dropout) and ``"reference"`` (priority 0,
   a readable loop over :mod:`lstmkit.nn.functional`: runs everything, the ground truth).
   An empty batch (``request.empty``) or a torch.func transform (``request.transformed``) goes
   to a path made of PyTorch operations (torch's kernel, or the reference loops), since lstmkit's
   C++ kernel has no functorch rules and nothing to compute on zero rows. Double backward
   (``create_graph=True``) needs no dispatch: the fused kernel's backward recomputes through
   PyTorch operations when it is itself being differentiated (see ``fused_cpu``).
3. The layer calls ``run_stack`` when the chosen path has one and no gates are asked
   for; otherwise it loops over layers and directions with ``run_layer`` (dropout
   between layers applied by the layer). With ``return_gates=True`` the torch path runs
   its fused kernel per layer and recomputes the gates from the known outputs in one
   GEMM (:func:`common.lstm_gates_from_outputs`), so no per-op cell loop is needed,
   with or without autograd.

Adding a path (e.g. a fused C++ kernel): write a module exposing ``run_layer`` (and
optionally ``run_stack``), then ``register_path(KernelPath(name=..., run_layer=...,
supports=..., priority=...))`` at the bottom of this file.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import torch

from lstmkit.errors import ConfigError, suggest
from lstmkit.nn.kernels.common import LayerOutput, LayerWeights

__all__ = [
    "KernelPath",
    "KernelRequest",
    "LayerOutput",
    "LayerWeights",
    "register_path",
    "available_paths",
    "select_path",
    "force_path",
]


class KernelRequest(NamedTuple):
    """What a forward call needs; a path's ``supports`` decides from this alone."""

    mode: str  # "lstm" | "gru" | "rnn_tanh" | "rnn_relu" | a variant's name
    device: torch.device
    dtype: torch.dtype
    num_layers: int
    bidirectional: bool
    proj_size: int  # 0 = no projection
    bias: bool
    has_lengths: bool
    needs_grad: bool  # autograd is recording and input or a weight requires grad
    return_gates: bool
    dropout: float  # effective dropout between layers (0.0 in eval mode)
    empty: bool = False  # B = 0: nothing to compute; only the pure-PyTorch paths take it
    transformed: bool = False  # inside a torch.func transform (grad, vmap, jacrev, ...): a C++ autograd
    # Function cannot run there, so only paths made of PyTorch operations take it


@dataclass(frozen=True)
class KernelPath:
    """One execution path. See the module docstring for the signatures."""

    name: str
    run_layer: Callable[..., LayerOutput]
    supports: Callable[[KernelRequest], bool]
    priority: int = 0
    run_stack: Callable[..., tuple] | None = None


_PATHS: dict[str, KernelPath] = {}
_BY_PRIORITY: list[KernelPath] = []  # cache of _PATHS sorted by priority, rebuilt when it changes
_FORCED: contextvars.ContextVar[str | None] = contextvars.ContextVar("lstmkit_force_path", default=None)


def register_path(path: KernelPath) -> None:
    """Add (or replace) an execution path."""
    _PATHS[path.name] = path


def available_paths() -> list[str]:
    """Names of the registered paths, highest priority first."""
    return [p.name for p in sorted(_PATHS.values(), key=lambda p: -p.priority)]


@contextlib.contextmanager
def force_path(name: str) -> Iterator[None]:
    """Internal/testing: run every recurrent layer inside the block on path ``name``.

    >>> with force_path("reference"):
    ...     out, (h, c) = lstm(x)
    """
    if name not in _PATHS:
        raise ConfigError(
            f"force_path: unknown path {name!r}; expected one of {available_paths()}{suggest(name, _PATHS)}"
        )
    token = _FORCED.set(name)
    try:
        yield
    finally:
        _FORCED.reset(token)


@torch.compiler.assume_constant_result
def forced_path() -> str | None:
    """The path forced by :func:`force_path` (None: automatic). A constant for torch.compile,
    which cannot trace ``ContextVar.get`` (a graph break inside every LSTM otherwise)."""
    return _FORCED.get()


def select_path(request: KernelRequest) -> KernelPath:
    """Apply the dispatch rules in the module docstring."""
    forced = forced_path()
    if forced is not None:
        path = _PATHS[forced]
        if not path.supports(request):
            raise ConfigError(f"force_path({forced!r}) cannot run this configuration: {request}")
        return path
    global _BY_PRIORITY
    if len(_BY_PRIORITY) != len(_PATHS) or any(_PATHS.get(p.name) is not p for p in _BY_PRIORITY):
        _BY_PRIORITY = sorted(_PATHS.values(), key=lambda p: -p.priority)
    for path in _BY_PRIORITY:
        if path.supports(request):
            return path
    raise ConfigError(f"no execution path supports mode={request.mode!r} on {request.device} {request.dtype}")


# Built-in paths. A new path: import its module here and register it.
from lstmkit.nn.kernels import reference as _reference  # noqa: E402
from lstmkit.nn.kernels import torch_fused as _torch_fused  # noqa: E402
from lstmkit.nn.kernels import fused_cpu as _fused_cpu  # noqa: E402
from lstmkit.nn.kernels import variant_reference as _variant_reference  # noqa: E402

register_path(
    KernelPath("reference", run_layer=_reference.run_layer, supports=_reference.supports, priority=0)
)
register_path(
    KernelPath(
        "torch",
        run_layer=_torch_fused.run_layer,
        supports=_torch_fused.supports,
        priority=10,
        run_stack=_torch_fused.run_stack,
    )
)
# lstmkit's fused CPU kernel (issue 3): LSTM and its variants; for the standard LSTM its
# run_stack hands shapes where torch's kernel measured faster to the torch path
# (fused_cpu.prefer_fused). Its supports() builds the kernel on first use.
register_path(
    KernelPath(
        "fused",
        run_layer=_fused_cpu.run_layer,
        supports=_fused_cpu.supports,
        priority=20,
        run_stack=_fused_cpu.run_stack,
    )
)
# The variants without the kernel (no compiler, GPU, half precision, gates with gradients).
register_path(
    KernelPath(
        "variant_reference",
        run_layer=_variant_reference.run_layer,
        supports=_variant_reference.supports,
        priority=1,
    )
)
