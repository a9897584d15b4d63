"""Argument checks shared by cells and layers. Messages name the argument, what was
expected and what was received; several constructor problems are reported together.

Error classes follow torch.nn where it raises something other than ValueError (see
:mod:`lstmkit.errors`): a size that does not fit is a :class:`ShapeRuntimeError` (torch:
RuntimeError), a wrong Python type a :class:`ShapeTypeError` / :class:`ConfigTypeError`
(torch: TypeError); torch's key phrase is kept in the message where tests commonly match it."""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import Tensor

from lstmkit.errors import ConfigError, ConfigTypeError, ShapeError, ShapeRuntimeError, ShapeTypeError


class TypeProblem(str):
    """A constructor problem that is a wrong type (torch raises TypeError there)."""


def positive_int(name: str, value: Any, problems: list[str], *, minimum: int = 1) -> None:
    kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        problems.append(TypeProblem(f"{name} must be {kind}, got {value!r}"))
    elif value < minimum:
        problems.append(f"{name} must be {kind}, got {value!r}")


def boolean(name: str, value: Any, problems: list[str]) -> None:
    if not isinstance(value, bool):
        problems.append(TypeProblem(f"{name} must be True or False, got {value!r}"))


def raise_problems(owner: str, problems: list[str]) -> None:
    """One error naming every problem: a ConfigError, also a TypeError when one is a wrong type."""
    if problems:
        cls = ConfigTypeError if any(isinstance(p, TypeProblem) for p in problems) else ConfigError
        raise cls(f"{owner}: " + "; ".join(problems))


def autocast_dtype(device_type: str, param_dtype: torch.dtype) -> torch.dtype | None:
    """The lower-precision dtype of a ``torch.autocast`` running for ``device_type`` when the
    parameters are float32 (autocast casts only float32), else None."""
    if param_dtype != torch.float32 or not torch.is_autocast_enabled(device_type):
        return None
    return torch.get_autocast_dtype(device_type)


def floating_tensor(
    name: str, value: Any, param_dtype: torch.dtype | None = None, autocast: torch.dtype | None = None
) -> Tensor:
    """A floating tensor of the parameters' dtype (or, under torch.autocast, of its dtype ``autocast``)."""
    if not isinstance(value, Tensor):
        raise ShapeTypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise ShapeError(
            f"{name} must be a floating-point tensor (e.g. torch.float32), got dtype {value.dtype}; "
            f"convert with {name}.float()"
        )
    if param_dtype is not None and value.dtype != param_dtype and value.dtype != autocast:
        if autocast is not None:
            raise ShapeError(
                f"{name} dtype must be the parameters' dtype {param_dtype} or, under torch.autocast, {autocast}; "
                f"got {value.dtype}"
            )
        raise ShapeError(
            f"{name} dtype must match the parameters' dtype {param_dtype}, got {value.dtype}; "
            f"convert the input with .to({param_dtype}) or the module with .to({value.dtype})"
        )
    return value


def state_tensor(
    name: str, value: Any, expected: tuple[int, ...], param_dtype: torch.dtype, meaning: str, torch_says: str = "",
    autocast: torch.dtype | None = None,
) -> Tensor:
    """A state tensor of shape ``expected``; a wrong shape is a ShapeRuntimeError (torch: RuntimeError)
    whose message ends with ``torch_says`` (torch's own wording, for code that matches it)."""
    value = floating_tensor(name, value, param_dtype, autocast)
    if tuple(value.shape) != expected:
        hint = f" ({torch_says.format(expected=expected, got=list(value.shape))})" if torch_says else ""
        raise ShapeRuntimeError(f"{name} must have shape {expected} {meaning}, got {tuple(value.shape)}{hint}")
    return value


def lengths_tensor(lengths: Any, T: int, B: int) -> Tensor | None:
    """Validate ``lengths`` and return it as int64 on the CPU; None when every sequence is full."""
    if lengths is None:
        return None
    if not isinstance(lengths, Tensor):
        try:
            lengths = torch.as_tensor(lengths)
        except (TypeError, ValueError, RuntimeError) as e:
            raise ShapeTypeError(f"lengths must be a 1-D integer tensor of size B={B}, got {lengths!r}") from e
    if lengths.dtype == torch.bool or lengths.is_floating_point() or lengths.is_complex():
        raise ShapeError(f"lengths must be an integer tensor (e.g. torch.int64), got dtype {lengths.dtype}")
    if lengths.dim() != 1:
        raise ShapeRuntimeError(
            f"lengths must be 1-D with one entry per sequence (B={B},), got shape {tuple(lengths.shape)}"
        )
    if lengths.numel() != B:
        raise ShapeRuntimeError(
            f"lengths must have one entry per sequence: expected B={B} entries, got {lengths.numel()}"
        )
    if B == 0:
        return None  # an empty batch: nothing is padded
    lengths = lengths.to("cpu", torch.int64)
    lo, hi = (int(v) for v in torch.aminmax(lengths))
    if lo < 1:
        b = int((lengths < 1).nonzero()[0, 0])
        raise ShapeRuntimeError(
            f"lengths must be >= 1 (each sequence needs a step), got {int(lengths[b])} at index {b}"
        )
    if hi > T:
        b = int((lengths > T).nonzero()[0, 0])
        raise ShapeRuntimeError(
            f"lengths must be <= T={T} (the input's time dimension), got {int(lengths[b])} at index {b}"
        )
    if lo == T:
        return None  # nothing is padded: the plain path is equivalent and faster
    return lengths
