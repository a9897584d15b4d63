"""CTC decoding on hand-made posteriors (exact), the length rule that makes a target possible, and
the character n-gram language model (normalised, fused into the beam)."""

import itertools
import math

import numpy as np
import pytest
import torch

from lstmkit.errors import ConfigError, DataError
from lstmkit.models.ctc import CharNGramLM, check_ctc_targets, ctc_greedy, ctc_min_frames, ctc_prefix_beam_search


def _log(p):
    return torch.log(torch.tensor(p, dtype=torch.float64))


def test_greedy_collapses_repeats_and_drops_blanks():
    # frames: a a _ a b b _ _ c   (blank = 0, a = 1, b = 2, c = 3)
    path = [1, 1, 0, 1, 2, 2, 0, 0, 3]
    lp = torch.full((len(path), 4), -5.0)
    lp[torch.arange(len(path)), torch.tensor(path)] = -0.1
    assert ctc_greedy(lp) == [1, 1, 2, 3]
    batch = torch.stack([lp, lp])
    assert ctc_greedy(batch, lengths=[9, 4]) == [[1, 1, 2, 3], [1, 1]]
    assert ctc_greedy(lp, blank=3) == [1, 0, 1, 2, 0]  # another blank index


def test_prefix_search_sums_the_paths_of_a_labelling():
    # Two frames, P(blank) = 0.6, P(a) = 0.4 each. Best path: "" (0.36); but "a" has three paths:
    # aa, a_, _a = 0.16 + 0.24 + 0.24 = 0.64.
    lp = _log([[0.6, 0.4], [0.6, 0.4]])
    assert ctc_greedy(lp) == []
    best = ctc_prefix_beam_search(lp, beam_size=4)
    assert best[0][0] == [1] and best[0][1] == pytest.approx(math.log(0.64), abs=1e-12)
    assert best[1][0] == [] and best[1][1] == pytest.approx(math.log(0.36), abs=1e-12)


def test_prefix_search_equals_brute_force_over_every_path():
    rng = np.random.default_rng(0)
    T, V = 5, 3
    probs = rng.dirichlet(np.ones(V), size=T)
    exact: dict[tuple, float] = {}
    for path in itertools.product(range(V), repeat=T):
        labels, prev = [], None
        for s in path:
            if s != prev and s != 0:
                labels.append(s)
            prev = s
        exact[tuple(labels)] = exact.get(tuple(labels), 0.0) + float(np.prod(probs[np.arange(T), path]))
    got = ctc_prefix_beam_search(_log(probs), beam_size=10_000, prune=-math.inf)
    assert len(got) == len(exact)
    for labels, score in got:
        assert math.exp(score) == pytest.approx(exact[tuple(labels)], rel=1e-10)
    assert got[0][0] == list(max(exact, key=exact.get))


def test_min_frames_and_impossible_targets_are_reported():
    assert ctc_min_frames([1, 2, 3]) == 3 and ctc_min_frames([1, 1, 2, 2]) == 6 and ctc_min_frames([]) == 0
    check_ctc_targets([3, 6], [[1, 2, 3], [1, 1, 2, 2]])
    with pytest.raises(DataError, match=r"1 target\(s\) cannot fit .*y\[1\] needs 6 frames, its input gives 5"):
        check_ctc_targets([3, 5], [[1, 2, 3], [1, 1, 2, 2]])
    # what the check saves a user from: torch's CTC loss is inf for such a target
    lp = torch.randn(5, 1, 3).log_softmax(-1)
    loss = torch.nn.functional.ctc_loss(lp, torch.tensor([[1, 1, 2, 2]]), torch.tensor([5]), torch.tensor([4]),
                                        reduction="sum")
    assert math.isinf(loss.item())


def test_char_lm_is_normalised_and_prefers_seen_text():
    lm = CharNGramLM(order=3).fit(["the cat sat on the mat", "a cat and a hat"])
    for history in ("", "th", "the c", "zz"):  # the alphabet plus one unknown symbol share all the mass
        total = sum(math.exp(lm.log_prob(c, history)) for c in lm.alphabet) + math.exp(lm.log_prob("\u2603", history))
        assert total == pytest.approx(1.0, abs=1e-12), history
    assert lm.score("the cat") > lm.score("tje cqt")
    again = CharNGramLM.from_dict(lm.to_dict())
    assert again.score("a hat") == lm.score("a hat")
    with pytest.raises(ConfigError, match=r"order must be an int in 2..8, got 1"):
        CharNGramLM(1)
    with pytest.raises(DataError, match=r"hold no characters"):
        CharNGramLM().fit(["", ""])


def test_lm_fusion_turns_an_ambiguous_frame_into_the_likely_word():
    symbols = ["_", "c", "a", "s", "t"]
    # c, then a frame torn between 'a' (0.45) and 's' (0.55), then t
    probs = [[0.01, 0.96, 0.01, 0.01, 0.01], [0.0, 0.0, 0.45, 0.55, 0.0], [0.01, 0.01, 0.01, 0.01, 0.96]]
    lp = _log(np.clip(probs, 1e-9, 1.0))
    plain = ctc_prefix_beam_search(lp, beam_size=8)
    assert plain[0][0] == [1, 3, 4]  # "cst"
    lm = CharNGramLM(order=3).fit(["cat cat the cat sat"] * 5)
    fused = ctc_prefix_beam_search(lp, beam_size=8, lm=lm, lm_weight=0.5, symbols=symbols)
    assert fused[0][0] == [1, 2, 4]  # "cat"
    with pytest.raises(ConfigError, match=r"an lm needs symbols"):
        ctc_prefix_beam_search(lp, lm=lm, lm_weight=0.5)
    with pytest.raises(ConfigError, match=r"beam_size must be a positive int, got 0"):
        ctc_prefix_beam_search(lp, beam_size=0)
