"""Argument checks shared by cells and layers. Messages name the argument, what was
expected and what was received; several constructor problems are reported together."""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import Tensor

from lstmkit.errors import ConfigError, ShapeError


def positive_int(name: str, value: Any, problems: list[str], *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        problems.append(f"{name} must be {kind}, got {value!r}")


def boolean(name: str, value: Any, problems: list[str]) -> None:
    if not isinstance(value, bool):
        problems.append(f"{name} must be True or False, got {value!r}")


def raise_problems(owner: str, problems: list[str]) -> None:
    if problems:
        raise ConfigError(f"{owner}: " + "; ".join(problems))


def floating_tensor(name: str, value: Any, param_dtype: torch.dtype | None = None) -> Tensor:
    if not isinstance(value, Tensor):
        raise ShapeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise ShapeError(
            f"{name} must be a floating-point tensor (e.g. torch.float32), got dtype {value.dtype}; "
            f"convert with {name}.float()"
        )
    if param_dtype is not None and value.dtype != param_dtype:
        raise ShapeError(
            f"{name} dtype must match the parameters' dtype {param_dtype}, got {value.dtype}; "
            f"convert the input with .to({param_dtype}) or the module with .to({value.dtype})"
        )
    return value


def state_tensor(name: str, value: Any, expected: tuple[int, ...], param_dtype: torch.dtype, meaning: str) -> Tensor:
    value = floating_tensor(name, value, param_dtype)
    if tuple(value.shape) != expected:
        raise ShapeError(f"{name} must have shape {expected} {meaning}, got {tuple(value.shape)}")
    return value


def lengths_tensor(lengths: Any, T: int, B: int) -> Tensor | None:
    """Validate ``lengths`` and return it as int64 on the CPU; None when every sequence is full."""
    if lengths is None:
        return None
    if not isinstance(lengths, Tensor):
        try:
            lengths = torch.as_tensor(lengths)
        except (TypeError, ValueError, RuntimeError) as e:
            raise ShapeError(f"lengths must be a 1-D integer tensor of size B={B}, got {lengths!r}") from e
    if lengths.dtype == torch.bool or lengths.is_floating_point() or lengths.is_complex():
        raise ShapeError(f"lengths must be an integer tensor (e.g. torch.int64), got dtype {lengths.dtype}")
    if lengths.dim() != 1:
        raise ShapeError(f"lengths must be 1-D with one entry per sequence (B={B},), got shape {tuple(lengths.shape)}")
    if lengths.numel() != B:
        raise ShapeError(f"lengths must have one entry per sequence: expected B={B} entries, got {lengths.numel()}")
    lengths = lengths.to("cpu", torch.int64)
    lo, hi = (int(v) for v in torch.aminmax(lengths))
    if lo < 1:
        b = int((lengths < 1).nonzero()[0, 0])
        raise ShapeError(f"lengths must be >= 1 (each sequence needs a step), got {int(lengths[b])} at index {b}")
    if hi > T:
        b = int((lengths > T).nonzero()[0, 0])
        raise ShapeError(
            f"lengths must be <= T={T} (the input's time dimension), got {int(lengths[b])} at index {b}"
        )
    if lo == T:
        return None  # nothing is padded: the plain path is equivalent and faster
    return lengths
