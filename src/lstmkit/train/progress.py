"""Progress output: a rich bar on a terminal, plain log lines otherwise, nothing when quiet.

Also the per-epoch ``metrics.csv`` (rewritten atomically) and optional TensorBoard events.
"""

from __future__ import annotations

import csv
import io
import math
import sys
import time
from pathlib import Path
from typing import Any

from lstmkit.utils.io import atomic_write_bytes

__all__ = ["Progress", "write_metrics_csv"]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.4g}"
    return str(v)


class Progress:
    """Reports training progress. ``mode`` is "rich", "plain" or "quiet"."""

    def __init__(self, *, quiet: bool, log_every: int, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if quiet:
            self.mode = "quiet"
        elif getattr(self.stream, "isatty", lambda: False)():
            self.mode = "rich"
        else:
            self.mode = "plain"
        self.log_every = log_every
        self._bar = None
        self._task = None
        self._last = 0.0
        self._extra = ""
        self._fields: dict[str, Any] = {}
        self._of = ""

    # lifecycle ------------------------------------------------------------------------
    def start(self, total_steps: int | None, total_epochs: int | None = None) -> None:
        self._of = f"/{total_epochs}" if total_epochs else ""
        if self.mode != "rich":
            return
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        # fits 80 columns: "epoch 3/300 ━━━━━━━━━━ loss 0.1234 val_loss 0.2345 eta 0:01:02"
        self._bar = RichProgress(
            TextColumn("[bold]epoch {task.fields[epoch]}"),
            BarColumn(bar_width=16),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[extra]}"),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(file=self.stream),
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task("train", total=total_steps, epoch=0, loss="-", extra="", rate="-")

    def step(self, *, epoch: int, step: int, loss: float | None, rate: float) -> None:
        """Called after every optimizer step; cheap unless something is due to be shown."""
        if self.mode == "quiet":
            return
        if self.mode == "rich":
            self._fields = dict(completed=step, epoch=f"{epoch}{self._of}", loss="-" if loss is None else _fmt(loss),
                                rate=f"{rate:,.0f}")
            now = time.perf_counter()
            if now - self._last < 0.1:  # rich redraws on its own clock; keep per-step cost tiny
                self._bar.update(self._task, completed=step)
                return
            self._last = now
            self._bar.update(self._task, extra=self._extra, **self._fields)
        elif self.log_every and step % self.log_every == 0:
            msg = f"epoch {epoch} step {step}"
            if loss is not None:
                msg += f" loss {_fmt(loss)}"
            print(f"{msg} {rate:,.0f} samples/s", file=self.stream, flush=True)

    def epoch(self, row: dict[str, Any]) -> None:
        if self.mode == "quiet":
            return
        shown = {k: v for k, v in row.items() if k.startswith("val_")}
        self._extra = " ".join(f"{k} {_fmt(v)}" for k, v in list(shown.items())[:2])  # two fit in 80 columns
        if self.mode == "rich":
            self._bar.update(self._task, extra=self._extra, **self._fields)
        else:
            print(" ".join(f"{k} {_fmt(v)}" for k, v in row.items()), file=self.stream, flush=True)

    def message(self, text: str) -> None:
        if self.mode == "quiet":
            return
        if self.mode == "rich":
            self._bar.console.print(text)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def write_metrics_csv(path: str | Path, history: list[dict[str, Any]]) -> None:
    """Write the whole history as CSV (one row per epoch), atomically."""
    columns: list[str] = []
    for row in history:
        for k in row:
            if k not in columns:
                columns.append(k)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for row in history:
        w.writerow(row)
    atomic_write_bytes(path, buf.getvalue().encode())


class TensorBoard:
    """TensorBoard scalars when ``torch.utils.tensorboard`` works (tensorboard installed)."""

    def __init__(self, log_dir: Path) -> None:
        self.writer = None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception:  # tensorboard not installed: silently skip (documented)
            return
        self.writer = SummaryWriter(log_dir=str(log_dir))

    def epoch(self, row: dict[str, Any]) -> None:
        if self.writer is None:
            return
        step = row.get("step", row.get("epoch", 0))
        for k, v in row.items():
            if k not in ("epoch", "step") and isinstance(v, (int, float)):
                self.writer.add_scalar(k, v, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
