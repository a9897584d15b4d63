"""augment_line and the augmenting TranscriptionDataset: shapes and ranges kept, a CTC target keeps
its room, every epoch's images reproducible from (seed, epoch, item), validation never augmented."""

import numpy as np
import pytest

from lstmkit.data.transcription import TranscriptionDataset, augment_line
from lstmkit.errors import ConfigError
from lstmkit.estimators import LSTMTranscriber


def line(h=16, w=80, seed=0):
    img = np.zeros((h, w), np.float32)
    img[h // 4: 3 * h // 4, 5: w - 5] = np.random.default_rng(seed).random((h - 2 * (h // 4), w - 10)) > 0.5
    return img


def test_augment_line_keeps_height_range_and_most_ink():
    img = line()
    for s in range(20):
        out = augment_line(img, np.random.default_rng(s))
        assert out.dtype == np.float32 and out.shape[0] == 16
        assert 0.9 * 80 - 1 <= out.shape[1] <= 1.1 * 80 + 1  # width scaled by 1 +- 0.1
        assert out.min() >= 0 and out.max() <= 1
        # ink scales with the area (0.81..1.21) and a little may leave the frame; never most of it
        assert 0.6 < out.sum() / img.sum() < 1.4, s
    a, b = augment_line(img, np.random.default_rng(1)), augment_line(img, np.random.default_rng(2))
    assert a.shape != b.shape or not np.array_equal(a, b)  # two draws differ


def test_augment_line_never_narrows_below_min_width():
    img = line(w=40)
    widths = {augment_line(img, np.random.default_rng(s), min_width=40).shape[1] for s in range(40)}
    assert min(widths) == 40 and max(widths) > 40  # a narrowing draw keeps the width; a widening one applies


def test_dataset_augments_per_epoch_reproducibly():
    imgs = [line(seed=i) for i in range(3)]
    labels = [np.array([1, 2]), np.array([1]), np.array([2, 2])]
    ds = TranscriptionDataset(imgs, "image", labels, augment=True, seed=7, min_widths=[4, 2, 6])
    first = [ds[i][0] for i in range(3)]
    assert not any(a.shape == x.shape and np.array_equal(a, x) for a, x in zip(first, imgs))
    assert all(np.array_equal(ds[i][0], first[i]) for i in range(3))  # same epoch, same images
    ds.set_epoch(1)
    assert not np.array_equal(ds[0][0][:, :70], first[0][:, :70])  # a new epoch, new ones
    ds.set_epoch(0)
    assert np.array_equal(ds[0][0], first[0])  # a resumed epoch 0 sees epoch 0's images again
    plain = TranscriptionDataset(imgs, "image", labels)
    assert all(plain[i][0] is imgs[i] for i in range(3))
    with pytest.raises(ValueError):
        TranscriptionDataset([np.zeros((5, 3), np.float32)], "sequence", [np.array([1])], augment=True)


def test_transcriber_augments_training_images_only():
    rng = np.random.default_rng(0)
    X = [rng.random((16, 60 + i)).astype(np.float32) for i in range(20)]  # one height, widths vary: images
    y = ["ab"] * 20
    fast = {"max_epochs": 1, "quiet": True}
    model = LSTMTranscriber(hidden_size=8, num_layers=1, conv_channels=4, trainer=fast)
    prepared = model._prepare(X, y)
    assert prepared.train.augment and not prepared.val.augment  # "auto": images are augmented
    assert not LSTMTranscriber(augment=False)._prepare(X, y).train.augment
    frames = [np.ascontiguousarray(x.T) for x in X]
    assert not model._prepare(frames, y).train.augment  # "auto": sequences are not
    with pytest.raises(ConfigError, match="augment=True applies to images"):
        LSTMTranscriber(augment=True, trainer=fast).fit(frames, y)
    with pytest.raises(ConfigError, match="augment must be True, False or 'auto', got 'yes'"):
        LSTMTranscriber(augment="yes").fit(X, y)


def test_short_lines_keep_their_ink():
    # a line narrower than its height: the smoothed field is nearly one shift; it must stay small
    img = np.zeros((16, 8), np.float32)
    img[4:12, 2:6] = 1
    kept = [augment_line(img, np.random.default_rng(s)).sum() / img.sum() for s in range(300)]
    assert min(kept) > 0.5, min(kept)


def test_run_record_holds_the_lines_as_given(tmp_path):
    rng = np.random.default_rng(0)
    X = [rng.random((16, 60 + i)).astype(np.float32) for i in range(8)]  # < 10 lines: no validation split
    trainer = {"max_epochs": 1, "quiet": True, "run_dir": str(tmp_path / "run")}
    model = LSTMTranscriber(hidden_size=8, num_layers=1, conv_channels=4, trainer=trainer).fit(X, ["ab"] * 8)
    prepared = model._prepare(X, ["ab"] * 8)
    data, split = model._record_data(prepared, prepared.train)
    assert "training data" in split and not data.augment
    assert all(np.array_equal(data[i][0], prepared.train.inputs[i]) for i in range(8))
