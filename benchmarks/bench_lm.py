"""Word-LM training throughput: lstmkit's LanguageModelNetwork against a plain PyTorch word LM
on torch.nn.LSTM with the same sizes, measured in one run (interleaved rounds, median).

Both models: embedding E -> 2 stacked LSTMs (H, last layer E for tied weights) -> tied softmax over
V words; one training step = forward + backward + SGD update with gradient clipping on a (B, K)
chunk, the state carried and detached between chunks (truncated BPTT), as in the PyTorch
word_language_model example. Tokens/s = B * K / step time; the ratio is lstmkit / torch (> 1:
lstmkit faster).

    python benchmarks/bench_lm.py                       # Zaremba small: V 10000, E = H = 200, B 20, K 20
    python benchmarks/bench_lm.py --hidden 650 --batch 20 --bptt 35
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import nn

from lstmkit.models.language_model import LanguageModelNetwork, LanguageModelNetworkConfig


class TorchLM(nn.Module):
    """The PyTorch example's RNNModel (LSTM, tied), without dropout."""

    def __init__(self, V: int, E: int, H: int) -> None:
        super().__init__()
        self.encoder = nn.Embedding(V, E)
        self.rnn1 = nn.LSTM(E, H, batch_first=True)
        self.rnn2 = nn.LSTM(H, E, batch_first=True)
        self.decoder = nn.Linear(E, V)
        self.decoder.weight = self.encoder.weight

    def forward(self, x, state):
        out, s1 = self.rnn1(self.encoder(x), state[0])
        out, s2 = self.rnn2(out, state[1])
        return self.decoder(out), [s1, s2]


def step_fn(model, opt, x, y, state, lkit: bool):
    opt.zero_grad(set_to_none=True)
    logits, state = model(x, state)
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    return [(h.detach(), c.detach()) for h, c in state]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--hidden", type=int, default=200)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--bptt", type=int, default=20)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    V, H, B, K = a.vocab, a.hidden, a.batch, a.bptt
    torch.manual_seed(0)
    ours = LanguageModelNetwork(LanguageModelNetworkConfig(vocab_size=V, embedding_dim=H, hidden_size=H, num_layers=2))
    theirs = TorchLM(V, H, H)
    data = torch.randint(0, V, (B, K * (a.steps + 1) + 1))
    models = {"lstmkit": ours, "torch": theirs}
    opts = {k: torch.optim.SGD(m.parameters(), lr=0.1) for k, m in models.items()}

    def zero(B):
        return [(torch.zeros(1, B, H), torch.zeros(1, B, H)), (torch.zeros(1, B, H), torch.zeros(1, B, H))]

    times: dict[str, list[float]] = {k: [] for k in models}
    for r in range(a.rounds + 1):  # round 0 warms up
        for name, model in models.items():
            model.train()
            state = zero(B)
            state = step_fn(model, opts[name], data[:, :K], data[:, 1:K + 1], state, name == "lstmkit")
            t0 = time.perf_counter()
            for s in range(1, a.steps + 1):
                x, y = data[:, s * K:(s + 1) * K], data[:, s * K + 1:(s + 1) * K + 1]
                state = step_fn(model, opts[name], x, y, state, name == "lstmkit")
            if r:
                times[name].append((time.perf_counter() - t0) / a.steps)
    tps = {k: B * K / statistics.median(v) for k, v in times.items()}
    print(f"torch {torch.__version__}, {a.threads} threads, V {V}, E = H = {H}, 2 layers, tied, B {B}, K {K}, "
          f"median of {a.rounds} rounds x {a.steps} steps")
    print(f"tokens/s: lstmkit {tps['lstmkit']:.0f}, torch.nn.LSTM {tps['torch']:.0f}, "
          f"ratio lstmkit / torch {tps['lstmkit'] / tps['torch']:.2f}")


if __name__ == "__main__":
    main()
