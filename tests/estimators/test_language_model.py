"""LSTMLanguageModel: learns real text, evaluation protocol, generation, bad input (small, seeded)."""

import math
import warnings
from collections import Counter

import pytest
import torch

from checks import zen_lines
from lstmkit import LSTMLanguageModel, load
from lstmkit.data.text import TextPipeline
from lstmkit.errors import ConfigError, DataError

ZEN = "\n".join(zen_lines()) + "\n"
FAST = {"max_epochs": 120, "batch_size": 4, "optimizer": "adam", "lr": 1e-2, "quiet": True, "schedule": "constant"}


@pytest.fixture(scope="module")
def char_lm():
    return LSTMLanguageModel(level="char", embedding_dim=16, hidden_size=48, num_layers=1, bptt=32, dropout=0.0,
                             input_dropout=0.0, val_size=0, trainer=FAST).fit(ZEN)


def unigram_bits(text):
    counts = Counter(text[1:])
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def test_char_model_learns_the_zen_of_python(char_lm):
    m = char_lm.evaluate(ZEN)
    assert m["tokens"] == len(ZEN) - 1 and m["unknown_share"] == 0
    assert m["bits_per_token"] < unigram_bits(ZEN) - 1.0  # well below a unigram model (about 4.2 bits)
    assert m["perplexity"] == pytest.approx(2 ** m["bits_per_token"])


def test_evaluation_carries_the_state_across_chunks(char_lm, monkeypatch):
    """The chunked stream gives the loss of one pass over the whole text (float64 reference)."""
    import lstmkit.estimators.language_model as mod

    net = char_lm.networks_[0]
    ids = torch.from_numpy(char_lm.pipeline_.encode(ZEN))
    ref = net.double()
    try:
        with torch.no_grad():
            logits, _ = ref(ids[:-1][None])
        exact = float(torch.nn.functional.cross_entropy(logits[0], ids[1:], reduction="mean"))
    finally:
        net.float()
    monkeypatch.setattr(mod, "EVAL_CHUNK", 37)  # many chunks, none aligned with lines
    chunked = char_lm.evaluate(ZEN)["loss"]
    assert abs(chunked - exact) < 1e-4 * max(1.0, exact)


def test_generation_greedy_beam_and_seeds(char_lm):
    greedy = char_lm.generate("Beautiful is", 30, temperature=0)
    assert len(greedy) == 30
    assert char_lm.generate("Beautiful is", 30, num_beams=1) == greedy
    a = char_lm.generate("Now is", 40, seed=1)
    assert a == char_lm.generate("Now is", 40, seed=1)
    assert a != char_lm.generate("Now is", 40, seed=2)
    assert "".join(char_lm.stream("Now is", 40, seed=1)) == a
    beam = char_lm.generate("Errors should", 20, num_beams=4)
    assert len(beam) == 20
    free = char_lm.generate("Simple is better", 400, seed=5)
    assert free.count("\n") >= 2  # the model has learned that lines end
    line = char_lm.generate("Simple is better", 400, seed=5, stop_at_eos=True)
    assert line == free[: free.index("\n") + 1]  # the same draws, cut after the first line break


def test_prompts_unknown_and_long(char_lm):
    with pytest.warns(UserWarning, match=r"never seen in training \('Ω'\); they are read as <unk>"):
        out = char_lm.generate("Ω is", 5, temperature=0)
    assert len(out) == 5
    with pytest.raises(DataError, match=r"never seen in training"):
        char_lm.generate("Ω", 5, on_unknown="error")
    long_prompt = ZEN * 8  # longer than any training chunk (bptt 32) and the 256-token evaluation chunk
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(char_lm.generate(long_prompt, 10, temperature=0)) == 10
    assert len(char_lm.generate("", 10, temperature=0)) == 10  # an empty prompt starts after a line break
    with pytest.raises(ConfigError, match="top_p must be"):
        char_lm.generate("a", 3, top_p=1.5)
    with pytest.raises(DataError, match="prompt must be a str"):
        char_lm.generate(["a"], 3)


def test_word_level_vocabulary_eos_and_round_trip(tmp_path):
    text = tmp_path / "zen.txt"
    text.write_text(ZEN)
    lm = LSTMLanguageModel(embedding_dim=8, hidden_size=8, num_layers=1, bptt=8, max_vocab=40, val_size=0.1,
                           trainer={**FAST, "max_epochs": 2})
    lm.fit(text)
    vocab = lm.vocabulary_
    assert vocab[:2] == ["<pad>", "<unk>"] and "<eos>" in vocab and len(vocab) == 42
    m = lm.evaluate(ZEN)
    assert m["unknown_share"] > 0  # max_vocab=40 leaves rarer words as <unk>
    again = load(lm.save(tmp_path / "lm"))
    assert again.evaluate(ZEN) == m
    assert again.generate("Beautiful is", 6, seed=0) == lm.generate("Beautiful is", 6, seed=0)


def test_text_pipeline_decodes_what_it_encodes():
    pipe = TextPipeline("word").fit("a b c\nb c\n")
    ids = pipe.encode("a b c\nb c\n")
    assert pipe.decode(ids) == "a b c\nb c\n"
    assert pipe.tokenize("a b", end_of_text=False) == ["a", "b"]
    assert pipe.encode("a zzz") .tolist() == [pipe.vocab_.stoi["a"], 1, pipe.eos_id]
    back = TextPipeline.from_dict(pipe.to_dict())
    assert back.encode("c b a").tolist() == pipe.encode("c b a").tolist()
    with pytest.raises(ConfigError, match=r"level must be one of \['word', 'char'\], got 'chr' \(did you mean 'char'\?\)"):
        TextPipeline("chr")


def test_bad_text():
    lm = LSTMLanguageModel(trainer={"quiet": True})
    with pytest.raises(DataError, match="X is empty"):
        lm.fit("")
    with pytest.raises(DataError, match="X must be a str"):
        lm.fit(123)
    with pytest.raises(DataError, match="does not exist"):
        lm.fit(__import__("pathlib").Path("/no/such/file.txt"))
    with pytest.raises(ConfigError, match="bptt must be a positive int"):
        LSTMLanguageModel(bptt=0).fit(ZEN)


def test_awd_lstm_options_train_and_switch_off_at_evaluation():
    """Weight drop on W_hh, locked and embedding dropout, AR/TAR: training lowers the loss,
    evaluation is deterministic (no dropout), and the tied softmax shares the embedding."""
    lm = LSTMLanguageModel(level="char", embedding_dim=16, hidden_size=32, num_layers=3, bptt=16, dropout=0.25,
                           input_dropout=0.4, embedding_dropout=0.1, weight_drop=0.3, ar_alpha=2.0, tar_beta=1.0,
                           val_size=0, trainer={**FAST, "max_epochs": 30})
    before = LSTMLanguageModel(level="char", embedding_dim=16, hidden_size=32, num_layers=3, bptt=16, val_size=0,
                               trainer={**FAST, "max_epochs": 1, "max_steps": 1, "lr": 1e-9}).fit(ZEN).evaluate(ZEN)
    lm.fit(ZEN)
    net = lm.networks_[0]
    assert net.decoder.weight is net.embedding.weight and [l.hidden_size for l in net.layers] == [32, 32, 16]
    assert net.layers[0].variant.weight_drop == 0.3
    first, second = lm.evaluate(ZEN), lm.evaluate(ZEN)
    assert first == second and first["loss"] < before["loss"] - 0.5
    losses = [row["train_loss"] for row in lm.history_]
    assert losses[-1] < losses[0]


def test_text_edges_line_endings_paths_and_the_global_generator(char_lm):
    from lstmkit.data.text import read_text

    assert read_text("a b\r\nc\rd\n") == "a b\nc\nd\n"
    with pytest.raises(DataError, match=r"looks like a path but does not exist"):
        char_lm.evaluate("/no/such/valid.txt")
    assert TextPipeline("word").fit("the cat\n").decode(TextPipeline("word").fit("the cat\n").encode("the cat", end_of_text=False)) == "the cat"
    torch.manual_seed(0)
    a = torch.rand(3)
    torch.manual_seed(0)
    char_lm.generate("Flat", 5)  # seed=None: fresh draws, the user's global generator untouched
    assert torch.equal(torch.rand(3), a)
