"""MusicNetwork: both outputs are proper distributions over chords, the NADE's gradients, sampling
constraints, and the frame scores."""

import itertools

import pytest
import torch

from lstmkit.models.music import MusicNetwork, MusicNetworkConfig, frame_scores


def _net(output, cell="lstm", use_onsets=True, P=5):
    torch.manual_seed(0)
    net = MusicNetwork(MusicNetworkConfig(input_size=2 * P + 3, n_pitches=P, cell=cell, hidden_size=6,
                                          output=output, nade_hidden_size=4, use_onsets=use_onsets, dropout=0.0))
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.7)  # a far-from-uniform distribution
    return net.double().eval()


@pytest.mark.parametrize("output", ["nade", "bernoulli"])
def test_probabilities_of_all_chords_sum_to_one(output):
    """exp(-NLL) over all 2^P chords of a frame sums to 1 (NADE's chain rule is complete and exact)."""
    P = 5
    net = _net(output, P=P)
    x = torch.randn(1, 3, 2 * P + 3, dtype=torch.float64)
    h, _ = net.hidden(x)  # (1, 3, H)
    chords = torch.tensor(list(itertools.product([0.0, 1.0], repeat=P)), dtype=torch.float64)  # (32, P)
    hh = h[0, 1].expand(len(chords), -1)  # one frame's context for every chord
    logits = net.sounding_logits(hh, chords)
    nll = torch.nn.functional.binary_cross_entropy_with_logits(logits, chords, reduction="none").sum(-1)
    assert float(torch.exp(-nll).detach().sum()) == pytest.approx(1.0, abs=1e-12)
    if output == "nade":  # the probability of a pitch depends on the pitches below it, not above
        a = net.sounding_logits(hh[:2], torch.tensor([[1.0, 0, 0, 0, 0], [1.0, 0, 0, 0, 1]], dtype=torch.float64))
        b = net.sounding_logits(hh[:2], torch.tensor([[0.0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0]], dtype=torch.float64))
        assert torch.equal(a[1], b[1]) and not torch.equal(a[0, 1:], b[0, 1:])


def test_nade_gradients_match_finite_differences_and_the_module_computes_the_same_loss():
    net = _net("nade", P=4)
    torch.manual_seed(1)
    batch = {"x": torch.randn(2, 3, 11, dtype=torch.float64), "y": torch.randint(0, 2, (2, 3, 4)).double(),
             "mask": torch.tensor([[1, 1, 1], [1, 1, 0]]).bool()}
    W0, V0 = net.nade_W.detach().clone().requires_grad_(True), net.nade_V.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda W, V: _nade_nll(net, batch, W, V), (W0, V0))
    with torch.no_grad():
        nll, _, frames = net.nll_sums({**batch, "onset": torch.zeros_like(batch["y"])})
    assert float(frames) == 5 and float(nll) == pytest.approx(float(_nade_nll(net, batch, W0, V0).detach()), abs=1e-12)


def _nade_nll(net, batch, W, V):
    """The NADE's NLL written out from its equations, with W and V as inputs."""
    h, _ = net.hidden(batch["x"])
    y = batch["y"]
    logits = []
    for p in range(y.shape[-1]):  # p(v_p = 1 | v_<p) = sigmoid(b_p + V_p . sigmoid(c + W[:, :p] v_<p))
        a = net.nade_hidden_bias(h) + y[..., :p] @ W[:, :p].t()
        logits.append(net.visible_bias(h)[..., p] + torch.sigmoid(a) @ V[p])
    logits = torch.stack(logits, -1)
    m = batch["mask"][..., None].double()
    return (torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none") * m).sum()


@pytest.mark.parametrize("output", ["nade", "bernoulli"])
def test_sampling_respects_max_notes_and_voice_ranges_and_is_seeded(output):
    P = 12
    net = _net(output, P=P)
    with torch.no_grad():
        net.visible_bias.bias.fill_(4.0)  # every pitch wants to sound
    h = torch.randn(64, 6, dtype=torch.float64)
    prev = torch.zeros(64, P, dtype=torch.float64)
    ranges = [(0, 3), (2, 6), (5, 9)]
    g = torch.Generator().manual_seed(3)
    v, on = net.sample_frame(h, prev, generator=g, max_notes=3, voice_ranges=ranges)
    assert (v.sum(1) <= 3).all() and (v.sum(1) > 0).all()
    for row in v:
        for k, p in enumerate(torch.nonzero(row).flatten().tolist()):
            assert ranges[k][0] <= p <= ranges[k][1]
    assert torch.equal(on, v)  # nothing sounded before: every note is an onset
    v2, _ = net.sample_frame(h, prev, generator=torch.Generator().manual_seed(3), max_notes=3, voice_ranges=ranges)
    assert torch.equal(v, v2)


def test_greedy_bernoulli_is_thresholding_and_temperature_zero_ignores_the_generator():
    net = _net("bernoulli", P=6)
    h = torch.randn(50, 6, dtype=torch.float64)
    v, _ = net.sample_frame(h, torch.zeros(50, 6, dtype=torch.float64), temperature=0)
    assert torch.equal(v, (net.visible_bias(h) > 0).double())


def test_frame_scores_by_hand():
    pred = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 0]])
    true = torch.tensor([[1, 0, 0, 0], [0, 1, 0, 1]])
    s = frame_scores(pred, true)  # TP 2, FP 2, FN 1
    assert s["frame_precision"] == 0.5 and s["frame_recall"] == pytest.approx(2 / 3)
    assert s["frame_accuracy"] == pytest.approx(2 / 5) and s["frame_f1"] == pytest.approx(4 / 7)


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_other_cores_run_and_carry_state(cell):
    net = _net("bernoulli", cell=cell, P=4)
    x = torch.randn(2, 6, 11, dtype=torch.float64)
    whole, _ = net.hidden(x)
    first, state = net.hidden(x[:, :4])
    rest, _ = net.hidden(x[:, 4:], state)
    assert torch.allclose(torch.cat([first, rest], 1), whole, atol=1e-12)
