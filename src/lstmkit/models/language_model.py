"""LSTM language model: embedding -> stacked lstmkit LSTMs -> softmax over the vocabulary.

The network of Zaremba et al. 2014 ("Recurrent Neural Network Regularization") with the
regularisers of AWD-LSTM (Merity et al. 2018, "Regularizing and Optimizing LSTM Language
Models") as options:

* ``embedding_dropout``: drops whole words (rows of the embedding matrix) per batch;
* ``input_dropout`` / ``dropout``: *locked* (variational) dropout, one mask per sequence shared
  over time (Gal & Ghahramani 2016), on the embeddings and on each layer's output;
* ``weight_drop``: DropConnect on the recurrent weights W_hh (lstmkit's LSTM option);
* ``ar_alpha`` / ``tar_beta``: activation regularisation (L2 of the last layer's outputs) and
  temporal activation regularisation (L2 of their change between steps);
* ``tie_weights``: the softmax reuses the embedding matrix (Press & Wolf 2017; Inan et al.
  2017): the last layer's size is ``embedding_dim`` so the shapes match.

Each layer is its own lstmkit :class:`~lstmkit.nn.LSTM` (as in AWD-LSTM), so layer sizes may
differ and every lstmkit variant (layer norm, weight drop, peepholes) applies. The state is a
list of per-layer ``(h, c)``, each (1, B, H_l).

Batches are :class:`~lstmkit.train.tbptt.StreamChunk` (truncated BPTT over a continuous stream:
``x`` (B, K, 1) token ids, ``y`` (B, K) the next ids, ``mask`` (B, K)), so the trainer carries
the state from chunk to chunk; ``loss`` on a plain ``{"x": (B, T), "y": (B, T)}`` batch starts
from a zero state.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import nn

from lstmkit.errors import ConfigError
from lstmkit.models.base import TaskModel
from lstmkit.nn import LSTM
from lstmkit.persist import register

__all__ = ["LanguageModelNetwork", "LanguageModelNetworkConfig", "LockedDropout"]

State = list[tuple[torch.Tensor, torch.Tensor]]


@dataclasses.dataclass
class LanguageModelNetworkConfig:
    vocab_size: int = 10000  # V: softmax cost grows with V x the last layer's size
    embedding_dim: int = 200  # E: with tie_weights also the last LSTM layer's size
    hidden_size: int = 200  # H of the inner layers (and of the last one without tie_weights)
    num_layers: int = 2  # stacked LSTMs (Zaremba: 2; AWD-LSTM: 3)
    tie_weights: bool = True  # softmax weight = embedding matrix: fewer parameters, lower perplexity
    dropout: float = 0.0  # locked dropout on each layer's output (Zaremba medium 0.5; AWD 0.4 / 0.25 between layers)
    input_dropout: float = 0.0  # locked dropout on the embeddings (AWD 0.65)
    embedding_dropout: float = 0.0  # drop whole words from the embedding matrix (AWD 0.1)
    weight_drop: float = 0.0  # DropConnect on W_hh (AWD 0.5); slower: the fused kernel re-masks per batch
    layer_norm: bool = False  # layer-normalised LSTM cells (Ba et al. 2016)
    forget_bias: float = 1.0  # forget-gate bias at init (Gers et al. 2000); 0 gives torch's init
    init_range: float = 0.1  # uniform(-r, r) init of embeddings and LSTM weights (Zaremba 0.1)
    ar_alpha: float = 0.0  # activation regularisation: alpha * mean(h_t^2) of the last layer (AWD 2)
    tar_beta: float = 0.0  # temporal AR: beta * mean((h_t - h_{t-1})^2) (AWD 1)

    def __post_init__(self) -> None:
        problems = []
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                problems.append(f"{name} must be a positive int, got {v!r}")
        for name in ("dropout", "input_dropout", "embedding_dropout", "weight_drop"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
                problems.append(f"{name} must be in [0, 1), got {v!r}")
        for name in ("init_range", "ar_alpha", "tar_beta"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                problems.append(f"{name} must be a number >= 0, got {v!r}")
        if problems:
            raise ConfigError("LanguageModelNetworkConfig: " + "; ".join(problems))


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence, shared over time (variational dropout, Gal &
    Ghahramani 2016): x (B, T, F) -> x * m / (1 - p), m (B, 1, F) ~ Bernoulli(1 - p)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - self.p) / (1 - self.p)  # (B, 1, F)
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


@register
class LanguageModelNetwork(TaskModel):
    """Next-token model: token ids (B, T) -> logits (B, T, V), carrying the LSTM state.

    ``forward(x, state=None) -> (logits, state)``; ``stream_loss(chunk, state)`` is the truncated-
    BPTT loss the trainer calls; ``metrics`` gives ``loss`` (mean negative log-likelihood per
    token, nats) and ``perplexity`` = exp(loss) over the chunk's real tokens.
    """

    config_class = LanguageModelNetworkConfig

    def __init__(self, config: LanguageModelNetworkConfig) -> None:
        super().__init__(config)
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim)
        sizes = [c.hidden_size] * c.num_layers
        if c.tie_weights:
            sizes[-1] = c.embedding_dim
        inputs = [c.embedding_dim] + sizes[:-1]
        self.layers = nn.ModuleList(
            LSTM(i, h, batch_first=True, forget_bias=c.forget_bias, layer_norm=c.layer_norm, weight_drop=c.weight_drop)
            for i, h in zip(inputs, sizes))
        self.input_drop = LockedDropout(c.input_dropout)
        self.drop = LockedDropout(c.dropout)
        self.decoder = nn.Linear(sizes[-1], c.vocab_size)
        if c.tie_weights:
            self.decoder.weight = self.embedding.weight  # (V, E)
        self._init(c)

    def _init(self, c: LanguageModelNetworkConfig) -> None:
        r = c.init_range
        if r > 0:
            nn.init.uniform_(self.embedding.weight, -r, r)
            for layer in self.layers:
                for name, p in layer.named_parameters():
                    if name.startswith("weight"):
                        nn.init.uniform_(p, -r, r)
        nn.init.zeros_(self.decoder.bias)

    @property
    def state_sizes(self) -> list[int]:
        """Hidden size of each layer (H_l)."""
        return [layer.hidden_size for layer in self.layers]

    def initial_state(self, batch_size: int) -> State:
        """Zero state: one (h, c) pair of (1, B, H_l) per layer."""
        w = self.embedding.weight
        return [(w.new_zeros(1, batch_size, h), w.new_zeros(1, batch_size, h)) for h in self.state_sizes]

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.embedding.weight  # (V, E)
        p = self.config.embedding_dropout
        if self.training and p > 0:
            keep = weight.new_empty(weight.shape[0], 1).bernoulli_(1 - p) / (1 - p)  # (V, 1): whole words
            weight = weight * keep
        return nn.functional.embedding(x, weight)  # (B, T, E)

    def hidden(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Last layer's outputs (B, T, H_last) after dropout, and the new state."""
        if x.dim() == 3:  # (B, T, 1) ids from a StreamChunk
            x = x[..., 0]
        B = x.shape[0]
        state = self.initial_state(B) if state is None else state
        out = self.input_drop(self._embed(x.long()))  # (B, T, E)
        new_state: State = []
        for k, layer in enumerate(self.layers):
            out, (h, c) = layer(out, state[k])  # (B, T, H_k), (1, B, H_k) each
            new_state.append((h, c))
            out = self.drop(out)
        return out, new_state

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x (B, T) long ids (or (B, T, 1)) -> logits (B, T, V), new state."""
        out, state = self.hidden(x, state)
        return self.decoder(out), state

    def _nll(self, logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        nll = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1).long(),
                                          reduction="none")  # (B*T,)
        if mask is None:
            return nll.sum(), torch.tensor(float(nll.numel()))
        m = mask.reshape(-1).to(nll.dtype)
        return (nll * m).sum(), m.sum()

    def stream_loss(self, chunk: Any, state: State | None) -> tuple[torch.Tensor, State]:
        """Mean NLL per real token of one TBPTT chunk (+ AR/TAR while training), and the new state."""
        out, state = self.hidden(chunk.x, state)
        logits = self.decoder(out)
        total, n = self._nll(logits, chunk.y, chunk.mask)
        loss = total / n.clamp(min=1)
        if self.training and (self.config.ar_alpha or self.config.tar_beta):
            m = chunk.mask[..., None].to(out.dtype)  # (B, K, 1)
            if self.config.ar_alpha:
                loss = loss + self.config.ar_alpha * (out.pow(2) * m).sum() / (m.sum() * out.shape[-1]).clamp(min=1)
            if self.config.tar_beta and out.shape[1] > 1:
                mm = m[:, 1:] * m[:, :-1]
                diff = (out[:, 1:] - out[:, :-1]).pow(2) * mm
                loss = loss + self.config.tar_beta * diff.sum() / (mm.sum() * out.shape[-1]).clamp(min=1)
        return loss, state

    def loss(self, batch: Any) -> torch.Tensor:
        if isinstance(batch, dict):
            logits, _ = self(batch["x"])
            total, n = self._nll(logits, batch["y"], batch.get("mask"))
            return total / n.clamp(min=1)
        return self.stream_loss(batch, None)[0]

    @torch.no_grad()
    def metrics(self, batch: Any) -> dict[str, float]:
        loss = float(self.loss(batch))
        return {"loss": loss, "perplexity": math.exp(min(loss, 700.0))}
