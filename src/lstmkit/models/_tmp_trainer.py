"""TEMPORARY stand-in for lstmkit.train (issue 4) until that branch is merged. Not public."""

from __future__ import annotations

import copy
import dataclasses
import random

import numpy as np
import torch


@dataclasses.dataclass
class TrainerConfig:
    max_epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    patience: int | None = None
    seed: int | None = 0
    quiet: bool = True
    run_dir: str | None = None

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**d)


class Trainer:
    def __init__(self, config):
        self.config = config

    def fit(self, model, train, val=None):
        c = self.config
        if c.seed is not None:
            random.seed(c.seed), np.random.seed(c.seed), torch.manual_seed(c.seed)
        g = torch.Generator().manual_seed(c.seed or 0)
        dl = torch.utils.data.DataLoader(train, batch_size=c.batch_size, shuffle=True, collate_fn=train.collate, generator=g)
        vdl = None if val is None else torch.utils.data.DataLoader(val, batch_size=256, collate_fn=val.collate)
        opt = torch.optim.Adam(model.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        best, best_state, bad, hist = float("inf"), None, 0, []
        for ep in range(c.max_epochs):
            model.train()
            for b in dl:
                opt.zero_grad()
                loss = model.loss(b)
                loss.backward()
                if c.grad_clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip)
                opt.step()
            rec = {"epoch": ep, "train_loss": float(loss.detach())}
            if vdl is not None:
                model.eval()
                ms = [model.metrics(b) for b in vdl]
                vl = float(np.mean([m["loss"] for m in ms]))
                rec["val_loss"] = vl
                if vl < best:
                    best, best_state, bad = vl, copy.deepcopy(model.state_dict()), 0
                else:
                    bad += 1
                if c.patience is not None and bad > c.patience:
                    break
            hist.append(rec)
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        self.history = hist
        return hist
