"""A lean, task-agnostic trainer (minGPT's trainer.py spirit).

The model supplies ``loss(batch)`` (and optionally ``metrics(batch)``); the trainer owns the
loop: optimizer, clipping, schedule, accumulation, validation, early stopping, checkpoints,
progress, and data-parallel training under ``torchrun``. Per step it adds only an optimizer
step's worth of Python to a bare PyTorch loop (see benchmarks/bench_train.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import random
import signal
import threading
import time
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from lstmkit.errors import ConfigError, LstmkitError, suggest
from lstmkit.persist import is_registered, load_weights, save_model
from lstmkit.train import checkpoint as ckpt
from lstmkit.train.config import TrainerConfig
from lstmkit.train.progress import Progress, TensorBoard, write_metrics_csv
from lstmkit.train.tbptt import StreamChunk, detach_state, reset_state
from lstmkit.utils.io import atomic_write_json

__all__ = ["Trainer", "Callback", "NonFiniteLossError"]


class NonFiniteLossError(LstmkitError, FloatingPointError):
    """The loss or the gradient became NaN/inf; training stopped (last good checkpoint kept)."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT (Ctrl-C) or SIGTERM after the step in progress.

    A KeyboardInterrupt (so ``except Exception`` does not swallow it), with ``epoch`` (1-based,
    the epoch in progress), ``step`` (optimizer steps done), ``signal`` ("SIGINT"/"SIGTERM") and
    ``checkpoint`` (the folder of the checkpoint written at the interrupt, or None without a
    ``run_dir``). ``fit(..., resume=True)`` with the same ``run_dir`` continues from it.
    """

    def __init__(self, *, epoch: int, step: int, signal: str, checkpoint: Path | None) -> None:
        self.epoch, self.step, self.signal, self.checkpoint = epoch, step, signal, checkpoint
        where = f"interrupted ({signal}) at epoch {epoch}, step {step}"
        if checkpoint is None:
            msg = f"{where}; nothing was saved (give a run_dir to be able to resume)"
        else:
            msg = f"{where}; checkpoint saved in {str(checkpoint)!r}; resume with resume=True"
        super().__init__(msg)


class _Signals:
    """While active (main thread only), the first SIGINT/SIGTERM sets ``caught``; a second SIGINT
    raises KeyboardInterrupt at once. Previous handlers are put back on exit."""

    def __init__(self) -> None:
        self.caught: str | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "_Signals":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.caught is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # asked twice: stop now
        self.caught = signal.Signals(signum).name

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old = {}


class Callback:
    """Hooks called by :class:`Trainer`; every hook is a no-op by default."""

    def on_fit_start(self, trainer: "Trainer", model: nn.Module) -> None: ...
    def on_step_end(self, trainer: "Trainer", model: nn.Module, loss: float) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", model: nn.Module, row: dict[str, Any]) -> None: ...
    def on_fit_end(self, trainer: "Trainer", model: nn.Module) -> None: ...


GROUP_POOL = 8  # group_by_length: batches per pool sorted together


class _ResumableSampler(Sampler):
    """DistributedSampler (seeded per epoch via set_epoch) that can start mid-epoch.

    With ``lengths`` (one per sample) and ``batch_size``, the shuffled order is cut into pools of
    ``GROUP_POOL`` batches and each pool is sorted by length, longest first, so that a batch holds
    sequences of similar lengths (the idea of Hugging Face's ``LengthGroupedSampler``; pools keep
    the batches' composition random from epoch to epoch). The order is a function of the epoch's
    seed only, so a resumed epoch skips exactly the samples already seen. Equal lengths keep the
    shuffled order unchanged (a stable sort).
    """

    def __init__(self, base: DistributedSampler, lengths: Any = None, batch_size: int = 1) -> None:
        self.base = base
        self.start = 0
        self.lengths = None if lengths is None else np.asarray(lengths)
        self.pool = GROUP_POOL * batch_size

    def set_epoch(self, epoch: int) -> None:
        self.base.set_epoch(epoch)

    def __iter__(self):
        start, self.start = self.start, 0  # a skip applies to one pass only
        order = list(iter(self.base))
        if self.lengths is not None:
            grouped = []
            for i in range(0, len(order), self.pool):
                pool = np.asarray(order[i : i + self.pool])
                grouped += pool[np.argsort(-self.lengths[pool], kind="stable")].tolist()
            order = grouped
        return itertools.islice(iter(order), start, None)

    def __len__(self) -> int:
        return len(self.base) - self.start


class _LossModule(nn.Module):
    """What DistributedDataParallel wraps: its forward is the model's loss (so DDP syncs grads)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Any, state: Any = None, stream: bool = False) -> Any:
        if stream:
            return self.model.stream_loss(batch, state)
        return self.model.loss(batch)


def _to_device(batch: Any, device: torch.device) -> Any:
    if torch.is_tensor(batch) or isinstance(batch, StreamChunk):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def _batch_size(batch: Any) -> int:
    if torch.is_tensor(batch):
        return int(batch.shape[0]) if batch.dim() else 1
    if isinstance(batch, StreamChunk):
        return int(batch.mask.sum())
    if isinstance(batch, dict):
        batch = list(batch.values())
    if isinstance(batch, (list, tuple)):
        for v in batch:
            if torch.is_tensor(v) and v.dim():
                return int(v.shape[0])
    return 1


# Settings that fix which samples each step sees: resuming with other values would not continue the run.
_TRAJECTORY_KEYS = ("batch_size", "accumulate", "shuffle", "drop_last", "seed")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _global_flags() -> tuple[bool, bool, bool, bool]:
    """The process-wide settings ``deterministic=True`` changes, to put back after fit."""
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )


def _set_global_flags(flags: tuple[bool, bool, bool, bool]) -> None:
    enabled, warn_only, cudnn_deterministic, cudnn_benchmark = flags
    torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
    torch.backends.cudnn.deterministic = cudnn_deterministic
    torch.backends.cudnn.benchmark = cudnn_benchmark


class Trainer:
    """Fit any :class:`~lstmkit.models.base.TaskModel` (anything with ``loss(batch)``).

    >>> trainer = Trainer(TrainerConfig(max_epochs=5, lr=3e-3, patience=2))
    >>> history = trainer.fit(model, train_dataset, val_dataset)   # doctest: +SKIP

    ``train``/``val`` are torch Datasets (batched with the dataset's ``collate`` attribute
    when it has one; shuffled with a per-epoch seed so runs and resumes are reproducible),
    DataLoaders, or a :class:`~lstmkit.train.tbptt.StreamLoader` for truncated BPTT.
    Gradient clipping by global norm is on by default (``grad_clip=1.0``): LSTMs avoid
    vanishing gradients but can still explode. Keyword overrides of the config are accepted:
    ``Trainer(config, lr=1e-2)``.
    """

    def __init__(self, config: TrainerConfig | None = None, *, callbacks: Iterable[Callback] = (), **overrides: Any):
        config = config if config is not None else TrainerConfig()
        if not isinstance(config, TrainerConfig):
            raise ConfigError(f"config must be a TrainerConfig, got {type(config).__name__}")
        if overrides:
            names = {f.name for f in dataclasses.fields(TrainerConfig)}
            bad = [f"unknown TrainerConfig field {k!r}{suggest(k, names)}" for k in overrides if k not in names]
            if bad:
                raise ConfigError("; ".join(bad))
            config = dataclasses.replace(config, **overrides)
        self.config = config
        self.callbacks = list(callbacks)
        self.history: list[dict[str, Any]] = []
        self.global_step = 0
        self.epoch = 0  # completed epochs
        self.stop_reason: str | None = None
        self.rank, self.world_size = 0, 1

    # ------------------------------------------------------------------ public API
    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def checkpoint_dir(self) -> Path | None:
        return None if self.config.run_dir is None else Path(self.config.run_dir) / "checkpoints"

    def request_stop(self, reason: str) -> None:
        """Ask the loop to stop after the current step (callbacks use this)."""
        self.stop_reason = reason

    def resume(self, model: nn.Module, train: Any, val: Any = None) -> list[dict[str, Any]]:
        """Continue the run in ``run_dir`` from its latest checkpoint (same as ``fit(..., resume=True)``)."""
        return self.fit(model, train, val, resume=True)

    def fit(self, model: nn.Module, train: Any, val: Any = None, *, resume: bool = False) -> list[dict[str, Any]]:
        """Train ``model`` in place; return the history (one metrics dict per epoch).

        Whatever happens (a failed resume, a non-finite loss, an interrupt), fit leaves the
        process as it found it: deterministic-algorithm and cuDNN flags restored, progress
        and TensorBoard writers closed, a process group it created destroyed.
        """
        cfg = self.config
        if not callable(getattr(model, "loss", None)):
            raise ConfigError(f"model must define loss(batch) (a TaskModel), got {type(model).__name__}")
        if resume and cfg.run_dir is None:
            raise ConfigError("resume=True needs TrainerConfig.run_dir (where the checkpoints are)")
        self._owns_pg = False
        self._ddp = None
        self.progress: Progress | None = None
        self.tb: TensorBoard | None = None
        flags = _global_flags()
        self._signals = _Signals()
        try:
            with self._signals:
                pending_rng = self._setup(model, train, val, resume)
                for cb in self.callbacks:
                    cb.on_fit_start(self, model)
                if not self._finished:
                    if self.stop_reason is None:
                        self._loop(pending_rng)
                    self._finish()
            if self._owns_pg:
                import torch.distributed as dist

                dist.barrier()  # no rank tears the group down while another still uses it
        finally:
            _set_global_flags(flags)
            try:
                if self.progress is not None:
                    self.progress.close()
                if self.tb is not None:
                    self.tb.close()
            finally:
                # The DDP wrapper (its C++ reducer) must go before its process group; left alive it
                # was destroyed at interpreter exit against a dead group and aborted a rank now and then.
                self._ddp = None
                if self._owns_pg:
                    import torch.distributed as dist

                    if dist.is_initialized():
                        dist.destroy_process_group()
                    self._owns_pg = False
        for cb in self.callbacks:
            cb.on_fit_end(self, model)
        return self.history

    # ------------------------------------------------------------------ set-up
    def _setup(self, model: nn.Module, train: Any, val: Any, resume: bool) -> Any:
        """Device, seeds, flags, loaders, optimizer, loop state, resume, outputs; the RNG state to restore."""
        cfg = self.config
        self.device = self._setup_device()
        if cfg.seed is not None:
            seed_everything(cfg.seed)
        if cfg.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        self._sampler_seed = cfg.seed if cfg.seed is not None else random.SystemRandom().randrange(2**31)
        model.to(self.device)
        self.model = model
        if self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self._ddp = DDP(_LossModule(model), device_ids=ids)
        self.train_loader = self._loader(train, train=True)
        self.val_loader = None if val is None else self._loader(val, train=False)
        self.optimizer = self._optimizer(model)
        self._n_batches = self._len(self.train_loader)
        self.total_steps = self._total_steps()
        self.scheduler, self._step_scheduler = self._scheduler()
        # loop state
        self.history, self.global_step, self.epoch, self.stop_reason = [], 0, 0, None
        self._batches_done, self._loss_sum, self._loss_n = 0, 0.0, 0
        self._es = {"best": math.inf, "bad_epochs": 0, "best_epoch": None}
        self._best_state: dict[str, torch.Tensor] | None = None
        self._finished = False
        self._carry: Any = None  # TBPTT state carried between chunks
        # The current epoch's clock and sample count, kept in checkpoints so that an epoch split by
        # an interruption reports its whole time (time_s) and rate, not only the part after resuming.
        self._epoch_t0: float | None = None
        self._epoch_samples, self._epoch_resumed_s = 0, 0.0
        pending_rng = None
        if resume:
            pending_rng = self._restore()
        elif self.checkpoint_dir is not None and self.is_main and self.checkpoint_dir.exists():
            ckpt.clear_checkpoints(self.checkpoint_dir)  # a fresh fit starts the run over
        self.progress = Progress(quiet=cfg.quiet or not self.is_main, log_every=cfg.log_every)
        if cfg.run_dir is not None and self.is_main:
            Path(cfg.run_dir).mkdir(parents=True, exist_ok=True)
            atomic_write_json(Path(cfg.run_dir) / "trainer_config.json", cfg.to_dict())
            if cfg.tensorboard:
                self.tb = TensorBoard(Path(cfg.run_dir) / "tb")
        return pending_rng

    def _setup_device(self) -> torch.device:
        cfg = self.config
        want = cfg.device
        if want == "auto":
            want = "cuda" if torch.cuda.is_available() else "cpu"
        if want == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device='cuda' but no CUDA device is available; use device='cpu' or 'auto'")
        env_world = int(os.environ.get("WORLD_SIZE", "1"))
        import torch.distributed as dist

        if dist.is_available() and (dist.is_initialized() or env_world > 1):
            if not dist.is_initialized():
                dist.init_process_group(backend="nccl" if want == "cuda" else "gloo")
                self._owns_pg = True
            self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        else:
            self.rank, self.world_size = 0, 1
        if want == "cuda":
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            return torch.device("cuda", local)
        return torch.device("cpu")

    @staticmethod
    def _lengths(data: Any) -> Any:
        """Per-sample lengths for ``group_by_length``: ``data.lengths`` or the lengths of ``data.seqs``."""
        lengths = getattr(data, "lengths", None)
        if lengths is None and hasattr(data, "seqs"):
            lengths = [len(s) for s in data.seqs]
        if lengths is None:
            raise ConfigError(f"group_by_length needs a dataset with .lengths or .seqs, got {type(data).__name__}")
        return lengths

    def _loader(self, data: Any, *, train: bool) -> Any:
        cfg = self.config
        if train and cfg.group_by_length and (isinstance(data, (DataLoader, torch.utils.data.IterableDataset))
                                               or not isinstance(data, Dataset)):
            raise ConfigError(f"group_by_length needs a map-style torch Dataset to order, got {type(data).__name__} "
                              "(a DataLoader or stream makes its own batches)")
        if isinstance(data, DataLoader) or not isinstance(data, Dataset):
            if not hasattr(data, "__iter__"):
                what = "train" if train else "val"
                raise ConfigError(f"{what} must be a torch Dataset, DataLoader or StreamLoader, got {type(data).__name__}")
            return data
        if isinstance(data, torch.utils.data.IterableDataset):
            return DataLoader(data, batch_size=cfg.batch_size, collate_fn=getattr(data, "collate", None))
        base = DistributedSampler(
            data,
            num_replicas=self.world_size,
            rank=self.rank,
            shuffle=cfg.shuffle and train,
            seed=self._sampler_seed,
            drop_last=False,
        )
        self._loader_gen = torch.Generator()
        return DataLoader(
            data,
            batch_size=cfg.batch_size,
            sampler=_ResumableSampler(base, self._lengths(data) if cfg.group_by_length and train else None,
                                      cfg.batch_size),
            collate_fn=getattr(data, "collate", None),
            drop_last=cfg.drop_last and train,
            num_workers=cfg.num_workers,
            generator=self._loader_gen,
            pin_memory=self.device.type == "cuda",
        )

    @staticmethod
    def _len(loader: Any) -> int | None:
        try:
            return len(loader)
        except TypeError:
            return None

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        cfg = self.config
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ConfigError(f"{type(model).__name__} has no trainable parameters")
        if cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
        if cfg.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)

    def _total_steps(self) -> int | None:
        cfg = self.config
        per_epoch = None if self._n_batches is None else math.ceil(self._n_batches / cfg.accumulate)
        total = None if per_epoch is None else per_epoch * cfg.max_epochs
        if cfg.max_steps is not None:
            total = cfg.max_steps if total is None else min(total, cfg.max_steps)
        return total

    def _scheduler(self) -> tuple[Any, bool]:
        cfg = self.config
        if cfg.schedule == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience
            )
            return sched, False
        if cfg.schedule == "constant" and cfg.warmup_steps == 0:
            return None, False
        total = self.total_steps
        if cfg.schedule == "cosine" and total is None:
            raise ConfigError("schedule='cosine' needs max_steps when the training data has no length")
        warm, floor = cfg.warmup_steps, cfg.min_lr_ratio
        cosine = cfg.schedule == "cosine"

        def factor(step: int) -> float:
            if warm and step < warm:
                return (step + 1) / warm
            if not cosine:
                return 1.0
            progress = min(1.0, (step - warm) / max(1, total - warm))
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

        return torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor), True

    # ------------------------------------------------------------------ the loop
    def _loop(self, pending_rng: Any) -> None:
        cfg = self.config
        model, opt, device = self.model, self.optimizer, self.device
        params = [p for g in opt.param_groups for p in g["params"]]
        on_cpu = device.type == "cpu"
        autocast = (
            torch.autocast(device_type=device.type, dtype=torch.bfloat16) if cfg.use_bf16 else nullcontext()
        )
        loss_fn = self._ddp if self._ddp is not None else None
        deadline = None if cfg.max_minutes is None else time.perf_counter() + cfg.max_minutes * 60
        t_start = time.perf_counter()
        self.progress.start(self.total_steps, cfg.max_epochs)
        model.train()
        stop = False
        while self.epoch < cfg.max_epochs and not stop:
            loader = self.train_loader
            if hasattr(loader, "sampler") and hasattr(loader.sampler, "set_epoch"):
                loader.sampler.set_epoch(self.epoch)
            elif hasattr(loader, "set_epoch"):
                loader.set_epoch(self.epoch)
            if hasattr(getattr(loader, "dataset", None), "set_epoch"):
                loader.dataset.set_epoch(self.epoch)  # datasets that vary per epoch (seeded, resumable)
            skip = self._batches_done
            sampler = getattr(loader, "sampler", None)
            if isinstance(sampler, _ResumableSampler):
                sampler.start = skip * cfg.batch_size
                self._loader_gen.manual_seed(self._sampler_seed + self.epoch)
                it = iter(loader)
            else:
                it = itertools.islice(iter(loader), skip, None)
            if pending_rng is not None:
                ckpt.set_rng_states(*pending_rng)
                pending_rng = None
            n_batches = self._n_batches
            carry, self._carry = self._carry, None  # TBPTT state (restored mid-epoch on resume)
            t_epoch = self._epoch_t0 = time.perf_counter() - self._epoch_resumed_s
            self._epoch_resumed_s = 0.0
            for batch in it:
                if not on_cpu:
                    batch = _to_device(batch, device)
                self._batches_done += 1
                last_of_group = self._batches_done % cfg.accumulate == 0 or self._batches_done == n_batches
                sync = self._ddp.no_sync() if (self._ddp is not None and not last_of_group) else nullcontext()
                with sync:
                    with autocast:
                        if isinstance(batch, StreamChunk):
                            carry = reset_state(carry, batch.reset)
                            if loss_fn is not None:
                                loss, carry = loss_fn(batch, carry, stream=True)
                            else:
                                loss, carry = model.stream_loss(batch, carry)
                            carry = detach_state(carry)
                            self._carry = carry
                        elif loss_fn is not None:
                            loss = loss_fn(batch)
                        else:
                            loss = model.loss(batch)
                    value = float(loss.detach())
                    bad = not math.isfinite(value)
                    if self._ddp is not None:
                        bad = self._any(bad)  # every rank must stop together, or the others hang
                    if bad:
                        self._non_finite("loss", value)
                    (loss / cfg.accumulate if cfg.accumulate > 1 else loss).backward()
                n = _batch_size(batch)
                self._loss_sum += value * n
                self._loss_n += n
                self._epoch_samples += n
                if not last_of_group:
                    continue
                if cfg.grad_clip is not None:
                    norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                    if not math.isfinite(float(norm)):
                        self._non_finite("gradient norm", float(norm))
                opt.step()
                opt.zero_grad(set_to_none=True)
                if self._step_scheduler:
                    self.scheduler.step()
                self.global_step += 1
                rate = self._epoch_samples * self.world_size / max(1e-9, time.perf_counter() - t_epoch)
                self.progress.step(epoch=self.epoch + 1, step=self.global_step, loss=value, rate=rate)
                for cb in self.callbacks:
                    cb.on_step_end(self, model, value)
                if self._signals.caught is not None:
                    self._interrupted()
                if self.stop_reason is not None:
                    stop = True
                elif cfg.max_steps is not None and self.global_step >= cfg.max_steps:
                    self.stop_reason, stop = f"max_steps={cfg.max_steps} reached", True
                elif deadline is not None and self._any(time.perf_counter() >= deadline):
                    self.stop_reason, stop = f"max_minutes={cfg.max_minutes} reached", True
                if stop:
                    break
                if cfg.checkpoint_every and self.global_step % cfg.checkpoint_every == 0:
                    if n_batches is None or self._batches_done < n_batches:
                        self._save_checkpoint()
            self._carry = None
            samples, self._epoch_samples, self._epoch_t0 = self._epoch_samples, 0, None
            self._end_epoch(time.perf_counter() - t_epoch, samples)
            if self.stop_reason is not None:
                stop = True
        self._elapsed = time.perf_counter() - t_start

    def _interrupted(self) -> None:
        """Checkpoint (with a run_dir) and raise TrainingInterrupted; called after a step."""
        self._save_checkpoint()
        path = None
        if self.checkpoint_dir is not None and self.is_main:
            path = ckpt.latest_checkpoint(self.checkpoint_dir)
        raise TrainingInterrupted(epoch=self.epoch + 1, step=self.global_step, signal=self._signals.caught,
                                  checkpoint=path)

    def _any(self, flag: bool) -> bool:
        """Make a per-rank decision collective (max over ranks) so every rank stops together."""
        if self._ddp is None:
            return flag
        import torch.distributed as dist

        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def _non_finite(self, what: str, value: float) -> None:
        cfg = self.config
        where = f"epoch {self.epoch + 1}, step {self.global_step + 1} (batch {self._batches_done} of the epoch)"
        keep = ""
        if self.checkpoint_dir is not None and (self.checkpoint_dir / ckpt.LATEST).exists():
            keep = f"; the last good checkpoint is kept in {str(self.checkpoint_dir)!r}"
        clip = f"tighten gradient clipping (grad_clip={cfg.grad_clip})" if cfg.grad_clip else "enable gradient clipping (grad_clip=1.0)"
        raise NonFiniteLossError(
            f"non-finite {what} ({value}) at {where}: lower the learning rate (lr={cfg.lr:g}), {clip}, "
            f"or check the inputs for NaN/inf{keep}"
        )

    def _end_epoch(self, seconds: float, samples: int) -> None:
        cfg = self.config
        train_loss = self._reduce({"loss": (self._loss_sum, self._loss_n)}).get("loss", math.nan)
        row: dict[str, Any] = {"epoch": self.epoch + 1, "step": self.global_step, "train_loss": train_loss}
        if self.val_loader is not None:
            for k, v in self._evaluate(self.val_loader).items():
                row[f"val_{k}"] = v
        row["lr"] = self.optimizer.param_groups[0]["lr"]
        row["time_s"] = round(seconds, 4)
        row["samples_per_s"] = round(samples * self.world_size / max(seconds, 1e-9), 2)
        monitored = row.get(f"val_{cfg.monitor}", row["train_loss"] if self.val_loader is None else None)
        if monitored is None:
            raise ConfigError(
                f"monitor={cfg.monitor!r} is not among the validation metrics "
                f"{sorted(k[4:] for k in row if k.startswith('val_'))}"
            )
        if cfg.schedule == "plateau":
            self.scheduler.step(monitored)
        if monitored < self._es["best"] - cfg.min_delta:
            self._es.update(best=float(monitored), bad_epochs=0, best_epoch=self.epoch + 1)
            if cfg.patience is not None:
                self._best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self._es["bad_epochs"] += 1
            if cfg.patience is not None and self._es["bad_epochs"] > cfg.patience:
                self.stop_reason = f"early stopping: no improvement in {cfg.monitor} for {cfg.patience} epochs"
        self.history.append(row)
        self.epoch += 1
        self._batches_done, self._loss_sum, self._loss_n = 0, 0.0, 0
        self.progress.epoch(row)
        if self.tb is not None:
            self.tb.epoch(row)
        for cb in self.callbacks:
            cb.on_epoch_end(self, self.model, row)
        if cfg.run_dir is not None and self.is_main:
            write_metrics_csv(Path(cfg.run_dir) / "metrics.csv", self.history)
        self._save_checkpoint()

    def _finish(self) -> None:
        cfg = self.config
        if cfg.patience is not None and self._best_state is not None:
            self.model.load_state_dict(self._best_state)
            self.progress.message(f"restored best weights from epoch {self._es['best_epoch']}")
        if self.stop_reason:
            self.progress.message(f"stopped: {self.stop_reason}")
        self.progress.message(self.summary())
        self._finished = True
        self._save_checkpoint()
        if cfg.run_dir is not None and cfg.save_model and self.is_main:
            if is_registered(self.model):
                save_model(self.model, Path(cfg.run_dir) / "model", overwrite=True)  # the run folder is lstmkit's own

    def summary(self) -> str:
        """One line: epochs run, time, and the best monitored value with its epoch."""
        cfg = self.config
        key = f"val_{cfg.monitor}" if self.val_loader is not None else "train_loss"
        seconds = sum(row.get("time_s", 0.0) for row in self.history)
        line = f"trained {len(self.history)} epochs ({self.global_step} steps) in {seconds:.1f} s"
        values = [(row[key], row["epoch"]) for row in self.history if key in row]
        if values:
            best, epoch = min(values)
            line += f"; best {key} {best:.4g} at epoch {epoch}"
        return line

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(self, model: nn.Module, data: Any) -> dict[str, float]:
        """Average ``model.metrics`` over ``data`` (Dataset, DataLoader or StreamLoader)."""
        if not hasattr(self, "device"):
            self.device = next(model.parameters()).device
            self._ddp = None
        if isinstance(data, Dataset) and not isinstance(data, torch.utils.data.IterableDataset):
            data = DataLoader(data, batch_size=self.config.batch_size, collate_fn=getattr(data, "collate", None))
        return self._evaluate(data, model)

    @torch.no_grad()
    def _evaluate(self, loader: Any, model: nn.Module | None = None) -> dict[str, float]:
        model = self.model if model is None else model
        device = self.device
        was_training = model.training
        model.eval()
        sums: dict[str, tuple[float, int]] = {}
        carry = None
        ctx = torch.autocast(device_type=device.type, dtype=torch.bfloat16) if self.config.use_bf16 else nullcontext()
        with ctx:
            for batch in loader:
                if device.type != "cpu":
                    batch = _to_device(batch, device)
                if isinstance(batch, StreamChunk):
                    carry = reset_state(carry, batch.reset)
                    loss, carry = model.stream_loss(batch, carry)
                    m = {"loss": float(loss)}
                else:
                    metrics = getattr(model, "metrics", None)
                    m = dict(metrics(batch)) if metrics is not None else {}
                    if "loss" not in m:
                        m["loss"] = float(model.loss(batch))
                n = _batch_size(batch)
                for k, v in m.items():
                    s, c = sums.get(k, (0.0, 0))
                    sums[k] = (s + float(v) * n, c + n)
        model.train(was_training)
        return self._reduce(sums)

    def _reduce(self, sums: dict[str, tuple[float, int]]) -> dict[str, float]:
        """Weighted means, averaged over all ranks under torch.distributed."""
        import torch.distributed as dist

        keys = sorted(sums)
        if self._ddp is not None and keys and dist.is_initialized():
            t = torch.tensor([x for k in keys for x in sums[k]], dtype=torch.float64, device=self.device)
            dist.all_reduce(t)
            vals = t.tolist()
            sums = {k: (vals[2 * i], vals[2 * i + 1]) for i, k in enumerate(keys)}
        return {k: (s / c if c else math.nan) for k, (s, c) in sums.items()}

    # ------------------------------------------------------------------ checkpoints
    def _save_checkpoint(self) -> None:
        cfg = self.config
        if cfg.run_dir is None or not self.is_main:
            return
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        opt_t, opt_meta = ckpt.flatten_optimizer_state(self.optimizer.state_dict())
        tensors.update(opt_t)
        if self._best_state is not None:
            tensors.update({f"best.{k}": v for k, v in self._best_state.items()})
        rng_t, rng_meta = ckpt.get_rng_states()
        tensors.update(rng_t)
        carry_kind = None
        if self._carry is not None:  # any nesting of lists/tuples of tensors: (h, c), or a list of (h, c) per layer
            flat: list[torch.Tensor] = []
            carry_kind = {"tree": _flatten_state(self._carry, flat)}
            tensors.update({f"carry.{i}": t for i, t in enumerate(flat)})
        state = {
            "epoch": self.epoch,
            "batches_done": self._batches_done,
            "global_step": self.global_step,
            "loss_sum": self._loss_sum,
            "loss_n": self._loss_n,
            "history": self.history,
            "early_stopping": self._es,
            "has_best": self._best_state is not None,
            "stop_reason": self.stop_reason,
            "finished": self._finished,
            "sampler_seed": self._sampler_seed,
            "optimizer": opt_meta,
            "scheduler": None if self.scheduler is None else ckpt._jsonable(self.scheduler.state_dict()),
            "rng": rng_meta,
            "trainer_config": cfg.to_dict(),
            "world_size": self.world_size,
            "carry": carry_kind,
            # mid-epoch only (0 between epochs): how long the epoch has run, and its samples so far
            "epoch_seconds": (time.perf_counter() - self._epoch_t0) if self._epoch_t0 is not None and self._batches_done else 0.0,
            "epoch_samples": self._epoch_samples if self._batches_done else 0,
        }
        name = f"step-{self.global_step:08d}" + ("-final" if self._finished else "")
        ckpt.save_checkpoint(self.checkpoint_dir, name, tensors, state, model=self.model, keep=cfg.keep_checkpoints)

    def _restore(self) -> Any:
        path = ckpt.latest_checkpoint(self.checkpoint_dir)
        if path is None:
            return None
        tensors, state = ckpt.load_checkpoint(path)
        saved = state.get("trainer_config", {})
        changed = [
            f"{k} (checkpoint {saved[k]!r}, now {getattr(self.config, k)!r})"
            for k in _TRAJECTORY_KEYS
            if k in saved and saved[k] != getattr(self.config, k)
        ]
        if changed or state.get("world_size", 1) != self.world_size:
            if state.get("world_size", 1) != self.world_size:
                changed.append(f"world_size (checkpoint {state.get('world_size', 1)}, now {self.world_size})")
            raise ConfigError(
                f"cannot resume {str(path)!r}: settings that fix the data order differ: " + "; ".join(changed)
                + ". Resume with the same values, or start a fresh run (resume=False)."
            )
        load_weights(self.model, {k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        self.optimizer.load_state_dict(ckpt.unflatten_optimizer_state(tensors, state["optimizer"]))
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if state["has_best"]:
            self._best_state = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        self.epoch, self._batches_done = state["epoch"], state["batches_done"]
        self.global_step = state["global_step"]
        self._loss_sum, self._loss_n = state["loss_sum"], state["loss_n"]
        self.history = state["history"]
        self._es = state["early_stopping"]
        self.stop_reason = state["stop_reason"]
        self._finished = state["finished"]
        if self._finished and self._budget_extended():
            # A run that stopped on a budget goes on when resumed with room to spare: max_minutes is
            # a budget per invocation, max_steps and max_epochs may have been raised. The epoch that
            # a max_steps/max_minutes stop cut short was closed (validated, in the history); the run
            # continues with the next epoch. Early stopping stays final.
            self._finished, self.stop_reason = False, None
        self._sampler_seed = state["sampler_seed"]
        self._epoch_resumed_s = float(state.get("epoch_seconds", 0.0))  # absent in older checkpoints
        self._epoch_samples = int(state.get("epoch_samples", 0))
        kind = state.get("carry")
        if kind == "tensor":  # checkpoints written before nested states were supported
            self._carry = tensors["carry.0"].to(self.device)
        elif isinstance(kind, dict):
            flat = [tensors[f"carry.{i}"].to(self.device) for i in range(len([k for k in tensors if k.startswith("carry.")]))]
            self._carry = _unflatten_state(kind["tree"], iter(flat))
        elif kind is not None:
            self._carry = tuple(tensors[f"carry.{i}"].to(self.device) for i in range(kind))
        sampler = getattr(self.train_loader, "sampler", None)
        if isinstance(sampler, _ResumableSampler):
            sampler.base.seed = self._sampler_seed
        if self._finished and self._best_state is not None and self.config.patience is not None:
            self.model.load_state_dict(self._best_state)
        return ({k: v for k, v in tensors.items() if k.startswith("rng.")}, state["rng"])


    def _budget_extended(self) -> bool:
        """Whether a finished run's stop was a budget that the current config leaves room in."""
        cfg, reason = self.config, self.stop_reason
        if reason is None:  # ran all its epochs
            return self.epoch < cfg.max_epochs and (cfg.max_steps is None or self.global_step < cfg.max_steps)
        if reason.startswith(("max_minutes=", "max_steps=")):
            return self.epoch < cfg.max_epochs and (cfg.max_steps is None or self.global_step < cfg.max_steps)
        return False


def _flatten_state(state: Any, out: list[torch.Tensor]) -> Any:
    """JSON spec of a nested list/tuple of tensors; the tensors are appended to ``out`` in order."""
    if torch.is_tensor(state):
        out.append(state)
        return "tensor"
    if isinstance(state, (list, tuple)):
        return {"type": "list" if isinstance(state, list) else "tuple", "items": [_flatten_state(s, out) for s in state]}
    raise TypeError(f"a carried TBPTT state must be tensors in lists/tuples, got {type(state).__name__}")


def _unflatten_state(spec: Any, tensors: Any) -> Any:
    """Inverse of :func:`_flatten_state` (``tensors``: an iterator over the flat tensors)."""
    if spec == "tensor":
        return next(tensors)
    items = [_unflatten_state(s, tensors) for s in spec["items"]]
    return items if spec["type"] == "list" else tuple(items)
