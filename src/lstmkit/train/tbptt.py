"""Truncated backpropagation through time (TBPTT) for long streams.

A long stream is cut into chunks of ``chunk_length`` steps. Row ``b`` of every batch
continues row ``b`` of the previous batch, so the final recurrent state of one chunk is the
initial state of the next (detached: gradients stop at chunk borders, which is what makes
the cost per step constant). Each row works through its own queue of streams; where a stream
ends the rest of its chunk row is padding (``mask`` False) and the next chunk of that row
starts a fresh stream with ``reset`` True, which zeroes that row's state.

The trainer recognises :class:`StreamChunk` batches and calls
``model.stream_loss(chunk, state) -> (loss, new_state)``, carrying ``new_state`` (detached)
to the next chunk and resetting rows with :func:`reset_state`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from lstmkit.errors import ConfigError, ShapeError

__all__ = ["StreamChunk", "StreamLoader", "detach_state", "reset_state"]


@dataclasses.dataclass
class StreamChunk:
    """One TBPTT batch: B rows of ``chunk_length`` steps.

    x (B, K, F) inputs, y (B, K, ...) targets, mask (B, K) True on real steps,
    reset (B,) True where this row starts a new stream (its carried state must be zeroed).
    """

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
    reset: torch.Tensor

    def to(self, device: torch.device) -> "StreamChunk":
        return StreamChunk(self.x.to(device), self.y.to(device), self.mask.to(device), self.reset.to(device))

    def __len__(self) -> int:
        return int(self.x.shape[0])


def detach_state(state: Any) -> Any:
    """Detach every tensor in a (nested tuple/list of) recurrent state."""
    if state is None:
        return None
    if torch.is_tensor(state):
        return state.detach()
    return type(state)(detach_state(s) for s in state)


def reset_state(state: Any, reset: torch.Tensor, batch_dim: int = 1) -> Any:
    """Zero the rows of ``state`` flagged in ``reset`` (B,). States are (L*D, B, H) like torch's."""
    if state is None:
        return None
    if torch.is_tensor(state):
        shape = [1] * state.dim()
        shape[batch_dim] = -1
        keep = (~reset.to(state.device, torch.bool)).to(state.dtype).view(shape)
        return state * keep
    return type(state)(reset_state(s, reset, batch_dim) for s in state)


class StreamLoader:
    """Chunks of ``batch_size`` parallel streams for TBPTT, in order (never shuffled).

    ``streams`` is a sequence of ``(x, y)`` pairs with x (T_i, F) and y (T_i, ...); streams
    are dealt to rows round-robin (stream i goes to row i % batch_size) so the batch order is
    fixed and reproducible; ``shuffle_streams`` reorders the streams per epoch with a seeded
    generator (``set_epoch``) before dealing.
    """

    def __init__(
        self,
        streams: Sequence[tuple[torch.Tensor, torch.Tensor]],
        *,
        batch_size: int,
        chunk_length: int,
        shuffle_streams: bool = False,
        seed: int = 0,
    ) -> None:
        if not isinstance(chunk_length, int) or chunk_length <= 0:
            raise ConfigError(f"chunk_length must be a positive int, got {chunk_length!r}")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ConfigError(f"batch_size must be a positive int, got {batch_size!r}")
        if len(streams) == 0:
            raise ConfigError("streams must hold at least one (x, y) stream, got none")
        for i, (x, y) in enumerate(streams):
            if x.dim() != 2:
                raise ShapeError(f"streams[{i}].x must be (T, F), got shape {tuple(x.shape)}")
            if y.shape[0] != x.shape[0]:
                raise ShapeError(f"streams[{i}]: y has {y.shape[0]} steps, x has {x.shape[0]}")
        self.streams = list(streams)
        self.batch_size = min(batch_size, len(self.streams))
        self.chunk_length = chunk_length
        self.shuffle_streams = shuffle_streams
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _rows(self) -> list[list[int]]:
        order = list(range(len(self.streams)))
        if self.shuffle_streams:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(len(order), generator=g).tolist()
        rows: list[list[int]] = [[] for _ in range(self.batch_size)]
        for j, i in enumerate(order):
            rows[j % self.batch_size].append(i)
        return rows

    def _plan(self) -> list[list[tuple[int, int] | None]]:
        """Per row: list of (stream, start) per chunk, None for an idle row."""
        k = self.chunk_length
        plans = []
        for row in self._rows():
            plan: list[tuple[int, int] | None] = []
            for i in row:
                t = self.streams[i][0].shape[0]
                plan.extend((i, s) for s in range(0, t, k))
            plans.append(plan)
        n = max(len(p) for p in plans)
        return [p + [None] * (n - len(p)) for p in plans]

    def __len__(self) -> int:
        return len(self._plan()[0])

    def __iter__(self) -> Iterator[StreamChunk]:
        k = self.chunk_length
        x0, y0 = self.streams[0]
        plans = self._plan()
        for c in range(len(plans[0])):
            b = len(plans)
            x = x0.new_zeros((b, k, x0.shape[1]))  # (B, K, F)
            y = y0.new_zeros((b, k) + tuple(y0.shape[1:]))  # (B, K, ...)
            mask = torch.zeros(b, k, dtype=torch.bool)
            reset = torch.zeros(b, dtype=torch.bool)
            for r, item in enumerate(p[c] for p in plans):
                if item is None:
                    reset[r] = True
                    continue
                i, s = item
                sx, sy = self.streams[i]
                n = min(k, sx.shape[0] - s)
                x[r, :n], y[r, :n], mask[r, :n] = sx[s : s + n], sy[s : s + n], True
                reset[r] = s == 0
            yield StreamChunk(x, y, mask, reset)
