"""Attention, the shared LSTM decoder, and the seq2seq / captioner networks: numbers checked in
float64 (stepping == one call, masking, gradients), decoding rules (beam 1 == greedy, a ragged
batch == one source at a time)."""

import pytest
import torch

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.models.captioner import CaptionerNetwork, CaptionerNetworkConfig
from lstmkit.models.decoder import check_decoding
from lstmkit.models.seq2seq import Seq2SeqNetwork, Seq2SeqNetworkConfig
from lstmkit.nn.attention import Attention

VARIANTS = [("additive", False, False), ("dot", False, False), ("general", False, False), ("none", False, False),
            ("additive", True, False), ("additive", True, True), ("general", True, False)]


def _net(attention="additive", input_feeding=False, coverage=False, layers=2, seed=0):
    torch.manual_seed(seed)
    cfg = Seq2SeqNetworkConfig(source_vocab_size=20, target_vocab_size=15, embedding_dim=6, hidden_size=8,
                               num_layers=layers, attention=attention, input_feeding=input_feeding, coverage=coverage,
                               dropout=0.0)
    return Seq2SeqNetwork(cfg).double().eval()


def _batch(seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(4, 20, (3, 7), generator=g)
    lengths = torch.tensor([7, 4, 2])
    for b, n in enumerate(lengths.tolist()):
        x[b, n:] = 0
    y = torch.randint(4, 15, (3, 6), generator=g)
    y[:, 0] = 2
    return x, lengths, y


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
def test_attention_weights_sum_to_one_and_are_zero_on_padding(kind):
    torch.manual_seed(0)
    att = Attention(5, 5, kind, coverage=kind == "additive").double()
    q, mem = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 6, 5, dtype=torch.float64)
    mask = torch.arange(6)[None] < torch.tensor([6, 3, 1])[:, None]
    ctx, w = att(q, mem, mask, coverage=torch.rand(3, 6, dtype=torch.float64) if kind == "additive" else None)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, dtype=torch.float64), rtol=0, atol=1e-12)
    assert (w[~mask] == 0).all() and (w[mask] > 0).all()
    torch.testing.assert_close(ctx, (w[..., None] * mem).sum(1), rtol=0, atol=1e-12)
    # padding values do not matter at all
    mem2 = mem.clone()
    mem2[~mask] = 1e3
    torch.testing.assert_close(att(q, mem2, mask)[0], att(q, mem, mask)[0], rtol=0, atol=0)


def test_attention_gradients():
    torch.manual_seed(0)
    att = Attention(4, 3, "additive", coverage=True).double()
    q = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    mem = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    cov = torch.rand(2, 5, dtype=torch.float64)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    assert torch.autograd.gradcheck(lambda a, b: att(a, b, mask, coverage=cov), (q, mem))


def test_attention_bad_arguments():
    with pytest.raises(ConfigError, match=r"attention kind must be one of \('additive', 'dot', 'general'\), got 'cosine'"):
        Attention(4, 4, "cosine")
    with pytest.raises(ConfigError, match=r"dot attention needs query_size == memory_size, got 4 and 6"):
        Attention(4, 6, "dot")
    with pytest.raises(ConfigError, match=r"coverage needs kind='additive'"):
        Attention(4, 4, "general", coverage=True)
    with pytest.raises(ShapeError, match=r"query \(B, Hq\) and memory \(B, S, Hm\)"):
        Attention(4, 4)(torch.randn(2, 4), torch.randn(3, 5, 4))


@pytest.mark.parametrize("attention, input_feeding, coverage", VARIANTS)
def test_stepping_equals_one_call(attention, input_feeding, coverage):
    """The decoder's step-by-step path gives the teacher-forced call's numbers (float64)."""
    net = _net(attention, input_feeding, coverage)
    x, lengths, y = _batch()
    logits, weights = net(x, lengths, y)
    state, memory = net.encode(x, lengths)
    steps, ws = [], []
    for t in range(y.shape[1]):
        lp, state, w = net.decoder.step(y[:, t], state, memory)
        steps.append(lp)
        ws.append(w)
    torch.testing.assert_close(torch.log_softmax(logits, -1), torch.stack(steps, 1), rtol=0, atol=1e-12)
    if attention == "none":
        assert weights is None
    else:
        torch.testing.assert_close(weights, torch.stack(ws, 1), rtol=0, atol=1e-12)
        assert (weights[1, :, 4:] == 0).all() and (weights[2, :, 2:] == 0).all()  # padding gets no weight


@pytest.mark.parametrize("attention, input_feeding, coverage", VARIANTS)
def test_training_loss_projects_only_real_tokens_and_equals_the_full_nll(attention, input_feeding, coverage):
    """loss() skips padded target positions before the output layer; same number as the NLL over
    every position with padding ignored (float64, dropout off), and the same gradients."""
    net = _net(attention, input_feeding, coverage)
    x, lengths, y = _batch()
    y[0, 4:] = 0  # padded targets
    y[2, 3:] = 0
    batch = {"x": x, "x_lengths": lengths, "y": y}
    loss = net.loss(batch)
    grads = torch.autograd.grad(loss, [p for p in net.parameters()], allow_unused=True)
    nll, _, n = net._run(batch)
    full = nll / n
    ref = torch.autograd.grad(full, [p for p in net.parameters()], allow_unused=True)
    assert n == 15 - 2 - 3  # 3 x 5 target positions
    torch.testing.assert_close(loss, full, rtol=0, atol=1e-12)
    for g, r in zip(grads, ref):
        assert (g is None) == (r is None)
        if g is not None:
            torch.testing.assert_close(g, r, rtol=0, atol=1e-12)


def test_padding_does_not_change_a_source():
    """A source decoded in a padded batch gets the same logits as alone (lengths honoured both ways)."""
    net = _net()
    x, lengths, y = _batch()
    logits, _ = net(x, lengths, y)
    alone, _ = net(x[1:2, :4], lengths[1:2], y[1:2])
    torch.testing.assert_close(logits[1:2], alone, rtol=0, atol=1e-12)


@pytest.mark.parametrize("attention, input_feeding, coverage", VARIANTS)
def test_beam_size_one_is_greedy_and_batch_equals_one_by_one(attention, input_feeding, coverage):
    net = _net(attention, input_feeding, coverage, seed=3)
    x, lengths, _ = _batch(5)
    greedy = net.decode(x, lengths, bos_id=2, eos_id=3, max_len=8)
    assert net.decode(x, lengths, bos_id=2, eos_id=3, max_len=8, beam_size=1) == greedy
    one_by_one = [net.decode(x[b:b + 1, :n], lengths[b:b + 1], bos_id=2, eos_id=3, max_len=8)[0]
                  for b, n in enumerate(lengths.tolist())]
    assert one_by_one == greedy
    beams = net.decode(x, lengths, bos_id=2, eos_id=3, max_len=8, beam_size=4)
    beam_alone = [net.decode(x[b:b + 1, :n], lengths[b:b + 1], bos_id=2, eos_id=3, max_len=8, beam_size=4)[0]
                  for b, n in enumerate(lengths.tolist())]
    assert beams == beam_alone and all(len(b) <= 8 for b in beams)


def test_beam_finds_a_sequence_at_least_as_likely_as_greedy():
    net = _net(seed=7)
    x, lengths, _ = _batch(2)

    def log_prob(b, tokens):
        y = torch.tensor([[2, *tokens, 3]])
        logits, _ = net(x[b:b + 1, :lengths[b]], lengths[b:b + 1], y[:, :-1])
        return torch.log_softmax(logits, -1)[0].gather(1, y[0, 1:, None]).sum().item()

    greedy = net.decode(x, lengths, bos_id=2, eos_id=3, max_len=12)
    beam = net.decode(x, lengths, bos_id=2, eos_id=3, max_len=12, beam_size=8, length_penalty=0.0)
    for b in range(3):
        if len(greedy[b]) < 12 and len(beam[b]) < 12:  # both ended with <eos>
            assert log_prob(b, beam[b]) >= log_prob(b, greedy[b]) - 1e-9


def test_max_len_per_row():
    net = _net(seed=4)
    x, lengths, _ = _batch()
    out = net.decode(x, lengths, bos_id=2, eos_id=99, max_len=torch.tensor([1, 3, 5]))  # no <eos> ever: cut
    assert [len(o) for o in out] == [1, 3, 5]


def test_gradients_of_the_whole_network():
    net = _net("additive", True, True, layers=1)
    x, lengths, y = _batch()
    params = [net.decoder.attention.v.weight, net.bridge.h.weight]
    batch = {"x": x, "x_lengths": lengths, "y": torch.cat([y, torch.full((3, 1), 3)], 1)}

    def f(*ps):
        saved = [p.data for p in params]
        for p, new in zip(params, ps):
            p.data = new
        try:
            return net.loss(batch)
        finally:
            for p, old in zip(params, saved):
                p.data = old

    loss = net.loss(batch)
    grads = torch.autograd.grad(loss, params)
    eps = 1e-6
    for k, p in enumerate(params):
        for idx in [(0, 0), (-1, -1)]:
            bumped = [q.detach().clone() for q in params]
            bumped[k][idx] += eps
            up = f(*bumped).item()
            bumped[k][idx] -= 2 * eps
            down = f(*bumped).item()
            assert abs((up - down) / (2 * eps) - grads[k][idx].item()) < 1e-6


def test_config_errors():
    with pytest.raises(ConfigError, match=r"attention must be one of \['none', 'additive', 'dot', 'general'\], got 'x'"):
        Seq2SeqNetworkConfig(attention="x")
    with pytest.raises(ConfigError, match=r"input_feeding and coverage need attention"):
        Seq2SeqNetworkConfig(attention="none", input_feeding=True)
    with pytest.raises(ConfigError, match=r"share_embeddings needs one vocabulary"):
        Seq2SeqNetworkConfig(source_vocab_size=5, target_vocab_size=6, share_embeddings=True)
    with pytest.raises(ConfigError, match=r"too small for 3 pooling blocks"):
        CaptionerNetworkConfig(image_height=6, image_width=6)


def test_check_decoding_normalises_and_names_the_bad_option():
    assert check_decoding(3, 1, None) == (3, 1.0, None)
    assert check_decoding(torch.tensor(2).item(), 0.0, 7) == (2, 0.0, 7)
    for args, name in [((0, 1.0, None), "num_beams"), ((True, 1.0, None), "num_beams"), ((1.5, 1.0, None), "num_beams"),
                       ((1, -0.5, None), "length_penalty"), ((1, float("nan"), None), "length_penalty"),
                       ((1, "1", None), "length_penalty"), ((1, 1.0, 0), "max_tokens"), ((1, 1.0, 2.0), "max_tokens")]:
        with pytest.raises(ConfigError, match=name):
            check_decoding(*args)


@pytest.mark.parametrize("video", [False, True])
def test_captioner_network_step_equals_call_and_batch_equals_one(video):
    torch.manual_seed(0)
    cfg = CaptionerNetworkConfig(vocab_size=12, image_height=8, image_width=12, video=video, conv_channels=3,
                                 conv_blocks=2, embedding_dim=4, hidden_size=6, dropout=0.0)
    net = CaptionerNetwork(cfg).double().eval()
    shape = (3, 4, 3, 8, 12) if video else (3, 3, 8, 12)
    images = torch.rand(*shape, dtype=torch.float64)
    y = torch.randint(4, 12, (3, 5))
    y[:, 0] = 2
    logits, w = net(images, y)
    assert w.shape == (3, 5, 4 if video else 2 * 3)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 5, dtype=torch.float64), rtol=0, atol=1e-12)
    state, memory = net.encode(images)
    steps = []
    for t in range(5):
        lp, state, _ = net.decoder.step(y[:, t], state, memory)
        steps.append(lp)
    torch.testing.assert_close(torch.log_softmax(logits, -1), torch.stack(steps, 1), rtol=0, atol=1e-12)
    together = net.decode(images, bos_id=2, eos_id=3, max_len=6)
    assert together == [net.decode(images[b:b + 1], bos_id=2, eos_id=3, max_len=6)[0] for b in range(3)]
    assert net.decode(images, bos_id=2, eos_id=3, max_len=6, beam_size=1) == together
    with pytest.raises(ShapeError, match=r"expected (clips|images) .* with C = 3, got shape"):
        net.encode(images[..., :1, :, :] if not video else images[:, 0])
