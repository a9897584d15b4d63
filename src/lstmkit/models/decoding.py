"""Choosing the next token from a distribution: samplers and beam search, shared by every
model that generates (language models now, encoder-decoders later).

* :func:`filter_logits`: temperature, top-k and top-p (nucleus) filtering of next-token logits.
  Top-k keeps exactly ``k`` tokens (ties broken by index, never k+1); top-p keeps the smallest
  set of most likely tokens whose probability reaches ``p``, *including the token that crosses
  the threshold* (Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration").
* :func:`sample_token`: greedy (``temperature=0``) or sampling from the filtered distribution
  with a ``torch.Generator`` (reproducible under a seed).
* :func:`beam_search`: beam search over a step function with length normalisation
  (score = sum of log-probabilities / length ** ``length_penalty``; Wu et al. 2016 use
  ((5 + len) / 6) ** alpha; plain length ** alpha is what fairseq and OpenNMT call
  ``lenpen``). Beam size 1 is greedy decoding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch

from lstmkit.errors import ConfigError

__all__ = ["filter_logits", "sample_token", "beam_search", "BeamHypothesis", "check_sampling"]


def check_sampling(temperature: Any = 1.0, top_k: Any = None, top_p: Any = None) -> None:
    """Raise a ConfigError naming each invalid sampling argument."""
    problems = []
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature >= 0:
        problems.append(f"temperature must be a number >= 0 (0 = greedy), got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        problems.append(f"top_k must be None or an int >= 1, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        problems.append(f"top_p must be None or a number in (0, 1], got {top_p!r}")
    if problems:
        raise ConfigError("; ".join(problems))


def filter_logits(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Scale and filter next-token logits (..., V); removed tokens get -inf.

    Args:
        logits: unnormalised scores (..., V).
        temperature: divides the logits (> 0; < 1 sharpens, > 1 flattens). 0 is handled by
            :func:`sample_token` as greedy; here it is rejected.
        top_k: keep the ``k`` highest-scoring tokens (exactly k; ties by lower index).
        top_p: keep the most likely tokens until their probability sum reaches ``top_p``,
            the token that crosses it included (at least one token is always kept).

    Raises:
        ConfigError: an argument out of range (temperature 0 included).
    """
    check_sampling(temperature, top_k, top_p)
    if temperature == 0:
        raise ConfigError("filter_logits needs temperature > 0; temperature 0 means greedy (sample_token handles it)")
    logits = logits.float() / float(temperature)
    V = logits.shape[-1]
    if top_k is not None and top_k < V:
        idx = torch.sort(logits, dim=-1, descending=True, stable=True).indices[..., :top_k]  # (..., k): ties by index
        keep = torch.zeros_like(logits, dtype=torch.bool).scatter_(-1, idx, True)
        logits = logits.masked_fill(~keep, float("-inf"))
    if top_p is not None and top_p < 1:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True, stable=True)  # (..., V)
        probs = torch.softmax(sorted_logits, dim=-1)
        before = torch.cumsum(probs, dim=-1) - probs  # mass of the strictly more likely tokens
        drop_sorted = before >= top_p  # a token is kept while the mass before it is below p: the crossing one stays
        drop = torch.zeros_like(drop_sorted).scatter_(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def sample_token(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """The next token (...,) long from logits (..., V): argmax when ``temperature`` is 0, else a
    draw from :func:`filter_logits`'s distribution with ``generator`` (reproducible under a seed).
    """
    check_sampling(temperature, top_k, top_p)
    if temperature == 0:
        return logits.argmax(-1)
    probs = torch.softmax(filter_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p), dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])  # (N, V)
    return torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:-1])


@dataclasses.dataclass
class BeamHypothesis:
    """One finished (or cut at ``max_len``) beam: its tokens, summed log-probability and
    length-normalised score."""

    tokens: list[int]
    log_prob: float
    score: float


StepFn = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]
SelectFn = Callable[[Any, torch.Tensor], Any]


def beam_search(step: StepFn, state: Any, last_token: int, *, beam_size: int = 5, max_len: int = 50,
                eos_id: int | None = None, length_penalty: float = 1.0,
                select: SelectFn | None = None) -> list[BeamHypothesis]:
    """Beam search from one primed state; returns the hypotheses, best first.

    Args:
        step: ``step(tokens (K,) long, state) -> (log_probs (K, V), new_state)`` for K beams.
        state: the model state after the prompt, for one beam (batch 1); it is expanded by
            ``select``.
        last_token: the token that the first step reads (the prompt's last token).
        beam_size: beams kept per step (K); 1 is greedy decoding.
        max_len: tokens generated at most per hypothesis.
        eos_id: a token that ends a hypothesis (kept in its tokens); None: every hypothesis
            runs to ``max_len``.
        length_penalty: alpha in score = log_prob / len ** alpha (0: raw sum, which favours
            short hypotheses; 1: mean log-probability per token).
        select: ``select(state, index (K,) long) -> state`` picks beams from a state (default:
            index dim 1 of every tensor in a nested tuple/list, the (L, B, H) layout of
            lstmkit and torch recurrent states).

    Raises:
        ConfigError: ``beam_size`` or ``max_len`` not a positive int, ``length_penalty`` < 0.
    """
    for name, v in (("beam_size", beam_size), ("max_len", max_len)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{name} must be a positive int, got {v!r}")
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)) or length_penalty < 0:
        raise ConfigError(f"length_penalty must be a number >= 0, got {length_penalty!r}")
    select = select or _select_dim1

    def norm(lp: float, n: int) -> float:
        return lp / (n ** length_penalty) if n else lp

    tokens = torch.tensor([last_token])  # (K,)
    seqs: list[list[int]] = [[]]
    scores = torch.zeros(1, dtype=torch.float64)  # (K,) summed log-probabilities of the open beams
    finished: list[BeamHypothesis] = []
    ran_out = True  # False when the search stops because no open beam can still win
    for _ in range(max_len):
        log_probs, state = step(tokens, state)  # (K, V)
        V = log_probs.shape[-1]
        total = (scores[:, None] + log_probs.double()).reshape(-1)  # (K*V,)
        best, flat = torch.topk(total, min(beam_size, total.numel()))  # best first
        open_beam, open_tok, open_score, open_seqs = [], [], [], []
        for s, b, w in zip(best.tolist(), (flat // V).tolist(), (flat % V).tolist()):
            seq = seqs[b] + [w]
            if eos_id is not None and w == eos_id:
                finished.append(BeamHypothesis(seq, s, norm(s, len(seq))))
            else:
                open_beam.append(b)
                open_tok.append(w)
                open_score.append(s)
                open_seqs.append(seq)
        seqs, scores = open_seqs, torch.tensor(open_score, dtype=torch.float64)
        if not seqs:
            ran_out = False
            break
        if len(finished) >= beam_size:
            # Log-probabilities only fall as tokens are added, so an open beam's best possible final
            # score is its current sum divided by the longest length it can reach.
            kth = sorted((h.score for h in finished), reverse=True)[beam_size - 1]
            if max(open_score) / (max_len ** length_penalty) <= kth:
                ran_out = False
                break
        state = select(state, torch.tensor(open_beam))
        tokens = torch.tensor(open_tok)
    if ran_out or not finished:  # beams cut at max_len are hypotheses too (all of them when eos_id is None)
        finished.extend(BeamHypothesis(q, lp, norm(lp, len(q))) for q, lp in zip(seqs, scores.tolist()))
    finished.sort(key=lambda h: h.score, reverse=True)
    return finished[:beam_size]


def _select_dim1(state: Any, index: torch.Tensor) -> Any:
    if state is None:
        return None
    if torch.is_tensor(state):
        return state.index_select(1, index.to(state.device))
    return type(state)(_select_dim1(s, index) for s in state)
