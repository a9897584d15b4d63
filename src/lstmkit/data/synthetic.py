"""The long-time-lag problems the LSTM was invented for (Hochreiter & Schmidhuber 1997).

* :func:`adding_problem` (experiment 4): pairs (value in [-1, 1], marker in {-1, 0, 1});
  two pairs are marked 1, one among the first ten steps and one among the first T/2 - 1;
  the first and last pairs carry marker -1. Target at the end: 0.5 + (X1 + X2) / 4,
  i.e. the sum scaled to [0, 1]. The paper counts a sequence as correct when the absolute
  error is below 0.04. Predicting 0.5 always gives a mean absolute error of about 0.167.
* :func:`temporal_order` (experiment 6a/6b): symbols {a, b, c, d, B, E, X, Y} one-hot;
  the class is the temporal order of the X/Y symbols at two (6a: 4 classes) or three
  (6b: 8 classes) random positions far apart; everything else is distractor noise.

Sequence lengths vary between T and T + T/10 as in the paper. Shorter sequences are
*left*-padded with all-zero steps so that every sequence ends at the last time step
(the padding carries no marker; the first real step is marked -1 / is the B symbol),
which lets a many-to-one model read its answer at step T_max without lengths.
Generators are seeded (``torch.Generator``), so a (seed, n, length) triple always gives the
same data; use different seeds for training and held-out sets.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from lstmkit.errors import ConfigError

__all__ = ["SyntheticSequences", "adding_problem", "temporal_order", "TEMPORAL_ORDER_SYMBOLS"]

TEMPORAL_ORDER_SYMBOLS = ("a", "b", "c", "d", "B", "E", "X", "Y")


class SyntheticSequences(Dataset):
    """Fixed-size sequences ``x`` (N, T, F), targets ``y`` (N,) and true ``lengths`` (N,)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor, task: str) -> None:
        self.x, self.y, self.lengths, self.task = x, y, lengths, task

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]

    @staticmethod
    def collate(items: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys = zip(*items)
        return torch.stack(xs), torch.stack(ys)  # (B, T, F), (B,)

    @property
    def input_size(self) -> int:
        return int(self.x.shape[2])


def _check(n: int, length: int, minimum: int) -> None:
    if not isinstance(n, int) or n <= 0:
        raise ConfigError(f"n must be a positive int, got {n!r}")
    if not isinstance(length, int) or length < minimum:
        raise ConfigError(f"length must be an int >= {minimum}, got {length!r}")


def _lengths(n: int, length: int, g: torch.Generator) -> torch.Tensor:
    return torch.randint(length, length + length // 10 + 1, (n,), generator=g)


def adding_problem(n: int, length: int = 100, *, seed: int = 0) -> SyntheticSequences:
    """``n`` adding-problem sequences of minimal length ``length`` (experiment 4)."""
    _check(n, length, 12)
    g = torch.Generator().manual_seed(seed)
    lengths = _lengths(n, length, g)
    t_max = length + length // 10
    x = torch.zeros(n, t_max, 2)  # (N, T, 2): value, marker
    y = torch.empty(n)
    values = torch.rand(n, t_max, generator=g) * 2 - 1
    first = torch.randint(0, 10, (n,), generator=g)
    for i in range(n):
        t = int(lengths[i])
        start = t_max - t  # left padding
        x[i, start:, 0] = values[i, :t]
        x[i, start, 1] = -1.0
        x[i, -1, 1] = -1.0
        p1 = int(first[i])
        half = max(length // 2 - 1, 2)
        # second mark: one of the first T/2 - 1 pairs, not the first mark
        p2 = int(torch.randint(0, half - 1, (1,), generator=g))
        p2 = p2 if p2 < p1 else p2 + 1
        x1 = 0.0 if p1 == 0 else float(values[i, p1])  # paper: X1 = 0 if the first pair is marked
        x2 = float(values[i, p2])
        if p1 == 0:
            x[i, start, 0] = 0.0
        x[i, start + p1, 1] = 1.0
        x[i, start + p2, 1] = 1.0
        y[i] = 0.5 + (x1 + x2) / 4.0
    return SyntheticSequences(x, y, lengths, task="regression")


def temporal_order(n: int, length: int = 100, *, seed: int = 0, num_relevant: int = 2) -> SyntheticSequences:
    """``n`` temporal-order sequences (experiment 6a with ``num_relevant=2``, 6b with 3).

    Positions of the relevant X/Y symbols scale with ``length`` as in the paper at T=100:
    6a: t1 in [10, 20], t2 in [50, 60]; 6b: t1 in [10, 20], t2 in [33, 43], t3 in [66, 76].
    The class index reads the X/Y sequence as a binary number (X=0, Y=1): 6a has 4 classes.
    """
    _check(n, length, 20)
    if num_relevant not in (2, 3):
        raise ConfigError(f"num_relevant must be 2 (experiment 6a) or 3 (6b), got {num_relevant!r}")
    g = torch.Generator().manual_seed(seed)
    lengths = _lengths(n, length, g)
    t_max = length + length // 10
    starts = [0.10, 0.50] if num_relevant == 2 else [0.10, 0.33, 0.66]
    span = max(1, length // 10)
    sym = torch.randint(0, 4, (n, t_max), generator=g)  # distractors a..d
    xy = torch.randint(0, 2, (n, num_relevant), generator=g)
    offs = torch.randint(0, span + 1, (n, num_relevant), generator=g)
    x = torch.zeros(n, t_max, len(TEMPORAL_ORDER_SYMBOLS))  # (N, T, 8) one-hot
    y = torch.zeros(n, dtype=torch.long)
    for i in range(n):
        t = int(lengths[i])
        start = t_max - t
        seq = sym[i, :t].clone()
        seq[0], seq[-1] = 4, 5  # B ... E
        for k in range(num_relevant):
            pos = int(starts[k] * length) + int(offs[i, k])
            seq[pos] = 6 + int(xy[i, k])  # X or Y
            y[i] = y[i] * 2 + int(xy[i, k])
        x[i, start + torch.arange(t), seq] = 1.0
    return SyntheticSequences(x, y, lengths, task="classification")
