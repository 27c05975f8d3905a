"""The compile cache on disk: content-addressed compiled SQL, per-setup state, a lock, counters.

Layout under `<OVERCLOCK_HOME>/compile-cache/`:

    lock                      held by one `overclock compile` at a time (processes on one machine)
    heads/<setup>.json        small: file stats and inputs, enough to answer "nothing changed" without the state
    states/<setup>.json       the last compiled manifest (without SQL) and per-node fingerprints and traces
    objects/<ab>/<digest>     compiled SQL, addressed by the node fingerprint that produced it
    dbt/<setup>/              dbt's own target folder for fallbacks (partial parsing state lives there)
    stats.json                hits, misses, fallbacks

Every file is written atomically (temporary file + rename) with a header carrying the format version, the
payload's length and its sha256. A file that fails those checks (truncated, flipped bytes, another version) is
reported, deleted and rebuilt: the cache can make a compile slower, never wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
MAGIC = b"overclock-compile-cache"
LOCK_TIMEOUT_SECONDS = 1800.0


class CacheCorrupted(Exception):
    pass


def _dumps(value: Any) -> bytes:
    import orjson

    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _loads(payload: bytes) -> Any:
    import orjson

    return orjson.loads(payload)


def encode(payload: bytes) -> bytes:
    digest = hashlib.sha256(payload).hexdigest()
    return b"%s %d %d %s\n" % (MAGIC, FORMAT_VERSION, len(payload), digest.encode()) + payload


def decode(data: bytes) -> bytes:
    header, separator, payload = data.partition(b"\n")
    if not separator:
        raise CacheCorrupted("no header")
    parts = header.split(b" ")
    if len(parts) != 4 or parts[0] != MAGIC:
        raise CacheCorrupted("not a compile-cache file")
    if parts[1] != str(FORMAT_VERSION).encode():
        raise CacheCorrupted(f"format version {parts[1].decode(errors='replace')}, expected {FORMAT_VERSION}")
    if not parts[2].isdigit() or int(parts[2]) != len(payload):
        raise CacheCorrupted("truncated")
    if hashlib.sha256(payload).hexdigest().encode() != parts[3]:
        raise CacheCorrupted("checksum mismatch")
    return payload


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class CacheStore:
    """One compile cache folder. Not thread-safe; processes coordinate through `lock()`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.warnings: list[str] = []

    # --- locking -------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock across processes (flock where available: it costs no import)."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "lock"
        try:
            import fcntl
        except ImportError:  # Windows
            from filelock import FileLock

            with FileLock(str(path), timeout=LOCK_TIMEOUT_SECONDS):
                yield
            return
        with open(path, "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # --- checked files ------------------------------------------------------------------------------------

    def _read(self, path: Path) -> bytes | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return decode(data)
        except CacheCorrupted as exc:
            self.warnings.append(
                f"compile cache: {path.relative_to(self.root)} is corrupted ({exc}); discarded, rebuilding"
            )
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def _write(self, path: Path, payload: bytes) -> None:
        atomic_write(path, encode(payload))

    def read_json(self, relative: str) -> Any:
        payload = self._read(self.root / relative)
        if payload is None:
            return None
        try:
            return _loads(payload)
        except ValueError:
            self.warnings.append(f"compile cache: {relative} is not valid JSON; discarded, rebuilding")
            (self.root / relative).unlink(missing_ok=True)
            return None

    def write_json(self, relative: str, value: Any) -> None:
        self._write(self.root / relative, _dumps(value))

    def head(self, setup: str) -> Any:
        return self.read_json(f"heads/{setup}.json")

    def write_head(self, setup: str, head: Any) -> None:
        self.write_json(f"heads/{setup}.json", head)

    def state(self, setup: str) -> Any:
        return self.read_json(f"states/{setup}.json")

    def write_state(self, setup: str, state: Any) -> None:
        self.write_json(f"states/{setup}.json", state)

    def dbt_target(self, setup: str) -> Path:
        return self.root / "dbt" / setup

    # --- content-addressed compiled SQL ---------------------------------------------------------------------

    def _object_path(self, digest: str) -> Path:
        return self.root / "objects" / digest[:2] / digest

    def get_object(self, digest: str) -> str | None:
        payload = self._read(self._object_path(digest))
        return None if payload is None else payload.decode("utf-8")

    def put_object(self, digest: str, text: str) -> None:
        path = self._object_path(digest)
        if not path.is_file():
            self._write(path, text.encode("utf-8"))

    # --- counters and housekeeping ----------------------------------------------------------------------------

    def bump(self, counters: dict[str, int]) -> None:
        stats = self.read_json("stats.json") or {}
        for name, value in counters.items():
            stats[name] = int(stats.get(name, 0)) + value
        self.write_json("stats.json", stats)

    def stats(self) -> dict[str, Any]:
        counters = self.read_json("stats.json") or {}
        files = size = objects = 0
        if self.root.is_dir():
            for path in self.root.rglob("*"):
                if path.is_file():
                    files += 1
                    size += path.stat().st_size
                    objects += path.parent.parent.name == "objects"
        setups = len(list((self.root / "states").glob("*.json"))) if (self.root / "states").is_dir() else 0
        return {**counters, "objects": objects, "setups": setups, "files": files, "size_bytes": size}

    def clear(self) -> int:
        if not self.root.is_dir():
            return 0
        count = sum(1 for path in self.root.rglob("*") if path.is_file())
        with self.lock():
            for child in self.root.iterdir():
                if child.name == "lock":
                    continue
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        return count
