"""The adding and temporal-order datasets follow Hochreiter & Schmidhuber (1997)."""

import pytest
import torch

from lstmkit.data.synthetic import adding_problem, temporal_order
from lstmkit.errors import ConfigError


def test_adding_problem_structure_and_target():
    d = adding_problem(300, 40, seed=3)
    assert d.x.shape == (300, 44, 2) and d.y.shape == (300,) and len(d) == 300
    assert ((d.lengths >= 40) & (d.lengths <= 44)).all()
    for i in range(300):
        t = int(d.lengths[i])
        x = d.x[i, -t:]
        assert (d.x[i, :-t] == 0).all()  # left padding
        marked = (x[:, 1] == 1).nonzero().flatten()
        assert len(marked) == 2 and marked[0] < 20 and marked[1] < 20
        assert marked.min() < 10  # one mark among the first ten pairs
        assert x[-1, 1] == -1 and (x[0, 1] == -1 or marked[0] == 0)
        assert d.y[i] == pytest.approx(0.5 + x[marked, 0].sum().item() / 4, abs=1e-6)
        assert (x[:, 0].abs() <= 1).all()
    assert torch.equal(adding_problem(300, 40, seed=3).x, d.x)  # seeded
    assert not torch.equal(adding_problem(300, 40, seed=4).x, d.x)  # held-out seed differs
    assert (d.y - 0.5).abs().mean() == pytest.approx(1 / 6, abs=0.02)  # baseline MAE of predicting 0.5


def test_temporal_order_structure_and_classes():
    for k, n_classes in ((2, 4), (3, 8)):
        d = temporal_order(400, 100, seed=1, num_relevant=k)
        assert d.x.shape == (400, 110, 8) and set(d.y.tolist()) == set(range(n_classes))
        for i in range(20):
            t = int(d.lengths[i])
            sym = d.x[i, -t:].argmax(1)
            assert (d.x[i, -t:].sum(1) == 1).all() and (d.x[i, :-t] == 0).all()
            assert sym[0] == 4 and sym[-1] == 5  # B ... E
            pos = ((sym == 6) | (sym == 7)).nonzero().flatten()
            assert len(pos) == k and 10 <= pos[0] <= 20
            label = 0
            for p in pos:
                label = label * 2 + int(sym[p] == 7)
            assert label == d.y[i]


def test_bad_arguments():
    with pytest.raises(ConfigError, match="length must be an int >= 12, got 5"):
        adding_problem(10, 5)
    with pytest.raises(ConfigError, match="n must be a positive int, got 0"):
        temporal_order(0)
    with pytest.raises(ConfigError, match="num_relevant must be 2"):
        temporal_order(10, num_relevant=4)
