"""Inputs and transcripts for CTC transcribers: validation, a frozen symbol set, padded batches.

Inputs are a list of arrays, one per example:

* images: (H, W_i) grey, float in [0, 1] (ink high) or uint8 0-255, every training image H
  pixels high (at prediction other heights are resized to H, keeping the aspect ratio);
* sequences: (T_i, F) frames (pen offsets, spectral features), standardised per feature with
  the training frames' mean and standard deviation.

Symbols: the characters of the training transcripts, sorted, ids 1..V-1; 0 is the CTC blank. A
character never seen in training cannot be produced; in a transcript given to ``evaluate`` it
simply counts as an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstmkit.errors import DataError, ShapeError

__all__ = ["TranscriptionPipeline", "TranscriptionDataset", "augment_line", "check_inputs", "check_transcripts"]

# augment_line's ranges (Simard, Steinkraus and Platt 2003; Wigington et al. 2017 for lines)
SLANT = 0.3  # shear: columns shift by up to +-0.3 pixel per row from the middle row (about +-17 degrees)
SCALE = 0.1  # width and height scaled by a factor uniform in 1 +- 0.1
SHIFT = 0.05  # vertical shift up to +-0.05 H pixels
ELASTIC_SIGMA, ELASTIC_STD = 0.5, 0.04  # displacement field: Gaussian smoothing 0.5 H, RMS 0.04 H pixels


def augment_line(img: np.ndarray, rng: np.random.Generator, min_width: int = 1) -> np.ndarray:
    """A random plausible re-writing of a line image (H, W) in [0, 1], ink high: one slant, one
    width and height scale, one vertical shift and one elastic distortion, resampled together
    (bilinear, background 0). The result keeps H rows; it has W' = round(s W) columns, at least
    ``min_width`` (the scale is dropped when it would leave fewer, so a CTC target keeps its room).

    Ranges: :data:`SLANT`, :data:`SCALE`, :data:`SHIFT`, :data:`ELASTIC_SIGMA` /
    :data:`ELASTIC_STD` (in units of H). The elastic field follows Simard, Steinkraus and Platt
    (2003), "Best practices for convolutional neural networks applied to visual document
    analysis"; affine and elastic line augmentation for CNN-LSTM handwriting readers: Wigington
    et al. (2017), "Data augmentation for recognition of handwritten words and lines using a
    CNN-LSTM network" (ICDAR).
    """
    from scipy import ndimage

    h, w = img.shape
    slant = rng.uniform(-SLANT, SLANT)
    sx, sy = 1.0 + rng.uniform(-SCALE, SCALE, size=2)
    w2 = max(1, round(sx * w))
    if w2 < min_width:
        w2, sx = w, 1.0
    shift = rng.uniform(-SHIFT, SHIFT) * h
    rows, cols = np.mgrid[0:h, 0:w2].astype(np.float32)
    cy = (h - 1) / 2.0
    src_r = (rows - cy) / sy + cy - shift
    src_c = cols / sx + slant * (rows - cy)
    sigma = ELASTIC_SIGMA * h
    field = ndimage.gaussian_filter(rng.uniform(-1, 1, size=(2, h, w2)), (0, sigma, sigma), mode="reflect")
    # scaled to an RMS of ELASTIC_STD * H: on a line narrower than about H the smoothed field is
    # nearly a constant shift, whose standard deviation is ~0 and would blow it up
    field *= ELASTIC_STD * h / max(float(np.sqrt(np.mean(field ** 2))), 1e-8)
    out = ndimage.map_coordinates(img, [src_r + field[0], src_c + field[1]], order=1, mode="constant", cval=0.0)
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


def check_transcripts(y: Any, n: int, name: str = "y") -> list[str]:
    if isinstance(y, str) or not hasattr(y, "__len__"):
        raise DataError(f"{name} must be a list of str (one transcript per input), got {type(y).__name__}")
    out = list(y)
    if len(out) != n:
        raise ShapeError(f"{name} has {len(out)} transcripts for {n} inputs")
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise DataError(f"{name}[{i}] must be a str, got {type(t).__name__}")
    return out


def check_inputs(X: Any, name: str = "X", kind: str = "auto") -> tuple[list[np.ndarray], str]:
    """A list of 2-D arrays -> (float32 arrays, kind). uint8 arrays are scaled to [0, 1].

    ``kind="auto"``: "image" when every array has the same first dimension (the height) and the
    second varies; "sequence" when the second (features) is shared and the first varies; when
    every shape is equal, uint8 arrays are images and others sequences. Pass ``kind`` to say it.
    """
    if isinstance(X, np.ndarray) and X.ndim == 3:
        X = list(X)
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise DataError(f"{name} must be a list of 2-D arrays (images (H, W) or frames (T, F)), got {type(X).__name__}")
    if len(X) == 0:
        raise DataError(f"{name} holds no inputs")
    arrays, uint8 = [], True
    for i, a in enumerate(X):
        a = np.asarray(a)
        if a.ndim != 2:
            raise ShapeError(f"{name}[{i}] must be 2-D (an image (H, W) or frames (T, F)), got shape {a.shape}")
        if a.size == 0:
            raise DataError(f"{name}[{i}] is empty")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise DataError(f"{name}[{i}] must be numeric, got dtype {a.dtype}")
        is_u8 = a.dtype == np.uint8
        uint8 &= is_u8
        a = a.astype(np.float32) / (255.0 if is_u8 else 1.0)
        if not np.isfinite(a).all():
            raise DataError(f"{name}[{i}] holds non-finite values")
        arrays.append(a)
    if kind == "auto":
        rows, cols = {a.shape[0] for a in arrays}, {a.shape[1] for a in arrays}
        if len(rows) == 1 and len(cols) > 1:
            kind = "image"
        elif len(cols) == 1 and len(rows) > 1:
            kind = "sequence"
        elif len(rows) == 1 and len(cols) == 1:
            kind = "image" if uint8 else "sequence"
        else:
            raise ShapeError(f"{name}: neither images of one height nor frames of one width (shapes "
                             f"{sorted({a.shape for a in arrays})[:4]}); say input_kind='image' or 'sequence'")
    elif kind not in ("image", "sequence"):
        raise DataError(f"input_kind must be 'auto', 'image' or 'sequence', got {kind!r}")
    if kind == "image":
        lo, hi = min(float(a.min()) for a in arrays), max(float(a.max()) for a in arrays)
        if lo < 0 or hi > 1:
            raise DataError(f"{name}: images must be grey values in [0, 1] (or uint8 0-255), got values in [{lo:.3g}, {hi:.3g}]")
    return arrays, kind


class TranscriptionPipeline:
    """Symbol set + input normalisation, fitted once (JSON round trip); see the module docstring."""

    def __init__(self) -> None:
        self.symbols_: list[str] = []
        self.kind_ = "sequence"
        self.height_ = 0  # images: the height H
        self.mean_: np.ndarray | None = None  # sequences: per-feature mean and std (F,)
        self.std_: np.ndarray | None = None

    @property
    def n_symbols(self) -> int:
        return len(self.symbols_) + 1

    def fit(self, inputs: list[np.ndarray], kind: str, texts: list[str]) -> "TranscriptionPipeline":
        self.kind_ = kind
        self.symbols_ = sorted({ch for t in texts for ch in t})
        if not self.symbols_:
            raise DataError("y holds only empty transcripts; there is nothing to learn to write")
        if kind == "image":
            heights = {a.shape[0] for a in inputs}
            if len(heights) != 1:
                raise ShapeError(f"X: training images must share one height, got heights {sorted(heights)[:5]}")
            self.height_ = heights.pop()
        else:
            widths = {a.shape[1] for a in inputs}
            if len(widths) != 1:
                raise ShapeError(f"X: every sequence needs the same number of features, got {sorted(widths)[:5]}")
            frames = np.concatenate(inputs)
            self.mean_, self.std_ = frames.mean(0), frames.std(0)
            self.std_[self.std_ < 1e-8] = 1.0
        return self

    def encode_text(self, text: str) -> np.ndarray:
        index = {ch: i + 1 for i, ch in enumerate(self.symbols_)}
        return np.array([index[ch] for ch in text if ch in index], dtype=np.int64)

    def unknown(self, text: str) -> list[str]:
        return sorted({ch for ch in text if ch not in self.symbols_})

    def decode(self, labels: list[int]) -> str:
        return "".join(self.symbols_[i - 1] for i in labels if 0 < i <= len(self.symbols_))

    def transform(self, inputs: list[np.ndarray], kind: str, name: str = "X") -> list[np.ndarray]:
        if kind != self.kind_:
            want = "grey images (uint8)" if self.kind_ == "image" else "frame sequences (float)"
            raise ShapeError(f"{name}: this transcriber reads {want}; got {'images' if kind == 'image' else 'sequences'}")
        if self.kind_ == "image":
            out = []
            for a in inputs:
                if a.shape[0] != self.height_:
                    import PIL.Image

                    w = max(1, round(a.shape[1] * self.height_ / a.shape[0]))  # keep the aspect ratio
                    a = np.array(PIL.Image.fromarray(a, mode="F").resize((w, self.height_), PIL.Image.BILINEAR),
                                   np.float32)
                out.append(a)
            return out
        F = len(self.mean_)
        for i, a in enumerate(inputs):
            if a.shape[1] != F:
                raise ShapeError(f"{name}[{i}] has {a.shape[1]} features per frame; the model was trained on {F}")
        return [((a - self.mean_) / self.std_).astype(np.float32) for a in inputs]

    def to_dict(self) -> dict[str, Any]:
        return {"symbols": self.symbols_, "kind": self.kind_, "height": self.height_,
                "mean": None if self.mean_ is None else self.mean_.tolist(),
                "std": None if self.std_ is None else self.std_.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TranscriptionPipeline":
        p = cls()
        p.symbols_, p.kind_, p.height_ = list(d["symbols"]), d["kind"], int(d["height"])
        p.mean_ = None if d["mean"] is None else np.asarray(d["mean"], np.float32)
        p.std_ = None if d["std"] is None else np.asarray(d["std"], np.float32)
        return p


class TranscriptionDataset(torch.utils.data.Dataset):
    """Inputs with label ids; ``collate`` pads into ``{"x": (B, 1, H, W) or (B, T, F), "lengths",
    "y": (B, L), "y_lengths"}`` (``y`` absent without labels).

    ``augment`` (images with labels only): each read returns :func:`augment_line` of the image,
    drawn from a generator seeded by ``(seed, epoch, i)``, so an epoch's inputs are reproducible
    and a resumed training sees the same ones (the trainer calls :meth:`set_epoch`).
    ``min_widths``: the columns each augmented image must keep (its label's CTC frames times the
    network's downsampling), so a narrowed line still fits its target.
    """

    def __init__(self, inputs: list[np.ndarray], kind: str, labels: list[np.ndarray] | None = None, *,
                 augment: bool = False, seed: int = 0, min_widths: list[int] | None = None) -> None:
        if augment and (kind != "image" or labels is None):
            raise ValueError("augment applies to labelled images")
        self.inputs, self.kind, self.labels = inputs, kind, labels
        self.augment, self.seed, self.epoch = augment, seed, 0
        self.min_widths = min_widths if min_widths is not None else [1] * len(inputs)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, i: int) -> tuple[np.ndarray, str, np.ndarray | None]:
        a, labels = self.inputs[i], None if self.labels is None else self.labels[i]
        if self.augment:
            a = augment_line(a, np.random.default_rng((self.seed, self.epoch, i)), min_width=self.min_widths[i])
        return a, self.kind, labels

    @staticmethod
    def collate(items: list[tuple[np.ndarray, str, np.ndarray | None]]) -> dict[str, torch.Tensor]:
        kind = items[0][1]
        if kind == "image":  # (H, W_i): pad the width
            lengths = torch.tensor([a.shape[1] for a, _, _ in items])
            x = torch.zeros(len(items), 1, items[0][0].shape[0], int(lengths.max()))
            for b, (a, _, _) in enumerate(items):
                x[b, 0, :, : a.shape[1]] = torch.from_numpy(a)
        else:  # (T_i, F): pad the time
            lengths = torch.tensor([a.shape[0] for a, _, _ in items])
            x = torch.zeros(len(items), int(lengths.max()), items[0][0].shape[1])
            for b, (a, _, _) in enumerate(items):
                x[b, : a.shape[0]] = torch.from_numpy(a)
        batch = {"x": x, "lengths": lengths}
        if items[0][2] is not None:
            y_lengths = torch.tensor([len(t) for _, _, t in items])
            y = torch.zeros(len(items), max(1, int(y_lengths.max())), dtype=torch.long)
            for b, (_, _, t) in enumerate(items):
                y[b, : len(t)] = torch.from_numpy(t)
            batch.update(y=y, y_lengths=y_lengths)
        return batch
