"""Synthetic image and video captioning data, fully specified by a scene graph.

For an LSTM captioner with attention (Show, Attend and Tell): every image is rendered with
Pillow from a :class:`Scene` (1 to 3 coloured shapes on a grey background), every reference
caption is produced from that scene, and :func:`check_caption` checks a *generated* caption
against the scene, so a model is scored on whether what it says is true, not on n-gram overlap::

    train = make_scenes(5000, split="train", seed=0)   # images (N, 64, 64, 3) uint8
    test = make_scenes(500, split="test", seed=1)      # every scene holds a held-out (colour, shape)
    attribute_accuracy(generated_captions, test.scenes)

The world
---------
* Objects: a shape of :data:`SHAPES`, a colour of :data:`COLOURS` (RGB in :data:`COLOUR_RGB`) and a
  size of :data:`SIZES`; bounding radius :func:`object_radius` (small about ``image_size / 8``,
  large about ``image_size / 5`` pixels). Centres ``x`` (column) and ``y`` (row, growing downward)
  are in pixels. Objects never overlap (centres at least ``r1 + r2 + gap`` apart) and in one scene
  no two objects share a (colour, shape) pair.
* Background: one grey level per image, uniform in [20, 120] (dark to mid-grey), plus Gaussian
  pixel noise of standard deviation 4 grey levels (per channel, in whole levels, clipped to 0..255).
* Relations (:func:`relation`): ``a`` is "left of" ``b`` when ``b.x - a.x >= margin`` and
  ``b.x - a.x >= 2 * |b.y - a.y|`` (the pair lies within about 27 degrees of the horizontal);
  "right of", "above" and "below" likewise, with ``margin = max(2, image_size // 16)`` pixels. A
  pair that is more diagonal has no relation, and no caption states one for it.
* Held-out pairs: the (colour, shape) pairs of ``held_out`` (:data:`DEFAULT_HELD_OUT`) never
  appear in ``split="train"``; in ``split="test"`` every scene holds at least one of them (the
  other objects are drawn from all pairs), which tests compositional generalisation.

Caption grammar
---------------
Reference captions are lowercase words separated by single spaces, without punctuation
(tokenise with ``str.split()``), at most 17 words; :data:`WORDS` lists every word they use. A
scene has three references (:func:`scene_captions`), e.g. "a large red circle left of a small blue
square", "a small blue square is right of a large red circle", "there is a large red circle and a
small blue square". :func:`check_caption` parses this grammar (``[x]`` optional, ``|`` choice)::

    caption  := [prefix] clause ("and" clause)*
    prefix   := "there is" | "there are" | "the image shows"
    clause   := object [["is"] relation object]
    object   := ("a" | "an" | "the") [size] colour shape
    relation := "left of" | "right of" | "above" | "below" | "to the left of" | "to the right of"

A caption is correct when it parses, mentions at least one object, every mentioned object exists
in the scene with the stated attributes (size only when stated), and every stated relation holds
(:func:`relation`) for some pair of distinct matching objects. Correctness is precision only: a
caption that leaves an object out is still correct.

Video
-----
:func:`make_clips` renders clips of ``n_frames`` frames with 1 or 2 objects; the objects move in
turn, one direction each (:data:`DIRECTIONS`), over ``0.3 * image_size`` pixels: with two objects
the first moves during the first half of the clip, the second during the second half (frame 0
shows the start positions, the last frame the end positions). Events are rendered as verbs
(:data:`MOTION_VERBS`): "moves left", "moves right", "rises", "falls". References
(:func:`clip_captions`): "the red square moves left then the blue circle falls", "first the red
square moves left and then the blue circle falls", "the blue circle falls after the red square
moves left". :func:`check_clip_caption` parses::

    caption  := ["first"] event (("then" | "and then" | "and" | "before") event)*
              | event "after" event            (the second event happened first)
    event    := ("the" | "a" | "an") [size] colour shape verb
    verb     := ("moves" | "goes") ("left" | "right" | "up" | "down") | "rises" | "falls"

A clip caption is correct when every stated event happened (that object moved that way), the
events are stated in the order they happened, none is stated twice, and every event is stated.

Everything is deterministic under ``seed``; ``split`` is mixed into the seed, so a train and a
test set drawn with the same seed differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageDraw

from lstmkit.datasets import register_dataset
from lstmkit.errors import ConfigError, DataError, suggest

__all__ = [
    "COLOURS",
    "COLOUR_RGB",
    "DEFAULT_HELD_OUT",
    "DIRECTIONS",
    "MIN_IMAGE_SIZE",
    "MOTION_VERBS",
    "RELATIONS",
    "SHAPES",
    "SIZES",
    "WORDS",
    "CaptionData",
    "ClipData",
    "Scene",
    "SceneObject",
    "attribute_accuracy",
    "check_caption",
    "check_clip_caption",
    "clip_captions",
    "clip_event_accuracy",
    "make_clips",
    "make_scenes",
    "object_radius",
    "relation",
    "render_scene",
    "scene_captions",
]

SHAPES: tuple[str, ...] = ("square", "circle", "triangle", "diamond", "cross")
COLOURS: tuple[str, ...] = ("red", "green", "blue", "yellow", "purple", "orange", "white")
SIZES: tuple[str, ...] = ("small", "large")
RELATIONS: tuple[str, ...] = ("left of", "right of", "above", "below")
DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")
MOTION_VERBS: dict[str, str] = {"left": "moves left", "right": "moves right", "up": "rises", "down": "falls"}
COLOUR_RGB: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (40, 200, 60),
    "blue": (50, 90, 240),
    "yellow": (240, 225, 40),
    "purple": (160, 60, 210),
    "orange": (250, 140, 20),
    "white": (245, 245, 245),
}
DEFAULT_HELD_OUT: tuple[tuple[str, str], ...] = (
    ("red", "triangle"), ("green", "circle"), ("blue", "cross"), ("yellow", "diamond"),
)
MIN_IMAGE_SIZE = 32  # below this a small shape is under 9 pixels across and no longer recognisable

_INVERSE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}
_DOMINANCE = 2.0  # a relation needs its axis to dominate: |dx| >= 2 |dy| (or the reverse)
_BACKGROUND = (20, 120)  # grey level range of the background (inclusive)
_NOISE_STD = 4.0  # pixel noise, per channel, in grey levels
_TRAVEL = 0.3  # distance a clip object moves, as a fraction of image_size
_MAX_SCENES = 3  # most objects a scene may hold (captions stay short)
_MAX_CLIP_OBJECTS = 2
_CHUNK = 1024  # images whose noise is drawn at once (bounds the float32 temporary)
_SPLITS = ("train", "test")

_DETERMINERS = ("a", "an", "the")
_PREFIXES = (("there", "is"), ("there", "are"), ("the", "image", "shows"))
_RELATION_WORDS = (  # longest first: (words, relation)
    (("to", "the", "left", "of"), "left of"), (("to", "the", "right", "of"), "right of"),
    (("left", "of"), "left of"), (("right", "of"), "right of"), (("above",), "above"), (("below",), "below"),
)
_VERBS = (  # (words, direction)
    (("moves", "left"), "left"), (("moves", "right"), "right"), (("moves", "up"), "up"), (("moves", "down"), "down"),
    (("goes", "left"), "left"), (("goes", "right"), "right"), (("goes", "up"), "up"), (("goes", "down"), "down"),
    (("rises",), "up"), (("falls",), "down"),
)


def _words() -> tuple[str, ...]:
    fixed = ("a", "an", "the", "is", "and", "there", "image", "shows", "left", "right", "of", "above", "below",
             "moves", "rises", "falls", "then", "first", "after")
    return tuple(sorted(set(fixed) | set(SHAPES) | set(COLOURS) | set(SIZES)))


WORDS: tuple[str, ...] = _words()
"""Every word a reference caption (of scenes or clips) uses, sorted: a fixed vocabulary."""


# --------------------------------------------------------------------------------------------- scenes


@dataclass
class SceneObject:
    """One shape: ``shape`` in SHAPES, ``colour`` in COLOURS, ``size`` in SIZES, centre ``(x, y)`` in
    pixels (x = column, y = row from the top)."""

    shape: str
    colour: str
    size: str
    x: int
    y: int

    @property
    def pair(self) -> tuple[str, str]:
        """``(colour, shape)``, the combination that ``held_out`` refers to."""
        return (self.colour, self.shape)

    def phrase(self, *, with_size: bool = True) -> str:
        """``"large red circle"`` (``"red circle"`` without the size)."""
        return f"{self.size} {self.colour} {self.shape}" if with_size else f"{self.colour} {self.shape}"


@dataclass
class Scene:
    """The scene graph of one image: ``objects`` (1 to 3), square ``image_size`` in pixels and the
    background grey level ``background`` (0..255)."""

    objects: list[SceneObject]
    image_size: int
    background: int = 64

    def relation(self, i: int, j: int) -> str | None:
        """The unambiguous relation of object ``i`` to object ``j`` (see :func:`relation`), or None."""
        return relation(self.objects[i], self.objects[j], self.image_size)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        return {"image_size": self.image_size, "background": self.background,
                "objects": [asdict(o) for o in self.objects]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scene:
        """The scene :meth:`to_dict` wrote; a DataError names every malformed field."""
        problems: list[str] = []
        if not isinstance(d, dict):
            raise DataError(f"a scene must be a dict with 'image_size' and 'objects', got {type(d).__name__}")
        for key in ("image_size", "objects"):
            if key not in d:
                problems.append(f"scene dict is missing {key!r}; keys: {sorted(d)}")
        objects: list[SceneObject] = []
        for k, o in enumerate(d.get("objects") or []):
            if not isinstance(o, dict) or not {"shape", "colour", "size", "x", "y"} <= set(o):
                problems.append(f"objects[{k}] must be a dict with shape, colour, size, x, y; got {o!r}")
                continue
            for field, allowed in (("shape", SHAPES), ("colour", COLOURS), ("size", SIZES)):
                if o[field] not in allowed:
                    problems.append(f"objects[{k}].{field} must be one of {allowed}, got {o[field]!r}"
                                    f"{suggest(str(o[field]), allowed)}")
            objects.append(SceneObject(o["shape"], o["colour"], o["size"], int(o["x"]), int(o["y"])))
        if problems:
            raise DataError("; ".join(problems))
        return cls(objects, int(d["image_size"]), int(d.get("background", 64)))


class CaptionData(NamedTuple):
    """images (N, H, W, 3) uint8; captions[i]: the reference captions of image i (3 each);
    scenes[i]: its scene graph."""

    images: np.ndarray
    captions: list[list[str]]
    scenes: list[Scene]


class ClipData(NamedTuple):
    """frames (N, T, H, W, 3) uint8; captions[i]: the reference captions of clip i (3 each);
    events[i]: its motion events in the order they happen (see :func:`make_clips`)."""

    frames: np.ndarray
    captions: list[list[str]]
    events: list[list[dict[str, Any]]]


def object_radius(size: str, image_size: int) -> int:
    """Bounding radius in pixels of a ``size`` object: small ``max(3, round(S / 8))``, large
    ``round(S / 5)`` for ``S = image_size`` (8 and 13 pixels at 64)."""
    return max(3, round(image_size / 8)) if size == "small" else round(image_size / 5)


def _gap(image_size: int) -> int:
    return max(2, image_size // 32)


def relation(a: SceneObject, b: SceneObject, image_size: int) -> str | None:
    """The relation of ``a`` to ``b`` ("left of": a is left of b), or None when it is ambiguous.

    With ``dx = b.x - a.x`` and ``dy = b.y - a.y`` (pixels, y down) and ``m = max(2, image_size // 16)``:
    "left of" when ``dx >= m`` and ``dx >= 2 |dy|``; "right of" when ``-dx >= m`` and ``-dx >= 2 |dy|``;
    "above" when ``dy >= m`` and ``dy >= 2 |dx|``; "below" when ``-dy >= m`` and ``-dy >= 2 |dx|``.
    """
    dx, dy = b.x - a.x, b.y - a.y
    margin = max(2, image_size // 16)
    if abs(dx) >= margin and abs(dx) >= _DOMINANCE * abs(dy):
        return "left of" if dx > 0 else "right of"
    if abs(dy) >= margin and abs(dy) >= _DOMINANCE * abs(dx):
        return "above" if dy > 0 else "below"
    return None


def _np(o: SceneObject) -> str:
    return f"a {o.phrase()}"


def scene_captions(scene: Scene) -> list[str]:
    """The three reference captions of ``scene`` (a pure function of the scene graph).

    One object: "a large red circle", "there is a large red circle", "the image shows a large red
    circle". Two or three objects, when some pair has a relation: "A rel B [and C]", "B is inverse-rel
    A [and C]" (the last related pair, so a different one when there are several), "there is A and
    B [and C]"; without any relation: "A and B [and C]", "the image shows A and B [and C]", "there
    is A and B [and C]". Objects are named in scene order.
    """
    objs = scene.objects
    nps = [_np(o) for o in objs]
    if len(objs) == 1:
        return [nps[0], f"there is {nps[0]}", f"the image shows {nps[0]}"]
    listed = " and ".join(nps)
    pairs = [(i, j, r) for i in range(len(objs)) for j in range(i + 1, len(objs))
             if (r := scene.relation(i, j)) is not None]
    if not pairs:
        return [listed, f"the image shows {listed}", f"there is {listed}"]

    def rest(i: int, j: int) -> str:
        return "".join(f" and {nps[k]}" for k in range(len(objs)) if k not in (i, j))

    i, j, r = pairs[0]
    first = f"{nps[i]} {r} {nps[j]}{rest(i, j)}"
    i, j, r = pairs[-1]
    second = f"{nps[j]} is {_INVERSE[r]} {nps[i]}{rest(i, j)}"
    return [first, second, f"there is {listed}"]


def _draw(draw: ImageDraw.ImageDraw, shape: str, colour: str, x: float, y: float, r: int) -> None:
    fill = COLOUR_RGB[colour]
    if shape == "circle":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    elif shape == "square":
        h = 0.75 * r
        draw.rectangle((x - h, y - h, x + h, y + h), fill=fill)
    elif shape == "triangle":  # equilateral, pointing up, inscribed in the bounding circle
        draw.polygon([(x, y - r), (x - 0.866 * r, y + 0.5 * r), (x + 0.866 * r, y + 0.5 * r)], fill=fill)
    elif shape == "diamond":
        draw.polygon([(x, y - r), (x + 0.75 * r, y), (x, y + r), (x - 0.75 * r, y)], fill=fill)
    else:  # cross: a plus sign, arms of half-width 0.3 r
        t = max(1.0, 0.3 * r)
        draw.rectangle((x - r, y - t, x + r, y + t), fill=fill)
        draw.rectangle((x - t, y - r, x + t, y + r), fill=fill)


def render_scene(scene: Scene) -> np.ndarray:
    """The noise-free image of ``scene``: (H, W, 3) uint8 with H = W = image_size."""
    s, g = scene.image_size, scene.background
    img = Image.new("RGB", (s, s), (g, g, g))
    draw = ImageDraw.Draw(img)
    for o in scene.objects:
        _draw(draw, o.shape, o.colour, o.x, o.y, object_radius(o.size, s))
    return np.asarray(img)


def _noise_table() -> np.ndarray:
    """256 Gaussian quantiles (standard deviation _NOISE_STD, rounded to grey levels): indexing it with
    uniform random bytes draws quantised Gaussian noise far faster than ``standard_normal``."""
    q = NormalDist(0.0, _NOISE_STD)
    return np.array([round(q.inv_cdf((k + 0.5) / 256)) for k in range(256)], dtype=np.int16)


_NOISE_TABLE = _noise_table()


def _add_noise(images: np.ndarray, rng: np.random.Generator) -> None:
    """Add clipped Gaussian pixel noise (per channel) to uint8 ``images`` in place, a chunk at a time."""
    flat = images.reshape(images.shape[0], -1)  # (N, H*W*3) view
    for start in range(0, flat.shape[0], _CHUNK):
        block = flat[start:start + _CHUNK]
        u = np.frombuffer(rng.bytes(block.size), dtype=np.uint8).reshape(block.shape)
        noisy = _NOISE_TABLE[u]  # (chunk, H*W*3) int16
        noisy += block
        np.clip(noisy, 0, 255, out=noisy)
        block[...] = noisy


# ------------------------------------------------------------------------------------ argument checks


def _check_common(n: Any, image_size: Any, max_objects: Any, most: int, held_out: Any, split: Any,
                  seed: Any, problems: list[str]) -> frozenset[tuple[str, str]]:
    """Collect what is wrong with the shared arguments; return the held-out pairs as a set."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        problems.append(f"n must be a positive int, got {n!r}")
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < MIN_IMAGE_SIZE:
        problems.append(f"image_size must be an int >= {MIN_IMAGE_SIZE} (smaller images cannot hold "
                        f"recognisable, non-overlapping shapes), got {image_size!r}")
    if isinstance(max_objects, bool) or not isinstance(max_objects, (int, np.integer)) \
            or not 1 <= max_objects <= most:
        problems.append(f"max_objects must be an int in 1..{most}, got {max_objects!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        problems.append(f"seed must be a non-negative int, got {seed!r}")
    if split not in _SPLITS:
        problems.append(f"split must be one of {_SPLITS}, got {split!r}{suggest(str(split), _SPLITS)}")
    pairs: set[tuple[str, str]] = set()
    if isinstance(held_out, (str, bytes)) or not isinstance(held_out, Iterable):
        problems.append(f"held_out must be a sequence of (colour, shape) pairs, got {held_out!r}")
        return frozenset()
    for k, p in enumerate(held_out):
        if isinstance(p, (str, bytes)) or not isinstance(p, Sequence) or len(p) != 2:
            problems.append(f"held_out[{k}] must be a (colour, shape) pair, got {p!r}")
            continue
        colour, shape = p
        if colour in SHAPES and shape in COLOURS:
            problems.append(f"held_out[{k}] must be (colour, shape), got {tuple(p)!r} (did you mean "
                            f"{(shape, colour)!r}?)")
            continue
        bad = False
        if colour not in COLOURS:
            problems.append(f"held_out[{k}] names the unknown colour {colour!r}; colours: {COLOURS}"
                            f"{suggest(str(colour), COLOURS)}")
            bad = True
        if shape not in SHAPES:
            problems.append(f"held_out[{k}] names the unknown shape {shape!r}; shapes: {SHAPES}"
                            f"{suggest(str(shape), SHAPES)}")
            bad = True
        if not bad:
            pairs.add((colour, shape))
    if split == "test" and not pairs and not problems:
        problems.append("held_out must name at least one (colour, shape) pair for split='test', got none")
    free = len(COLOURS) * len(SHAPES) - len(pairs)
    if split == "train" and isinstance(max_objects, (int, np.integer)) and free < max_objects:
        problems.append(f"held_out leaves {free} (colour, shape) pairs for split='train'; "
                        f"max_objects={max_objects} needs at least {max_objects}")
    return frozenset(pairs)


def _rng(kind: int, split: str, seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Two independent generators (layout, noise) for (kind, split, seed)."""
    ss = np.random.SeedSequence([int(seed), kind, _SPLITS.index(split)])
    layout, noise = ss.spawn(2)
    return np.random.default_rng(layout), np.random.default_rng(noise)


_ALL_PAIRS = tuple((c, s) for c in COLOURS for s in SHAPES)


def _sample_pairs(k: int, held: frozenset[tuple[str, str]], split: str,
                  rng: np.random.Generator) -> list[tuple[str, str]]:
    """``k`` distinct (colour, shape) pairs: none held out (train) or at least one held out (test)."""
    if split == "train":
        pool = [p for p in _ALL_PAIRS if p not in held]
        return [pool[i] for i in rng.choice(len(pool), size=k, replace=False)]
    held_sorted = sorted(held)
    first = held_sorted[int(rng.integers(len(held_sorted)))]
    pool = [p for p in _ALL_PAIRS if p != first]
    chosen = [first] + [pool[i] for i in rng.choice(len(pool), size=k - 1, replace=False)]
    order = rng.permutation(k)
    return [chosen[i] for i in order]


def _place(radii: list[int], image_size: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Non-overlapping integer centres for objects of the given radii (rejection sampling, 32
    candidates at a time)."""
    gap = _gap(image_size)
    for _ in range(1000):
        centres: list[tuple[int, int]] = []
        for r in radii:
            xy = rng.integers(r, image_size - r, size=(32, 2))  # (32, 2) candidate centres
            ok = np.ones(32, dtype=bool)
            for (cx, cy), cr in zip(centres, radii):
                ok &= np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) >= r + cr + gap
            if not ok.any():
                break
            x, y = xy[int(ok.argmax())]
            centres.append((int(x), int(y)))
        if len(centres) == len(radii):
            return centres
    raise RuntimeError(f"could not place {len(radii)} objects in a {image_size}-pixel image")  # pragma: no cover


def make_scenes(n: int, *, image_size: int = 64, max_objects: int = 3,
                held_out: Iterable[tuple[str, str]] = DEFAULT_HELD_OUT, split: str = "train",
                seed: int = 0) -> CaptionData:
    """``n`` captioned images of 1 to ``max_objects`` shapes (see the module docstring).

    Args:
        n: number of images.
        image_size: height and width in pixels (>= 32).
        max_objects: most objects per image, 1..3 (the count is uniform in 1..max_objects).
        held_out: (colour, shape) pairs absent from ``split="train"``; each ``split="test"`` image
            holds at least one.
        split: "train" or "test".
        seed: the same (n, arguments, seed) always gives the same data.

    Returns:
        CaptionData: images (N, H, W, 3) uint8, captions (N lists of 3 strings), scenes (N Scenes).
    """
    problems: list[str] = []
    held = _check_common(n, image_size, max_objects, _MAX_SCENES, held_out, split, seed, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    n, image_size, max_objects = int(n), int(image_size), int(max_objects)
    layout, noise = _rng(0, split, seed)
    images = np.empty((n, image_size, image_size, 3), dtype=np.uint8)  # (N, H, W, 3)
    scenes: list[Scene] = []
    for i in range(n):
        k = int(layout.integers(1, max_objects + 1))
        pairs = _sample_pairs(k, held, split, layout)
        sizes = [SIZES[int(v)] for v in layout.integers(len(SIZES), size=k)]
        centres = _place([object_radius(s, image_size) for s in sizes], image_size, layout)
        background = int(layout.integers(_BACKGROUND[0], _BACKGROUND[1] + 1))
        scene = Scene([SceneObject(shape, colour, size, x, y)
                       for (colour, shape), size, (x, y) in zip(pairs, sizes, centres)], image_size, background)
        scenes.append(scene)
        images[i] = render_scene(scene)
    _add_noise(images, noise)
    return CaptionData(images, [scene_captions(s) for s in scenes], scenes)


# ---------------------------------------------------------------------------------------------- clips


def _event_np(e: dict[str, Any], det: str = "the", with_size: bool = False) -> str:
    words = [e["size"], e["colour"], e["shape"]] if with_size else [e["colour"], e["shape"]]
    if det == "a" and words[0][0] in "aeiou":
        det = "an"
    return " ".join([det, *words])


def clip_captions(events: list[dict[str, Any]]) -> list[str]:
    """The three reference captions of a clip's ``events`` (in the order they happen).

    One event: "the red square moves left", "a red square moves left" ("an orange ..."), "the large
    red square moves left". Two: "E1 then E2", "first E1 and then E2", "E2 after E1".
    """
    said = [f"{_event_np(e)} {MOTION_VERBS[e['direction']]}" for e in events]
    if len(events) == 1:
        verb = MOTION_VERBS[events[0]["direction"]]
        return [said[0], f"{_event_np(events[0], 'a')} {verb}", f"{_event_np(events[0], with_size=True)} {verb}"]
    return [" then ".join(said), "first " + " and then ".join(said), f"{said[1]} after {said[0]}"]


def _segment_distance(p: np.ndarray, q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Distance from points ``c`` to the segments ``p``-``q``; all (K, 2) arrays (or broadcastable)."""
    d = q - p  # (K, 2)
    length2 = (d * d).sum(-1)
    t = np.clip(((c - p) * d).sum(-1) / np.maximum(length2, 1e-12), 0.0, 1.0)  # (K,)
    return np.hypot(*(p + t[..., None] * d - c).T)


_STEP = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


def _place_moving(radii: list[int], directions: list[str], image_size: int,
                  rng: np.random.Generator) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) centres so every path stays in the image and no two objects ever touch
    (rejection sampling, 32 candidate starts at a time)."""
    gap, travel = _gap(image_size), round(_TRAVEL * image_size)
    for _ in range(1000):
        paths: list[tuple[tuple[int, int], tuple[int, int]]] = []
        for r, d in zip(radii, directions):
            step = np.array(_STEP[d])
            lo = r + np.maximum(0, -step) * travel  # (2,) start range [lo, hi) that keeps the path inside
            hi = image_size - r - np.maximum(0, step) * travel
            p = rng.integers(lo, hi, size=(32, 2)).astype(float)  # (32, 2) candidate starts
            q = p + step * travel  # (32, 2) ends
            ok = np.ones(32, dtype=bool)
            # Earlier objects have finished (they sit at their end) while this one moves; this one sits
            # at its start while they move.
            for j, (ep, eq) in enumerate(paths):
                need = r + radii[j] + gap
                ok &= _segment_distance(p, q, np.array(eq, dtype=float)) >= need
                ok &= _segment_distance(np.array(ep, dtype=float), np.array(eq, dtype=float), p) >= need
            if not ok.any():
                break
            k = int(ok.argmax())
            paths.append(((int(p[k, 0]), int(p[k, 1])), (int(q[k, 0]), int(q[k, 1]))))
        if len(paths) == len(radii):
            return paths
    raise RuntimeError(f"could not place {len(radii)} moving objects in a {image_size}-pixel image")  # pragma: no cover


def make_clips(n: int, *, image_size: int = 48, n_frames: int = 8, max_objects: int = 2,
               held_out: Iterable[tuple[str, str]] = DEFAULT_HELD_OUT, split: str = "train",
               seed: int = 0) -> ClipData:
    """``n`` captioned clips in which 1 to ``max_objects`` shapes move in turn.

    With K objects the ``n_frames - 1`` frame-to-frame steps are split into K consecutive runs
    (``np.array_split``); object k moves only during run k, in a straight line of
    ``round(0.3 * image_size)`` pixels, and stands still otherwise.

    Args:
        n: number of clips.
        image_size: height and width in pixels (>= 32).
        n_frames: frames per clip T (>= max_objects + 1, so each object moves for at least one step).
        max_objects: most objects per clip, 1..2 (the count is uniform in 1..max_objects).
        held_out, split, seed: as in :func:`make_scenes`.

    Returns:
        ClipData: frames (N, T, H, W, 3) uint8; captions (N lists of 3 strings); events: per clip,
        one dict per object in the order they move, with keys colour, shape, size, direction
        ("left", "right", "up", "down"), verb ("moves left", ..., "rises", "falls"), start (the last
        frame at the start position), end (the first frame at the end position), x0, y0, x1, y1
        (start and end centres in pixels).
    """
    problems: list[str] = []
    held = _check_common(n, image_size, max_objects, _MAX_CLIP_OBJECTS, held_out, split, seed, problems)
    mo = max_objects if isinstance(max_objects, (int, np.integer)) and not isinstance(max_objects, bool) else 1
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < mo + 1:
        problems.append(f"n_frames must be an int >= max_objects + 1 = {mo + 1} (each object moves for at "
                        f"least one step), got {n_frames!r}")
    if problems:
        raise ConfigError("; ".join(problems))
    n, image_size, n_frames, max_objects = int(n), int(image_size), int(n_frames), int(max_objects)
    layout, noise = _rng(1, split, seed)
    frames = np.empty((n, n_frames, image_size, image_size, 3), dtype=np.uint8)  # (N, T, H, W, 3)
    all_events: list[list[dict[str, Any]]] = []
    for i in range(n):
        k = int(layout.integers(1, max_objects + 1))
        pairs = _sample_pairs(k, held, split, layout)
        sizes = [SIZES[int(v)] for v in layout.integers(len(SIZES), size=k)]
        directions = [DIRECTIONS[int(v)] for v in layout.integers(len(DIRECTIONS), size=k)]
        radii = [object_radius(s, image_size) for s in sizes]
        paths = _place_moving(radii, directions, image_size, layout)
        g = int(layout.integers(_BACKGROUND[0], _BACKGROUND[1] + 1))
        runs = np.array_split(np.arange(n_frames - 1), k)  # step j goes from frame j to frame j + 1
        events = [{"colour": c, "shape": s, "size": size, "direction": d, "verb": MOTION_VERBS[d],
                   "start": int(run[0]), "end": int(run[-1]) + 1, "x0": p[0], "y0": p[1], "x1": q[0], "y1": q[1]}
                  for (c, s), size, d, (p, q), run in zip(pairs, sizes, directions, paths, runs)]
        for t in range(n_frames):
            img = Image.new("RGB", (image_size, image_size), (g, g, g))
            draw = ImageDraw.Draw(img)
            for e, r in zip(events, radii):
                f = min(1.0, max(0.0, (t - e["start"]) / (e["end"] - e["start"])))
                _draw(draw, e["shape"], e["colour"], round(e["x0"] + f * (e["x1"] - e["x0"])),
                      round(e["y0"] + f * (e["y1"] - e["y0"])), r)
            frames[i, t] = np.asarray(img)
        all_events.append(events)
    _add_noise(frames.reshape(n * n_frames, image_size, image_size, 3), noise)  # (N*T, H, W, 3) view
    return ClipData(frames, [clip_captions(e) for e in all_events], all_events)


# -------------------------------------------------------------------------------------------- parsing


class _ParseError(Exception):
    pass


class _Cursor:
    """Reads a word list left to right; ``take`` consumes a phrase when it comes next."""

    def __init__(self, words: list[str]) -> None:
        self.words, self.i = words, 0

    def done(self) -> bool:
        return self.i >= len(self.words)

    def take(self, phrase: Sequence[str]) -> bool:
        if tuple(self.words[self.i:self.i + len(phrase)]) == tuple(phrase):
            self.i += len(phrase)
            return True
        return False

    def one_of(self, choices: Sequence[str], what: str) -> str:
        word = self.words[self.i] if not self.done() else None
        if word not in choices:
            got = f"{word!r}" if word is not None else "the end of the caption"
            raise _ParseError(f"expected {what} ({' | '.join(choices)}) at word {self.i + 1}, got {got}")
        self.i += 1
        return word

    def fail(self, what: str) -> None:
        got = f"{self.words[self.i]!r}" if not self.done() else "the end of the caption"
        raise _ParseError(f"expected {what} at word {self.i + 1}, got {got}")


# (size or None, colour, shape)
_Mention = tuple[str | None, str, str]


def _object(cur: _Cursor) -> _Mention:
    cur.one_of(_DETERMINERS, "a determiner")
    size = None
    if not cur.done() and cur.words[cur.i] in SIZES:
        size = cur.words[cur.i]
        cur.i += 1
    colour = cur.one_of(COLOURS, "a size or colour" if size is None else "a colour")
    shape = cur.one_of(SHAPES, "a shape")
    return (size, colour, shape)


def _text(m: _Mention) -> str:
    return " ".join(w for w in m if w)


def _words_of(caption: str | Sequence[str]) -> list[str]:
    if isinstance(caption, str):
        return caption.split()
    return [str(w) for w in caption]


def _parse_scene_caption(words: list[str]) -> list[tuple[_Mention, str | None, _Mention | None]]:
    cur = _Cursor(words)
    for prefix in _PREFIXES:
        if cur.take(prefix):
            break
    clauses: list[tuple[_Mention, str | None, _Mention | None]] = []
    while True:
        a = _object(cur)
        copula = cur.take(("is",))
        rel = next((r for phrase, r in _RELATION_WORDS if cur.take(phrase)), None)
        if rel is None and copula:
            cur.fail("a relation (left of | right of | above | below)")
        clauses.append((a, rel, _object(cur) if rel else None))
        if cur.done():
            return clauses
        if not cur.take(("and",)):
            cur.fail("'and' or the end of the caption")


def _matches(m: _Mention, objects: Iterable[SceneObject]) -> list[SceneObject]:
    size, colour, shape = m
    return [o for o in objects if o.colour == colour and o.shape == shape and (size is None or o.size == size)]


def check_caption(caption: str | Sequence[str], scene: Scene) -> list[str]:
    """The false or unverifiable statements of ``caption`` about ``scene``; empty when it is correct.

    ``caption`` is a string (split on whitespace) or a list of words, without start/end tokens; it is
    read with the grammar of the module docstring. An unparseable or empty caption gives one entry
    that starts with "unparseable". A missing object gives "no large red circle in the scene (it has:
    ...)"; a relation between missing objects is "unverifiable"; a relation that does not hold for any
    pair of distinct matching objects is "false".
    """
    words = _words_of(caption)
    if not words:
        return ["unparseable: the caption is empty"]
    try:
        clauses = _parse_scene_caption(words)
    except _ParseError as exc:
        return [f"unparseable: {exc}"]
    has = ", ".join(o.phrase() for o in scene.objects)
    problems: list[str] = []
    reported: set[_Mention] = set()
    for a, rel, b in clauses:
        missing = [m for m in (a, b) if m is not None and not _matches(m, scene.objects)]
        for m in missing:
            if m not in reported:
                reported.add(m)
                problems.append(f"no {_text(m)} in the scene (it has: {has})")
        if rel is None or b is None:
            continue
        statement = f"{_text(a)} {rel} {_text(b)}"
        if missing:
            problems.append(f"unverifiable: {statement} (no {_text(missing[0])} in the scene)")
            continue
        found = [(oa, ob) for oa in _matches(a, scene.objects) for ob in _matches(b, scene.objects) if oa is not ob]
        if not found:
            problems.append(f"unverifiable: {statement} (both name the same object)")
        elif not any(relation(oa, ob, scene.image_size) == rel for oa, ob in found):
            actual = relation(*found[0], scene.image_size)
            why = f"it is {actual} it" if actual else "their relation is ambiguous"
            problems.append(f"false: {statement} ({why})")
    return problems


def _check_lengths(captions: Sequence[Any], truth: Sequence[Any], truth_name: str) -> None:
    if len(captions) == 0:
        raise ConfigError("captions must hold at least one caption, got an empty list")
    if len(captions) != len(truth):
        raise ConfigError(f"captions and {truth_name} must have the same length, got {len(captions)} captions "
                          f"and {len(truth)} {truth_name}")


def attribute_accuracy(captions: Sequence[str | Sequence[str]], scenes: Sequence[Scene]) -> float:
    """Share (0..1) of ``captions`` that :func:`check_caption` finds correct for the matching ``scenes``."""
    _check_lengths(captions, scenes, "scenes")
    return sum(not check_caption(c, s) for c, s in zip(captions, scenes)) / len(captions)


def _parse_clip_caption(words: list[str]) -> list[tuple[_Mention, str]]:
    cur = _Cursor(words)
    cur.take(("first",))
    events: list[tuple[_Mention, str]] = []
    after = False
    while True:
        m = _object(cur)
        direction = next((d for phrase, d in _VERBS if cur.take(phrase)), None)
        if direction is None:
            cur.fail("a motion verb (moves left | moves right | rises | falls)")
        events.append((m, direction))
        if cur.done():
            break
        if cur.take(("after",)):
            if after or len(events) != 1 or words[0] == "first":
                raise _ParseError(f"'after' joins exactly two events (word {cur.i})")
            after = True
        elif not (cur.take(("and", "then")) or cur.take(("then",)) or cur.take(("and",)) or cur.take(("before",))):
            cur.fail("'then', 'and then', 'before', 'after' or the end of the caption")
        elif after:
            raise _ParseError(f"'after' joins exactly two events (word {cur.i})")
    return events[::-1] if after else events


def _event_text(m: _Mention, direction: str) -> str:
    return f"the {_text(m)} {MOTION_VERBS[direction]}"


def check_clip_caption(caption: str | Sequence[str], events: Sequence[dict[str, Any]]) -> list[str]:
    """The false, misordered, repeated or missing events of ``caption``; empty when it is correct.

    ``events`` are a clip's events as :func:`make_clips` gives them (in the order they happen; only
    colour, shape, size and direction are read). The caption is read with the clip grammar of the
    module docstring; an unparseable or empty caption gives one entry that starts with "unparseable".
    """
    words = _words_of(caption)
    if not words:
        return ["unparseable: the caption is empty"]
    try:
        stated = _parse_clip_caption(words)
    except _ParseError as exc:
        return [f"unparseable: {exc}"]
    problems: list[str] = []
    order: list[tuple[int, str]] = []  # (index of the true event, its text) for each true statement
    for m, direction in stated:
        size, colour, shape = m
        hits = [k for k, e in enumerate(events) if e["colour"] == colour and e["shape"] == shape
                and (size is None or e["size"] == size)]
        text = _event_text(m, direction)
        if not hits:
            problems.append(f"false: {text} (there is no {_text(m)} in the clip)")
            continue
        right = [k for k in hits if events[k]["direction"] == direction]
        if not right:
            problems.append(f"false: {text} (it {MOTION_VERBS[events[hits[0]]['direction']]})")
            continue
        k = right[0]
        if any(k == j for j, _ in order):
            problems.append(f"repeated: {text}")
            continue
        if order and k < order[-1][0]:
            problems.append(f"wrong order: {text} happens before {order[-1][1]}")
        order.append((k, text))
    said = {j for j, _ in order}
    for k, e in enumerate(events):
        if k not in said and not any(e["colour"] == c and e["shape"] == s for (_, c, s), _ in stated):
            problems.append(f"missing: the {e['colour']} {e['shape']} {MOTION_VERBS[e['direction']]}")
    return problems


def clip_event_accuracy(captions: Sequence[str | Sequence[str]], events: Sequence[Sequence[dict[str, Any]]]) -> float:
    """Share (0..1) of ``captions`` that :func:`check_clip_caption` finds correct for the matching ``events``."""
    _check_lengths(captions, events, "events")
    return sum(not check_clip_caption(c, e) for c, e in zip(captions, events)) / len(captions)


# ------------------------------------------------------------------------------------ registration

register_dataset("scenes", task="captioning", extra="none (synthetic)",
                 description="synthetic captioned shapes with scene graphs and held-out colour/shape pairs; "
                             "load('scenes', n=5000, split='train')")(make_scenes)
register_dataset("scene-clips", task="video-captioning", extra="none (synthetic)",
                 description="synthetic clips of shapes moving in turn, captioned with ordered motion events; "
                             "load('scene-clips', n=2000)")(make_clips)
