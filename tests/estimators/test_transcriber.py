"""LSTMTranscriber: learns to read unsegmented glyph lines and frame sequences, decodes a ragged
batch as it decodes each input alone, refuses impossible targets before training, round-trips."""

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit.errors import ConfigError, DataError, ShapeError
from lstmkit.estimators import LSTMTranscriber
from lstmkit.estimators.transcriber import auto_conv_blocks, auto_frame_stack

FAST = {"max_epochs": 15, "batch_size": 16, "lr": 3e-3, "quiet": True}


def glyph_data(n, seed, letters="abcde", height=12):
    rng = np.random.default_rng(seed)
    glyphs = {c: np.random.default_rng(ord(c)).random((height, 8)) > 0.6 for c in letters}
    X, y = [], []
    for _ in range(n):
        text = "".join(rng.choice(list(letters), int(rng.integers(2, 6))))
        gaps = [np.zeros((height, int(rng.integers(0, 3)))) for _ in text]  # unsegmented: gaps vary, may vanish
        img = np.concatenate([np.concatenate([g, glyphs[ch]], 1) for g, ch in zip(gaps, text)], 1).astype(np.float32)
        X.append(np.clip(img + rng.normal(0, 0.1, img.shape), 0, 1).astype(np.float32))
        y.append(text)
    return X, y


@pytest.fixture(scope="module")
def reader():
    X, y = glyph_data(300, 0)
    return LSTMTranscriber(hidden_size=24, num_layers=1, trainer=FAST).fit(X, y)


def test_reads_unseen_lines(reader):
    X, y = glyph_data(100, 1)
    for decode in ({}, {"decoder": "beam"}, {"decoder": "beam", "lm_weight": 0.3}):
        scores = reader.evaluate(X, y, **decode)
        assert scores["cer"] < 0.05 and scores["exact_match"] > 0.8, (decode, scores)


def test_ragged_batch_decodes_as_one_by_one(reader):
    X, _ = glyph_data(20, 2)
    together = reader.predict(X)
    assert [reader.predict([x])[0] for x in X] == together
    lp = reader.posteriors(X)
    down = reader.networks_[0].config.downsample  # 2 ** conv_blocks ("auto")
    assert [p.shape[0] for p in lp] == [x.shape[1] // down for x in X]
    np.testing.assert_allclose(np.exp(lp[0]).sum(1), 1.0, atol=1e-5)


def test_save_load_keeps_network_and_language_model(reader, tmp_path):
    X, _ = glyph_data(10, 3)
    again = lstmkit.load(reader.save(tmp_path / "reader"))
    assert again.predict(X, decoder="beam", lm_weight=0.5) == reader.predict(X, decoder="beam", lm_weight=0.5)
    assert again.lm_.score("abc") == reader.lm_.score("abc")


def test_other_heights_are_resized_and_bad_inputs_refused(reader):
    X, _ = glyph_data(3, 4)
    tall = [np.kron(x, np.ones((2, 2), np.float32)) for x in X]  # twice the size: resized to 12 px high
    assert len(reader.predict(tall)) == 3
    with pytest.raises(ShapeError, match=r"X\[0\] must be 2-D"):
        reader.predict([np.zeros((2, 3, 4))])
    with pytest.raises(DataError, match=r"images must be grey values in \[0, 1\]"):
        reader.predict([X[0] * 3])
    with pytest.raises(ConfigError, match=r"lm_weight needs decoder='beam'"):
        reader.predict(X, lm_weight=0.5)


def test_impossible_targets_are_refused_before_training():
    X, y = glyph_data(12, 5)
    y[3] = "a" * 30  # 30 repeated letters need 59 frames
    with pytest.raises(DataError, match=r"y\[3\] needs 59 frames, its input gives \d+"):
        LSTMTranscriber(trainer=FAST).fit(X, y)


def test_frame_sequences_with_frame_stacking():
    """Frames (T, F): symbol k shows as a burst of frames with feature k high; stacked in pairs."""
    rng = np.random.default_rng(0)

    def make(n):
        X, y = [], []
        for _ in range(n):
            text = "".join(rng.choice(list("xyz"), int(rng.integers(1, 5))))
            frames = []
            for ch in text:
                k = "xyz".index(ch)
                burst = np.zeros((int(rng.integers(4, 7)), 4), np.float32)
                burst[:, k] = 1.0
                frames += [burst, np.zeros((int(rng.integers(2, 4)), 4), np.float32)]
            X.append(np.concatenate(frames) + rng.normal(0, 0.05, (sum(len(f) for f in frames), 4)).astype(np.float32))
            y.append(text)
        return X, y

    X, y = make(300)
    model = LSTMTranscriber(frame_stack=2, hidden_size=24, num_layers=1, trainer=FAST).fit(X, y)
    Xt, yt = make(60)
    assert model.evaluate(Xt, yt)["cer"] < 0.1
    with pytest.raises(ShapeError, match=r"X\[0\] has 3 features per frame; the model was trained on 4"):
        model.predict([np.zeros((10, 3), np.float32)])


def test_auto_conv_blocks_pools_lines_to_about_eight_rows():
    ten, twenty = list(range(10)), list(range(20))
    assert auto_conv_blocks([85, 170], [ten, twenty], 16) == 1  # digit strings: 16 px -> 8 rows
    assert auto_conv_blocks([220, 440], [ten, twenty], 32) == 2  # text lines: 32 px -> 8 rows
    assert auto_conv_blocks([640], [ten], 64) == 3
    assert auto_conv_blocks([640], [ten], 45) == 2  # log2(45 / 8) = 2.49 -> 2
    assert auto_conv_blocks([640], [ten], 46) == 3  # log2(46 / 8) = 2.52 -> 3
    assert auto_conv_blocks([640], [ten], 8) == 1  # never below one block
    assert auto_conv_blocks([30], [[]], 32) == 2  # no symbols: nothing to lower it
    # one tight line (60 columns for 20 symbols: 15 frames at 2 blocks, 30 at 1) lowers 2 to 1
    assert auto_conv_blocks([440, 60], [twenty, twenty], 32) == 1
    assert auto_conv_blocks([440, 80], [twenty, twenty], 32) == 2  # 80 >> 2 = 20 frames: enough


def test_auto_rules_leave_room_for_the_validation_inputs_too():
    # nine roomy 32-px lines and one tight one (60 columns for 20 symbols: 15 frames at 2 blocks);
    # with random_state=0 the tight line falls in the validation part, which must fit as well
    rng = np.random.default_rng(0)
    X = [rng.random((32, 440)).astype(np.float32) for _ in range(10)]
    X[4] = rng.random((32, 60)).astype(np.float32)
    y = ["abcdefghijabcdefghij"] * 10
    model = LSTMTranscriber(hidden_size=8, num_layers=1, conv_channels=4,
                            trainer={"max_epochs": 1, "quiet": True}).fit(X, y)
    assert model.networks_[0].config.conv_blocks == 1
    frames = [np.ascontiguousarray(x.T) for x in X]  # as frame sequences: median 22 per symbol -> k = 6,
    model = LSTMTranscriber(hidden_size=8, num_layers=1, trainer={"max_epochs": 1, "quiet": True}).fit(frames, y)
    assert model.networks_[0].config.frame_stack == 3  # which leaves the tight one 10 steps; k = 3 leaves 20


def test_images_narrower_than_the_pooling_are_padded():
    rng = np.random.default_rng(0)
    X = [rng.random((64, 6)).astype(np.float32), rng.random((64, 400)).astype(np.float32)]
    model = LSTMTranscriber(hidden_size=8, num_layers=1, conv_channels=4,
                            trainer={"max_epochs": 1, "batch_size": 1, "quiet": True}).fit(X, ["", "hello"])
    assert model.networks_[0].config.conv_blocks == 3  # 64 px -> 8 rows
    assert [p.shape[0] for p in model.posteriors([X[0][:, :1], X[0]])] == [1, 1]


def test_auto_frame_stack_keeps_about_four_steps_per_symbol():
    # pen-like: 24 points per symbol -> 6; speech-like: 7 frames per symbol -> 2 (7 / 4 = 1.75 is
    # nearest 2); 5 frames per symbol -> 1 (1.25); 6 -> 2 (1.5: halves round up, not to even)
    assert auto_frame_stack([24 * 10, 24 * 20, 24 * 5], [[1, 2] * 5, [1, 2] * 10, [1, 2, 3, 1, 2]]) == 6
    assert auto_frame_stack([70, 140], [list(range(10)), list(range(20))]) == 2
    assert auto_frame_stack([50, 100], [list(range(10)), list(range(20))]) == 1
    assert auto_frame_stack([60, 120], [list(range(10)), list(range(20))]) == 2
    assert auto_frame_stack([100, 200], [list(range(10)), list(range(20))]) == 3  # 2.5 -> 3
    # one tight input (30 frames for 10 symbols) caps k at 3 although the median allows 6
    assert auto_frame_stack([240, 240, 30], [list(range(10))] * 3) == 3
    assert auto_frame_stack([5, 9], [[], []]) == 1  # no symbols: no stacking
    # repeats need a blank between them: 10 symbols in 60 frames fit k = 6 (10 steps), "aaaaaaaaaa"
    # needs 19 steps, so k = 3
    assert auto_frame_stack([240, 240, 60], [list(range(10))] * 3) == 6
    assert auto_frame_stack([240, 240, 60], [list(range(10))] * 2 + [[1] * 10]) == 3


def test_frame_stack_auto_is_resolved_at_fit_and_saved(tmp_path):
    rng = np.random.default_rng(1)
    X = [rng.normal(size=(24 * 4, 3)).astype(np.float32) for _ in range(12)]
    y = ["abcd"] * 12
    model = LSTMTranscriber(hidden_size=8, num_layers=1, trainer={**FAST, "max_epochs": 1}).fit(X, y)
    assert model.frame_stack == "auto" and model.networks_[0].config.frame_stack == 6
    back = lstmkit.load(model.save(tmp_path / "m.model"))
    assert back.networks_[0].config.frame_stack == 6
    np.testing.assert_allclose(back.posteriors(X[:2])[0], model.posteriors(X[:2])[0], atol=0, rtol=0)
    with pytest.raises(ConfigError, match=r"frame_stack must be a positive int or 'auto', got 'fast'"):
        LSTMTranscriber(frame_stack="fast").fit(X, y)
