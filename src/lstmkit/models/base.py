"""The contract between task networks and the trainer.

A *task network* is an ``nn.Module`` subclass of :class:`TaskModel`: a config dataclass
(``config_class``), ``forward``, and ``loss(batch)`` (``metrics(batch)`` optional); the
trainer knows nothing else about it. Task networks are registered with
:func:`lstmkit.persist.register`, so a trainer's ``run_dir/model`` loads with
:func:`lstmkit.load`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from lstmkit.persist import config_from_dict, load_weights, save_model

__all__ = ["TaskModel"]


class TaskModel(nn.Module):
    """Base class of task networks.

    Subclasses set ``config_class`` (a dataclass), build layers in ``__init__(config)``
    and implement ``loss(batch) -> scalar tensor`` (mean over the batch). ``metrics``
    (validation) defaults to the loss. The trainer calls nothing else.
    """

    config_class: ClassVar[type]

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    def loss(self, batch: Any) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement loss(batch)")

    @torch.no_grad()
    def metrics(self, batch: Any) -> dict[str, float]:
        """Validation metrics for one batch (averaged over batches by the trainer)."""
        return {"loss": float(self.loss(batch))}

    def get_config(self) -> dict[str, Any]:
        return dataclasses.asdict(self.config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TaskModel":
        return cls(config_from_dict(cls.config_class, config))

    # --- persistence (lstmkit.persist) -------------------------------------------------
    def _saved_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
        return self.get_config(), dict(self.state_dict()), {}

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict[str, torch.Tensor], state: dict) -> "TaskModel":
        model = cls.from_config(config)
        load_weights(model, tensors)
        return model

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the network to directory ``path`` (see :func:`lstmkit.persist.save_model`)."""
        return save_model(self, path, overwrite=overwrite)
