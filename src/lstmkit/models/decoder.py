r"""The LSTM decoder of every lstmkit encoder-decoder (translation, image and video captioning).

One step, after Luong et al. 2015 ("Effective Approaches to Attention-based Neural Machine
Translation"), with the scorer of Bahdanau et al. 2015 as an option::

    x_t   = [E y_{t-1} ; h~_{t-1}]          (input feeding; x_t = E y_{t-1} without it)
    h_t   = LSTM(x_t, state_{t-1})          (lstmkit LSTM stack, top layer's output)
    c_t, a_t = Attention(h_t, memory)        (weights a_t (B, S): zero on padded memory)
    h~_t  = tanh(W_c [c_t ; h_t])           (h~_t = h_t with attention="none")
    p(y_t | y_<t, source) = softmax(W_o h~_t)

Without input feeding or coverage the LSTM runs over the whole target in one call and attention
is computed for all steps at once (training's fast path, and what ONNX export traces); with
either, the decoder steps. Both give the same numbers. ``scheduled_sampling`` (Bengio et al.
2015) replaces each teacher-forced input token by the model's own previous argmax with that
probability while training (a stepping path too).

Decoding (:meth:`LSTMDecoder.greedy`, :meth:`LSTMDecoder.beam`) starts from the state the
encoder's bridge gives and the ``<bos>`` token and stops at ``<eos>`` or ``max_len``; beam
search is :func:`lstmkit.models.decoding.beam_search` (the language model's), one source at a
time, its K beams batched.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError
from lstmkit.models.decoding import beam_search
from lstmkit.nn import LSTM
from lstmkit.nn.attention import ATTENTION_KINDS, Attention

__all__ = ["LSTMDecoder", "DecoderState", "Memory", "DECODER_ATTENTION", "check_decoding"]

DECODER_ATTENTION = ("none", *ATTENTION_KINDS)


def check_decoding(num_beams: Any, length_penalty: Any, max_tokens: Any) -> tuple[int, float, int | None]:
    """Check the decoding options every encoder-decoder estimator takes; returns them normalised.

    Args:
        num_beams: beams of the beam search, a positive int (1: greedy).
        length_penalty: a number >= 0; a finished hypothesis scores log-probability / length **
            ``length_penalty`` (Wu et al. 2016's normalisation without its constant).
        max_tokens: None or a positive int, the most tokens one output may have.

    Raises:
        ConfigError: naming the first option that is not as above, and what came.
    """
    if isinstance(num_beams, bool) or not isinstance(num_beams, numbers.Integral) or num_beams < 1:
        raise ConfigError(f"num_beams must be a positive int, got {num_beams!r}")
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, numbers.Real) or not length_penalty >= 0:
        raise ConfigError(f"length_penalty must be a number >= 0, got {length_penalty!r}")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, numbers.Integral)
                                   or max_tokens < 1):
        raise ConfigError(f"max_tokens must be None or a positive int, got {max_tokens!r}")
    return int(num_beams), float(length_penalty), None if max_tokens is None else int(max_tokens)


class Memory(NamedTuple):
    """What the decoder attends to: ``values`` (B, S, Hm), ``mask`` (B, S) bool (True = real
    position), ``keys`` (the attention's memory-side projection, computed once)."""

    values: Tensor
    mask: Tensor
    keys: Tensor | None


class DecoderState(NamedTuple):
    """``h``, ``c`` (L, B, H); ``feed`` (B, H) the last attentional vector (input feeding);
    ``coverage`` (B, S) the summed attention weights so far (or None)."""

    h: Tensor
    c: Tensor
    feed: Tensor
    coverage: Tensor | None


class LSTMDecoder(nn.Module):
    """LSTM decoder with attention over a memory (equations in the module docstring).

    Args:
        vocab_size: V, target tokens (id 0 is padding).
        embedding_dim: E, target token embedding width.
        hidden_size: H, LSTM units per layer (also the attentional vector's size).
        num_layers: L, stacked LSTM layers.
        memory_size: Hm, the size of each memory position.
        attention: ``"additive"``, ``"dot"``, ``"general"`` or ``"none"``.
        input_feeding: feed h~_{t-1} into the next step (Luong); steps, so training is slower.
        coverage: coverage term in the additive scorer (steps).
        dropout: on embeddings, between LSTM layers and before the output projection.

    Raises:
        ConfigError: an unknown ``attention``; ``coverage`` or ``input_feeding`` without attention.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, num_layers: int, memory_size: int,
                 attention: str = "additive", *, input_feeding: bool = False, coverage: bool = False,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if attention not in DECODER_ATTENTION:
            raise ConfigError(f"attention must be one of {list(DECODER_ATTENTION)}, got {attention!r}")
        if attention == "none" and (input_feeding or coverage):
            raise ConfigError("input_feeding and coverage need attention; with attention='none' set both False")
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers
        self.attention_kind, self.input_feeding, self.use_coverage = attention, bool(input_feeding), bool(coverage)
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = LSTM(embedding_dim + (hidden_size if input_feeding else 0), hidden_size, num_layers,
                         batch_first=True, dropout=dropout if num_layers > 1 else 0.0)
        self.attention = None if attention == "none" else Attention(hidden_size, memory_size, attention, coverage=coverage)
        self.combine = None if attention == "none" else nn.Linear(memory_size + hidden_size, hidden_size)  # W_c
        self.drop = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_size, vocab_size)  # W_o

    # --- memory and state --------------------------------------------------------------------
    def memory(self, values: Tensor, mask: Tensor | None = None) -> Memory:
        """Wrap encoder outputs (B, S, Hm) (``mask`` (B, S), all True when None) for decoding."""
        if mask is None:
            mask = torch.ones(values.shape[:2], dtype=torch.bool, device=values.device)
        keys = None if self.attention is None else self.attention.keys(values)
        return Memory(values, mask, keys)

    def initial_state(self, h: Tensor, c: Tensor, memory: Memory) -> DecoderState:
        """The state before the first step: the bridge's ``h``, ``c`` (L, B, H)."""
        B = h.shape[1]
        feed = h.new_zeros(B, self.hidden_size)
        cov = memory.values.new_zeros(memory.values.shape[:2]) if self.use_coverage else None
        return DecoderState(h, c, feed, cov)

    # --- computing ---------------------------------------------------------------------------
    def _attend(self, q: Tensor, memory: Memory, coverage: Tensor | None) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """q (B, H) -> (h~ (B, H), weights (B, S) or None, new coverage)."""
        if self.attention is None:
            return q, None, coverage
        ctx, w = self.attention(q, memory.values, memory.mask, keys=memory.keys, coverage=coverage)  # (B, Hm), (B, S)
        feed = torch.tanh(self.combine(torch.cat([ctx, q], dim=-1)))  # (B, H)
        return feed, w, (None if coverage is None else coverage + w)

    def step(self, tokens: Tensor, state: DecoderState, memory: Memory) -> tuple[Tensor, DecoderState, Tensor | None]:
        """One step: previous tokens (B,) -> (log-probabilities (B, V), new state, weights (B, S) or None)."""
        emb = self.drop(self.embedding(tokens))  # (B, E)
        x = torch.cat([emb, state.feed], dim=-1) if self.input_feeding else emb
        out, (h, c) = self.lstm(x[:, None, :], (state.h, state.c))  # (B, 1, H)
        feed, w, cov = self._attend(out[:, 0], memory, state.coverage)
        logits = self.output(self.drop(feed))  # (B, V)
        return torch.log_softmax(logits, dim=-1), DecoderState(h, c, feed, cov), w

    def project(self, features: Tensor) -> Tensor:
        """Output layer: attentional vectors h~ (..., H) -> logits (..., V) (dropout first)."""
        return self.output(self.drop(features))

    def forward(self, tokens: Tensor, state: DecoderState, memory: Memory, *,
                sampling_rate: float = 0.0, features_only: bool = False) -> tuple[Tensor, Tensor | None]:
        """Teacher-forced decoding: input tokens (B, T) (``<bos>`` first) -> logits (B, T, V) and
        attention weights (B, T, S) (None without attention).

        ``sampling_rate`` > 0 (training only): each input token after the first is replaced by
        the previous step's argmax with that probability (scheduled sampling).
        ``features_only``: return the attentional vectors h~ (B, T, H) instead of the logits, for a
        loss that projects only the real (unpadded) positions with :meth:`project`.
        """
        T = tokens.shape[1]
        if not (self.input_feeding or self.use_coverage or sampling_rate > 0):
            out, _ = self.lstm(self.drop(self.embedding(tokens)), (state.h, state.c))  # (B, T, H)
            if self.attention is None:
                return (out if features_only else self.project(out)), None
            ctx, w = self.attention.forward_steps(out, memory.values, memory.mask, keys=memory.keys)  # (B, T, Hm), (B, T, S)
            feed = torch.tanh(self.combine(torch.cat([ctx, out], dim=-1)))  # (B, T, H)
            return (feed if features_only else self.project(feed)), w
        logits, feeds, weights = [], [], []
        prev = tokens[:, 0]
        for t in range(T):
            tok = tokens[:, t]
            if t > 0 and sampling_rate > 0:
                swap = torch.rand(tok.shape, device=tok.device) < sampling_rate
                tok = torch.where(swap & (tok != 0), prev, tok)
            emb = self.drop(self.embedding(tok))  # (B, E)
            x = torch.cat([emb, state.feed], dim=-1) if self.input_feeding else emb
            out, (h, c) = self.lstm(x[:, None, :], (state.h, state.c))  # (B, 1, H)
            feed, w, cov = self._attend(out[:, 0], memory, state.coverage)
            state = DecoderState(h, c, feed, cov)
            if w is not None:
                weights.append(w)
            if features_only:
                feeds.append(feed)
                if sampling_rate > 0:  # the next input may be this step's argmax (no dropout for the choice)
                    prev = self.output(feed.detach()).argmax(-1)
                continue
            step_logits = self.project(feed)  # (B, V)
            prev = step_logits.detach().argmax(-1)
            logits.append(step_logits)
        return torch.stack(feeds if features_only else logits, 1), (torch.stack(weights, 1) if weights else None)

    # --- decoding ----------------------------------------------------------------------------
    @torch.no_grad()
    def greedy(self, state: DecoderState, memory: Memory, *, bos_id: int, eos_id: int,
               max_len: int | Tensor) -> list[list[int]]:
        """Greedy decoding of a batch: the tokens of each row up to (and without) ``<eos>``.

        ``max_len``: tokens per row at most (an int, or (B,) per row).
        """
        B = state.h.shape[1]
        limit = torch.as_tensor(max_len).expand(B) if not torch.is_tensor(max_len) or max_len.dim() == 0 else max_len
        tokens = torch.full((B,), bos_id, dtype=torch.long, device=state.h.device)
        done = torch.zeros(B, dtype=torch.bool)
        out: list[list[int]] = [[] for _ in range(B)]
        for t in range(int(limit.max())):
            log_probs, state, _ = self.step(tokens, state, memory)
            tokens = log_probs.argmax(-1)  # (B,)
            for b, tok in enumerate(tokens.tolist()):
                if done[b]:
                    continue
                if tok == eos_id or len(out[b]) >= int(limit[b]):
                    done[b] = True
                else:
                    out[b].append(tok)
            if bool(done.all()):
                break
        return out

    @torch.no_grad()
    def beam(self, state: DecoderState, memory: Memory, *, bos_id: int, eos_id: int, max_len: int,
             beam_size: int = 5, length_penalty: float = 1.0) -> list[int]:
        """Beam search for ONE source (batch 1 ``state`` and ``memory``); the best hypothesis's
        tokens without ``<eos>``. Beam size 1 equals :meth:`greedy`."""
        def expand(t: Tensor | None, K: int) -> Tensor | None:
            return None if t is None else t.expand(K, *t.shape[1:])

        def step(tokens: Tensor, st: DecoderState) -> tuple[Tensor, DecoderState]:
            K = tokens.shape[0]
            mem = Memory(expand(memory.values, K), expand(memory.mask, K), expand(memory.keys, K))
            log_probs, new, _ = self.step(tokens.to(st.h.device), st, mem)
            return log_probs, new

        def select(st: DecoderState, index: Tensor) -> DecoderState:
            index = index.to(st.h.device)
            return DecoderState(st.h.index_select(1, index), st.c.index_select(1, index), st.feed.index_select(0, index),
                                None if st.coverage is None else st.coverage.index_select(0, index))

        hyps = beam_search(step, state, bos_id, beam_size=beam_size, max_len=max_len, eos_id=eos_id,
                           length_penalty=length_penalty, select=select)
        tokens = hyps[0].tokens
        return tokens[:-1] if tokens and tokens[-1] == eos_id else tokens
