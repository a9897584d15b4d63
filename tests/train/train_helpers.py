import dataclasses

import torch
from torch import nn
from torch.utils.data import TensorDataset

from lstmkit.models.base import TaskModel
from lstmkit.persist import register


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


@dataclasses.dataclass
class TinyLSTMConfig:
    input_size: int = 3  # features per step
    hidden_size: int = 8  # LSTM width
    dropout: float = 0.2  # dropout on the last hidden state (exercises the RNG on resume)


@register
class TinyLSTMRegressor(TaskModel):
    """Many-to-one LSTM regressor with dropout, for resume tests."""

    config_class = TinyLSTMConfig

    def __init__(self, config: TinyLSTMConfig) -> None:
        super().__init__(config)
        self.lstm = nn.LSTM(config.input_size, config.hidden_size, batch_first=True)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, 1)

    def forward(self, x):
        out, _ = self.lstm(x)  # (B, T, H)
        return self.head(self.drop(out[:, -1]))  # (B, 1)

    def loss(self, batch):
        x, y = batch
        return nn.functional.mse_loss(self(x), y)


def sequence_data(n=128, t=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, t, 3, generator=g)
    y = x[:, :4, 0].sum(1, keepdim=True) * 0.5
    return TensorDataset(x, y)


def resume_config(run_dir, **overrides):
    from lstmkit.train import TrainerConfig

    settings = dict(
        max_epochs=3, batch_size=16, lr=5e-3, schedule="cosine", warmup_steps=3, patience=5,
        checkpoint_every=3, run_dir=str(run_dir), seed=11, keep_checkpoints=2,
    )
    return TrainerConfig(**{**settings, **overrides})


def resume_run(run_dir, resume=False, **overrides):
    """The run of the resume test: 3 epochs x 8 steps, checkpoints every 3 steps and per epoch."""
    from lstmkit.train import Trainer

    torch.manual_seed(5)
    model = TinyLSTMRegressor(TinyLSTMConfig())
    trainer = Trainer(resume_config(run_dir, **overrides))
    trainer.fit(model, sequence_data(128), sequence_data(32, seed=1), resume=resume)
    return model, trainer
