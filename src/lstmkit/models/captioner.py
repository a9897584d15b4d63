"""Image and video captioning: a convolutional encoder, a bridge, the shared LSTM decoder.

Images (Show, Attend and Tell, Xu et al. 2015): a small CNN trained from scratch (blocks of
3x3 convolution, batch norm, ReLU, 2x2 max pooling; ``conv_blocks`` blocks, the channel count
doubling from ``conv_channels``) turns an image (B, C, H, W) into a grid of h x w region
features; two coordinate channels (x and y in [-1, 1], "CoordConv", Liu et al. 2018) are
appended to the input and to the grid so that attention and the words "left", "above" can
use where a region is. The memory is the grid, (B, h*w, C' + 2); the decoder attends over
its regions.

Video (after Venugopalan et al. 2015, "Sequence to Sequence - Video to Text", with temporal
attention as in Yao et al. 2015): every frame goes through the same CNN; its grid is
flattened and projected to ``hidden_size`` features (keeping where things are, so motion is
visible across frames); a BiLSTM over the frames gives the memory (B, T, 2H); the decoder
attends over frames.

The decoder starts from ``Bridge(mean of the memory)`` (the image or clip summary). With
``attention="none"`` that summary is all it sees: the mean-pooled encoder of "Show and Tell"
(Vinyals et al. 2015), the baseline attention is measured against.

Batch: ``{"images": (B, C, H, W) float in [0, 1]`` (video: ``(B, T, C, H, W)``), ``"y": (B,
T + 1)`` caption ids ``<bos> ... <eos>``, 0-padded``}``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.models.base import TaskModel
from lstmkit.models.decoder import DECODER_ATTENTION, DecoderState, LSTMDecoder, Memory
from lstmkit.models.seq2seq import Bridge, real_token_nll, target_metrics
from lstmkit.nn import LSTM
from lstmkit.persist import register

__all__ = ["CaptionerNetwork", "CaptionerNetworkConfig"]


@dataclasses.dataclass
class CaptionerNetworkConfig:
    vocab_size: int = 100  # caption tokens (0 = pad, 1 = unk, 2 = <bos>, 3 = <eos>)
    in_channels: int = 3  # C of the images (3: RGB)
    image_height: int = 64  # H the encoder was built for (other sizes are resized by the estimator)
    image_width: int = 64  # W
    video: bool = False  # inputs are clips (B, T, C, H, W): per-frame CNN + BiLSTM over frames
    conv_channels: int = 16  # channels of the first block (doubling per block)
    conv_blocks: int = 3  # blocks; each halves the grid (64 px -> 8 x 8 regions with 3)
    embedding_dim: int = 64  # E of the caption tokens
    hidden_size: int = 256  # H of the decoder (and per direction of the video BiLSTM)
    num_layers: int = 1  # decoder layers
    attention: str = "additive"  # over regions / frames; "none": the mean-pooled encoder only
    input_feeding: bool = False  # Luong's input feeding (the decoder steps: slower)
    dropout: float = 0.2  # on embeddings, memory and before the output layer

    def __post_init__(self) -> None:
        p = []
        for name in ("vocab_size", "in_channels", "image_height", "image_width", "conv_channels", "conv_blocks",
                     "embedding_dim", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                p.append(f"{name} must be a positive int, got {v!r}")
        if self.attention not in DECODER_ATTENTION:
            p.append(f"attention must be one of {list(DECODER_ATTENTION)}, got {self.attention!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            p.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.attention == "none" and self.input_feeding:
            p.append("input_feeding needs attention (attention='none' given)")
        if not p and min(self.image_height, self.image_width) < 2 ** self.conv_blocks:
            p.append(f"images of {self.image_height} x {self.image_width} px are too small for {self.conv_blocks} "
                     f"pooling blocks (at least {2 ** self.conv_blocks} px each way)")
        if p:
            raise ConfigError("CaptionerNetworkConfig: " + "; ".join(p))

    @property
    def grid(self) -> tuple[int, int]:
        """(h, w) of the region grid."""
        return self.image_height >> self.conv_blocks, self.image_width >> self.conv_blocks


def _with_coords(x: Tensor) -> Tensor:
    """x (B, C, H, W) -> (B, C + 2, H, W): x and y coordinates in [-1, 1] appended."""
    B, _, H, W = x.shape
    ys = torch.linspace(-1, 1, H, device=x.device, dtype=x.dtype)[None, None, :, None].expand(B, 1, H, W)
    xs = torch.linspace(-1, 1, W, device=x.device, dtype=x.dtype)[None, None, None, :].expand(B, 1, H, W)
    return torch.cat([x, xs, ys], dim=1)


class ImageEncoder(nn.Module):
    """(B, C, H, W) in [0, 1] -> region grid (B, C' + 2, h, w) (module docstring)."""

    def __init__(self, in_channels: int, channels: int, blocks: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_channels + 2
        for k in range(blocks):
            c_out = channels * 2 ** k
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.out_channels = c_in + 2

    def forward(self, images: Tensor) -> Tensor:
        return _with_coords(self.body(_with_coords((images - 0.5) / 0.25)))  # (B, C' + 2, h, w)


@register
class CaptionerNetwork(TaskModel):
    """CNN (+ frame BiLSTM for video) encoder + bridge + :class:`LSTMDecoder` (module docstring).

    ``forward(images, y_in (B, T)) -> (logits (B, T, V), weights (B, T, S) or None)`` with S the
    regions (h*w) or the frames.
    """

    config_class = CaptionerNetworkConfig

    def __init__(self, config: CaptionerNetworkConfig) -> None:
        super().__init__(config)
        c = config
        self.cnn = ImageEncoder(c.in_channels, c.conv_channels, c.conv_blocks)
        h, w = c.grid
        if c.video:
            self.frame_proj = nn.Linear(self.cnn.out_channels * h * w, c.hidden_size)
            self.frames = LSTM(c.hidden_size, c.hidden_size, batch_first=True, bidirectional=True)
            memory_size = 2 * c.hidden_size
        else:
            self.frame_proj, self.frames = None, None
            memory_size = self.cnn.out_channels
        # dot attention scores the decoder state against the memory directly: project it to H
        self.memory_proj = nn.Linear(memory_size, c.hidden_size) if c.attention == "dot" and memory_size != c.hidden_size \
            else None
        if self.memory_proj is not None:
            memory_size = c.hidden_size
        self.bridge = Bridge(memory_size, c.hidden_size)
        self.decoder = LSTMDecoder(c.vocab_size, c.embedding_dim, c.hidden_size, c.num_layers, memory_size, c.attention,
                                   input_feeding=c.input_feeding, dropout=c.dropout)
        self.drop = nn.Dropout(c.dropout)

    def encode(self, images: Tensor) -> tuple[DecoderState, Memory]:
        """Images (B, C, H, W) or clips (B, T, C, H, W), float in [0, 1] -> decoder state and memory."""
        c = self.config
        want = 5 if c.video else 4
        if images.dim() != want or images.shape[-3] != c.in_channels:
            kind = "clips (B, T, C, H, W)" if c.video else "images (B, C, H, W)"
            raise ShapeError(f"expected {kind} with C = {c.in_channels}, got shape {tuple(images.shape)}")
        if c.video:
            B, T = images.shape[:2]
            grid = self.cnn(images.reshape(B * T, *images.shape[2:]))  # (B*T, C'+2, h, w)
            feats = torch.relu(self.frame_proj(self.drop(grid.reshape(B, T, -1))))  # (B, T, H)
            values, _ = self.frames(feats)  # (B, T, 2H)
        else:
            grid = self.cnn(images)  # (B, C'+2, h, w)
            values = grid.flatten(2).transpose(1, 2)  # (B, h*w, C'+2)
        values = self.drop(values)
        if self.memory_proj is not None:
            values = self.memory_proj(values)  # (B, S, H)
        summary = values.mean(1)  # (B, Hm)
        L = c.num_layers
        h0, c0 = self.bridge(summary[None].expand(L, *summary.shape))  # (L, B, H) each
        memory = self.decoder.memory(values)
        return self.decoder.initial_state(h0.contiguous(), c0.contiguous(), memory), memory

    def forward(self, images: Tensor, y_in: Tensor, *, features_only: bool = False) -> tuple[Tensor, Tensor | None]:
        state, memory = self.encode(images)
        return self.decoder(y_in, state, memory, features_only=features_only)

    def _run(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        y = batch["y"]
        logits, _ = self(batch["images"], y[:, :-1])
        return target_metrics(logits, y[:, 1:])

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        y = batch["y"]
        features, _ = self(batch["images"], y[:, :-1], features_only=True)
        return real_token_nll(self.decoder, features, y[:, 1:])

    @torch.no_grad()
    def metrics(self, batch: dict[str, Tensor]) -> dict[str, float]:
        nll, correct, n = self._run(batch)
        loss = float(nll / n.clamp(min=1))
        return {"loss": loss, "perplexity": math.exp(min(loss, 700.0)), "token_accuracy": float(correct / n.clamp(min=1))}

    @torch.no_grad()
    def decode(self, images: Tensor, *, bos_id: int, eos_id: int, max_len: int, beam_size: int = 1,
               length_penalty: float = 1.0) -> list[list[int]]:
        """Caption ids of each image or clip (without <bos>/<eos>): greedy, or beam search per input."""
        state, memory = self.encode(images)
        if beam_size == 1:
            return self.decoder.greedy(state, memory, bos_id=bos_id, eos_id=eos_id, max_len=max_len)
        out = []
        for b in range(images.shape[0]):
            one = DecoderState(state.h[:, b:b + 1], state.c[:, b:b + 1], state.feed[b:b + 1], None)
            mem = Memory(*(None if t is None else t[b:b + 1] for t in memory))
            out.append(self.decoder.beam(one, mem, bos_id=bos_id, eos_id=eos_id, max_len=max_len,
                                         beam_size=beam_size, length_penalty=length_penalty))
        return out
