"""MiniRocket features in torch: the reference's features (aeon) for one length, each series' own
steps in a padded batch, a reproducible fit, clear errors."""

import numpy as np
import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.models.minirocket import N_KERNELS, MiniRocketFeatures, fit_dilations, fit_minirocket, fit_temperature


def _series(n: int, T: int, F: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 6, T)[None, :, None]
    return (np.sin(t * rng.uniform(1, 3, (n, 1, F))) + 0.3 * rng.standard_normal((n, T, F))).astype(np.float32)


@pytest.mark.parametrize("F", [1, 3])
def test_features_are_aeons_for_one_length(F):
    aeon = pytest.importorskip("aeon.transformations.collection.convolution_based",
                               reason="the reference MiniRocket comes from aeon (pip install 'lstmkit[classify]')")
    X, X_new = _series(20, 60, F, seed=1), _series(15, 60, F, seed=2)
    mr = aeon.MiniRocket(random_state=0).fit(X.transpose(0, 2, 1))
    ref = mr.transform(X_new.transpose(0, 2, 1))
    ours = MiniRocketFeatures.from_aeon(mr, F)(torch.as_tensor(X_new)).numpy()
    assert ours.shape == ref.shape == (15, N_KERNELS * int(mr.parameters[3].sum()))
    # a PPV changes only where a convolution output ties with a bias up to float rounding (the
    # reference sums in another order): at most one step of 60 in a few of the features
    diff = np.abs(ours - ref)
    assert diff.max() <= 1 / 60 + 1e-6 and np.mean(diff > 0) < 1e-3


def test_fit_matches_the_reference_dilations():
    # aeon: 119 features per kernel over at most 32 dilations spaced up to (T - 1) / 8
    dilations, counts = fit_dilations(150)
    assert dilations.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 18]
    assert counts.sum() == 10_000 // N_KERNELS
    dilations, counts = fit_dilations(24)
    assert dilations.tolist() == [1, 2] and counts.sum() == 119


def test_padding_is_never_read():
    X = _series(6, 80, 2, seed=3)
    mr = fit_minirocket(list(X), n_features=840, seed=0)
    lengths = torch.tensor([80, 50, 31, 12, 80, 7])
    batch = torch.as_tensor(X).clone()
    for b, n in enumerate(lengths.tolist()):
        batch[b, n:] = 0.0
    together = mr(batch, lengths)
    for b, n in enumerate(lengths.tolist()):
        alone = mr(torch.as_tensor(X[b:b + 1, :n]))
        torch.testing.assert_close(together[b:b + 1], alone, rtol=0, atol=0)
    assert ((together >= 0) & (together <= 1)).all()


def test_long_input_is_cut_into_groups_that_give_the_same_features(monkeypatch):
    """Memory is bounded by grouping series and biases (ELEMENTS comparisons at a time): the
    features are the same sums of 0/1, so they are equal exactly, padding included."""
    import lstmkit.models.minirocket as mr

    f = fit_minirocket(list(_series(8, 12, 2, seed=3)), seed=1)  # short training series: many biases per kernel
    X = torch.as_tensor(_series(5, 90, 2, seed=4))
    lengths = torch.tensor([90, 40, 13, 90, 61])
    with torch.no_grad():
        whole = f(X, lengths)
        monkeypatch.setattr(mr, "ELEMENTS", N_KERNELS * 90 * 4)  # 4 series, one bias at a time; then 1 series, 4 biases
        grouped = f(X, lengths)
        monkeypatch.setattr(mr, "ELEMENTS", 1)  # one series, one bias at a time
        single = f(X, lengths)
    assert int(f.counts.max()) > 2
    assert torch.equal(whole, grouped) and torch.equal(whole, single)


def test_fit_is_reproducible_and_seeded():
    seqs = [s[:n] for s, n in zip(_series(10, 70, 1), [70, 64, 40, 70, 55, 70, 20, 70, 70, 33])]
    a, b, c = (fit_minirocket(seqs, n_features=1000, seed=s) for s in (0, 0, 1))
    assert torch.equal(a.biases, b.biases) and not torch.equal(a.biases, c.biases)
    assert a.n_features == N_KERNELS * int(a.counts.sum()) == 924  # 1,000 // 84 = 11 per kernel
    back = MiniRocketFeatures.from_tensors({f"m.{k}": v for k, v in a.state_dict().items()}, prefix="m.")
    x = torch.as_tensor(np.stack([s[:20] for s in seqs]))
    assert torch.equal(back(x), a(x))


def test_bad_input_is_named():
    with pytest.raises(ConfigError, match="seqs is empty"):
        fit_minirocket([])
    with pytest.raises(ConfigError, match="every sequence needs 2 features"):
        fit_minirocket([np.zeros((20, 2)), np.zeros((20, 3))])
    mr = fit_minirocket([np.ones((20, 2), np.float32)], n_features=84)
    with pytest.raises(ConfigError, match=r"x must be \(B, T, 2\)"):
        mr(torch.zeros(1, 20, 3))


def test_fit_temperature_recovers_the_temperature_that_drew_the_labels():
    rng = np.random.default_rng(5)
    scores = rng.normal(size=(4000, 3))
    p = np.exp(4.0 * scores)
    p /= p.sum(1, keepdims=True)
    codes = np.array([rng.choice(3, p=row) for row in p])
    assert abs(np.log(fit_temperature(scores, codes)) - np.log(4.0)) < np.log(1.3)
    # two classes as one score column (the second's): the same as the two columns -s, s
    s1 = rng.normal(size=500)
    c1 = (rng.random(500) < 1 / (1 + np.exp(-2 * 2.0 * s1))).astype(int)
    assert fit_temperature(s1, c1) == fit_temperature(np.stack([-s1, s1], 1), c1)
