"""ui/result_cache.py: one computation per key across processes, damage recomputed, a size bound."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from ui.result_cache import ResultCache, UnsafeCacheDirectory, canonical_text, stable_key

ROOT = Path(__file__).resolve().parents[2]

# A worker process: asks the shared cache for one key whose computation is slow and leaves a
# line in a log file each time it actually runs.
WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from ui.result_cache import ResultCache, stable_key
    cache = ResultCache(sys.argv[2])
    log = Path(sys.argv[3])
    start_at = float(sys.argv[4])
    while time.time() < start_at:  # both processes ask at the same moment
        time.sleep(0.001)
    def compute():
        with log.open("a") as f:
            f.write("computed\\n")
        time.sleep(0.5)
        return {"slope": 1.25, "n": 40}
    value = cache.get_or_compute(stable_key("fit", (40, "REML")), compute)
    print(value["slope"], cache.stats["computed"], cache.stats["disk_hits"])
""")


def test_two_processes_asking_for_one_cold_key_compute_it_once(tmp_path):
    log = tmp_path / "computations.log"
    start_at = time.time() + 1.5  # after both interpreters have started
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(ROOT), str(tmp_path / "cache"),
                                 str(log), str(start_at)], stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    outputs = [w.communicate(timeout=60)[0].split() for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert log.read_text().count("computed") == 1
    assert sorted(int(out[1]) for out in outputs) == [0, 1]   # one computed ...
    assert sorted(int(out[2]) for out in outputs) == [0, 1]   # ... the other read its file
    assert all(out[0] == "1.25" for out in outputs)


def test_a_hit_is_served_from_memory_without_reading_the_file_again(tmp_path):
    cache = ResultCache(tmp_path)
    calls = []
    key = stable_key("fit", {"per_school": 20})
    first = cache.get_or_compute(key, lambda: calls.append(1) or np.arange(5.0))
    cache.path_for(key).unlink()  # a memory hit must not need the file
    second = cache.get_or_compute(key, lambda: calls.append(1) or np.zeros(5))
    assert second is first and calls == [1]
    assert cache.stats["memory_hits"] == 1


def test_another_process_finds_the_value_on_disk(tmp_path):
    ResultCache(tmp_path).get_or_compute(stable_key("fit", 3), lambda: "three")
    other = ResultCache(tmp_path)  # a new worker: empty memory tier
    assert other.get_or_compute(stable_key("fit", 3), lambda: "recomputed") == "three"
    assert other.stats == {"memory_hits": 0, "disk_hits": 1, "computed": 0, "damaged": 0,
                           "evicted": 0}


@pytest.mark.parametrize("damage", ["truncate", "flip_a_byte", "garbage"])
def test_a_damaged_file_is_recomputed(tmp_path, damage):
    key = stable_key("fit", "damaged")
    ResultCache(tmp_path).get_or_compute(key, lambda: list(range(100)))
    path = ResultCache(tmp_path).path_for(key)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip_a_byte":
        data[-3] ^= 0xFF
    else:
        data = bytearray(b"not a cache file at all")
    path.write_bytes(bytes(data))
    fresh = ResultCache(tmp_path)
    assert fresh.get_or_compute(key, lambda: "recomputed") == "recomputed"
    assert fresh.stats["damaged"] == 1 and fresh.stats["computed"] == 1
    assert ResultCache(tmp_path).get_or_compute(key, lambda: "again") == "recomputed"


def test_the_size_bound_evicts_the_least_recently_used(tmp_path):
    cache = ResultCache(tmp_path, max_bytes=60_000, memory_items=1)
    keys = [stable_key("blob", i) for i in range(6)]
    for i, key in enumerate(keys):
        cache.get_or_compute(key, lambda i=i: bytes([i]) * 15_000)
        past = time.time() - 100 + i  # older entries: older modification times
        os.utime(cache.path_for(key), (past, past))
    cache.evict()
    present = [cache.path_for(k).exists() for k in keys]
    total = sum(cache.path_for(k).stat().st_size for k, there in zip(keys, present) if there)
    assert total <= 60_000 * 0.8
    assert present[-1] and not present[0]  # the newest kept, the oldest gone
    assert present == sorted(present)      # everything evicted is older than what is kept
    assert cache.stats["evicted"] == present.count(False)


def test_an_exception_in_compute_stores_nothing(tmp_path):
    cache = ResultCache(tmp_path)
    key = stable_key("fit", "fails")

    def broken():
        raise ValueError("singular design")

    with pytest.raises(ValueError):
        cache.get_or_compute(key, broken)
    assert not cache.path_for(key).exists()
    assert cache.get_or_compute(key, lambda: 7) == 7


@dataclasses.dataclass(frozen=True)
class Settings:
    per_school: int
    method: str
    schools: tuple


def test_keys_are_the_same_in_another_process_with_another_hash_seed():
    settings = "Settings(20, 'ML', (24725, 62821))"
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_result_cache import Settings
        from ui.result_cache import stable_key
        print(stable_key("fit", {{"a": {settings}, "b": frozenset({{"x", "y", "z"}})}}, "v1"))
    """)
    keys = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env=dict(os.environ, PYTHONHASHSEED=seed)).stdout.strip()
            for seed in ("1", "2", "3")}
    assert len(keys) == 1
    here = stable_key("fit", {"b": frozenset({"z", "y", "x"}),
                              "a": Settings(20, "ML", (24725, 62821))}, "v1")
    assert keys == {here}


def test_keys_separate_what_differs():
    base = stable_key("fit", (20, "ML"), "v1")
    assert stable_key("fit", (20, "REML"), "v1") != base
    assert stable_key("fit", (20.0, "ML"), "v1") != base   # int and float settings differ
    assert stable_key("fit", (20, "ML"), "v2") != base     # a new code version
    assert stable_key("plot", (20, "ML"), "v1") != base
    assert canonical_text(np.array([1.0, 2.0])) != canonical_text(np.array([1.0, 2.5]))


def test_an_object_without_a_stable_text_is_refused():
    with pytest.raises(TypeError):
        stable_key("fit", object())


def test_a_directory_others_may_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(UnsafeCacheDirectory):
        ResultCache(shared)
