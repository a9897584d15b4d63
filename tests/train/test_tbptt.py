"""Truncated BPTT: row order, state carry and resets; gradients equal full BPTT when a chunk covers the stream."""

import dataclasses

import pytest
import torch
from torch import nn

from lstmkit.errors import ShapeError
from lstmkit.models.base import TaskModel
from lstmkit.train import StreamLoader, Trainer, TrainerConfig, reset_state


@dataclasses.dataclass
class StreamConfig:
    input_size: int = 3  # F
    hidden_size: int = 6  # H


class StreamRegressor(TaskModel):
    """Many-to-many LSTM for streams: predicts y_t from x_1..x_t."""

    config_class = StreamConfig

    def __init__(self, config):
        super().__init__(config)
        self.lstm = nn.LSTM(config.input_size, config.hidden_size, batch_first=True)
        self.head = nn.Linear(config.hidden_size, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)  # (B, K, H)
        return self.head(out).squeeze(-1), state  # (B, K)

    def stream_loss(self, chunk, state):
        pred, state = self(chunk.x, state)
        err = (pred - chunk.y) ** 2 * chunk.mask
        return err.sum() / chunk.mask.sum(), state

    def loss(self, batch):  # whole sequences, for the non-streaming path
        x, y = batch
        return ((self(x)[0] - y) ** 2).mean()


def _streams(lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for t in lengths:
        x = torch.randn(t, 3, generator=g)
        out.append((x, torch.cumsum(x[:, 0], 0) * 0.1))
    return out


def _model():
    torch.manual_seed(0)
    return StreamRegressor(StreamConfig()).double()


def test_loader_rows_continue_their_streams_and_reset_at_stream_ends():
    streams = _streams([7, 12, 5, 9, 3])
    chunks = list(StreamLoader(streams, batch_size=2, chunk_length=4))
    # row 0 gets streams 0, 2, 4 (chunks 2 + 2 + 1), row 1 gets 1, 3 (3 + 3): 6 chunks
    assert len(chunks) == 6
    assert [c.reset.tolist() for c in chunks] == [[True, True], [False, False], [True, False], [False, True], [True, False], [True, False]]
    assert torch.equal(chunks[1].x[0, :3], streams[0][0][4:7]) and chunks[1].mask[0].tolist() == [True, True, True, False]
    assert torch.equal(chunks[2].x[1], streams[1][0][8:12])
    assert torch.equal(chunks[4].x[0, :3], streams[4][0]) and chunks[5].mask[0].sum() == 0  # row 0 idle at the end
    with pytest.raises(ShapeError, match=r"streams\[0\].x must be \(T, F\)"):
        StreamLoader([(torch.zeros(3), torch.zeros(3))], batch_size=1, chunk_length=2)


def test_reset_state_zeroes_only_flagged_rows():
    h = torch.ones(2, 3, 4)  # (L*D, B, H)
    h2, c2 = reset_state((h, h * 2), torch.tensor([False, True, False]))
    assert h2[:, 1].abs().sum() == 0 and torch.equal(h2[:, 0], h[:, 0]) and torch.equal(c2[:, 2], 2 * h[:, 2])


def test_chunked_evaluation_equals_independent_full_streams():
    """State carried across chunks in the right rows and reset at stream ends == each stream run alone."""
    streams = [(x.double(), y.double()) for x, y in _streams([7, 12, 5, 9, 3])]
    model = _model()
    with torch.no_grad():
        errs = [((model(x[None])[0][0] - y) ** 2) for x, y in streams]
    expected = torch.cat(errs).mean()
    trainer = Trainer(TrainerConfig(max_epochs=1))
    got = trainer.evaluate(model, StreamLoader(streams, batch_size=2, chunk_length=4))["loss"]
    assert got == pytest.approx(float(expected), rel=1e-10)


def test_tbptt_gradients_equal_full_bptt_when_chunk_covers_stream():
    streams = [(x.double(), y.double()) for x, y in _streams([10, 10, 10, 10])]
    model = _model()
    ref = _model()
    # full BPTT by hand: one SGD step on the mean squared error over all streams
    x = torch.stack([s[0] for s in streams])
    y = torch.stack([s[1] for s in streams])
    loss = ((ref(x)[0] - y) ** 2).mean()
    grads = torch.autograd.grad(loss, list(ref.parameters()))
    lr = 0.1
    cfg = TrainerConfig(max_epochs=1, optimizer="sgd", momentum=0.0, lr=lr, grad_clip=None, device="cpu")
    Trainer(cfg).fit(model, StreamLoader(streams, batch_size=4, chunk_length=10))
    for p, p0, g in zip(model.parameters(), ref.parameters(), grads):
        torch.testing.assert_close(p.detach(), p0.detach() - lr * g, rtol=1e-12, atol=1e-12)


def test_tbptt_truncates_gradients_at_chunk_borders():
    """With chunks shorter than the stream, the first chunk's step ignores the later chunk (detached carry)."""
    streams = [(x.double(), y.double()) for x, y in _streams([8, 8])]
    model = _model()
    ref = _model()
    x = torch.stack([s[0] for s in streams])
    y = torch.stack([s[1] for s in streams])
    # expected: SGD step on chunk 1 (steps 0-3), then on chunk 2 from the detached state, with new weights
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    pred, state = ref(x[:, :4])
    ((pred - y[:, :4]) ** 2).mean().backward()
    opt.step()
    opt.zero_grad()
    pred, _ = ref(x[:, 4:], tuple(s.detach() for s in state))
    ((pred - y[:, 4:]) ** 2).mean().backward()
    opt.step()
    cfg = TrainerConfig(max_epochs=1, optimizer="sgd", momentum=0.0, lr=0.1, grad_clip=None)
    Trainer(cfg).fit(model, StreamLoader(streams, batch_size=2, chunk_length=4))
    for p, q in zip(model.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)


def test_resume_mid_stream_restores_the_carried_state(tmp_path):
    """A crash between chunks: resume continues from the checkpointed (h, c), same weights."""
    from lstmkit.train import Callback

    streams = [(x.double(), y.double()) for x, y in _streams([12, 12, 8, 12])]
    cfg = TrainerConfig(max_epochs=2, optimizer="sgd", lr=0.05, run_dir=str(tmp_path / "run"), checkpoint_every=1)

    def loader():
        return StreamLoader(streams, batch_size=2, chunk_length=4)

    ref = _model()
    Trainer(cfg).fit(ref, loader())

    class Crash(Callback):
        def on_step_end(self, trainer, model, loss):
            if trainer.global_step == 3:  # mid-stream: rows carry state from chunk 2 into chunk 3
                raise KeyboardInterrupt

    model = _model()
    with pytest.raises(KeyboardInterrupt):
        Trainer(cfg, callbacks=[Crash()]).fit(model, loader())
    model = _model()
    Trainer(cfg).fit(model, loader(), resume=True)
    for p, q in zip(model.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)


def test_resume_mid_stream_with_a_state_per_layer(tmp_path):
    """The language model carries a list of (h, c), one per layer: a mid-epoch checkpoint (Ctrl-C,
    checkpoint_every) saves and restores that nesting, and the resumed run equals the uninterrupted one."""
    from lstmkit.models.language_model import LanguageModelNetwork, LanguageModelNetworkConfig
    from lstmkit.train import Callback

    g = torch.Generator().manual_seed(1)
    ids = torch.randint(2, 12, (97,), generator=g)
    streams = [(ids[i * 24:(i + 1) * 24, None], ids[i * 24 + 1:(i + 1) * 24 + 1]) for i in range(4)]
    cfg = TrainerConfig(max_epochs=2, optimizer="sgd", lr=0.5, run_dir=str(tmp_path / "run"), checkpoint_every=1,
                        quiet=True)

    def model():
        torch.manual_seed(0)
        return LanguageModelNetwork(LanguageModelNetworkConfig(vocab_size=12, embedding_dim=5, hidden_size=6)).double()

    def loader():
        return StreamLoader(streams, batch_size=2, chunk_length=5)

    ref = model()
    Trainer(dataclasses.replace(cfg, run_dir=str(tmp_path / "ref"))).fit(ref, loader())

    class Crash(Callback):
        def on_step_end(self, trainer, model, loss):
            if trainer.global_step == 3:  # mid-stream: both layers carry (h, c) into the next chunk
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(cfg, callbacks=[Crash()]).fit(model(), loader())
    resumed = model()
    Trainer(cfg).fit(resumed, loader(), resume=True)
    for p, q in zip(resumed.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)
