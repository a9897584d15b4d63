"""Training: a task-agnostic :class:`Trainer`, truncated BPTT, checkpoints for resume.

``from lstmkit.train import Trainer, TrainerConfig``; the model supplies ``loss(batch)``.
"""

from lstmkit.train.config import TrainerConfig
from lstmkit.train.tbptt import StreamChunk, StreamLoader, detach_state, reset_state
from lstmkit.train.trainer import Callback, NonFiniteLossError, Trainer, TrainingInterrupted

__all__ = [
    "Trainer",
    "TrainerConfig",
    "Callback",
    "NonFiniteLossError",
    "TrainingInterrupted",
    "StreamLoader",
    "StreamChunk",
    "detach_state",
    "reset_state",
]
