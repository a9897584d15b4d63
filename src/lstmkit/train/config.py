"""``TrainerConfig``: every training setting in one dataclass (nanoGPT's GPTConfig style)."""

from __future__ import annotations

import dataclasses
from typing import Any

from lstmkit.errors import ConfigError, suggest
from lstmkit.persist import config_from_dict

__all__ = ["TrainerConfig"]

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine", "plateau")
DEVICES = ("auto", "cpu", "cuda")


@dataclasses.dataclass
class TrainerConfig:
    # --- length of training ---
    max_epochs: int = 10  # passes over the data; more fits better until it overfits
    max_steps: int | None = None  # optimizer-step cap across epochs (None: no cap); bounds cost precisely
    max_minutes: float | None = None  # wall-clock budget (None: none); convenient, but runs stop at different steps
    batch_size: int = 32  # samples per step per process; larger is faster per sample, noisier gradients when small
    shuffle: bool = True  # reshuffle training samples each epoch (seeded per epoch, so resumable)
    drop_last: bool = False  # drop the last short batch; keeps step sizes uniform at the cost of a few samples
    group_by_length: bool = False  # batches of similar lengths (datasets with .lengths or .seqs): less padding, less random batches
    # --- optimisation ---
    lr: float = 1e-3  # peak learning rate; too high diverges (non-finite loss), too low crawls
    optimizer: str = "adam"  # "adam" | "adamw" | "sgd"; Adam is the robust default for LSTMs
    weight_decay: float = 0.0  # L2 (adam/sgd) or decoupled (adamw) decay; regularises, slows fitting
    momentum: float = 0.9  # SGD only; smooths steps, can overshoot
    betas: tuple[float, float] = (0.9, 0.999)  # Adam/AdamW moment decays; lower beta2 adapts faster, noisier
    grad_clip: float | None = 1.0  # clip the global gradient norm (exploding gradients); None disables
    accumulate: int = 1  # micro-batches per optimizer step: larger effective batch at the same memory
    # --- learning-rate schedule ---
    schedule: str = "constant"  # "constant" | "cosine" (warm-up then cosine decay) | "plateau" (cut on stalls)
    warmup_steps: int = 0  # linear warm-up steps (cosine/constant); stabilises Adam's first steps
    min_lr_ratio: float = 0.0  # cosine floor as a fraction of lr; >0 keeps learning late
    plateau_factor: float = 0.5  # plateau: multiply lr by this on a stall; smaller cuts harder
    plateau_patience: int = 2  # plateau: epochs without improvement before a cut; small reacts to noise
    # --- validation and early stopping ---
    monitor: str = "loss"  # validation metric to watch (lower is better)
    patience: int | None = None  # epochs without improvement before stopping (None: never stop early)
    min_delta: float = 0.0  # smallest decrease counted as improvement; filters noise, may stop too soon
    # --- reproducibility and numerics ---
    seed: int | None = 0  # seeds python/numpy/torch and the per-epoch sampler; None: not reproducible
    deterministic: bool = False  # torch deterministic algorithms: bit-reproducible, sometimes slower
    use_bf16: bool = False  # bf16 autocast for forward/loss: faster on recent hardware, less precise
    device: str = "auto"  # "auto" (cuda if available) | "cpu" | "cuda"
    num_workers: int = 0  # DataLoader worker processes; helps heavy collate, costs start-up time
    # --- output ---
    run_dir: str | None = None  # where metrics.csv, checkpoints/ and model/ go (None: write nothing)
    checkpoint_every: int | None = None  # also checkpoint every N optimizer steps (None: once per epoch)
    keep_checkpoints: int = 2  # checkpoints kept on disk; more history, more disk
    save_model: bool = True  # write run_dir/model (best weights) at the end via model.save
    quiet: bool = False  # True: no progress output (a rich bar on a terminal, plain lines otherwise)
    log_every: int = 50  # steps between plain log lines (non-terminal output); 0: per epoch only
    tensorboard: bool = True  # also write TensorBoard events to run_dir/tb when tensorboard is importable

    def __post_init__(self) -> None:
        problems = []

        def positive_int(name: str, allow_none: bool = False, allow_zero: bool = False) -> None:
            v = getattr(self, name)
            if v is None and allow_none:
                return
            ok = isinstance(v, int) and not isinstance(v, bool) and (v >= 0 if allow_zero else v > 0)
            if not ok:
                kind = "a non-negative int" if allow_zero else "a positive int"
                problems.append(f"{name} must be {kind}{' or None' if allow_none else ''}, got {v!r}")

        positive_int("max_epochs")
        positive_int("max_steps", allow_none=True)
        positive_int("batch_size")
        positive_int("accumulate")
        positive_int("warmup_steps", allow_zero=True)
        positive_int("plateau_patience", allow_zero=True)
        positive_int("patience", allow_none=True, allow_zero=True)
        positive_int("checkpoint_every", allow_none=True)
        positive_int("keep_checkpoints")
        positive_int("num_workers", allow_zero=True)
        positive_int("log_every", allow_zero=True)
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            problems.append(f"lr must be a positive number, got {self.lr!r}")
        if self.grad_clip is not None and not (isinstance(self.grad_clip, (int, float)) and self.grad_clip > 0):
            problems.append(f"grad_clip must be a positive number or None, got {self.grad_clip!r}")
        if self.max_minutes is not None and not (isinstance(self.max_minutes, (int, float)) and self.max_minutes > 0):
            problems.append(f"max_minutes must be a positive number or None, got {self.max_minutes!r}")
        if self.weight_decay < 0:
            problems.append(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if not 0 < self.plateau_factor < 1:
            problems.append(f"plateau_factor must be in (0, 1), got {self.plateau_factor!r}")
        if not 0 <= self.min_lr_ratio <= 1:
            problems.append(f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio!r}")
        for name, choices in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES), ("device", DEVICES)):
            v = getattr(self, name)
            if v not in choices:
                problems.append(f"{name} must be one of {list(choices)}, got {v!r}{suggest(str(v), choices)}")
        if self.seed is not None and not isinstance(self.seed, int):
            problems.append(f"seed must be an int or None, got {self.seed!r}")
        self.betas = tuple(self.betas)  # type: ignore[assignment]
        if problems:
            raise ConfigError("TrainerConfig: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainerConfig":
        return config_from_dict(cls, dict(values), where="trainer config")
