"""LSTMSeq2Seq and LSTMCaptioner: they learn small real tasks, round-trip through save/load,
and give defined behaviour for the bad inputs the issue names; sacrebleu is called right."""

import random

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit.errors import ConfigError, DataError, ShapeError
from lstmkit.estimators import LSTMCaptioner, LSTMSeq2Seq
from lstmkit.models.text_scores import bleu, chrf, exact_match, score_by_length

import checks

FAST = {"max_epochs": 12, "batch_size": 32, "lr": 1e-2, "quiet": True}


def reversal(n, seed):
    rng = random.Random(seed)
    X = ["".join(rng.choice("abcdef") for _ in range(rng.randint(2, 7))) for _ in range(n)]
    return X, [x[::-1] for x in X]


@pytest.fixture(scope="module")
def reverser():
    X, y = reversal(800, 0)
    return LSTMSeq2Seq(hidden_size=32, embedding_dim=16, trainer=FAST).fit(X, y)


def test_seq2seq_learns_to_reverse_unseen_strings(reverser):
    Xt, yt = reversal(200, 1)
    scores = reverser.evaluate(Xt, yt)
    assert scores["exact_match"] > 0.9 and scores["token_accuracy"] > 0.95 and scores["chrf"] > 90
    assert reverser.history_[-1]["val_token_accuracy"] > 0.95


def test_translate_gives_attention_rows_that_sum_to_one(reverser):
    t = reverser.translate(["abcdef"])[0]
    assert t.source_tokens == list("abcdef") + ["<eos>"]
    assert t.attention.shape == (len(t.tokens) + 1, 7)
    np.testing.assert_allclose(t.attention.sum(1), 1.0, atol=1e-5)
    if t.text == "fedcba":  # a model that reverses looks at the mirrored position: the first output reads 'f'
        assert t.attention[0].argmax() == 5


def test_save_load_gives_identical_translations(reverser, tmp_path):
    X, _ = reversal(30, 2)
    again = lstmkit.load(reverser.save(tmp_path / "rev"))
    assert again.predict(X) == reverser.predict(X)
    assert again.predict(X, num_beams=3) == reverser.predict(X, num_beams=3)
    np.testing.assert_array_equal(again.translate(X[:2])[1].attention, reverser.translate(X[:2])[1].attention)


def test_beam_one_equals_greedy_and_batches_equal_one_by_one(reverser):
    X, _ = reversal(40, 3)
    greedy = reverser.predict(X)
    assert reverser.predict(X, num_beams=1) == greedy
    assert [reverser.predict([x])[0] for x in X[:10]] == greedy[:10]
    assert [reverser.predict([x], num_beams=4)[0] for x in X[:10]] == reverser.predict(X[:10], num_beams=4)


def test_defined_behaviour_for_odd_sources(reverser):
    # empty source: read as <eos> alone, decodes to some (possibly empty) text
    empty = reverser.translate([""])[0]
    assert empty.source_tokens == ["<eos>"] and isinstance(empty.text, str)
    # unknown characters are <unk> in what the encoder reads, and named by the pipeline
    t = reverser.translate(["abXY"])[0]
    assert t.source_tokens == ["a", "b", "<unk>", "<unk>", "<eos>"]
    assert reverser.pipeline_.unknown("abXY") == ["X", "Y"]
    # a source far longer than any training source: decodes with room max(longest, 2 x length) + 10
    long = "abcdef" * 20
    out = reverser.predict([long])[0]
    assert len(out) <= 2 * len(long) + 10
    assert len(reverser.predict([long], max_tokens=5)[0]) <= 5


def test_bad_decoding_options(reverser):
    with pytest.raises(ConfigError, match=r"num_beams must be a positive int, got 0"):
        reverser.predict(["ab"], num_beams=0)
    with pytest.raises(ConfigError, match=r"max_tokens must be None or a positive int, got -1"):
        reverser.predict(["ab"], max_tokens=-1)
    with pytest.raises(DataError, match=r"X must be a list of str"):
        reverser.predict("abc")
    with pytest.raises(ShapeError, match=r"X has 2 texts and y has 1 references"):
        reverser.evaluate(["ab", "cd"], ["ba"])


def test_bad_parameters_all_reported_at_once():
    with pytest.raises(ConfigError, match=r"level must be one of \['char', 'word'\], got 'chars'.*num_beams must be a "
                                          r"positive int, got 0.*coverage needs attention='additive', got 'dot'"):
        LSTMSeq2Seq(level="chars", num_beams=0, attention="dot", coverage=True).fit(["a"] * 3, ["b"] * 3)
    with pytest.raises(DataError, match=r"y holds only empty texts"):
        LSTMSeq2Seq(trainer=FAST).fit(["a", "b"], ["", ""])


def test_word_level_and_shared_vocabulary():
    X = ["the cat sat .", "the dog ran !", "a cat ran ."] * 10
    y = ["le chat , assis .", "le chien court !", "un chat court ."] * 10
    model = LSTMSeq2Seq(level="word", share_vocab=True, hidden_size=16, embedding_dim=8,
                        trainer={**FAST, "max_epochs": 30, "batch_size": 4}).fit(X, y)
    assert model.networks_[0].decoder.embedding.weight is model.networks_[0].source_embedding.weight
    assert model.predict(["the cat sat ."]) == ["le chat , assis ."]  # the spaces of the references, exactly


@pytest.mark.parametrize("text", ["God’s word, like-minded: 3,000 men.", "2002-04-03", "(a) don't", "¿Qué? ¡Sí!",
                                  "  spaced   out  ", "e\u0301te"])
def test_word_tokens_round_trip(text):
    from lstmkit.data.seq2seq import detokenize, tokenize
    import unicodedata

    assert detokenize(tokenize(text)) == " ".join(unicodedata.normalize("NFC", text).split())
    assert tokenize("Jesus, the son") == ["Jesus", "##,", "the", "son"]


def test_display_tokens_drop_the_glue_mark_only():
    from lstmkit.data.seq2seq import display_tokens

    assert display_tokens(["Jesus", "##,", "##", "the", "<eos>"]) == ["Jesus", ",", "##", "the", "<eos>"]


def test_odd_containers_and_references(reverser):
    import pandas as pd

    with pytest.raises(DataError, match=r"got a DataFrame: pass one column"):
        reverser.predict(pd.DataFrame({"src": ["ab", "cd"]}))
    with pytest.raises(DataError, match=r"got a dict"):
        reverser.predict({"ab": 1})
    assert reverser.predict(pd.Series(["ab", "cd"])) == reverser.predict(["ab", "cd"])
    assert reverser.predict(np.array(["ab", "cd"])) == reverser.predict(["ab", "cd"])
    with pytest.raises(DataError, match=r"references\[1\] must be a str or a non-empty list of str, got \[None\]"):
        reverser.evaluate(["ab", "cd"], ["ba", None])
    with pytest.raises(DataError, match=r"y must be a list"):
        reverser.evaluate(["ab"], None)
    t = reverser.translate(["abcdef"], max_tokens=2)[0]
    assert len(t.tokens) == 2 and t.attention.shape == (2, 7)  # cut: no row for an <eos> never produced
    assert reverser.predict(["ab"], num_beams=np.int64(2), max_tokens=np.int64(5))


# --- text scores ---------------------------------------------------------------------------------
def test_bleu_takes_references_per_hypothesis():
    import sacrebleu

    hyps = ["the cat sat on the mat", "a dog barked loudly at night"]
    refs = [["the cat sat on the mat", "a cat sat on a mat"], ["the dog barked at night"]]
    streams = [[refs[0][0], refs[1][0]], [refs[0][1], None]]  # sacrebleu's layout, by hand
    assert bleu(hyps, refs) == pytest.approx(sacrebleu.corpus_bleu(hyps, streams).score)
    assert chrf(hyps, refs) == pytest.approx(sacrebleu.corpus_chrf(hyps, streams).score)
    assert bleu(hyps, [r[0] for r in refs]) == pytest.approx(sacrebleu.corpus_bleu(hyps, [streams[0]]).score)
    assert bleu(hyps, refs[::-1]) < bleu(hyps, refs)  # references swapped: the score drops
    assert exact_match(hyps, refs) == 0.5
    rows = score_by_length(hyps, refs, [0, 15], edges=(10,))  # an empty source counts in the first bucket
    assert [(r["bucket"], r["n"]) for r in rows] == [("<= 10", 1), ("> 10", 1)]
    with pytest.raises(DataError, match=r"hypotheses\[0\] must be a str, got NoneType"):
        bleu([None], ["a"])
    with pytest.raises(ShapeError, match=r"2 hypotheses but 1 reference entries"):
        bleu(hyps, refs[:1])
    with pytest.raises(DataError, match=r"references must be a list"):
        bleu(hyps, "the cat")


# --- captioning ----------------------------------------------------------------------------------
def squares(n, seed):
    """Images with one coloured square on the left or right half; captions name colour and side."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, (n, 16, 16, 3)).astype(np.uint8)
    captions, truth = [], []
    for i in range(n):
        side, colour = int(rng.integers(2)), int(rng.integers(3))
        top = int(rng.integers(1, 9))
        x0 = int(rng.integers(0, 3)) + (9 if side else 0)
        images[i, top:top + 6, x0:x0 + 5, colour] = 255
        words = f"a {('red', 'green', 'blue')[colour]} square on the {('left', 'right')[side]}"
        captions.append([words, f"the square on the {('left', 'right')[side]} is {('red', 'green', 'blue')[colour]}"])
        truth.append((("red", "green", "blue")[colour], ("left", "right")[side]))
    return images, captions, truth


@pytest.fixture(scope="module")
def captioner():
    images, captions, _ = squares(240, 0)
    return LSTMCaptioner(conv_channels=8, conv_blocks=2, hidden_size=32, embedding_dim=16,
                         trainer={**FAST, "max_epochs": 25}).fit(images, captions)


def test_captioner_names_colour_and_side_of_unseen_images(captioner):
    images, captions, truth = squares(60, 1)
    said = captioner.predict(images)
    right = [c in s.split() and side in s.split() for s, (c, side) in zip(said, truth)]
    assert np.mean(right) > 0.85, said[:5]
    assert captioner.evaluate(images, captions)["bleu"] > 50


def test_describe_gives_a_map_per_word(captioner):
    images, _, _ = squares(2, 2)
    cap = captioner.describe(images[:1])[0]
    assert cap.attention.shape == (len(cap.tokens) + 1, 4, 4)
    np.testing.assert_allclose(cap.attention.sum((1, 2)), 1.0, atol=1e-5)


def test_captioner_single_images_ragged_lists_and_case(captioner):
    images, captions, _ = squares(3, 5)
    with pytest.raises(ShapeError, match=r"looks like one image \(H, W, C\); give a batch"):
        captioner.predict(images[0])
    assert len(captioner.predict(images[:1])) == 1
    ragged = [images[0], np.repeat(np.repeat(images[1], 2, 0), 2, 1)]  # 16 px and 32 px: each resized
    assert len(captioner.predict(ragged)) == 2
    with pytest.raises(ShapeError, match=r"every image needs at least one pixel"):
        captioner.predict(np.zeros((1, 0, 0, 3), np.uint8))
    upper = [[c.upper() for c in refs] for refs in captions]  # a lowercasing model is not scored on case
    assert captioner.evaluate(images, upper) == captioner.evaluate(images, captions)


def test_captioner_image_size_and_dot_attention():
    images, captions, _ = squares(40, 6)
    ragged = [np.repeat(np.repeat(im, 2, 0), 2, 1) if i % 2 else im for i, im in enumerate(images)]
    with pytest.raises(ShapeError, match=r"X\[1\] has shape \(32, 32, 3\) but X\[0\] has \(16, 16, 3\)"):
        LSTMCaptioner(trainer=FAST).fit(ragged, captions)
    model = LSTMCaptioner(image_size=16, attention="dot", conv_channels=4, conv_blocks=2, hidden_size=8,
                          trainer={**FAST, "max_epochs": 1}).fit(ragged, captions)
    assert model.pipeline_.shape_ == (16, 16, 3) and model.describe(images[:1])[0].attention.shape[1:] == (4, 4)


def test_captioner_images_of_other_sizes_and_channels(captioner, tmp_path):
    images, _, _ = squares(4, 3)
    big = np.repeat(np.repeat(images, 2, axis=1), 2, axis=2)  # 32 x 32: resized back to 16 x 16
    assert captioner.predict(big) == captioner.predict(captioner.pipeline_.transform(big).movedim(1, -1).numpy())
    with pytest.raises(ShapeError, match=r"X has shape \(4, 16, 16, 1\) with 1 channel\(s\); the model was trained on 3-channel"):
        captioner.predict(images[..., :1])
    with pytest.raises(ShapeError, match=r"X must be images \(N, H, W, C\), got shape \(4, 2, 16, 16, 3\)"):
        captioner.predict(np.stack([images, images], 1))
    with pytest.raises(DataError, match=r"X must be a real numeric array"):
        captioner.predict([["a"]])
    again = lstmkit.load(captioner.save(tmp_path / "cap"))
    assert again.predict(images) == captioner.predict(images)


def test_video_captioner_learns_direction():
    rng = np.random.default_rng(0)
    n, T = 240, 5
    clips = np.zeros((n, T, 12, 12, 3), np.uint8)
    captions = []
    for i in range(n):
        right = i % 2 == 0
        y0 = int(rng.integers(1, 8))
        for t in range(T):
            x = 1 + 2 * t if right else 9 - 2 * t
            clips[i, t, y0:y0 + 3, x:x + 3, :] = 255
        captions.append(f"the square moves {'right' if right else 'left'}")
    model = LSTMCaptioner(conv_channels=4, conv_blocks=2, hidden_size=16, embedding_dim=8,
                          trainer={**FAST, "max_epochs": 25, "batch_size": 16}).fit(clips[:200], captions[:200])
    said = model.predict(clips[200:])
    assert np.mean([s == c for s, c in zip(said, captions[200:])]) > 0.9
    cap = model.describe(clips[:1])[0]
    assert cap.attention.shape == (len(cap.tokens) + 1, T)


def test_checks_module_has_both_cases():
    assert {"LSTMSeq2Seq", "LSTMCaptioner"} <= set(checks.CASES)
