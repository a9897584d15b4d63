r"""Attention over an encoder's memory, for encoder-decoder models.

A decoder state ``query`` (B, Hq) scores every memory position ``m_s`` (B, S, Hm); the scores
become weights by a softmax over the real (unpadded) positions and the context is the weighted
sum of the memory::

    additive (Bahdanau et al. 2015):   e_s = v^T tanh(W_q q + W_m m_s [+ w_c cov_s])
    dot      (Luong et al. 2015):      e_s = q^T m_s                      (Hq == Hm)
    general  (Luong et al. 2015):      e_s = q^T W_a m_s
    a = softmax(e) over real positions (padding gets weight 0),  context = sum_s a_s m_s

``coverage`` (Tu et al. 2016; See et al. 2017) adds the running sum of the previous steps'
weights, ``cov`` (B, S), to the additive score, so the model can learn not to attend to the
same source words again. It needs ``kind="additive"``.

The memory-side projection is computed once per source (:meth:`Attention.keys`) and reused at
every decoder step.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError, ShapeError

__all__ = ["Attention", "ATTENTION_KINDS"]

ATTENTION_KINDS = ("additive", "dot", "general")


class Attention(nn.Module):
    """Additive, dot or general attention (see the module docstring for the equations).

    Args:
        query_size: Hq, the decoder state's size.
        memory_size: Hm, the size of each memory position (must equal Hq for ``"dot"``).
        kind: ``"additive"`` (Bahdanau), ``"dot"`` or ``"general"`` (Luong).
        attention_size: the hidden size of the additive scorer (``None``: Hq).
        coverage: add the coverage term (additive only).

    ``forward(query (B, Hq), memory (B, S, Hm), mask (B, S) bool (True = real position),
    keys=None, coverage=None) -> (context (B, Hm), weights (B, S))``; pass ``keys`` from
    :meth:`keys` to skip recomputing the memory projection. Every row of ``mask`` needs at
    least one real position.

    Raises:
        ConfigError: unknown ``kind``, ``"dot"`` with Hq != Hm, ``coverage`` without ``"additive"``.
    """

    def __init__(self, query_size: int, memory_size: int, kind: str = "additive", *,
                 attention_size: int | None = None, coverage: bool = False) -> None:
        super().__init__()
        if kind not in ATTENTION_KINDS:
            raise ConfigError(f"attention kind must be one of {ATTENTION_KINDS}, got {kind!r}")
        if kind == "dot" and query_size != memory_size:
            raise ConfigError(f"dot attention needs query_size == memory_size, got {query_size} and {memory_size} "
                              "(use 'general' or 'additive' to score states of different sizes)")
        if coverage and kind != "additive":
            raise ConfigError(f"coverage needs kind='additive', got kind={kind!r}")
        self.kind, self.coverage = kind, bool(coverage)
        self.query_size, self.memory_size = query_size, memory_size
        if kind == "additive":
            a = attention_size or query_size
            self.query_proj = nn.Linear(query_size, a, bias=False)  # W_q
            self.memory_proj = nn.Linear(memory_size, a)  # W_m (its bias is the scorer's bias)
            self.v = nn.Linear(a, 1, bias=False)
            if coverage:
                self.coverage_proj = nn.Linear(1, a, bias=False)  # w_c
        elif kind == "general":
            self.memory_proj = nn.Linear(memory_size, query_size, bias=False)  # W_a m

    def keys(self, memory: Tensor) -> Tensor:
        """The memory-side term of the score, once per source: (B, S, A) for additive, (B, S, Hq)
        for general, the memory itself for dot."""
        if self.kind == "dot":
            return memory
        return self.memory_proj(memory)

    def scores(self, query: Tensor, keys: Tensor, coverage: Tensor | None = None) -> Tensor:
        """Unnormalised scores e (B, S) of query (B, Hq) against keys (B, S, *)."""
        if self.kind == "additive":
            hidden = keys + self.query_proj(query)[:, None, :]  # (B, S, A)
            if self.coverage and coverage is not None:
                hidden = hidden + self.coverage_proj(coverage[..., None])  # (B, S, A)
            return self.v(torch.tanh(hidden))[..., 0]  # (B, S)
        return torch.bmm(keys, query[:, :, None])[..., 0]  # (B, S)

    def forward(self, query: Tensor, memory: Tensor, mask: Tensor | None = None, *, keys: Tensor | None = None,
                coverage: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if query.dim() != 2 or memory.dim() != 3 or query.shape[0] != memory.shape[0]:
            raise ShapeError(f"attention expects query (B, Hq) and memory (B, S, Hm), got {tuple(query.shape)} "
                             f"and {tuple(memory.shape)}")
        keys = self.keys(memory) if keys is None else keys
        e = self.scores(query, keys, coverage)  # (B, S)
        if mask is not None:
            e = e.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(e, dim=-1)  # (B, S); exactly 0 on padding
        context = torch.bmm(weights[:, None, :], memory)[:, 0]  # (B, Hm)
        return context, weights

    def forward_steps(self, queries: Tensor, memory: Tensor, mask: Tensor | None = None, *,
                      keys: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Every decoder step at once (no coverage): queries (B, T, Hq) -> (contexts (B, T, Hm),
        weights (B, T, S)), by broadcasting over T (the memory is not copied per step)."""
        if self.coverage:
            raise ConfigError("forward_steps has no coverage: the coverage of step t depends on the steps before it")
        keys = self.keys(memory) if keys is None else keys
        if self.kind == "additive":
            hidden = keys[:, None, :, :] + self.query_proj(queries)[:, :, None, :]  # (B, T, S, A)
            e = self.v(torch.tanh(hidden))[..., 0]  # (B, T, S)
        else:
            e = torch.bmm(queries, keys.transpose(1, 2))  # (B, T, S)
        if mask is not None:
            e = e.masked_fill(~mask[:, None, :], float("-inf"))
        weights = torch.softmax(e, dim=-1)  # (B, T, S)
        return torch.bmm(weights, memory), weights  # (B, T, Hm)

    def extra_repr(self) -> str:
        return f"{self.query_size}, {self.memory_size}, kind={self.kind!r}" + (", coverage=True" if self.coverage else "")
