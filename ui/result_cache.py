"""A result cache shared by every Streamlit worker on a machine: fits computed once, reused by all.

Behind a load balancer each worker process has its own ``st.cache_data``, so without help a
fit is computed once per worker. :class:`ResultCache` keeps results in a per-machine
directory that every worker reads:

- **Stable keys.** :func:`stable_key` hashes (SHA-256) a canonical text of the frozen
  settings plus a code version; Python's ``hash()`` is salted per process and cannot be used.
- **Atomic writes.** A value is pickled to a temporary file in the same directory and renamed
  into place, so a reader sees a whole file or none.
- **Computed once.** A cross-process lock per key (``fcntl.flock``) makes the workers that ask
  for the same missing key wait for the first one instead of computing it too.
- **Memory tier.** Hits are kept in a small in-process LRU in front of the disk, so a repeated
  slider position does not unpickle the result again on every move.
- **Bounded.** When the directory grows past ``max_bytes`` the least recently used files are
  evicted down to 80 % of the bound.
- **Damage is a miss.** A file that is truncated, corrupt or from another code version is
  deleted and the value recomputed.

Values are pickles, which can run code when loaded: the directory must be writable only by
the user running the app. The default (``$HLMLAB_CACHE_DIR`` or ``<tempdir>/hlmlab-cache-<uid>``)
is created with mode 0700 and refused if another user owns it or others may write to it.

This module does not import Streamlit: the lesson pages' cached ``compute(settings)`` wraps
``get_or_compute`` (see benchmarks/README.md, "Shared result cache").
"""

from __future__ import annotations

import dataclasses
import enum
import fcntl
import hashlib
import io
import os
import pickle
import re
import stat
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

_HEX_KEY = re.compile(r"[0-9a-f]{64}")
_MAGIC = b"HLMRC1\n"          # file format tag; a different tag is treated as damage
_DIGEST_SIZE = 32             # blake2b digest of the pickle, stored after the tag
_LOCK_STRIPES = 4096          # lock files, chosen by key prefix: bounded in number
_EVICT_TO = 0.8               # eviction goes down to this share of max_bytes

DEFAULT_MAX_BYTES = 512 * 2**20
DEFAULT_MEMORY_ITEMS = 256


def default_directory() -> Path:
    """``$HLMLAB_CACHE_DIR`` if set, else ``<system temp dir>/hlmlab-cache-<uid>``."""
    configured = os.environ.get("HLMLAB_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"hlmlab-cache-{os.getuid()}"


def canonical_text(value) -> str:
    """A text that is equal for equal settings in any process, on any machine.

    Accepts None, bool, int, float, str, bytes, enums, tuples, lists, dicts (sorted by key),
    sets and frozensets (sorted), dataclass instances, numpy scalars and arrays. Anything else
    raises TypeError: its ``repr`` might hold a memory address and give a new key every run.
    """
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, float):
        return f"float:{value.hex()}"  # exact, and -0.0 / nan spelled out
    if isinstance(value, enum.Enum):
        return f"enum:{type(value).__qualname__}.{value.name}"
    if isinstance(value, np.generic):
        return canonical_text(value.item())
    if isinstance(value, np.ndarray):
        digest = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
        return f"ndarray:{value.dtype.str}:{value.shape}:{digest}"
    if isinstance(value, (tuple, list)):
        inner = ",".join(canonical_text(item) for item in value)
        return f"{type(value).__name__}:[{inner}]"
    if isinstance(value, Mapping):
        items = sorted((canonical_text(k), canonical_text(v)) for k, v in value.items())
        return "dict:{" + ",".join(f"{k}={v}" for k, v in items) + "}"
    if isinstance(value, (set, frozenset)):
        return "set:{" + ",".join(sorted(canonical_text(item) for item in value)) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(f"{f.name}={canonical_text(getattr(value, f.name))}"
                          for f in dataclasses.fields(value))
        return f"{type(value).__module__}.{type(value).__qualname__}({fields})"
    raise TypeError(f"no stable cache key for a {type(value).__name__}; pass frozen settings "
                    "(numbers, strings, tuples, dicts, dataclasses, numpy arrays)")


def stable_key(namespace: str, settings, version: str = "") -> str:
    """SHA-256 hex key of ``namespace`` (e.g. the computing function's name), the settings
    and a code version (change it and every old entry is ignored)."""
    text = f"{namespace}\x00{version}\x00{canonical_text(settings)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def code_version(*paths: os.PathLike | str) -> str:
    """A version string from the contents of source files and the library versions that the
    pickled results depend on: a new checkout or a new pandas gives new keys."""
    digest = hashlib.sha256()
    for name in ("numpy", "pandas", "statsmodels", "scipy"):
        try:
            module = __import__(name)
            digest.update(f"{name}={module.__version__};".encode())
        except ImportError:
            digest.update(f"{name}=absent;".encode())
    for path in sorted(Path(p) for p in paths):
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode() + b"\x00" + file.read_bytes())
    return digest.hexdigest()[:16]


class UnsafeCacheDirectory(RuntimeError):
    """The cache directory is owned by someone else or writable by others."""


class ResultCache:
    """An on-disk, cross-process result cache with an in-process memory tier.

    Parameters
    ----------
    directory : path, optional
        Where entries live; created (mode 0700) if missing. Default :func:`default_directory`.
    max_bytes : int
        Bound on the total size of the entry files; least recently used are evicted past it.
    memory_items : int
        How many values the in-process tier keeps (least recently used dropped first).

    Notes
    -----
    Values returned from the memory tier are the same objects for every caller in the process:
    store frozen results and never mutate what you get back.
    """

    def __init__(self, directory: os.PathLike | str | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES, memory_items: int = DEFAULT_MEMORY_ITEMS):
        self.directory = Path(directory) if directory is not None else default_directory()
        self.max_bytes = int(max_bytes)
        self.memory_items = int(memory_items)
        self._memory: OrderedDict[str, object] = OrderedDict()
        self._memory_lock = threading.Lock()
        # Threads of one worker asking for the same key wait on one of these (striped by key,
        # so their number stays bounded) before they queue for the cross-process lock.
        self._thread_locks = [threading.Lock() for _ in range(256)]
        self.stats = {"memory_hits": 0, "disk_hits": 0, "computed": 0, "damaged": 0,
                      "evicted": 0}
        self._prepare_directory()
        self._bytes_written_since_check = self.max_bytes  # check the bound at the first write

    # ------------------------------------------------------------------ public

    def get_or_compute(self, key: str, compute: Callable[[], object]):
        """The value stored under ``key``, computing and storing it if no worker has yet.

        ``key`` is a string from :func:`stable_key` (any other string is hashed first).
        While one process computes a key, the others asking for it wait and then read its
        result. Exceptions from ``compute`` propagate and nothing is stored.
        """
        if not _HEX_KEY.fullmatch(key):
            key = hashlib.sha256(key.encode("utf-8")).hexdigest()
        found, value = self._from_memory(key)
        if found:
            return value
        with self._thread_lock(key):  # threads of one worker share one flock wait
            found, value = self._from_memory(key)
            if found:
                return value
            found, value = self._from_disk(key)
            if not found:
                with self._file_lock(key):
                    found, value = self._from_disk(key)  # another worker may have finished it
                    if not found:
                        value = compute()
                        self.stats["computed"] += 1
                        self._write(key, value)
            self._remember(key, value)
            return value

    def path_for(self, key: str) -> Path:
        """The entry file of ``key`` (two-level fan-out keeps directories small)."""
        return self.directory / key[:2] / f"{key}.pickle"

    def clear_memory(self) -> None:
        with self._memory_lock:
            self._memory.clear()

    # ------------------------------------------------------------------ tiers

    def _from_memory(self, key: str):
        with self._memory_lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                self.stats["memory_hits"] += 1
                return True, self._memory[key]
        return False, None

    def _remember(self, key: str, value) -> None:
        with self._memory_lock:
            self._memory[key] = value
            self._memory.move_to_end(key)
            while len(self._memory) > self.memory_items:
                self._memory.popitem(last=False)

    def _from_disk(self, key: str):
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return False, None
        payload = data[len(_MAGIC) + _DIGEST_SIZE:]
        digest = data[len(_MAGIC):len(_MAGIC) + _DIGEST_SIZE]
        if not data.startswith(_MAGIC) or hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest() != digest:
            self._discard_damaged(path)
            return False, None
        try:
            value = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a pickle of a class that no longer exists, etc.
            self._discard_damaged(path)
            return False, None
        try:
            os.utime(path)  # recently used: eviction goes by modification time
        except OSError:
            pass
        self.stats["disk_hits"] += 1
        return True, value

    def _discard_damaged(self, path: Path) -> None:
        self.stats["damaged"] += 1
        try:
            path.unlink()
        except FileNotFoundError:
            pass

    def _write(self, key: str, value) -> None:
        buffer = io.BytesIO()
        pickle.dump(value, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        payload = buffer.getvalue()
        path = self.path_for(key)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(_MAGIC)
                file.write(hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest())
                file.write(payload)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise
        self._bytes_written_since_check += len(payload)
        if self._bytes_written_since_check >= max(self.max_bytes // 20, 1):
            self._bytes_written_since_check = 0
            self.evict()

    # ------------------------------------------------------------------ size bound

    def evict(self) -> int:
        """Delete least recently used entries until the total is under 80 % of max_bytes.

        Only one process evicts at a time (a non-blocking lock: the others skip). Returns the
        number of files deleted."""
        with open(self.directory / "evict.lock", "a+b") as lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
            entries = []
            total = 0
            for sub in self.directory.iterdir():
                if not sub.is_dir() or sub.name == "locks":
                    continue
                for entry in os.scandir(sub):
                    if entry.name.endswith(".pickle"):
                        info = entry.stat()
                        entries.append((info.st_mtime, info.st_size, entry.path))
                        total += info.st_size
            if total <= self.max_bytes:
                return 0
            deleted = 0
            for _, size, path in sorted(entries):
                if total <= self.max_bytes * _EVICT_TO:
                    break
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    continue
                total -= size
                deleted += 1
            self.stats["evicted"] += deleted
            return deleted

    # ------------------------------------------------------------------ locks

    def _thread_lock(self, key: str) -> threading.Lock:
        return self._thread_locks[int(key[:2], 16)]

    def _file_lock(self, key: str):
        stripe = int(key[:3], 16) % _LOCK_STRIPES  # keys are hex: 3 digits pick a stripe
        return _FlockHeld(self.directory / "locks" / f"{stripe:03x}.lock")

    def _prepare_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.directory / "locks").mkdir(mode=0o700, exist_ok=True)
        info = self.directory.stat()
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise UnsafeCacheDirectory(
                f"{self.directory} is owned by another user or writable by others; the cache "
                "loads pickles from it, so it must be private (set HLMLAB_CACHE_DIR)")


class _FlockHeld:
    """An exclusive ``flock`` on a lock file, held for a ``with`` block (blocks until free)."""

    def __init__(self, path: Path):
        self.path = path
        self.file = None

    def __enter__(self):
        self.file = open(self.path, "a+b")
        started = time.monotonic()
        fcntl.flock(self.file, fcntl.LOCK_EX)
        self.waited = time.monotonic() - started
        return self

    def __exit__(self, *exc):
        try:
            fcntl.flock(self.file, fcntl.LOCK_UN)
        finally:
            self.file.close()
