"""SequencePipeline(series_stats=True): each series' level, log scale and log length as channels."""

import numpy as np
import pytest

from lstmkit.data.sequence_pipeline import MIN_SPREAD, STATS_CLIP, SequencePipeline


def _znorm(s):
    return (s - s.mean(0)) / s.std(0)


def test_z_normalised_series_of_one_length_get_no_channel():
    rng = np.random.default_rng(0)
    seqs = [_znorm(rng.normal(size=(40, 1))) for _ in range(30)]
    p = SequencePipeline("sequence", series_stats=True)
    out = p.fit_transform(seqs)
    assert p.n_stats == 0 and p.n_features_out == 1
    np.testing.assert_allclose(np.stack(out), np.stack(seqs).astype(np.float32), atol=1e-6)


def test_level_scale_and_length_come_back_as_standardised_constant_channels():
    rng = np.random.default_rng(1)
    level = rng.uniform(-5, 5, 40)
    scale = np.exp(rng.uniform(-1, 1, 40))
    length = rng.integers(20, 60, 40)
    seqs = [lv + sc * rng.normal(size=(n, 1)) for lv, sc, n in zip(level, scale, length)]
    p = SequencePipeline("sequence", series_stats=True)
    out = p.fit_transform(seqs)
    assert p.stats_["columns"] == [0, 1, 2] and p.n_features_out == 4
    for s, o in zip(seqs, out):
        assert o.shape == (len(s), 4)
        assert np.all(o[:, 1:] == o[:1, 1:])  # constant over time
        np.testing.assert_allclose(o[:, 0], _znorm(s[:, 0]), atol=1e-5)  # the shape channel is unchanged
    # each statistic is its series' own, standardised with the training median and MAD
    st = np.array([[s.mean(), np.log(s.std()), np.log(len(s))] for s in seqs])
    z = (st - np.median(st, 0)) / (1.4826 * np.median(np.abs(st - np.median(st, 0)), 0))
    np.testing.assert_allclose(np.stack([o[0, 1:] for o in out]), np.clip(z, -STATS_CLIP, STATS_CLIP), rtol=1e-5, atol=1e-5)
    # the same series transformed later gets the same channels; the fitted state survives JSON
    q = SequencePipeline.from_dict(p.to_dict())
    for a, b in zip(out, q.transform(seqs)):
        np.testing.assert_array_equal(a, b)


def test_only_the_varying_statistic_is_kept_and_flat_series_are_clipped():
    rng = np.random.default_rng(2)
    # one length, unit scale, levels that vary: only the level channel
    seqs = [_znorm(rng.normal(size=(30, 1))) + rng.uniform(-3, 3) for _ in range(20)]
    p = SequencePipeline("sequence", series_stats=True)
    p.fit_transform(seqs)
    assert p.stats_["columns"] == [0]
    # a flat series (std 0, log std -18) is clipped instead of dominating
    flat = [np.full((30, 1), 2.0)] + [rng.normal(size=(30, 1)) * np.exp(rng.uniform(-1, 1)) for _ in range(20)]
    p = SequencePipeline("sequence", series_stats=True)
    out = p.fit_transform(flat)
    assert 1 in p.stats_["columns"]
    assert np.all(np.isfinite(out[0])) and np.abs(out[0]).max() <= STATS_CLIP
    assert MIN_SPREAD > 0


@pytest.mark.parametrize("patch_size", [1, 3])
def test_stats_channels_are_patched_like_the_others(patch_size):
    rng = np.random.default_rng(3)
    seqs = [rng.normal(size=(int(n), 2)) * rng.uniform(0.5, 4) for n in rng.integers(10, 20, 15)]
    p = SequencePipeline("sequence", patch_size=patch_size, series_stats=True)
    out = p.fit_transform(seqs)
    assert out[0].shape[1] == p.n_features_out == 2 * patch_size + p.n_stats


def test_files_before_series_stats_load_without_channels():
    p = SequencePipeline("sequence")
    p.fit_transform([np.arange(10.0).reshape(-1, 1), np.arange(12.0).reshape(-1, 1)])
    d = p.to_dict()
    del d["series_stats"], d["fitted_stats"]
    q = SequencePipeline.from_dict(d)
    assert q.n_stats == 0 and q.n_features_out == 1


def test_series_stats_must_be_a_bool():
    from lstmkit.errors import ConfigError

    with pytest.raises(ConfigError, match="series_stats must be True or False, got 'no'"):
        SequencePipeline("sequence", series_stats="no")
