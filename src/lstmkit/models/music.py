"""Polyphonic music model: a recurrent network over piano-roll frames with a joint or an
independent output over the pitches of the next frame.

Frame t's input is frame t-1 (sounding notes, onsets, optionally the beat position in the bar);
the recurrent core (``cell``: lstmkit's LSTM, GRU or tanh RNN) gives h_t (B, T, H), and the head
gives the distribution of frame t's sounding notes v_t in {0, 1}^P:

* ``output="bernoulli"``: independent pitches, p(v_t) = prod_p sigmoid(b(h_t))_p^v (1 - ...)^(1-v)
  (the "RNN" baseline of Boulanger-Lewandowski et al. 2012 and Chung et al. 2014);
* ``output="nade"``: the RNN-NADE of Boulanger-Lewandowski et al. 2012 ("Modeling Temporal
  Dependencies in High-Dimensional Sequences"): pitches in order from low to high,
  p(v_p = 1 | v_<p, h_t) = sigmoid(b_p(h_t) + V_p . sigmoid(c(h_t) + W_{:, <p} v_<p)), so chords
  are modelled jointly. Teacher-forced (exact NLL) in one vectorised pass; sampled pitch by pitch.

With ``use_onsets`` the head also gives p(onset_t,p | v_t,p = 1, h_t) = sigmoid(U(h_t)_p +
u_p v_{t-1,p}): whether a sounding note is struck again (repeated notes) or held.

Losses are in nats: ``nll`` is the negative log-likelihood of the sounding notes per frame (the
JSB "NLL per time step"), ``onset_nll`` that of the onsets per frame, ``loss`` their sum.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from lstmkit.errors import ConfigError, suggest
from lstmkit.models.base import TaskModel
from lstmkit.models.decoding import sample_token
from lstmkit.nn import GRU, LSTM, RNN
from lstmkit.persist import register

__all__ = ["MusicNetwork", "MusicNetworkConfig", "frame_scores", "CELLS", "OUTPUTS"]

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
OUTPUTS = ("nade", "bernoulli")


@dataclasses.dataclass
class MusicNetworkConfig:
    input_size: int = 96  # F: frame features (2P with onsets, + the beat one-hot)
    n_pitches: int = 48  # P: pitches modelled (the training range)
    cell: str = "lstm"  # "lstm" | "gru" | "rnn" (tanh): the recurrent core
    hidden_size: int = 128  # H: more remembers more context, overfits a small corpus sooner
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.3  # on the core's output (and between layers): JSB is small, regularise
    output: str = "nade"  # "nade" (joint over pitches) | "bernoulli" (independent pitches; faster sampling)
    nade_hidden_size: int = 64  # NADE's hidden units per pitch step; more models richer chords
    use_onsets: bool = True  # also model whether a sounding note is struck again

    def __post_init__(self) -> None:
        problems = []
        for name in ("input_size", "n_pitches", "hidden_size", "num_layers", "nade_hidden_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                problems.append(f"{name} must be a positive int, got {v!r}")
        if self.cell not in CELLS:
            problems.append(f"cell must be one of {list(CELLS)}, got {self.cell!r}{suggest(str(self.cell), CELLS)}")
        if self.output not in OUTPUTS:
            problems.append(f"output must be one of {list(OUTPUTS)}, got {self.output!r}{suggest(str(self.output), OUTPUTS)}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            problems.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if problems:
            raise ConfigError("MusicNetworkConfig: " + "; ".join(problems))


def _bce_sum(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none") * weight).sum()


@register
class MusicNetwork(TaskModel):
    """Piano-roll frames (B, T, F) -> distributions of the next frames' notes (see the module docstring).

    Batch: ``x`` (B, T, F), ``y`` (B, T, P) sounding notes of each frame, ``onset`` (B, T, P),
    ``mask`` (B, T) bool (real frames).
    """

    config_class = MusicNetworkConfig

    def __init__(self, config: MusicNetworkConfig) -> None:
        super().__init__(config)
        c = config
        P, H = c.n_pitches, c.hidden_size
        self.core = CELLS[c.cell](c.input_size, H, num_layers=c.num_layers, batch_first=True,
                                  dropout=c.dropout if c.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(c.dropout)
        self.visible_bias = nn.Linear(H, P)  # b(h_t): per-pitch logits (bernoulli) or NADE visible biases
        if c.output == "nade":
            Hn = c.nade_hidden_size
            self.nade_hidden_bias = nn.Linear(H, Hn)  # c(h_t)
            self.nade_W = nn.Parameter(torch.randn(Hn, P) * 0.05)  # (Hn, P): pitch -> NADE hidden
            self.nade_V = nn.Parameter(torch.randn(P, Hn) * 0.05)  # (P, Hn): NADE hidden -> pitch logit
        if c.use_onsets:
            self.onset_out = nn.Linear(H, P)  # U(h_t)
            self.onset_held = nn.Parameter(torch.zeros(P))  # u: the pitch sounded in the previous frame

    def hidden(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """x (B, T, F) -> core outputs (B, T, H) after dropout, new state."""
        out, state = self.core(x, state)
        return self.drop(out), state

    def forward(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """x (B, T, F) -> (core outputs (B, T, H), state): the heads read them."""
        return self.hidden(x, state)

    def sounding_logits(self, h: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Logits (..., P) of each pitch given h (..., H) and, for NADE, the lower pitches of v (..., P)."""
        b = self.visible_bias(h)  # (..., P)
        if self.config.output == "bernoulli":
            return b
        contrib = v[..., :, None] * self.nade_W.t()  # (..., P, Hn): pitch p's push on the NADE hidden
        a = self.nade_hidden_bias(h)[..., None, :] + torch.cumsum(contrib, dim=-2) - contrib  # (..., P, Hn): v_<p only
        return b + (torch.sigmoid(a) * self.nade_V).sum(-1)  # (..., P)

    def onset_logits(self, h: torch.Tensor, prev_sounding: torch.Tensor) -> torch.Tensor:
        """Logits (..., P) that a sounding pitch is struck (not held) given h and the previous frame."""
        return self.onset_out(h) + self.onset_held * prev_sounding

    def nll_sums(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(sounding NLL summed over real frames, onset NLL summed, number of real frames)."""
        h, _ = self.hidden(batch["x"])
        y = batch["y"]
        m = batch["mask"][..., None].to(h.dtype)  # (B, T, 1)
        nll = _bce_sum(self.sounding_logits(h, y), y, m)
        onset = h.new_zeros(())
        if self.config.use_onsets:
            P = self.config.n_pitches
            onset = _bce_sum(self.onset_logits(h, batch["x"][..., :P]), batch["onset"], m * y)  # only where sounding
        return nll, onset, m.sum()

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        nll, onset, frames = self.nll_sums(batch)
        return (nll + onset) / frames.clamp(min=1)

    @torch.no_grad()
    def metrics(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        nll, onset, frames = self.nll_sums(batch)
        n = float(frames.clamp(min=1))
        return {"loss": float(nll + onset) / n, "nll": float(nll) / n, "onset_nll": float(onset) / n}

    # --- one frame at a time (generation, prediction) ------------------------------------------
    @torch.no_grad()
    def sample_frame(self, h: torch.Tensor, prev_sounding: torch.Tensor, *, temperature: float = 1.0,
                     top_p: float | None = None, generator: torch.Generator | None = None,
                     max_notes: int | None = None,
                     voice_ranges: Sequence[tuple[int, int]] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw one frame: h (B, H), prev_sounding (B, P) -> (sounding (B, P), onsets (B, P)) in {0, 1}.

        Pitches are decided from low to high; each yes/no draw goes through
        :func:`~lstmkit.models.decoding.sample_token` over the two outcomes (``temperature`` 0 =
        the more likely one; ``top_p``: the less likely outcome is possible only while the more
        likely one's probability is below p). Constraints: at most ``max_notes`` notes, and the
        k-th lowest note inside ``voice_ranges[k]`` (model pitch indices, inclusive).
        """
        B, P = prev_sounding.shape
        v = h.new_zeros(B, P)
        count = torch.zeros(B, dtype=torch.long)
        nade = self.config.output == "nade"
        b = self.visible_bias(h)  # (B, P)
        a = self.nade_hidden_bias(h) if nade else None  # (B, Hn)
        lows = highs = None
        if voice_ranges is not None:
            lows = torch.tensor([r[0] for r in voice_ranges] + [0])  # voices past the trained ones: any pitch
            highs = torch.tensor([r[1] for r in voice_ranges] + [P - 1])
        limit = max_notes if max_notes is not None else P
        for p in range(P):
            logit = b[:, p] + (torch.sigmoid(a) @ self.nade_V[p] if nade else 0.0)  # (B,)
            allowed = count < limit
            if lows is not None:
                k = count.clamp(max=len(lows) - 1)
                allowed &= (lows[k] <= p) & (p <= highs[k])
            two = torch.stack([torch.zeros_like(logit), logit], dim=-1)  # (B, 2): logits of "off", "on"
            draw = sample_token(two, temperature=temperature, top_p=top_p, generator=generator).to(h.dtype)
            draw = draw * allowed.to(h.dtype)
            v[:, p] = draw
            count += draw.long()
            if nade:
                a = a + draw[:, None] * self.nade_W[:, p]  # (B, Hn)
        onsets = (v > 0) & (prev_sounding <= 0)  # a note that was not sounding starts now
        if self.config.use_onsets:
            logits = self.onset_logits(h, prev_sounding)  # (B, P)
            two = torch.stack([torch.zeros_like(logits), logits], dim=-1)  # (B, P, 2)
            struck = sample_token(two, temperature=temperature, top_p=top_p, generator=generator) > 0
            onsets |= struck & (v > 0)
        return v, onsets.to(h.dtype)


def frame_scores(predicted: torch.Tensor, true: torch.Tensor) -> dict[str, float]:
    """Frame-level transcription scores of Bay et al. 2009 (MIREX multiple-F0), over all frames:
    precision TP/(TP+FP), recall TP/(TP+FN), F1, and accuracy TP/(TP+FP+FN); inputs (..., P) in {0, 1}."""
    p, t = predicted > 0.5, true > 0.5
    tp, fp, fn = float((p & t).sum()), float((p & ~t).sum()), float((~p & t).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = tp / (tp + fp + fn) if tp + fp + fn else 1.0
    return {"frame_precision": precision, "frame_recall": recall, "frame_f1": f1, "frame_accuracy": accuracy}
