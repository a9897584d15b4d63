"""Training windows indexed lazily into the series.

A window is ``lookback`` past steps followed by ``horizon`` future steps of one series.
:class:`WindowDataset` stores the series once (one float32 array) and computes window ``i``
from offsets when asked, so memory grows with the series, never with the number of windows
times their length. ``__getitems__`` gathers a whole batch with one fancy-indexing call
(torch's DataLoader uses it automatically).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from lstmkit.errors import ConfigError, DataError

__all__ = ["WindowDataset", "WindowBatchSampler", "SeriesDataset", "collate_windows", "materialize_windows"]


def collate_windows(items: Any) -> dict[str, torch.Tensor]:
    """Collate for :class:`WindowDataset`: a batched dict passes through, a list is stacked."""
    if isinstance(items, dict):
        return items
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


class WindowDataset(torch.utils.data.Dataset):
    """Lazy (lookback + horizon) windows over one or many series.

    Args:
        series: arrays of shape (T_s,) or (T_s, C); column 0 is the target, the last
            ``n_future`` columns are covariates known in the future.
        lookback, horizon: window lengths (past, future).
        n_future: number of trailing covariate columns known over the horizon.
        ranges: optional per-series ``(first, last)`` window *end* positions (exclusive
            end of the future part, counted in points from the start of the series):
            window ends e with first <= e <= last are used. Default: every full window.
        stride: distance between consecutive window starts.

    Item ``i`` is a dict: ``past`` (L, C) every column over the lookback, ``future_cov``
    (H, n_future) known-future covariates over the horizon, ``y`` (H,) the target over the
    horizon, ``series`` () the series number.
    """

    collate = staticmethod(collate_windows)

    def __init__(
        self,
        series: Sequence[np.ndarray],
        lookback: int,
        horizon: int,
        *,
        n_future: int = 0,
        ranges: Sequence[tuple[int, int]] | None = None,
        stride: int = 1,
    ) -> None:
        for name, v in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"{name} must be a positive int, got {v!r}")
        self.lookback, self.horizon, self.stride = int(lookback), int(horizon), int(stride)
        self.window = self.lookback + self.horizon
        arrays = [np.asarray(s, dtype=np.float32) for s in series]
        arrays = [a[:, None] if a.ndim == 1 else a for a in arrays]
        if not arrays:
            raise DataError("no series given")
        width = {a.shape[1] for a in arrays}
        if len(width) != 1:
            raise DataError(f"all series must have the same number of columns, got {sorted(width)}")
        self.n_columns = width.pop()
        if not 0 <= n_future < self.n_columns:
            raise ConfigError(f"n_future must be in [0, {self.n_columns - 1}], got {n_future}")
        self.n_future = int(n_future)
        lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        # one array holding every series back to back (no copy for a single float32 series)
        self.values = arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=0)
        self.offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        if ranges is None:
            ranges = [(self.window, int(n)) for n in lengths]
        if len(ranges) != len(arrays):
            raise ConfigError(f"ranges must have one (first, last) pair per series, got {len(ranges)} for {len(arrays)}")
        first = np.array([max(int(r[0]), self.window) for r in ranges], dtype=np.int64)
        last = np.minimum(np.array([int(r[1]) for r in ranges], dtype=np.int64), lengths)
        counts = np.where(last >= first, (last - first) // self.stride + 1, 0)
        # first window START per series (window end = start + window)
        self._start0 = self.offsets + first - self.window
        self._cum = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._steps = np.arange(self.window, dtype=np.int64)

    def __len__(self) -> int:
        return int(self._cum[-1])

    def _starts(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(self)
        if np.any(idx < -n) or np.any(idx >= n):
            raise IndexError(f"window index out of range for {n} windows")
        idx = np.where(idx < 0, idx + n, idx)
        s = np.searchsorted(self._cum, idx, side="right") - 1
        return self._start0[s] + (idx - self._cum[s]) * self.stride, s

    def __getitems__(self, indices: Sequence[int]) -> dict[str, torch.Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        starts, s = self._starts(idx)
        block = self.values[starts[:, None] + self._steps]  # (B, L+H, C)
        L = self.lookback
        nf = self.n_future
        return {
            "past": torch.from_numpy(block[:, :L]),  # (B, L, C)
            "future_cov": torch.from_numpy(np.ascontiguousarray(block[:, L:, self.n_columns - nf:])),  # (B, H, nf)
            "y": torch.from_numpy(np.ascontiguousarray(block[:, L:, 0])),  # (B, H)
            "series": torch.from_numpy(s),  # (B,)
        }

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        batch = self.__getitems__([int(i)])
        return {k: v[0] for k, v in batch.items()}

    def window_bounds(self, i: int) -> tuple[int, int]:
        """(series number, start position within that series) of window ``i``."""
        starts, s = self._starts(np.asarray([i]))
        return int(s[0]), int(starts[0] - self.offsets[s[0]])


class WindowBatchSampler(torch.utils.data.Sampler):
    """Shuffled batches of window indices at 4 bytes per window (int32 permutation).

    torch's RandomSampler and DistributedSampler build a Python list of every index
    (about 36 bytes per window: 9x a float32 series); this one keeps one NumPy array and
    yields index arrays, which :meth:`WindowDataset.__getitems__` gathers in one call.
    Each pass reshuffles with ``seed + pass number``.
    """

    def __init__(self, n: int, batch_size: int, *, shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be a positive int, got {batch_size!r}")
        self.n, self.batch_size, self.shuffle, self.seed, self.drop_last = int(n), int(batch_size), shuffle, seed, drop_last
        self.epoch = 0

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        dtype = np.int32 if self.n < 2**31 else np.int64
        order = np.arange(self.n, dtype=dtype)
        if self.shuffle:
            np.random.default_rng(self.seed + self.epoch).shuffle(order)  # in place: one array, no copy
        self.epoch += 1
        for i in range(0, self.n, self.batch_size):
            chunk = order[i : i + self.batch_size]
            if self.drop_last and len(chunk) < self.batch_size:
                return
            yield chunk

    def loader(self, dataset: WindowDataset) -> torch.utils.data.DataLoader:
        """A DataLoader over ``dataset`` with these batches and the dataset's collate."""
        return torch.utils.data.DataLoader(dataset, batch_sampler=self, collate_fn=dataset.collate)


def materialize_windows(series: np.ndarray, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window of one 1-D series as dense arrays (past (N, L), future (N, H)).

    The naive, memory-hungry reference that the lazy dataset is tested against.
    """
    s = np.asarray(series, dtype=np.float32)
    n = len(s) - lookback - horizon + 1
    past = np.stack([s[i : i + lookback] for i in range(n)])
    fut = np.stack([s[i + lookback : i + lookback + horizon] for i in range(n)])
    return past, fut


class SeriesDataset(torch.utils.data.Dataset):
    """Whole series, one item each, for models that run over a series from its start (ES-RNN).

    Args:
        series: 1-D arrays (T_i,).
        ranges: per series, the (first, last) window end to score, inclusive (a window's end is
            its last input point); an empty range (first > last) scores nothing.
        numbers: each series' number (its row in per-series parameters); default 0..n-1.

    Item ``i``: ``z`` (T_max,) the values padded with the last value after the series' end,
    ``length`` (), ``series`` () the series number, ``t_lo`` and ``t_hi`` () its range.
    """

    def __init__(self, series: Sequence[np.ndarray], ranges: Sequence[tuple[int, int]],
                 numbers: Sequence[int] | None = None) -> None:
        if not series:
            raise DataError("no series given")
        if len(ranges) != len(series):
            raise ConfigError(f"ranges must have one (first, last) pair per series, got {len(ranges)} for {len(series)}")
        lengths = np.array([len(s) for s in series], dtype=np.int64)
        values = np.zeros((len(series), int(lengths.max())), dtype=np.float32)
        for i, s in enumerate(series):
            values[i, : len(s)] = s
            values[i, len(s):] = s[-1]
        self.values, self.lengths = values, lengths
        self.ranges = np.asarray(ranges, dtype=np.int64).reshape(len(series), 2)
        self.numbers = np.arange(len(series)) if numbers is None else np.asarray(numbers, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"z": torch.from_numpy(self.values[i]), "length": torch.tensor(self.lengths[i]),
                "series": torch.tensor(self.numbers[i]), "t_lo": torch.tensor(self.ranges[i, 0]), "t_hi": torch.tensor(self.ranges[i, 1])}

    @staticmethod
    def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        return {k: torch.stack([it[k] for it in items]) for k in items[0]}

    def n_windows(self) -> int:
        """Window ends scored over every series."""
        return int(np.clip(self.ranges[:, 1] - self.ranges[:, 0] + 1, 0, None).sum())
