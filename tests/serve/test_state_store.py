"""The state stores: records round-trip without pickle; the disk store recovers every stored
change after a crash (no close), ignores a torn last record, and replays its log after a snapshot."""

import numpy as np
import pytest

from lstmkit.errors import ConfigError, ModelFileError
from lstmkit.serve.store import MemoryStore, StreamState, decode_state, encode_state, open_store


def state(step: int, seed: int) -> StreamState:
    rng = np.random.default_rng(seed)
    return StreamState(step, {"h0": rng.normal(size=(1, 1, 4)).astype(np.float32), "c0": rng.normal(size=(1, 1, 4))})


def same(a: StreamState, b: StreamState) -> bool:
    return a.step == b.step and a.arrays.keys() == b.arrays.keys() and all(
        a.arrays[k].dtype == b.arrays[k].dtype and np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)


def test_records_round_trip_and_reject_garbage():
    s = state(7, 0)
    assert same(decode_state(encode_state(s)), s)
    with pytest.raises(ModelFileError, match="malformed"):
        decode_state(b"\x05\x00\x00\x00{bad}")
    with pytest.raises(ConfigError, match="dtype object"):
        encode_state(StreamState(0, {"h": np.array([None])}))


def test_disk_store_recovers_after_a_crash(tmp_path):
    store = MemoryStore(tmp_path)
    store.put_many([("a", state(1, 1)), ("b", state(2, 2))])
    store.put_many([("a", state(3, 3))])
    assert store.delete("b") and not store.delete("b")
    # no close(): a crash. A torn record at the end (a write cut short) is ignored.
    with open(tmp_path / MemoryStore.LOG, "ab") as f:
        f.write(b"\x40\x00\x00\x00\x11\x22")
    again = MemoryStore(tmp_path)
    assert set(again.states) == {"a"} and same(again.states["a"], state(3, 3))
    again.snapshot()
    again.put_many([("c", state(5, 5))])
    third = MemoryStore(tmp_path)
    assert set(third.states) == {"a", "c"} and same(third.states["c"], state(5, 5))
    assert (tmp_path / MemoryStore.SNAPSHOT).exists()


def test_eviction_and_store_specs(tmp_path):
    store = MemoryStore(tmp_path)
    old = state(1, 1)
    old.last_used -= 100
    store.put_many([("old", old), ("new", state(1, 2))])
    assert store.evict_idle(50) == 1 and set(MemoryStore(tmp_path).states) == {"new"}
    assert isinstance(open_store("memory", ttl=1), MemoryStore)
    assert open_store(f"disk:{tmp_path / 'x'}", ttl=1).durable
    with pytest.raises(ConfigError, match=r"store must be 'memory', 'disk:DIR' or a redis:// URL, got 'disk'"):
        open_store("disk", ttl=1)


def test_redis_store(redis_url):
    from lstmkit.serve.store import RedisStore

    store = RedisStore(redis_url, prefix="lstmkit-test:", ttl=60)
    store.put_many([("a", state(4, 4)), ("b", state(5, 5))])
    got = store.get_many(["a", "b", "zz"])
    assert same(got[0], state(4, 4)) and same(got[1], state(5, 5)) and got[2] is None
    assert store.count() == 2 and store.delete("a") and not store.delete("a") and store.ping()
    ttl = store.client.ttl("lstmkit-test:b")
    assert 0 < ttl <= 60  # idle streams expire in Redis itself
    store.delete("b")
