"""Samplers and beam search on hand-made distributions (models/decoding.py)."""

import math

import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.models.decoding import beam_search, filter_logits, sample_token

# probabilities 0.5, 0.3, 0.15, 0.05 (tokens 0..3)
PROBS = torch.tensor([0.5, 0.3, 0.15, 0.05])
LOGITS = PROBS.log()


def kept(logits):
    return set(torch.nonzero(torch.isfinite(logits)).flatten().tolist())


@pytest.mark.parametrize("p, expected", [(0.5, {0}), (0.50001, {0, 1}), (0.6, {0, 1}), (0.8, {0, 1}),
                                         (0.81, {0, 1, 2}), (0.96, {0, 1, 2, 3}), (0.01, {0}), (1.0, {0, 1, 2, 3})])
def test_top_p_keeps_the_token_that_crosses_the_threshold(p, expected):
    # 0.5 alone reaches p=0.5; p=0.6 needs token 1 (0.5 < 0.6 <= 0.8): the crossing token is kept
    assert kept(filter_logits(LOGITS, top_p=p)) == expected


def test_top_k_keeps_exactly_k_even_with_ties():
    tied = torch.tensor([1.0, 2.0, 2.0, 2.0, 0.0])
    for k in (1, 2, 3, 4):
        assert len(kept(filter_logits(tied, top_k=k))) == k
    assert kept(filter_logits(LOGITS, top_k=2)) == {0, 1}
    batch = torch.stack([LOGITS, LOGITS.flip(0)])  # (2, V): per row
    out = filter_logits(batch, top_k=1)
    assert kept(out[0]) == {0} and kept(out[1]) == {3}


def test_temperature_to_zero_equals_greedy_and_same_seed_same_draws():
    logits = torch.randn(50, 30, generator=torch.Generator().manual_seed(0))
    greedy = sample_token(logits, temperature=0)
    assert torch.equal(greedy, logits.argmax(-1))
    assert torch.equal(sample_token(logits, temperature=1e-4, generator=torch.Generator().manual_seed(3)), greedy)
    a = sample_token(logits, generator=torch.Generator().manual_seed(7))
    b = sample_token(logits, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and not torch.equal(a, greedy)  # sampling differs from argmax at T=1


def test_sampling_follows_the_filtered_distribution():
    draws = sample_token(LOGITS.expand(20000, 4), top_p=0.6, generator=torch.Generator().manual_seed(1))
    share0 = float((draws == 0).float().mean())
    assert set(draws.unique().tolist()) == {0, 1}
    assert abs(share0 - 0.5 / 0.8) < 0.02  # renormalised over the kept tokens: 0.625


def test_bad_sampling_arguments_name_the_argument():
    with pytest.raises(ConfigError, match="top_p must be"):
        filter_logits(LOGITS, top_p=0)
    with pytest.raises(ConfigError, match="top_k must be"):
        sample_token(LOGITS, top_k=0)
    with pytest.raises(ConfigError, match="temperature must be"):
        sample_token(LOGITS, temperature=-1)


class Chain:
    """A toy next-token model: a fixed table of log-probabilities by previous token (V = 4, eos = 3)."""

    def __init__(self, table):
        self.table = torch.tensor(table).log()  # (V, V)

    def step(self, tokens, state):
        return self.table[tokens], state  # state: (1, K, 1) count of steps, indexed on dim 1

    def greedy(self, start, n):
        out, t = [], start
        for _ in range(n):
            t = int(self.table[t].argmax())
            out.append(t)
        return out


TABLE = [[0.1, 0.6, 0.2, 0.1], [0.5, 0.1, 0.1, 0.3], [0.1, 0.1, 0.1, 0.7], [0.25, 0.25, 0.25, 0.25]]


def test_beam_size_one_equals_greedy():
    chain = Chain(TABLE)
    state = torch.zeros(1, 1, 1)
    best = beam_search(chain.step, state, 0, beam_size=1, max_len=6)[0]
    assert best.tokens == chain.greedy(0, 6)


def test_beam_search_finds_the_better_path_greedy_misses():
    # From 0 greedy takes 1 (0.5), then a uniform step (0.25): 0.125. Token 2 (0.4) is followed by
    # eos (3) with 0.9: 0.36. Beam search (raw sums: length_penalty 0) finds it.
    table = [[0.05, 0.5, 0.4, 0.05], [0.25, 0.25, 0.25, 0.25], [0.05, 0.025, 0.025, 0.9], [0.25] * 4]
    chain = Chain(table)
    greedy = chain.greedy(0, 2)
    assert greedy[0] == 1
    hyps = beam_search(chain.step, torch.zeros(1, 1, 1), 0, beam_size=3, max_len=2, eos_id=3, length_penalty=0)
    assert hyps[0].tokens == [2, 3] and hyps[0].log_prob == pytest.approx(math.log(0.4 * 0.9))
    assert hyps[0].log_prob > math.log(0.5 * 0.25)
    assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)


def test_length_penalty_divides_the_summed_log_probability_by_length():
    chain = Chain(TABLE)
    raw = beam_search(chain.step, torch.zeros(1, 1, 1), 2, beam_size=3, max_len=4, eos_id=3, length_penalty=0)[0]
    assert raw.tokens == [3]  # 0.7: the likely immediate ending
    for h in beam_search(chain.step, torch.zeros(1, 1, 1), 2, beam_size=3, max_len=4, eos_id=3, length_penalty=1):
        assert h.score == pytest.approx(h.log_prob / len(h.tokens))
    with pytest.raises(ConfigError, match="beam_size"):
        beam_search(chain.step, None, 0, beam_size=0)


def test_beam_search_never_returns_an_unfinished_prefix_that_merely_outscores_longer_endings():
    """Random tables: the best hypothesis equals an exhaustive search over every sequence that ends
    in eos within max_len (or is cut at max_len), for raw sums and per-token means."""
    import itertools

    V, eos, max_len = 4, 3, 4
    for seed in range(40):
        table = torch.log_softmax(torch.randn(V, V, generator=torch.Generator().manual_seed(seed)) * 2, -1).double()
        for alpha in (0.0, 1.0):
            best = beam_search(lambda t, s: (table[t], s), None, 0, beam_size=V ** max_len, max_len=max_len,
                               eos_id=eos, length_penalty=alpha, select=lambda s, i: s)[0]
            candidates = []
            for n in range(1, max_len + 1):
                for seq in itertools.product(range(V), repeat=n):
                    if eos in seq[:-1] or (n < max_len and seq[-1] != eos):
                        continue  # eos only at the end; shorter than max_len only when ended
                    lp, prev = 0.0, 0
                    for w in seq:
                        lp, prev = lp + float(table[prev, w]), w
                    candidates.append((lp / n ** alpha, list(seq)))
            score = max(c[0] for c in candidates)
            winners = [t for c, t in candidates if c >= score - 1e-12]  # exact ties: same transitions, other order
            assert best.score == pytest.approx(score) and best.tokens in winners, (seed, alpha)
        small = beam_search(lambda t, s: (table[t], s), None, 0, beam_size=2, max_len=10, eos_id=eos,
                            length_penalty=0.0, select=lambda s, i: s)
        assert all(h.tokens[-1] == eos or len(h.tokens) == 10 for h in small)


def test_top_k_breaks_ties_by_lower_index():
    assert kept(filter_logits(torch.tensor([5.0, 5.0, 5.0, 5.0, 0.0]), top_k=2)) == {0, 1}
