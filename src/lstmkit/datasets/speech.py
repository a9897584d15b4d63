"""Spoken lines: real English text read aloud by the espeak-ng synthesiser, as log-mel or MFCC frames.

For a CTC or attention speech recogniser (Graves, Mohamed & Hinton 2013, "Speech Recognition with
Deep Recurrent Neural Networks", used 40 log-mel bands of TIMIT at a 10 ms hop)::

    train = spoken_lines(500, split="train", seed=0)   # 56 training voices, the first 80% of PTB
    test = spoken_lines(100, split="test", seed=1)     # 8 held-out voices, the last 20% of PTB
    train.inputs[0].shape                              # (T, 40) float32, one frame per 10 ms

Audio
-----
Each utterance is synthesised by ``espeak-ng -v VOICE -s RATE -p PITCH --stdout -- TEXT`` (a
subprocess; the WAV comes on its standard output, nothing is written to disk): RATE is drawn per
utterance from 140 to 200 words per minute, PITCH from 35 to 65 (espeak's scale 0..99, default 50).
espeak-ng is a system program (``apt-get install espeak-ng``; ``brew install espeak-ng``); without
it every call raises a DataError that says so. Its 22,050 Hz output is resampled to 16 kHz (soxr).

Features
--------
Computed with librosa (chosen over python_speech_features: maintained, its filter banks are the
Slaney ones most recognisers use, and it installs without torch): a 25 ms Hann window (400
samples, FFT size 512) every 10 ms (160 samples), frames centred at ``t * 10 ms``, so
``T = 1 + samples // 160``. ``feature="logmel"``: the power of ``n_mels`` mel bands from 20 Hz
to 8 kHz in dB (``10 log10``, floored 80 dB under the loudest band of the utterance), F =
``n_mels``. ``feature="mfcc"``: the first 13 cepstral coefficients (DCT-II of those dB values),
F = 13. Each utterance is then normalised per feature to mean 0 and variance 1 over its frames
(cepstral mean and variance normalisation).

Voices
------
A voice is an espeak-ng English accent, optionally with a speaker variant (``"en-gb-scotland+f3"``);
:func:`espeak_voices` lists what the installed espeak-ng offers (mbrola voices are left out: they
need separate packages). ``voices`` (default :data:`DEFAULT_VOICES`: seven accents times eight
variants) speak the lines of ``split="train"``; ``held_out_voices`` (default
:data:`DEFAULT_HELD_OUT_VOICES`: the unseen variants m4 and f4 on seen accents, and the unseen
New York City accent) speak only those of ``split="test"``; the two must be disjoint. ``groups[i]``
is the voice of utterance i.

Texts
-----
Runs of 2 to 6 consecutive words of the Penn Treebank (see :func:`lstmkit.datasets.strokes.ptb_phrases`):
the first 80% of its sentences for "train", the last 20% for "test", clitics joined ("don't"),
never across an ``<unk>`` or a number (``N``), and only words of lowercase letters and apostrophes
(:data:`CHARSET`), so a transcription holds only what is spoken (no "$", "&" or abbreviations
such as "mr." that espeak expands).

Everything is deterministic under ``seed`` (espeak-ng synthesis is deterministic); ``split`` is
mixed into the seed.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from lstmkit.datasets import register_dataset, require
from lstmkit.datasets.strokes import _check_texts, ptb_phrases
from lstmkit.errors import ConfigError, DataError, suggest

__all__ = [
    "CHARSET",
    "DEFAULT_HELD_OUT_VOICES",
    "DEFAULT_VOICES",
    "FEATURES",
    "SpeechData",
    "espeak_version",
    "espeak_voices",
    "read_wav",
    "speech_features",
    "spoken_lines",
]

CHARSET: str = "abcdefghijklmnopqrstuvwxyz '"
"""Every character a transcription may hold: lowercase letters, space and the apostrophe."""
FEATURES: tuple[str, ...] = ("logmel", "mfcc")
_TRAIN_ACCENTS = ("en-gb", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
_TRAIN_VARIANTS = ("", "+m1", "+m2", "+m3", "+m6", "+f1", "+f2", "+f3")
DEFAULT_VOICES: tuple[str, ...] = tuple(a + v for a in _TRAIN_ACCENTS for v in _TRAIN_VARIANTS)
"""The 56 training voices: seven accents (British, American, Scottish, Received Pronunciation,
Lancastrian, West Midlands, Caribbean) with the default speaker and the variants m1, m2, m3, m6,
f1, f2, f3."""
DEFAULT_HELD_OUT_VOICES: tuple[str, ...] = (
    "en-gb+m4", "en-gb+f4", "en-us+m4", "en-us+f4", "en-gb-scotland+f4", "en-029+m4", "en-us-nyc", "en-us-nyc+f4",
)
"""The 8 test voices: the variants m4 and f4, never heard in training, on seen accents, and the
New York City accent, never heard in training."""
MIN_WORDS, MAX_WORDS = 2, 6
N_MFCC = 13
SAMPLE_RATE = 16_000  # Hz, the rate features are computed at
HOP = 160  # samples: 10 ms
WINDOW = 400  # samples: 25 ms
N_FFT = 512
RATE_RANGE = (140, 200)  # espeak -s, words per minute (inclusive)
PITCH_RANGE = (35, 65)  # espeak -p, 0..99 (inclusive)
TIMEOUT = 30.0  # seconds one espeak-ng call may take
WORKERS = 2  # espeak-ng processes at once

_ESPEAK = "espeak-ng"
_SPLITS = ("train", "test")


class SpeechData(NamedTuple):
    """inputs[i]: (T_i, F) float32 frames (10 ms hop, normalised per utterance); texts[i]: its
    transcription (characters of :data:`CHARSET`); groups[i]: its espeak-ng voice."""

    inputs: list[np.ndarray]
    texts: list[str]
    groups: list[str]


def _run(args: list[str], what: str) -> bytes:
    exe = shutil.which(_ESPEAK)
    if exe is None:
        raise DataError(f"dataset 'spoken-lines' needs the program {_ESPEAK!r}, which is not on PATH: "
                        "apt-get install espeak-ng (Debian/Ubuntu) or brew install espeak-ng (macOS)")
    try:
        done = subprocess.run([exe, *args], capture_output=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise DataError(f"{_ESPEAK} took over {TIMEOUT:g} s for {what}") from None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        raise DataError(f"{_ESPEAK} failed (exit {done.returncode}) for {what}: {err}")
    return done.stdout


@lru_cache(maxsize=1)
def espeak_version() -> str:
    """The installed espeak-ng's version line; a DataError with the install line when there is none."""
    return _run(["--version"], "--version").decode(errors="replace").strip()


@lru_cache(maxsize=1)
def espeak_voices() -> tuple[frozenset[str], frozenset[str]]:
    """(English accents, speaker variants) the installed espeak-ng offers: accents as ``-v`` takes
    them ("en-gb", "en-us-nyc", ...; mbrola voices left out), variants as written after "+" ("m4")."""
    accents: set[str] = set()
    for line in _run(["--voices=en"], "--voices=en").decode(errors="replace").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and not fields[4].startswith(("mb/", "!v/")):
            accents.add(fields[1])
            accents.update(re.findall(r"\((\S+) \d+\)", line))
    variants = {m.group(1) for line in _run(["--voices=variant"], "--voices=variant").decode(errors="replace")
                .splitlines() if (m := re.search(r"!v/(\S+)", line))}
    return frozenset(accents), frozenset(variants)


def _check_voices(name: str, voices: object, problems: list[str]) -> list[str]:
    if isinstance(voices, str) or not isinstance(voices, Sequence) or not voices:
        problems.append(f"{name} must be a non-empty list of espeak-ng voices such as 'en-gb+f3', got {voices!r}")
        return []
    if not all(isinstance(v, str) for v in voices):
        problems.append(f"{name} must hold strings, got {[v for v in voices if not isinstance(v, str)]!r}")
        return []
    if len(set(voices)) != len(voices):
        problems.append(f"{name} repeats voices: {sorted({v for v in voices if voices.count(v) > 1})}")
    return list(voices)


def _unknown_voices(name: str, voices: list[str], problems: list[str]) -> None:
    accents, variants = espeak_voices()
    for i, v in enumerate(voices):
        accent, _, variant = v.partition("+")
        if accent not in accents:
            problems.append(f"{name}[{i}] = {v!r}: espeak-ng has no English accent {accent!r}"
                            f"{suggest(accent, accents)}; available: {sorted(accents)}")
        elif variant and variant not in variants:
            problems.append(f"{name}[{i}] = {v!r}: espeak-ng has no variant {variant!r}{suggest(variant, variants)}")


def _wav_samples(data: bytes, what: str) -> tuple[np.ndarray, int]:
    """(samples in [-1, 1] float32, sample rate) of a 16-bit mono PCM WAV whose data chunk may
    claim a streaming size (espeak-ng writes 0x7ffff000: the rest of the stream is the data)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise DataError(f"{_ESPEAK} gave no WAV for {what} ({len(data)} bytes)")
    pos, rate, bits, channels = 12, 0, 0, 0
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if tag == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
        elif tag == b"data":
            if bits != 16 or channels != 1:
                raise DataError(f"{_ESPEAK} gave {bits}-bit {channels}-channel audio for {what}; expected 16-bit mono")
            body = data[pos + 8:pos + 8 + min(size, len(data) - pos - 8)]
            body = body[: len(body) // 2 * 2]
            return np.frombuffer(body, dtype="<i2").astype(np.float32) / 32768.0, rate
        pos += 8 + size + (size & 1)
    raise DataError(f"{_ESPEAK}'s WAV for {what} has no data chunk")


def speech_features(audio: np.ndarray, sample_rate: int, feature: str = "logmel", n_mels: int = 40) -> np.ndarray:
    """(T, F) float32 frames of mono ``audio`` (samples in [-1, 1]) at ``sample_rate`` Hz, the
    features :func:`spoken_lines` gives: resampled to 16 kHz, 25 ms Hann windows every 10 ms, dB
    log-mel energies (F = ``n_mels``) or 13 MFCCs, each feature normalised over the utterance.

    Raises:
        DataError: empty audio; ConfigError: an unknown ``feature``.
    """
    librosa = require("librosa", "transcribe", "spoken-lines")
    if feature not in FEATURES:
        raise ConfigError(f"feature must be one of {list(FEATURES)}, got {feature!r}")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2:  # (samples, channels): average to mono
        audio = audio.mean(axis=1)
    if audio.size == 0:
        raise DataError("the audio holds no samples")
    y = librosa.resample(audio, orig_sr=sample_rate, target_sr=SAMPLE_RATE, res_type="soxr_hq") \
        if sample_rate != SAMPLE_RATE else audio
    power = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=N_FFT, win_length=WINDOW, hop_length=HOP,
                                           window="hann", center=True, n_mels=n_mels, fmin=20.0,
                                           fmax=SAMPLE_RATE / 2)  # (n_mels, T)
    feats = librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=80.0)  # (n_mels, T)
    if feature == "mfcc":
        feats = librosa.feature.mfcc(S=feats, n_mfcc=N_MFCC)  # (13, T)
    feats = feats.T  # (T, F)
    feats = (feats - feats.mean(axis=0)) / (feats.std(axis=0) + 1e-5)
    return feats.astype(np.float32)


def read_wav(path: Any) -> tuple[np.ndarray, int]:
    """(mono samples in [-1, 1], sample rate) of an audio file (WAV, FLAC, OGG: soundfile, which
    librosa installs)."""
    sf = require("soundfile", "transcribe", "spoken-lines")
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError) as e:  # soundfile's LibsndfileError is a RuntimeError
        raise DataError(f"{str(path)!r} is not an audio file soundfile can read ({e})") from None
    return audio.mean(axis=1), int(rate)


def _utterance(text: str, voice: str, rate: int, pitch: int, feature: str, n_mels: int) -> np.ndarray:
    """The (T, F) normalised features of ``text`` spoken by ``voice``."""
    what = f"voice {voice!r}, text {text!r}"
    audio, sr = _wav_samples(_run(["-v", voice, "-s", str(rate), "-p", str(pitch), "--stdout", "--", text], what),
                             what)
    if audio.size == 0:
        raise DataError(f"{_ESPEAK} gave no audio for {what}")
    return speech_features(audio, sr, feature, n_mels)


def spoken_lines(n: int, *, voices: Sequence[str] | None = None, held_out_voices: Sequence[str] | None = None,
                 split: str = "train", seed: int = 0, texts: Sequence[str] | None = None, feature: str = "logmel",
                 n_mels: int = 40) -> SpeechData:
    """``n`` synthesised utterances as feature frames, with their transcriptions and voices.

    Args:
        n: number of utterances (a positive int; ``len(texts)`` when ``texts`` is given).
        voices: the espeak-ng voices of ``split="train"`` (default :data:`DEFAULT_VOICES`).
        held_out_voices: the voices of ``split="test"``, disjoint from ``voices`` (default
            :data:`DEFAULT_HELD_OUT_VOICES`).
        split: "train" (``voices``, the first 80% of the treebank's sentences) or "test"
            (``held_out_voices``, the last 20%).
        seed: seeds the texts, voices, speaking rates and pitches.
        texts: lines to speak instead of treebank phrases (characters of :data:`CHARSET`).
        feature: "logmel" (F = ``n_mels``) or "mfcc" (F = 13), see the module docstring.
        n_mels: mel bands, 13 to 128.

    Returns:
        :class:`SpeechData`: inputs (T_i, F) float32, one frame per 10 ms; texts; groups (voices).

    Raises:
        ConfigError: an argument is invalid (every problem is named).
        DataError: espeak-ng or librosa (or, without ``texts``, ``treebank``) is missing, or
            espeak-ng fails.
    """
    problems: list[str] = []
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        problems.append(f"n must be a positive int, got {n!r}")
    if split not in _SPLITS:
        problems.append(f"split must be 'train' or 'test', got {split!r}{suggest(str(split), _SPLITS)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        problems.append(f"seed must be a non-negative int, got {seed!r}")
    if feature not in FEATURES:
        problems.append(f"feature must be one of {FEATURES}, got {feature!r}{suggest(str(feature), FEATURES)}")
    if isinstance(n_mels, bool) or not isinstance(n_mels, int) or not N_MFCC <= n_mels <= 128:
        problems.append(f"n_mels must be an int from {N_MFCC} to 128, got {n_mels!r}")
    train_voices = _check_voices("voices", DEFAULT_VOICES if voices is None else voices, problems)
    test_voices = _check_voices("held_out_voices", DEFAULT_HELD_OUT_VOICES if held_out_voices is None
                                else held_out_voices, problems)
    both = sorted(set(train_voices) & set(test_voices))
    if both:
        problems.append(f"voices and held_out_voices must be disjoint; both hold {both}")
    if texts is not None:
        _check_texts(texts, n, CHARSET, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    espeak_version()  # a DataError with the install line when espeak-ng is missing
    require("librosa", "transcribe", "spoken-lines")
    _unknown_voices("voices", train_voices, problems)
    _unknown_voices("held_out_voices", test_voices, problems)
    if problems:
        raise ConfigError("; ".join(problems))

    rng = np.random.default_rng([int(seed), _SPLITS.index(split)])
    lines = list(texts) if texts is not None else ptb_phrases(
        n, rng, split=split, min_words=MIN_WORDS, max_words=MAX_WORDS, charset=CHARSET, numbers=False)
    pool = test_voices if split == "test" else train_voices
    who = [pool[i] for i in rng.integers(len(pool), size=n)]
    rates = rng.integers(RATE_RANGE[0], RATE_RANGE[1] + 1, size=n).tolist()
    pitches = rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1, size=n).tolist()
    jobs: list[tuple[Any, ...]] = [(t, v, r, p, feature, n_mels) for t, v, r, p in zip(lines, who, rates, pitches)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool_:
        inputs = list(pool_.map(lambda job: _utterance(*job), jobs))
    return SpeechData(inputs, lines, who)


register_dataset("spoken-lines", task="transcription", extra="transcribe (and the espeak-ng program)",
                 description="Penn Treebank phrases spoken by espeak-ng (56 training voices, 8 held-out voices for "
                             "the test split) as 40 log-mel bands or 13 MFCCs every 10 ms; "
                             "load('spoken-lines', n=500, split='train')")(spoken_lines)
