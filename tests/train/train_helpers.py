import dataclasses

import torch
from torch import nn
from torch.utils.data import TensorDataset

from lstmkit.models.base import TaskModel, register


@dataclasses.dataclass
class TinyRegConfig:
    in_features: int = 4  # input width
    hidden: int = 8  # hidden width


@register
class TinyRegressor(TaskModel):
    """A two-layer MLP regressor: small enough for many seeded training runs in tests."""

    config_class = TinyRegConfig

    def __init__(self, config: TinyRegConfig) -> None:
        super().__init__(config)
        self.net = nn.Sequential(nn.Linear(config.in_features, config.hidden), nn.Tanh(), nn.Linear(config.hidden, 1))

    def forward(self, x):
        return self.net(x)

    def loss(self, batch):
        x, y = batch
        return nn.functional.mse_loss(self(x), y)

    @torch.no_grad()
    def metrics(self, batch):
        x, y = batch
        pred = self(x)
        return {"loss": float(nn.functional.mse_loss(pred, y)), "mae": float((pred - y).abs().mean())}


def regression_data(n=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = torch.sin(x @ torch.tensor([[1.0], [-0.5], [0.3], [0.8]]))
    return TensorDataset(x, y)
