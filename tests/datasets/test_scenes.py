"""The synthetic captioning data: shapes, determinism, held-out pairs, reference captions that the
checkers accept, wrong captions that they reject, and argument errors."""

import json

import numpy as np
import pytest

from lstmkit.datasets.scenes import (
    COLOURS,
    DEFAULT_HELD_OUT,
    DIRECTIONS,
    SHAPES,
    WORDS,
    Scene,
    SceneObject,
    attribute_accuracy,
    check_caption,
    check_clip_caption,
    clip_captions,
    clip_event_accuracy,
    make_clips,
    make_scenes,
    object_radius,
    relation,
    render_scene,
    scene_captions,
)
from lstmkit.errors import ConfigError, DataError

HELD = set(DEFAULT_HELD_OUT)


@pytest.fixture(scope="module")
def train():
    return make_scenes(300, split="train", seed=0)


@pytest.fixture(scope="module")
def test_set():
    return make_scenes(200, split="test", seed=0)


@pytest.fixture(scope="module")
def clips():
    return make_clips(200, split="train", seed=0)


def two(a: SceneObject, b: SceneObject, size: int = 64) -> Scene:
    return Scene([a, b], size)


RED_LEFT = SceneObject("circle", "red", "large", 14, 32)
BLUE_RIGHT = SceneObject("square", "blue", "small", 50, 34)


# ------------------------------------------------------------------------------------------- scenes


def test_shapes_and_dtypes(train):
    assert train.images.shape == (300, 64, 64, 3) and train.images.dtype == np.uint8
    assert len(train.captions) == len(train.scenes) == 300
    d = make_scenes(5, image_size=40, max_objects=1, seed=2)
    assert d.images.shape == (5, 40, 40, 3)
    assert all(len(s.objects) == 1 and s.image_size == 40 for s in d.scenes)


def test_deterministic_under_seed():
    a, b = make_scenes(20, seed=7), make_scenes(20, seed=7)
    assert np.array_equal(a.images, b.images) and a.captions == b.captions
    assert [s.to_dict() for s in a.scenes] == [s.to_dict() for s in b.scenes]
    assert not np.array_equal(a.images, make_scenes(20, seed=8).images)
    assert a.captions != make_scenes(20, seed=7, split="test").captions


def test_scenes_are_valid(train):
    counts = {len(s.objects) for s in train.scenes}
    assert counts == {1, 2, 3}
    for s in train.scenes:
        assert len({o.pair for o in s.objects}) == len(s.objects)  # distinct (colour, shape)
        for k, o in enumerate(s.objects):
            r = object_radius(o.size, s.image_size)
            assert r <= o.x <= s.image_size - 1 - r and r <= o.y <= s.image_size - 1 - r
            for p in s.objects[k + 1:]:
                assert np.hypot(o.x - p.x, o.y - p.y) >= r + object_radius(p.size, s.image_size)


def test_image_is_the_rendered_scene_plus_mild_noise(train):
    for img, s in zip(train.images[:20], train.scenes[:20]):
        clean = render_scene(s).astype(int)
        diff = img.astype(int) - clean
        assert np.abs(diff).mean() < 5 and np.abs(diff).max() <= 20
        assert abs(int(np.median(img)) - s.background) <= 2  # most pixels are background


def test_held_out_pairs_absent_from_train_present_in_every_test_scene(train, test_set):
    assert not any(o.pair in HELD for s in train.scenes for o in s.objects)
    assert all(any(o.pair in HELD for o in s.objects) for s in test_set.scenes)
    # the held-out pairs are all used, and test scenes hold other objects too
    assert {o.pair for s in test_set.scenes for o in s.objects} & HELD == HELD
    assert any(o.pair not in HELD for s in test_set.scenes for o in s.objects)
    custom = make_scenes(50, held_out=[("white", "square")], split="test", seed=1)
    assert all(("white", "square") in {o.pair for o in s.objects} for s in custom.scenes)


def test_reference_captions_are_short_lowercase_and_true(train, test_set):
    for data in (train, test_set):
        for caps, scene in zip(data.captions, data.scenes):
            assert len(caps) >= 3 and len(set(caps)) == len(caps)
            assert caps == scene_captions(scene)
            for c in caps:
                words = c.split()
                assert " ".join(words) == c and len(words) < 25 and set(words) <= set(WORDS)
                assert check_caption(c, scene) == [], (c, scene)
        assert attribute_accuracy([c[0] for c in data.captions], data.scenes) == 1.0
    # relations occur, and among them every kind
    said = " ".join(c for caps in train.captions for c in caps)
    assert all(r in said for r in ("left of", "right of", "above", "below"))


def test_relation_is_geometric_and_unambiguous():
    assert relation(RED_LEFT, BLUE_RIGHT, 64) == "left of"
    assert relation(BLUE_RIGHT, RED_LEFT, 64) == "right of"
    top, bottom = SceneObject("cross", "white", "small", 30, 8), SceneObject("cross", "green", "small", 33, 50)
    assert relation(top, bottom, 64) == "above" and relation(bottom, top, 64) == "below"
    diagonal = SceneObject("cross", "green", "small", 40, 40)
    assert relation(SceneObject("cross", "white", "small", 10, 12), diagonal, 64) is None
    scene = two(SceneObject("cross", "white", "small", 10, 12), diagonal)
    assert scene_captions(scene) == [
        "a small white cross and a small green cross",
        "the image shows a small white cross and a small green cross",
        "there is a small white cross and a small green cross",
    ]
    assert check_caption("a small white cross left of a small green cross", scene)[0].startswith("false")


def test_check_caption_rejects_wrong_statements():
    scene = two(RED_LEFT, BLUE_RIGHT)
    good = "a large red circle left of a small blue square"
    assert check_caption(good, scene) == []
    assert check_caption("the red circle is to the left of the blue square", scene) == []  # size optional
    assert check_caption("a small blue square is right of a large red circle and a red circle", scene) == []
    assert check_caption(good.split(), scene) == []  # a list of words works too

    wrong_colour = check_caption("a large green circle left of a small blue square", scene)
    assert any("no large green circle" in p for p in wrong_colour)
    assert check_caption("a small red circle", scene)[0].startswith("no small red circle")  # wrong size
    assert check_caption("a large red circle right of a small blue square", scene) == [
        "false: large red circle right of small blue square (it is left of it)"]
    assert check_caption("a large red circle above a small blue square", scene)[0].startswith("false")
    assert check_caption("a large red square left of a small blue circle", scene)  # shapes swapped
    assert check_caption("a large red circle left of a large red circle", scene)  # one object, not a pair
    for bad in ("", "   ", "red circle", "a large red", "a large red circle and", "a large red circle is",
                "a large red circle left of", "a large red circle blue square", "hello world"):
        problems = check_caption(bad, scene)
        assert len(problems) == 1 and problems[0].startswith("unparseable"), (bad, problems)

    scenes = [scene, scene]
    assert attribute_accuracy([good, "a large red square"], scenes) == 0.5


def test_scene_dict_round_trip(train):
    for s in train.scenes[:20]:
        d = json.loads(json.dumps(s.to_dict()))
        assert Scene.from_dict(d) == s
        assert np.array_equal(render_scene(Scene.from_dict(d)), render_scene(s))
    with pytest.raises(DataError, match=r"objects\[0\]\.colour.*'rde'.*did you mean 'red'"):
        Scene.from_dict({"image_size": 64, "objects": [{"shape": "circle", "colour": "rde", "size": "small", "x": 9, "y": 9}]})


# -------------------------------------------------------------------------------------------- clips


def test_clip_shapes_and_determinism(clips):
    assert clips.frames.shape == (200, 8, 48, 48, 3) and clips.frames.dtype == np.uint8
    assert len(clips.captions) == len(clips.events) == 200
    again = make_clips(200, split="train", seed=0)
    assert np.array_equal(clips.frames, again.frames) and clips.events == again.events
    other = make_clips(3, image_size=32, n_frames=5, max_objects=1, seed=1)
    assert other.frames.shape == (3, 5, 32, 32, 3)


def test_clip_events_are_ordered_motions(clips):
    travel = round(0.3 * 48)
    assert {len(e) for e in clips.events} == {1, 2}
    assert {e["direction"] for ev in clips.events for e in ev} == set(DIRECTIONS)
    for ev in clips.events:
        assert ev[0]["start"] == 0 and ev[-1]["end"] == 7
        if len(ev) == 2:
            assert ev[0]["end"] == ev[1]["start"] == 4  # first half, then second half
        for e in ev:
            dx, dy = e["x1"] - e["x0"], e["y1"] - e["y0"]
            assert (dx, dy) == {"left": (-travel, 0), "right": (travel, 0), "up": (0, -travel),
                                "down": (0, travel)}[e["direction"]]
    # the first frame shows the start positions, the last frame the end positions
    for frames, ev in zip(clips.frames[:10], clips.events[:10]):
        for t, key in ((0, ("x0", "y0")), (7, ("x1", "y1"))):
            objs = [SceneObject(e["shape"], e["colour"], e["size"], e[key[0]], e[key[1]]) for e in ev]
            g = int(np.median(frames[t]))
            clean = render_scene(Scene(objs, 48, g)).astype(int)
            assert np.abs(frames[t].astype(int) - clean).mean() < 5


def test_clip_held_out_pairs():
    train = make_clips(100, split="train", seed=3)
    test = make_clips(100, split="test", seed=3)
    assert not any((e["colour"], e["shape"]) in HELD for ev in train.events for e in ev)
    assert all(any((e["colour"], e["shape"]) in HELD for e in ev) for ev in test.events)


def test_clip_reference_captions_pass(clips):
    for caps, ev in zip(clips.captions, clips.events):
        assert len(caps) >= 3 and caps == clip_captions(ev)
        for c in caps:
            assert set(c.split()) <= set(WORDS) and len(c.split()) < 25
            assert check_clip_caption(c, ev) == [], (c, ev)
    assert clip_event_accuracy([c[1] for c in clips.captions], clips.events) == 1.0


def test_check_clip_caption_rejects_wrong_order_direction_and_omissions():
    ev = [{"colour": "red", "shape": "square", "size": "small", "direction": "left"},
          {"colour": "blue", "shape": "circle", "size": "large", "direction": "down"}]
    assert clip_captions(ev)[0] == "the red square moves left then the blue circle falls"
    assert check_clip_caption("the blue circle falls after the red square moves left", ev) == []
    assert check_clip_caption("the small red square moves left and then a large blue circle moves down", ev) == []
    swapped = check_clip_caption("the blue circle falls then the red square moves left", ev)
    assert any(p.startswith("wrong order") for p in swapped)
    assert check_clip_caption("the red square moves left after the blue circle falls", ev)  # 'after' reversed
    assert check_clip_caption("the red square moves right then the blue circle falls", ev) == [
        "false: the red square moves right (it moves left)"]
    assert check_clip_caption("the red square moves left", ev) == ["missing: the blue circle falls"]
    assert check_clip_caption("the red square moves left then the red square moves left then the blue circle "
                              "falls", ev) == ["repeated: the red square moves left"]
    assert check_clip_caption("the green square moves left then the blue circle falls", ev)[0].startswith("false")
    assert check_clip_caption("the large red square moves left then the blue circle falls", ev)  # wrong size
    for bad in ("", "the red square", "the red square moves", "the red square moves left then",
                "first the red square moves left after the blue circle falls"):
        problems = check_clip_caption(bad, ev)
        assert len(problems) == 1 and problems[0].startswith("unparseable"), (bad, problems)
    one = [{"colour": "orange", "shape": "cross", "size": "small", "direction": "up"}]
    assert clip_captions(one) == ["the orange cross rises", "an orange cross rises", "the small orange cross rises"]
    assert clip_event_accuracy(["the orange cross rises", "the orange cross falls"], [one, one]) == 0.5


# ------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, r"n must be a positive int, got 0"),
    ({"n": 2.5}, r"n must be a positive int"),
    ({"image_size": 16}, r"image_size must be an int >= 32.*got 16"),
    ({"max_objects": 4}, r"max_objects must be an int in 1\.\.3, got 4"),
    ({"max_objects": 0}, r"max_objects must be an int in 1\.\.3, got 0"),
    ({"held_out": [("rde", "triangle")]}, r"held_out\[0\] names the unknown colour 'rde'.*did you mean 'red'"),
    ({"held_out": [("red", "hexagon")]}, r"held_out\[0\] names the unknown shape 'hexagon'"),
    ({"held_out": [("triangle", "red")]}, r"held_out\[0\] must be \(colour, shape\).*did you mean \('red', 'triangle'\)"),
    ({"held_out": "red"}, r"held_out must be a sequence of \(colour, shape\) pairs"),
    ({"held_out": [], "split": "test"}, r"held_out must name at least one"),
    ({"split": "val"}, r"split must be one of \('train', 'test'\), got 'val'"),
    ({"seed": -1}, r"seed must be a non-negative int"),
    ({"held_out": [(c, s) for c in COLOURS for s in SHAPES]}, r"held_out leaves 0 \(colour, shape\) pairs"),
])
def test_bad_scene_arguments(kwargs, match):
    args = {"n": 2, **kwargs}
    with pytest.raises(ConfigError, match=match):
        make_scenes(args.pop("n"), **args)


def test_bad_clip_arguments_and_several_problems_at_once():
    with pytest.raises(ConfigError, match=r"max_objects must be an int in 1\.\.2, got 3"):
        make_clips(2, max_objects=3)
    with pytest.raises(ConfigError, match=r"n_frames must be an int >= max_objects \+ 1 = 3.*got 2"):
        make_clips(2, n_frames=2)
    with pytest.raises(ConfigError, match=r"image_size must be.*got 20"):
        make_clips(2, image_size=20)
    with pytest.raises(ConfigError) as info:
        make_scenes(-1, image_size=8, split="dev")
    assert all(s in str(info.value) for s in ("n must", "image_size must", "split must"))
    with pytest.raises(ConfigError, match="same length, got 1 captions and 2 scenes"):
        attribute_accuracy(["a red circle"], [two(RED_LEFT, BLUE_RIGHT)] * 2)
    with pytest.raises(ConfigError, match="at least one caption"):
        clip_event_accuracy([], [])
