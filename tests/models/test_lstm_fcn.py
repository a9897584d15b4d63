"""LSTM-FCN (the classifier's default architecture) and the classifier's "auto" rules."""

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit.errors import ConfigError
from lstmkit.estimators import LSTMClassifier
from lstmkit.estimators.classifier import auto_settings
from lstmkit.models.classifier import ClassifierNetwork, ClassifierNetworkConfig
from lstmkit.models.heads import FCNBranch


def test_auto_rules_pick_what_the_docstring_says():
    # univariate, T = 427, 200 sequences (OSULeaf's shape): averaged in pairs (214 steps), patches of 4,
    # a validation split, and series statistics
    assert auto_settings([427] * 200, 1, 200) == {"architecture": "lstm-fcn", "scaler": "sequence", "downsample": 2,
                                                  "patch_size": 4, "val_size": 0.1, "series_stats": True}
    # multivariate, T = 100, 40 sequences: per-feature scaling, patches of 2, no validation split, no statistics
    assert auto_settings([100] * 40, 6, 40) == {"architecture": "lstm-fcn", "scaler": "standard", "downsample": 1,
                                                "patch_size": 2, "val_size": 0, "series_stats": False}
    # long series: the median (1,344) is averaged down to <= 256 steps (6), then 224 steps -> patches of 4
    got = auto_settings([100, 1344, 1344], 1, 3)
    assert (got["downsample"], got["patch_size"]) == (6, 4)
    # the edge: a median of 256 steps is read whole, 257 in pairs
    assert auto_settings([256] * 5, 1, 5)["downsample"] == 1 and auto_settings([257] * 5, 1, 5)["downsample"] == 2
    # short series: nothing to shorten
    got = auto_settings(list(range(7, 30)), 12, 270)
    assert (got["downsample"], got["patch_size"], got["val_size"]) == (1, 1, 0.1)
    # the series statistics start at the validation split's threshold (200 sequences)
    assert auto_settings([50] * 199, 1, 199)["series_stats"] is False
    assert auto_settings([50] * 200, 1, 200)["series_stats"] is True
    # values other than "auto" pass through
    fixed = auto_settings([427] * 10, 1, 10, scaler="none", downsample=2, patch_size=1, architecture="lstm", val_size=3,
                          series_stats=True)
    assert fixed == {"architecture": "lstm", "scaler": "none", "downsample": 2, "patch_size": 1, "val_size": 3,
                     "series_stats": True}
    assert auto_settings([427] * 300, 1, 300, series_stats=False)["series_stats"] is False


def _net(**kw):
    torch.manual_seed(0)
    kw = {"architecture": "lstm-fcn", **kw}
    cfg = ClassifierNetworkConfig(input_size=2, num_classes=3, hidden_size=5, fcn_filters=(6, 8, 4),
                                  fcn_kernels=(5, 4, 3), **kw)
    return ClassifierNetwork(cfg).double().eval()


@pytest.mark.parametrize("architecture, patch_size", [("lstm-fcn", 1), ("lstm-fcn", 3), ("lstm", 3)])
def test_lstm_fcn_ignores_padding(architecture, patch_size):
    """A sequence's logits are the same alone and in a padded batch, whatever the padding holds
    (the convolutions and the last patch of the LSTM branch would read it; it is zeroed first)."""
    net = _net(patch_size=patch_size, architecture=architecture)
    x = torch.randn(3, 11, 2, dtype=torch.float64)
    lengths = torch.tensor([11, 7, 4])
    x[1, 7:], x[2, 4:] = 1e6, -3.0  # garbage past the ends
    batch = net(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = net(x[i : i + 1, :n], lengths[i : i + 1])
        torch.testing.assert_close(batch[i : i + 1], alone, rtol=1e-12, atol=1e-12)


def test_lstm_fcn_gradients():
    net = _net(patch_size=2).train()
    for m in net.modules():  # batch statistics make gradcheck's perturbations couple samples; use fixed stats
        if isinstance(m, torch.nn.BatchNorm1d):
            m.eval()
    x = torch.randn(2, 6, 2, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 4])
    assert torch.autograd.gradcheck(lambda a: net(a, lengths), (x,), eps=1e-6, atol=1e-6)


def test_fcn_branch_squeeze_excite_and_shapes():
    fcn = FCNBranch(3, (16, 32, 8), (8, 5, 3), squeeze_excite=True)
    assert [type(g).__name__ for g in fcn.gates] == ["Sequential", "Sequential", "Identity"]
    assert fcn(torch.randn(4, 20, 3), torch.tensor([20, 9, 3, 1])).shape == (4, 8)
    with pytest.raises(ConfigError, match="filters and kernels must be equally long"):
        FCNBranch(3, (16, 32), (8,))
    with pytest.raises(ConfigError, match="architecture must be one of .*did you mean 'lstm-fcn'"):
        ClassifierNetworkConfig(input_size=1, num_classes=2, architecture="lstm_fcn")


def _shapes(n, rng):
    """Univariate, T = 48: class 0 has a bump, class 1 a dip, class 2 a step, at random places."""
    X, y = [], []
    for i in range(n):
        c = i % 3
        x = rng.normal(0, 0.4, 48)
        t = int(rng.integers(4, 36))
        x[t : t + 8] += (2.0, -2.0)[c] if c < 2 else 0.0
        if c == 2:
            x[t:] += 1.5
        X.append(x[:, None].astype(np.float32))
        y.append(["bump", "dip", "step"][c])
    return np.stack(X), np.array(y)


def test_lstm_fcn_defaults_learn_a_small_task(tmp_path):
    rng = np.random.default_rng(0)
    X, y = _shapes(48, rng)
    Xt, yt = _shapes(60, rng)
    clf = LSTMClassifier(trainer={"max_steps": 60, "quiet": True}).fit(X, y)
    assert clf.settings_ == {"architecture": "lstm-fcn", "scaler": "sequence", "downsample": 1, "patch_size": 1,
                             "val_size": 0, "series_stats": False}
    assert clf.score(Xt, yt) >= 0.9
    back = lstmkit.load(clf.save(tmp_path / "m"))
    assert back.settings_ == clf.settings_
    np.testing.assert_array_equal(back.predict_proba(Xt), clf.predict_proba(Xt))


def test_series_stats_auto_reaches_the_network_from_200_sequences():
    rng = np.random.default_rng(3)
    for n, on in ((199, False), (200, True)):
        X = rng.normal(size=(n, 10, 1)) * rng.uniform(0.1, 10, size=(n, 1, 1))  # amplitudes that vary
        clf = LSTMClassifier(hidden_size=4, fcn_filters=(4, 4, 4), trainer={"max_steps": 2, "quiet": True})
        clf.fit(X, np.arange(n) % 2)
        assert clf.series_stats == "auto" and clf.settings_["series_stats"] is on
        assert (clf.network_.config.static_size > 0) is on and (clf.pipeline_.inputs.stats_ is not None) is on


def test_series_stats_give_back_the_amplitude_that_per_series_scaling_removes():
    # two classes of the same shape that differ only in amplitude: z-normalising each series alone
    # leaves nothing to tell them apart; series_stats=True gives the head the log scale back
    rng = np.random.default_rng(4)

    def data(n):
        y = rng.integers(0, 2, n)
        t = np.linspace(0, 4 * np.pi, 24)
        X = [(1 + 3 * c) * np.exp(rng.normal(0, 0.1)) * (np.sin(t + rng.uniform(0, 6)) + 0.3 * rng.normal(size=24))
             for c in y]
        return [x.reshape(-1, 1) for x in X], y

    (X, y), (Xt, yt) = data(40), data(60)
    common = {"hidden_size": 8, "fcn_filters": (8, 8, 8), "trainer": {"max_steps": 80, "quiet": True},
              "minirocket": False}  # the network's own statistics input, without MiniRocket's half
    on = LSTMClassifier(series_stats=True, **common).fit(X, y)
    off = LSTMClassifier(**common).fit(X, y)
    assert 1 in on.pipeline_.inputs.stats_["columns"] and on.network_.config.static_size >= 1  # the log scale
    assert off.pipeline_.inputs.stats_ is None and off.network_.config.static_size == 0
    assert on.score(Xt, yt) >= 0.95
    assert off.score(Xt, yt) <= 0.75


def test_ensemble_averages_its_members():
    rng = np.random.default_rng(1)
    X, y = _shapes(24, rng)
    clf = LSTMClassifier(n_models=2, minirocket=False, trainer={"max_steps": 4, "quiet": True}).fit(X, y)
    assert len(clf.networks_) == 2 and len(clf.history_) == 2
    members = []
    for net in clf.networks_:
        clf_one = LSTMClassifier()
        clf_one.pipeline_, clf_one.networks_, clf_one.history_, clf_one.minirocket_ = clf.pipeline_, [net], [], None
        members.append(clf_one.predict_proba(X))
    np.testing.assert_allclose(clf.predict_proba(X), (members[0] + members[1]) / 2, rtol=1e-12, atol=1e-12)
    with pytest.raises(ConfigError, match="n_models must be an int >= 1, got 0"):
        LSTMClassifier(n_models=0).fit(X, y)
    with pytest.raises(ConfigError, match="downsample must be an int >= 1 or auto, got 'fast'"):
        LSTMClassifier(downsample="fast").fit(X, y)


def test_bad_fcn_settings_are_named():
    X, y = _shapes(12, np.random.default_rng(2))
    with pytest.raises(ConfigError, match=r"fcn_filters must be a sequence of positive ints, got 64"):
        LSTMClassifier(fcn_filters=64).fit(X, y)
    with pytest.raises(ConfigError, match=r"fcn_filters and fcn_kernels must be equally long"):
        LSTMClassifier(fcn_filters=(8, 8), fcn_kernels=(3,)).fit(X, y)
    with pytest.raises(ConfigError, match=r"series_stats must be True, False or 'auto', got 'yes'"):
        LSTMClassifier(series_stats="yes").fit(X, y)


def test_masked_batch_norm_counts_valid_steps_only():
    from lstmkit.models.heads import MaskedBatchNorm1d, length_mask

    torch.manual_seed(0)
    lengths = torch.tensor([7, 3, 5])
    h = torch.randn(3, 4, 7, dtype=torch.float64)
    mask = length_mask(lengths, 7).unsqueeze(1).to(h.dtype)
    h = h * mask + 50.0 * (1 - mask)  # padding far from the data: it must not move the statistics
    ours, ref = MaskedBatchNorm1d(4).double(), torch.nn.BatchNorm1d(4).double()
    with torch.no_grad():
        ours.weight.uniform_(0.5, 2), ours.bias.uniform_(-1, 1)
        ref.load_state_dict(ours.state_dict())
    out = ours(h, mask)
    valid = torch.cat([h[i, :, :n] for i, n in enumerate(lengths.tolist())], dim=1).unsqueeze(0)  # (1, C, sum T)
    want = ref(valid)[0]
    got = torch.cat([out[i, :, :n] for i, n in enumerate(lengths.tolist())], dim=1)
    torch.testing.assert_close(got, want)
    for k in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(getattr(ours, k), getattr(ref, k))
    # no padding, or evaluation: torch's own path, bit for bit
    full = torch.randn(3, 4, 7, dtype=torch.float64)
    assert torch.equal(ours(full, torch.ones(3, 1, 7, dtype=torch.float64)), ref(full))
    ours.eval(), ref.eval()
    assert torch.equal(ours(h, mask), ref(h))


def test_fcn_branch_training_output_ignores_the_padding_length():
    from lstmkit.models.heads import length_mask

    torch.manual_seed(1)
    fcn = FCNBranch(2, (6, 8), (5, 3), True).double().train()
    lengths = torch.tensor([9, 4])
    x = torch.randn(2, 9, 2, dtype=torch.float64) * length_mask(lengths, 9).unsqueeze(-1)  # zero-padded, as the network gives it
    padded = torch.cat([x, torch.zeros(2, 6, 2, dtype=torch.float64)], dim=1)  # six more steps of padding
    torch.testing.assert_close(fcn(x, lengths), fcn(padded, lengths))


def test_predictions_do_not_depend_on_sample_order():
    rng = np.random.default_rng(5)
    X = [rng.normal(size=(int(n), 1)) * rng.uniform(0.5, 3) for n in rng.integers(10, 30, 40)]
    y = rng.integers(0, 3, 40)
    clf = LSTMClassifier(hidden_size=4, fcn_filters=(4, 4, 4), series_stats=True,
                         trainer={"max_steps": 5, "quiet": True}).fit(X, y)
    idx = rng.permutation(40)
    # float32 products may round a row differently by its place in the batch: a few float32 ulps
    np.testing.assert_allclose(clf.predict_proba([X[i] for i in idx]), clf.predict_proba(X)[idx], rtol=1e-5, atol=1e-7)
