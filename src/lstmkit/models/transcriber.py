"""BiLSTM-CTC transcriber for unsegmented sequences: handwriting images, pen strokes, speech frames.

Graves et al. 2006 (TIMIT) and Graves et al. 2009 (unconstrained handwriting): a bidirectional
LSTM stack reads the input frame by frame and a softmax over the symbols plus a blank gives
per-frame posteriors; connectionist temporal classification sums over every alignment of the
target to the frames, so no segmentation is needed.

* ``input_kind="image"``: grey line images (B, 1, H, W). A small convolutional front end
  (``conv_blocks`` blocks of 3x3 convolution, batch norm, ReLU and 2x2 max pooling, the channels
  doubling from ``conv_channels``) turns the image into a sequence of columns: frame t is the
  stacked features of column t of the pooled map, so T = W / 2 ** conv_blocks.
* ``input_kind="sequence"``: frames (B, T, F) (pen offsets, spectral frames), optionally
  ``frame_stack`` consecutive frames concatenated (T / k frames of k F features: fewer, wider
  steps for long inputs such as 10 ms speech frames).

``forward(x, lengths) -> (log_probs (B, T', V), out_lengths (B,))``; ``loss`` is
``torch.nn.functional.ctc_loss`` (blank 0, mean over the batch of the loss per target
symbol). Targets are checked to fit their frames before training
(:func:`lstmkit.models.ctc.check_ctc_targets`), so the loss is never a silent ``inf``.

Batch: ``{"x": (B, 1, H, W) or (B, T, F), "lengths": (B,) widths or frames, "y": (B, L) label ids
(1..V-1, 0-padded), "y_lengths": (B,)}``.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.models.base import TaskModel
from lstmkit.nn import LSTM
from lstmkit.persist import register

__all__ = ["TranscriberNetwork", "TranscriberNetworkConfig", "INPUT_KINDS"]

INPUT_KINDS = ("image", "sequence")


@dataclasses.dataclass
class TranscriberNetworkConfig:
    n_symbols: int = 20  # V: the blank (0) and every symbol
    input_kind: str = "image"  # "image": grey line images (B, 1, H, W); "sequence": frames (B, T, F)
    input_size: int = 32  # image height H, or features per frame F
    conv_channels: int = 16  # images: channels of the first block (doubling per block)
    conv_blocks: int = 2  # images: each block halves height and width (T = W / 2 ** blocks)
    frame_stack: int = 1  # sequences: consecutive frames concatenated into one step (T / k steps)
    hidden_size: int = 128  # H per direction
    num_layers: int = 2  # stacked BiLSTM layers (Graves 2009: 1-2; deeper helps speech)
    dropout: float = 0.2  # between layers and before the output layer

    def __post_init__(self) -> None:
        p = []
        for name in ("n_symbols", "input_size", "conv_channels", "conv_blocks", "frame_stack", "hidden_size",
                     "num_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                p.append(f"{name} must be a positive int, got {v!r}")
        if self.input_kind not in INPUT_KINDS:
            p.append(f"input_kind must be one of {list(INPUT_KINDS)}, got {self.input_kind!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            p.append(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not p and self.input_kind == "image" and self.input_size < 2 ** self.conv_blocks:
            p.append(f"images {self.input_size} px high are too small for {self.conv_blocks} pooling blocks")
        if p:
            raise ConfigError("TranscriberNetworkConfig: " + "; ".join(p))

    @property
    def downsample(self) -> int:
        """Input columns (images) or frames (sequences) per output frame."""
        return 2 ** self.conv_blocks if self.input_kind == "image" else self.frame_stack


@register
class TranscriberNetwork(TaskModel):
    """Front end + BiLSTM + per-frame softmax over symbols and blank (module docstring)."""

    config_class = TranscriberNetworkConfig

    def __init__(self, config: TranscriberNetworkConfig) -> None:
        super().__init__(config)
        c = config
        if c.input_kind == "image":
            layers: list[nn.Module] = []
            c_in = 1
            for k in range(c.conv_blocks):
                c_out = c.conv_channels * 2 ** k
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
                c_in = c_out
            self.front = nn.Sequential(*layers)
            frame_size = c_in * (c.input_size >> c.conv_blocks)
        else:
            self.front = None
            frame_size = c.input_size * c.frame_stack
        self.lstm = LSTM(frame_size, c.hidden_size, c.num_layers, batch_first=True, bidirectional=True,
                         dropout=c.dropout if c.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(c.dropout)
        self.output = nn.Linear(2 * c.hidden_size, c.n_symbols)

    def frames(self, lengths: Tensor) -> Tensor:
        """Output frames of inputs of ``lengths`` (widths or frames): ``lengths // downsample``, at least 1."""
        return torch.clamp(lengths // self.config.downsample, min=1)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        c = self.config
        if c.input_kind == "image":
            if x.dim() != 4 or x.shape[1] != 1 or x.shape[2] != c.input_size:
                raise ShapeError(f"expected grey images (B, 1, {c.input_size}, W), got shape {tuple(x.shape)}")
            if x.shape[3] < c.downsample:  # narrower than the pooling: pad with background (0)
                x = nn.functional.pad(x, (0, c.downsample - x.shape[3]))
            f = self.front(x)  # (B, C', H', W')
            seq = f.permute(0, 3, 1, 2).flatten(2)  # (B, W', C' * H'): one frame per column
        else:
            if x.dim() != 3 or x.shape[2] != c.input_size:
                raise ShapeError(f"expected frames (B, T, {c.input_size}), got shape {tuple(x.shape)}")
            k = c.frame_stack
            seq = x
            if k > 1:
                T = x.shape[1] // k * k
                if T == 0:
                    x, T = nn.functional.pad(x, (0, 0, 0, k - x.shape[1])), k
                seq = x[:, :T].reshape(x.shape[0], T // k, k * c.input_size)  # (B, T / k, k F)
        out_lengths = torch.clamp(self.frames(lengths.to(seq.device)), max=seq.shape[1])
        h, _ = self.lstm(seq, lengths=out_lengths)  # (B, T', 2H)
        logits = self.output(self.drop(h))  # (B, T', V)
        return torch.log_softmax(logits, dim=-1), out_lengths

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        log_probs, out_lengths = self(batch["x"], batch["lengths"])
        y, y_lengths = batch["y"], batch["y_lengths"]
        targets = torch.cat([y[b, :n] for b, n in enumerate(y_lengths.tolist())])
        return nn.functional.ctc_loss(log_probs.transpose(0, 1), targets, out_lengths, y_lengths, blank=0,
                                      reduction="mean", zero_infinity=False)

    @torch.no_grad()
    def metrics(self, batch: dict[str, Tensor]) -> dict[str, float]:
        return {"loss": float(self.loss(batch))}
