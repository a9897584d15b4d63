"""Where the prediction server keeps each stream's recurrent state.

A stream's state is a :class:`StreamState`: the number of steps acknowledged so far and the
network's state arrays (each with a batch axis of size 1). Two stores:

- :class:`MemoryStore`: a dict in the server process. With a ``directory`` it is also durable:
  every change is appended to a write-ahead log and flushed to disk with ``fsync`` *before*
  the server answers the request, and a snapshot of all streams is written atomically every
  ``snapshot_interval`` seconds (the log then starts again). A restarted server reads the
  snapshot and replays the log, so **every acknowledged step survives a crash of the server
  process or of the machine**; a step whose request was still in flight may or may not be
  there, and ``GET /v1/streams/{id}`` tells which. Without a directory, a crash loses every
  stream.
- :class:`RedisStore`: one key per stream in a Redis server (``SET`` with an expiry of the
  idle TTL, before the server answers), so a restarted server or a second replica continues
  every stream. What survives a crash of Redis itself is Redis's persistence setting
  (``appendonly yes`` with ``appendfsync always`` keeps every acknowledged step).

Records are a JSON header plus the arrays' raw bytes (float32/float64/int64 only); nothing is
unpickled.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstmkit.errors import ConfigError, MissingDependencyError, ModelFileError
from lstmkit.utils.io import atomic_write_bytes

__all__ = ["StreamState", "StateStore", "MemoryStore", "RedisStore", "open_store", "encode_state", "decode_state"]

_DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64}


@dataclass
class StreamState:
    """One stream: ``step`` steps acknowledged; ``arrays`` the network's state (name -> array)."""

    step: int
    arrays: dict[str, np.ndarray]
    last_used: float = field(default_factory=time.time)


def encode_state(state: StreamState) -> bytes:
    """``u32 header length | JSON header | raw bytes of each array`` (C order)."""
    parts, entries = [], []
    for name, a in state.arrays.items():
        a = np.ascontiguousarray(a)
        if a.dtype.name not in _DTYPES:
            raise ConfigError(f"stream state array {name!r} has dtype {a.dtype}; expected one of {list(_DTYPES)}")
        entries.append([name, a.dtype.name, list(a.shape)])
        parts.append(a.tobytes())
    header = json.dumps({"step": state.step, "last_used": state.last_used, "arrays": entries}).encode()
    return struct.pack("<I", len(header)) + header + b"".join(parts)


def decode_state(blob: bytes) -> StreamState:
    """The inverse of :func:`encode_state`. Raises ModelFileError on a malformed record."""
    try:
        (n,) = struct.unpack_from("<I", blob, 0)
        header = json.loads(blob[4:4 + n])
        offset = 4 + n
        arrays = {}
        for name, dtype, shape in header["arrays"]:
            dt = np.dtype(_DTYPES[dtype])
            size = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
            arrays[name] = np.frombuffer(blob, dtype=dt, count=size // dt.itemsize, offset=offset).reshape(shape).copy()
            offset += size
        return StreamState(int(header["step"]), arrays, float(header.get("last_used", time.time())))
    except (KeyError, ValueError, struct.error, TypeError) as e:
        raise ModelFileError(f"a stored stream state is malformed: {e}") from None


class StateStore:
    """The interface both stores implement (all methods are called from one thread at a time)."""

    durable: bool = False  # does an acknowledged step survive a crash of the server process?

    def get_many(self, ids: list[str]) -> list[StreamState | None]:
        raise NotImplementedError

    def put_many(self, items: list[tuple[str, StreamState]], expected: list[int]) -> list[bool]:
        """Store each item if its stream is still at step ``expected[i]`` (compare-and-set: a
        concurrent writer's change is never overwritten); which ones were stored. When this
        returns, the stored changes are as durable as the store promises."""
        raise NotImplementedError

    def create(self, stream_id: str, state: StreamState) -> bool:
        """Store a new stream; False if it exists."""
        raise NotImplementedError

    def delete(self, stream_id: str) -> bool:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def evict_idle(self, ttl: float) -> int:
        """Forget streams unused for ``ttl`` seconds; how many went."""
        return 0

    def maintain(self) -> None:
        """Periodic housekeeping (snapshots)."""

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        pass


# --- memory, optionally with a write-ahead log ----------------------------------------------------
_PUT, _DELETE = 1, 2


_HEADER = struct.Struct("<III")  # body length, the length's complement (a damaged length is told from a cut one), crc32


def _record(op: int, stream_id: str, payload: bytes = b"") -> bytes:
    key = stream_id.encode()
    body = struct.pack("<BH", op, len(key)) + key + payload
    return _HEADER.pack(len(body), len(body) ^ 0xFFFFFFFF, zlib.crc32(body)) + body


def _records(blob: bytes, name: str) -> tuple[list[tuple[int, str, bytes]], int]:
    """The records of a log or snapshot and the length of its intact prefix.

    A record whose declared length runs past the end of the file is a write cut short by a crash
    (its request was never answered): it and anything after it are dropped, and the caller
    truncates the file there. A complete record with a wrong checksum is corruption.

    Raises:
        ModelFileError: a corrupt record (the message says which file and byte).
    """
    out, pos, h = [], 0, _HEADER.size
    while pos < len(blob):
        if pos + h > len(blob):
            break  # a torn header
        n, n_check, crc = _HEADER.unpack_from(blob, pos)
        if n ^ 0xFFFFFFFF != n_check:
            raise ModelFileError(f"{name} is corrupt at byte {pos} (a damaged record length); the server will not "
                                 "start on it. Move the folder aside to start empty, or restore it from a backup")
        if pos + h + n > len(blob):
            break  # a torn body
        body = blob[pos + h: pos + h + n]
        if zlib.crc32(body) != crc or n < 3:
            raise ModelFileError(f"{name} is corrupt at byte {pos} (a checksum mismatch, not a write cut short by a "
                                 "crash); the server will not start on it. Move the folder aside to start empty, or "
                                 "restore it from a backup")
        op, klen = struct.unpack_from("<BH", body, 0)
        if op not in (_PUT, _DELETE) or 3 + klen > n:
            raise ModelFileError(f"{name} is corrupt at byte {pos} (an unknown record)")
        out.append((op, body[3:3 + klen].decode(), body[3 + klen:]))
        pos += h + n
    return out, pos


class MemoryStore(StateStore):
    """Streams in a dict; with ``directory``, durable (see the module docstring)."""

    SNAPSHOT, LOG = "snapshot.bin", "wal.bin"

    def __init__(self, directory: str | os.PathLike | None = None, *, snapshot_interval: float = 30.0) -> None:
        self.states: dict[str, StreamState] = {}
        self.directory = Path(directory) if directory is not None else None
        self.snapshot_interval = float(snapshot_interval)
        self.durable = self.directory is not None
        self._lock = threading.Lock()
        self._log = None
        self._last_snapshot = time.monotonic()
        self._lock_file = None
        if self.directory is not None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._lock_file = open(self.directory / "lock", "a+")
            except OSError as e:
                raise ConfigError(f"store disk:{self.directory}: cannot use that folder ({e.strerror})") from None
            try:  # one server per folder: two would interleave the log and truncate each other's
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._lock_file.close()
                raise ConfigError(f"store disk:{self.directory}: another server is using that folder") from None
            self._recover()
            self._log = open(self.directory / self.LOG, "ab")

    def _recover(self) -> None:
        snap, log = self.directory / self.SNAPSHOT, self.directory / self.LOG
        if snap.exists():
            blob = snap.read_bytes()
            records, end = _records(blob, str(snap))
            if end != len(blob):  # written atomically: a short snapshot is damage, not a crash
                raise ModelFileError(f"{snap} is truncated at byte {end} of {len(blob)}; the server will not start on it")
            self._apply(records)
        if log.exists():
            blob = log.read_bytes()
            records, end = _records(blob, str(log))
            self._apply(records)
            if end != len(blob):  # the torn last record goes, or new records would land behind it
                atomic_write_bytes(self.directory / f"wal.torn-at-{end}.bin", blob[end:])  # kept for inspection
                with open(log, "r+b") as f:
                    f.truncate(end)
                    os.fsync(f.fileno())

    def _apply(self, records: list[tuple[int, str, bytes]]) -> None:
        for op, sid, payload in records:
            if op == _PUT:
                self.states[sid] = decode_state(payload)
            else:
                self.states.pop(sid, None)

    def _append(self, blob: bytes) -> None:
        self._log.write(blob)
        self._log.flush()
        os.fsync(self._log.fileno())

    def get_many(self, ids: list[str]) -> list[StreamState | None]:
        return [self.states.get(i) for i in ids]

    def put_many(self, items: list[tuple[str, StreamState]], expected: list[int]) -> list[bool]:
        with self._lock:
            ok = [sid in self.states and self.states[sid].step == e for (sid, _), e in zip(items, expected)]
            self._write([item for item, good in zip(items, ok) if good])
            return ok

    def create(self, stream_id: str, state: StreamState) -> bool:
        with self._lock:
            if stream_id in self.states:
                return False
            self._write([(stream_id, state)])
            return True

    def _write(self, items: list[tuple[str, StreamState]]) -> None:
        if self._log is not None and items:
            self._append(b"".join(_record(_PUT, sid, encode_state(st)) for sid, st in items))
        for sid, st in items:
            self.states[sid] = st

    def delete(self, stream_id: str) -> bool:
        with self._lock:
            if stream_id not in self.states:
                return False
            if self._log is not None:
                self._append(_record(_DELETE, stream_id))
            del self.states[stream_id]
            return True

    def count(self) -> int:
        return len(self.states)

    def evict_idle(self, ttl: float) -> int:
        cutoff = time.time() - ttl
        old = [sid for sid, st in self.states.items() if st.last_used < cutoff]
        for sid in old:
            self.delete(sid)
        return len(old)

    def maintain(self) -> None:
        if self._log is not None and time.monotonic() - self._last_snapshot >= self.snapshot_interval:
            self.snapshot()

    def snapshot(self) -> None:
        """Write every stream to the snapshot file atomically, then start a new log."""
        if self.directory is None:
            return
        with self._lock:
            blob = b"".join(_record(_PUT, sid, encode_state(st)) for sid, st in self.states.items())
            atomic_write_bytes(self.directory / self.SNAPSHOT, blob)
            self._log.close()
            self._log = open(self.directory / self.LOG, "wb")  # everything in it is in the snapshot now
            os.fsync(self._log.fileno())
            self._last_snapshot = time.monotonic()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock (a killed process releases it too)
            self._lock_file = None


# --- redis ------------------------------------------------------------------------------------------
_CAS = """
local cur = redis.call('HGET', KEYS[1], 'step')
if ARGV[1] == '' then
  if cur then return 0 end
elseif (not cur) or cur ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'step', ARGV[2], 'state', ARGV[3])
if ARGV[4] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
"""


class RedisStore(StateStore):
    """One hash per stream (``PREFIX + id``: its step and its encoded state) in a Redis server;
    every write is a compare-and-set on the step (a Lua script, atomic in Redis), so two replicas
    racing on one stream cannot both win; expiry = the idle TTL."""

    durable = True

    def __init__(self, url: str, *, prefix: str = "lstmkit:stream:", ttl: float | None = 3600.0) -> None:
        try:
            import redis
        except ImportError:
            raise MissingDependencyError("the Redis store needs redis-py: pip install 'lstmkit[serve]'") from None
        self.client = redis.Redis.from_url(url, socket_timeout=5.0)
        self.prefix, self.ttl = prefix, ttl
        self._cas = self.client.register_script(_CAS)

    def _ttl_ms(self) -> str:
        return "" if self.ttl is None else str(max(1, int(self.ttl * 1000)))

    def get_many(self, ids: list[str]) -> list[StreamState | None]:
        if not ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for i in ids:
            pipe.hget(self.prefix + i, "state")
        return [None if b is None else decode_state(b) for b in pipe.execute()]

    def put_many(self, items: list[tuple[str, StreamState]], expected: list[int]) -> list[bool]:
        pipe = self.client.pipeline(transaction=False)
        for (sid, st), e in zip(items, expected):
            self._cas(keys=[self.prefix + sid], args=[str(e), str(st.step), encode_state(st), self._ttl_ms()], client=pipe)
        return [bool(r) for r in pipe.execute()]

    def create(self, stream_id: str, state: StreamState) -> bool:
        return bool(self._cas(keys=[self.prefix + stream_id], args=["", str(state.step), encode_state(state), self._ttl_ms()]))

    def delete(self, stream_id: str) -> bool:
        return bool(self.client.delete(self.prefix + stream_id))

    def count(self) -> int:
        return sum(1 for _ in self.client.scan_iter(match=self.prefix + "*", count=1000))

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except Exception:  # noqa: BLE001 - any connection failure means "not ready"
            return False

    def close(self) -> None:
        self.client.close()


def open_store(spec: str, *, ttl: float | None, snapshot_interval: float = 30.0) -> StateStore:
    """``"memory"``, ``"disk:DIR"`` (memory + write-ahead log in DIR) or ``"redis://host:port/db"``.

    Raises:
        ConfigError: another form.
    """
    if spec == "memory":
        return MemoryStore()
    if spec.startswith("disk:") and len(spec) > 5:
        return MemoryStore(spec[5:], snapshot_interval=snapshot_interval)
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(spec, ttl=ttl)
    raise ConfigError(f"store must be 'memory', 'disk:DIR' or a redis:// URL, got {spec!r}")
