"""Encoder-decoder for token sequences: a BiLSTM encoder, a bridge, the shared LSTM decoder.

The architecture of Bahdanau et al. 2015 / Luong et al. 2015 as OpenNMT builds it: source ids ->
embedding -> bidirectional lstmkit LSTM stack (per-row ``lengths``: the reverse direction starts
at each source's own end) -> memory (B, S, 2H). The bridge maps the encoder's final states
(both directions of each layer, concatenated) to the decoder's initial state,
``h0 = tanh(W_h [h_fwd; h_bwd])`` and ``c0 = W_c [c_fwd; c_bwd]`` per layer. The decoder is
:class:`~lstmkit.models.decoder.LSTMDecoder`; with ``attention="none"`` the bridge is its only
view of the source (the model of Sutskever et al. 2014 / Cho et al. 2014), the baseline the
attention papers measure against.

Batch: ``{"x": (B, S) source ids, "x_lengths": (B,), "y": (B, T + 1) target ids starting with
<bos> and ending with <eos>, 0-padded}``. The loss is the mean cross-entropy per real target
token (padding ignored).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError
from lstmkit.models.base import TaskModel
from lstmkit.models.decoder import DECODER_ATTENTION, DecoderState, LSTMDecoder, Memory
from lstmkit.nn import LSTM
from lstmkit.persist import register

__all__ = ["Seq2SeqNetwork", "Seq2SeqNetworkConfig", "Bridge", "real_token_nll", "target_metrics"]


@dataclasses.dataclass
class Seq2SeqNetworkConfig:
    source_vocab_size: int = 100  # source tokens (0 = pad, 1 = unk)
    target_vocab_size: int = 100  # target tokens (0 = pad, 1 = unk, 2 = <bos>, 3 = <eos>)
    embedding_dim: int = 64  # E of both embeddings
    hidden_size: int = 128  # H: encoder units per direction and decoder units; cost ~ H^2 per token
    num_layers: int = 1  # stacked layers in the encoder and the decoder
    attention: str = "additive"  # "additive" (Bahdanau), "dot"/"general" (Luong) or "none" (final state only)
    input_feeding: bool = False  # Luong's input feeding: a little better, the decoder steps (slower)
    coverage: bool = False  # coverage in the additive scorer (less repetition); the decoder steps
    dropout: float = 0.2  # on embeddings, between layers and before the output layer
    scheduled_sampling: float = 0.0  # share of teacher-forced inputs replaced by the model's argmax (Bengio 2015)
    share_embeddings: bool = False  # one embedding for source and target (a shared vocabulary)

    def __post_init__(self) -> None:
        problems = []
        for name in ("source_vocab_size", "target_vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                problems.append(f"{name} must be a positive int, got {v!r}")
        if self.attention not in DECODER_ATTENTION:
            problems.append(f"attention must be one of {list(DECODER_ATTENTION)}, got {self.attention!r}")
        for name in ("dropout", "scheduled_sampling"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
                problems.append(f"{name} must be in [0, 1), got {v!r}")
        if self.attention == "none" and (self.input_feeding or self.coverage):
            problems.append("input_feeding and coverage need attention (attention='none' given)")
        if self.coverage and self.attention not in ("additive", "none"):
            problems.append(f"coverage needs attention='additive', got {self.attention!r}")
        if self.share_embeddings and self.source_vocab_size != self.target_vocab_size:
            problems.append("share_embeddings needs one vocabulary (source_vocab_size == target_vocab_size)")
        if problems:
            raise ConfigError("Seq2SeqNetworkConfig: " + "; ".join(problems))


class Bridge(nn.Module):
    """Encoder summary (L, B, Fe) per layer -> the decoder's initial (h, c) (L, B, H):
    ``h0 = tanh(W_h s)``, ``c0 = W_c s``."""

    def __init__(self, in_size: int, hidden_size: int) -> None:
        super().__init__()
        self.h = nn.Linear(in_size, hidden_size)
        self.c = nn.Linear(in_size, hidden_size)

    def forward(self, s: Tensor, s_c: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return torch.tanh(self.h(s)), self.c(s if s_c is None else s_c)


def real_token_nll(decoder: nn.Module, features: Tensor, y: Tensor) -> Tensor:
    """Mean NLL per real target token, projecting only the real positions of ``features`` (B, T, H)
    to the vocabulary: padding costs no output-layer or softmax work (y (B, T), 0 = pad)."""
    real = y != 0
    nll = nn.functional.cross_entropy(decoder.project(features[real]), y[real], reduction="sum")
    return nll / real.sum().clamp(min=1)


def target_metrics(logits: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(summed NLL, correct next tokens, real tokens) of logits (B, T, V) for targets y (B, T), 0 = pad."""
    nll = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=0,
                                      reduction="sum")
    real = y != 0
    correct = ((logits.argmax(-1) == y) & real).sum()
    return nll, correct, real.sum()


@register
class Seq2SeqNetwork(TaskModel):
    """BiLSTM encoder + bridge + :class:`LSTMDecoder` (module docstring).

    ``forward(x (B, S), x_lengths (B,), y_in (B, T)) -> (logits (B, T, V), weights (B, T, S) or
    None)``; :meth:`encode` gives the decoder's memory and initial state for decoding.
    """

    config_class = Seq2SeqNetworkConfig

    def __init__(self, config: Seq2SeqNetworkConfig) -> None:
        super().__init__(config)
        c = config
        self.source_embedding = nn.Embedding(c.source_vocab_size, c.embedding_dim, padding_idx=0)
        self.encoder = LSTM(c.embedding_dim, c.hidden_size, c.num_layers, batch_first=True, bidirectional=True,
                            dropout=c.dropout if c.num_layers > 1 else 0.0)
        memory_size = 2 * c.hidden_size
        self.memory_proj = nn.Linear(memory_size, c.hidden_size) if c.attention == "dot" else None  # dot needs Hm == H
        self.bridge = Bridge(memory_size, c.hidden_size)
        self.decoder = LSTMDecoder(c.target_vocab_size, c.embedding_dim, c.hidden_size, c.num_layers,
                                   c.hidden_size if self.memory_proj is not None else memory_size, c.attention,
                                   input_feeding=c.input_feeding, coverage=c.coverage, dropout=c.dropout)
        if c.share_embeddings:
            self.decoder.embedding.weight = self.source_embedding.weight
        self.drop = nn.Dropout(c.dropout)

    def encode(self, x: Tensor, x_lengths: Tensor) -> tuple[DecoderState, Memory]:
        """Source ids (B, S) and lengths (B,) -> the decoder's initial state and memory."""
        B, S = x.shape
        emb = self.drop(self.source_embedding(x))  # (B, S, E)
        out, (h_n, c_n) = self.encoder(emb, lengths=x_lengths)  # (B, S, 2H); (L*2, B, H)
        L, H = self.config.num_layers, self.config.hidden_size
        h_last = h_n.reshape(L, 2, B, H).permute(0, 2, 1, 3).reshape(L, B, 2 * H)  # (L, B, 2H): [fwd; bwd]
        c_last = c_n.reshape(L, 2, B, H).permute(0, 2, 1, 3).reshape(L, B, 2 * H)
        h0, c0 = self.bridge(h_last, c_last)  # (L, B, H) each
        values = self.drop(out)
        if self.memory_proj is not None:
            values = self.memory_proj(values)  # (B, S, H)
        mask = torch.arange(S, device=x.device)[None, :] < x_lengths.to(x.device)[:, None]  # (B, S)
        memory = self.decoder.memory(values, mask)
        return self.decoder.initial_state(h0, c0, memory), memory

    def forward(self, x: Tensor, x_lengths: Tensor, y_in: Tensor, *,
                features_only: bool = False) -> tuple[Tensor, Tensor | None]:
        state, memory = self.encode(x, x_lengths)
        rate = self.config.scheduled_sampling if self.training else 0.0
        return self.decoder(y_in, state, memory, sampling_rate=rate, features_only=features_only)

    def _run(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        y = batch["y"]
        logits, _ = self(batch["x"], batch["x_lengths"], y[:, :-1])
        return target_metrics(logits, y[:, 1:])

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        y = batch["y"]
        features, _ = self(batch["x"], batch["x_lengths"], y[:, :-1], features_only=True)
        return real_token_nll(self.decoder, features, y[:, 1:])

    @torch.no_grad()
    def metrics(self, batch: dict[str, Tensor]) -> dict[str, float]:
        nll, correct, n = self._run(batch)
        loss = float(nll / n.clamp(min=1))
        return {"loss": loss, "perplexity": math.exp(min(loss, 700.0)), "token_accuracy": float(correct / n.clamp(min=1))}

    @torch.no_grad()
    def decode(self, x: Tensor, x_lengths: Tensor, *, bos_id: int, eos_id: int, max_len: int | Tensor,
               beam_size: int = 1, length_penalty: float = 1.0) -> list[list[int]]:
        """Target ids of each source (without <bos>/<eos>): greedy for ``beam_size`` 1, else beam
        search per source. ``max_len``: an int or (B,) per source."""
        state, memory = self.encode(x, x_lengths)
        if beam_size == 1:
            return self.decoder.greedy(state, memory, bos_id=bos_id, eos_id=eos_id, max_len=max_len)
        limits = torch.as_tensor(max_len).expand(x.shape[0]).tolist() if not torch.is_tensor(max_len) or max_len.dim() == 0 \
            else max_len.tolist()
        out = []
        for b in range(x.shape[0]):
            one = DecoderState(state.h[:, b:b + 1], state.c[:, b:b + 1], state.feed[b:b + 1],
                               None if state.coverage is None else state.coverage[b:b + 1])
            S = int(x_lengths[b])
            mem = Memory(memory.values[b:b + 1, :S], memory.mask[b:b + 1, :S],
                         None if memory.keys is None else memory.keys[b:b + 1, :S])
            one = one._replace(coverage=None if one.coverage is None else one.coverage[:, :S])
            out.append(self.decoder.beam(one, mem, bos_id=bos_id, eos_id=eos_id, max_len=int(limits[b]),
                                         beam_size=beam_size, length_penalty=length_penalty))
        return out

    @torch.no_grad()
    def attention_weights(self, x: Tensor, x_lengths: Tensor, y_in: Tensor) -> Tensor | None:
        """Weights (B, T, S) the decoder gives each source position while reading ``y_in`` (B, T)."""
        return self(x, x_lengths, y_in)[1]
