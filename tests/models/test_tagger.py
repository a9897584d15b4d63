"""LSTMTagger and the CRF layer: Viterbi and the partition function against brute force,
BIO entity metrics, learning a treebank sample, persistence, bad input."""

import itertools

import numpy as np
import pytest
import torch

import lstmkit
import lstmkit.train
import lstmkit.datasets
from lstmkit.errors import DataError, ShapeError
from lstmkit.models.heads import CRF
from lstmkit.estimators import LSTMTagger
from lstmkit.models.tagger import bio_entities, entity_scores, token_accuracy


def test_crf_matches_brute_force_enumeration():
    torch.manual_seed(0)
    C, T = 3, 4
    crf = CRF(C)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    emit = torch.randn(3, T, C)
    lengths = torch.tensor([4, 2, 1])
    logZ = crf.log_partition(emit, lengths)
    paths = crf.decode(emit, lengths)
    for b in range(3):
        n = int(lengths[b])
        seqs = list(itertools.product(range(C), repeat=n))
        tags = torch.tensor([list(s) + [0] * (T - n) for s in seqs])  # padding ignored beyond n
        scores = crf.score(emit[b : b + 1].expand(len(seqs), T, C), tags, lengths[b : b + 1].expand(len(seqs)))
        torch.testing.assert_close(logZ[b], torch.logsumexp(scores, 0))
        assert paths[b] == list(seqs[int(scores.argmax())])
    # a hand-computed score: start + emissions + transitions + end
    tags = torch.tensor([[2, 0, 1, 1]])
    expect = crf.start[2] + emit[0, 0, 2] + emit[0, 1, 0] + emit[0, 2, 1] + emit[0, 3, 1] + crf.trans[2, 0] + crf.trans[0, 1] + crf.trans[1, 1] + crf.end[1]
    torch.testing.assert_close(crf.score(emit[:1], tags, lengths[:1])[0], expect)


def test_bio_entities_and_scores():
    assert bio_entities(["B-PER", "I-PER", "O", "B-LOC", "I-ORG", "I-ORG"]) == {("PER", 0, 2), ("LOC", 3, 4), ("ORG", 4, 6)}
    true = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "I-PER", "O", "O"]]
    s = entity_scores(true, pred)
    assert s == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3)}
    assert token_accuracy(true, pred) == 0.75


def small_treebank(n_train=400, n_test=150):
    d = lstmkit.datasets.load("turkish_web_treebank")
    return d.tokens_train[:n_train], d.tags_train[:n_train], d.tokens_test[:n_test], d.tags_test[:n_test]


def test_learns_treebank_sample_above_majority_and_round_trips(tmp_path):
    Xtr, ytr, Xte, yte = small_treebank()
    tagger = LSTMTagger(embedding_dim=32, hidden_size=32, trainer=dict(max_epochs=4, batch_size=16, lr=5e-3, seed=0))
    tagger.fit(Xtr, ytr)
    acc = tagger.score(Xte, yte)
    majority = max(sum(t == tag for s in yte for t in s) for tag in {"NOUN", "VERB"}) / sum(map(len, yte))
    assert acc > majority + 0.15, (acc, majority)
    unseen = [["zzzqqq", "xxyyzz", "."]]  # unknown words still get tags
    assert len(tagger.predict(unseen)[0]) == 3
    tagger.save(tmp_path / "t")
    back = lstmkit.load(tmp_path / "t")
    assert back.predict(Xte) == tagger.predict(Xte)


def test_crf_tagger_numeric_input_bio_metrics(tmp_path):
    """Numeric features, BIO tags: an entity starts where feature 0 jumps up and lasts while it stays up."""
    rng = np.random.default_rng(0)
    X, y = [], []
    for _ in range(60):
        T = int(rng.integers(6, 12))
        on = np.zeros(T)
        s = int(rng.integers(0, T - 2))
        on[s : s + int(rng.integers(1, 3))] = 1
        X.append(np.stack([on + 0.1 * rng.normal(size=T), rng.normal(size=T)], 1).astype(np.float32))
        y.append(["B-X" if on[t] and (t == 0 or not on[t - 1]) else "I-X" if on[t] else "O" for t in range(T)])
    tagger = LSTMTagger(hidden_size=16, use_crf=True, dropout=0.0, trainer=dict(max_epochs=25, batch_size=8, lr=1e-2, seed=0))
    tagger.fit(X[:40], y[:40])
    res = tagger.evaluate(X[40:], y[40:])
    assert set(res) == {"token_accuracy", "precision", "recall", "f1"}
    assert res["token_accuracy"] > 0.9 and res["f1"] > 0.7, res
    tagger.save(tmp_path / "crf")
    assert lstmkit.load(tmp_path / "crf").predict(X[40:]) == tagger.predict(X[40:])


def test_tagger_bad_input():
    Xtr, ytr, _, _ = small_treebank(30, 0)
    tagger = LSTMTagger(hidden_size=8, embedding_dim=8, trainer=dict(max_epochs=1, seed=0)).fit(Xtr, ytr)
    with pytest.raises(DataError, match="never seen at fit time: 'NEWTAG'"):
        tagger.evaluate([["a", "b"]], [["NEWTAG", "NOUN"]])
    with pytest.raises(ShapeError, match=r"y\[0\] has 1 tags for 2 steps"):
        tagger.evaluate([["a", "b"]], [["NOUN"]])
    with pytest.raises(DataError, match=r"X\[0\] must be a list of str tokens"):
        tagger.predict(["a sentence as one string"])
    with pytest.raises(DataError, match=r"X\[1\] is an empty sentence"):
        tagger.predict([["a"], []])
    with pytest.raises(DataError, match="numeric feature sequences"):
        LSTMTagger(trainer=dict(max_epochs=1)).fit([np.zeros((2, 1))] * 2, [["O", "O"], ["O", "B-X"]]).predict([["tok"]])


def test_tagger_task_model_config_round_trip():
    from lstmkit.models.tagger import TaggerNetwork, TaggerNetworkConfig

    cfg = TaggerNetwork(TaggerNetworkConfig(num_tags=4, vocab_size=10, char_vocab_size=5, use_crf=True)).get_config()
    assert TaggerNetwork.from_config(cfg).get_config() == cfg
    with pytest.raises(lstmkit.ConfigError, match="exactly one of vocab_size"):
        TaggerNetworkConfig(num_tags=3)


def test_saved_tagger_missing_keys_are_reported_together(tmp_path):
    """Keys missing from an estimator's saved params, its network config and its trainer config
    are one ModelFileError naming them all (not silently today's defaults)."""
    import json

    X = [np.zeros((3, 2), np.float32), np.ones((4, 2), np.float32)]
    y = [["O", "B-X", "O"], ["B-X", "I-X", "O", "O"]]
    tagger = LSTMTagger(hidden_size=4, trainer=lstmkit.train.TrainerConfig(max_epochs=1, batch_size=2)).fit(X, y)
    path = tagger.save(tmp_path / "t")
    meta = json.loads((path / "config.json").read_text())
    del meta["config"]["params"]["use_crf"], meta["config"]["network"]["hidden_size"], meta["config"]["params"]["trainer"]["lr"]
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(lstmkit.ModelFileError) as info:
        lstmkit.load(path)
    msg = str(info.value)
    assert str(path / "config.json") in msg
    for part in ("LSTMTagger parameters: ['use_crf']", "TrainerConfig: ['lr']", "TaggerNetworkConfig: ['hidden_size']"):
        assert part in msg
