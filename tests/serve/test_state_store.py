"""The state stores: records round-trip without pickle; the disk store recovers every stored
change after a crash (no close), cuts a torn last record off so later records survive the next
crash, refuses to start on a corrupt record, and allows one server per folder; writes are
compare-and-set on the stream's step (memory, disk and Redis)."""

import numpy as np
import pytest

from lstmkit.errors import ConfigError, ModelFileError
from lstmkit.serve.store import MemoryStore, StreamState, _record, decode_state, encode_state, open_store


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


def test_writes_are_compare_and_set(tmp_path):
    store = MemoryStore()
    assert store.create("a", state(0, 0)) and not store.create("a", state(0, 1))
    assert store.put_many([("a", state(2, 2)), ("zz", state(1, 1))], [0, 0]) == [True, False]  # zz was never started
    assert store.put_many([("a", state(3, 3))], [0]) == [False]  # "a" is at step 2 now: a stale write loses
    assert same(store.get_many(["a"])[0], state(2, 2))


def crashed_store(folder) -> MemoryStore:
    store = MemoryStore(folder)
    store.create("a", state(0, 0))
    store.create("b", state(0, 9))
    store.put_many([("a", state(1, 1)), ("b", state(2, 2))], [0, 0])
    store.put_many([("a", state(3, 3))], [1])
    assert store.delete("b") and not store.delete("b")
    store.close()  # (releases the lock as a killed process would; the log is what a crash leaves)
    return store


def test_disk_store_recovers_after_a_crash_and_cuts_a_torn_record_off(tmp_path):
    crashed_store(tmp_path)
    with open(tmp_path / MemoryStore.LOG, "ab") as f:  # a write cut short: the first 30 bytes of a real record
        f.write(_record(1, "x", encode_state(state(9, 9)))[:30])
    again = MemoryStore(tmp_path)
    assert set(again.states) == {"a"} and same(again.states["a"], state(3, 3))
    assert len(list(tmp_path.glob("wal.torn-at-*.bin"))) == 1  # the cut-off bytes are kept aside
    again.put_many([("a", state(4, 4))], [3])  # acknowledged after the recovery...
    again.create("c", state(0, 5))
    again.close()
    third = MemoryStore(tmp_path)  # ...and still there after the next crash
    assert set(third.states) == {"a", "c"} and same(third.states["a"], state(4, 4))
    third.snapshot()
    third.put_many([("c", state(5, 5))], [0])
    third.close()
    fourth = MemoryStore(tmp_path)  # snapshot + the log written after it
    assert set(fourth.states) == {"a", "c"} and same(fourth.states["c"], state(5, 5))
    fourth.close()


def test_disk_store_refuses_a_corrupt_record_and_a_second_server(tmp_path):
    crashed_store(tmp_path)
    log = tmp_path / MemoryStore.LOG
    blob = bytearray(log.read_bytes())
    blob[60] ^= 0xFF  # one flipped byte inside the first record
    log.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match=r"wal\.bin is corrupt at byte 0 \(a checksum mismatch"):
        MemoryStore(tmp_path)
    crashed_store(tmp_path / "len")
    log = tmp_path / "len" / MemoryStore.LOG
    blob = bytearray(log.read_bytes())
    blob[3] ^= 0x40  # the first record's length now runs past the end: damage, not a cut-short write
    log.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match=r"corrupt at byte 0 \(a damaged record length\)"):
        MemoryStore(tmp_path / "len")
    assert log.stat().st_size == len(blob)  # the evidence is left in place
    other = tmp_path / "other"
    first = MemoryStore(other)
    with pytest.raises(ConfigError, match="another server is using that folder"):
        MemoryStore(other)
    first.close()
    MemoryStore(other).close()  # free again once the first has gone
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match=r"store disk:.*afile: cannot use that folder"):
        MemoryStore(tmp_path / "afile")


def test_eviction_and_store_specs(tmp_path):
    store = MemoryStore(tmp_path)
    old = state(1, 1)
    old.last_used -= 100
    store.create("old", old)
    store.create("new", state(1, 2))
    assert store.evict_idle(50) == 1
    store.close()
    assert set(MemoryStore(tmp_path).states) == {"new"}
    assert isinstance(open_store("memory", ttl=1), MemoryStore)
    assert open_store(f"disk:{tmp_path / 'x'}", ttl=1).durable
    with pytest.raises(ConfigError, match=r"store must be 'memory', 'disk:DIR' or a redis:// URL, got 'disk'"):
        open_store("disk", ttl=1)


def test_redis_store(redis_url):
    from lstmkit.serve.store import RedisStore

    store = RedisStore(redis_url, prefix="lstmkit-test:", ttl=60)
    assert store.create("a", state(0, 4)) and store.create("b", state(0, 5)) and not store.create("a", state(0, 6))
    assert store.put_many([("a", state(4, 4)), ("b", state(5, 5))], [0, 0]) == [True, True]
    assert store.put_many([("a", state(9, 9))], [0]) == [False]  # a second replica's stale write loses
    got = store.get_many(["a", "b", "zz"])
    assert same(got[0], state(4, 4)) and same(got[1], state(5, 5)) and got[2] is None
    assert store.count() == 2 and store.delete("a") and not store.delete("a") and store.ping()
    assert 0 < store.client.pttl("lstmkit-test:b") <= 60_000  # idle streams expire in Redis itself
    store.delete("b")
