"""A dbt-duckdb plugin that lets SQL read every line of text files that may hold invalid UTF-8.

DuckDB's readers (`read_csv`, `read_json`, `read_text`) reject a file holding invalid UTF-8 outright, or with
`ignore_errors` drop the offending lines silently; its latin-1 decoder rejects bytes 0x80-0x9F. Kernel event
logs do carry such bytes (a Linux path is bytes, not text), and an audit pipeline must keep every line. This
plugin registers a read-only filesystem, `utf8sub://<path>`, serving each file with every byte of an invalid
UTF-8 sequence replaced by U+001A SUBSTITUTE, the control character meant for exactly this. The replacement
keeps the file's length, its line breaks and every other byte, so line numbers and valid lines are unchanged;
and since JSON allows no raw control character, a line holding U+001A is a line that held invalid UTF-8.

Enable it in a DuckDB target of profiles.yml: `plugins: [{module: plugins.utf8_substitute}]`, then read with
e.g. `read_csv('utf8sub:///data/events/*/*.jsonl', columns={'line': 'VARCHAR'}, ...)`.
"""

from __future__ import annotations

import bisect
import io
import mmap
import os
from typing import Any

PROTOCOL = "utf8sub"
SUBSTITUTE = 0x1A


# Invalid sequences never span a line break (0x0A is ASCII), so blocks cut at line ends can be checked apart.
BLOCK_BYTES = 1 << 15

Buffer = bytes | mmap.mmap


def substitute_invalid_utf8(data: bytes) -> bytes:
    """`data` with each byte of every invalid UTF-8 sequence replaced by 0x1A; same length, same lines.

    The sequences are those Python's UTF-8 decoder reports (its maximal invalid subparts). A file that is
    ASCII or valid UTF-8 comes back as it is.
    """
    if data.isascii():
        return data
    pieces, position = [], 0
    for start, end, block in repaired_blocks(data):
        pieces += [data[position:start], block]
        position = end
    return b"".join([*pieces, data[position:]]) if pieces else data


def repaired_blocks(data: Buffer) -> list[tuple[int, int, bytes]]:
    """(start, end, repaired bytes) of each block of `data` that is not valid UTF-8.

    Logs are ASCII almost everywhere, so the data is checked in blocks of ~32 KB cut at line ends: an ASCII
    block (the C `isascii`, the common case) or a valid UTF-8 block costs one pass in C; only a block that
    fails to decode is repaired, sequence by sequence.
    """
    repairs = []
    start, size = 0, len(data)
    while start < size:
        end = data.find(b"\n", min(start + BLOCK_BYTES, size))
        end = size if end < 0 else end + 1
        block = data[start:end]
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                repairs.append((start, end, _substitute_in_block(block)))
        start = end
    return repairs


def _substitute_in_block(block: bytes) -> bytes:
    fixed = bytearray(block)
    position = 0
    while position < len(block):
        try:
            block[position:].decode("utf-8")
            break
        except UnicodeDecodeError as error:
            first, last = position + error.start, position + error.end
            fixed[first:last] = bytes([SUBSTITUTE]) * (last - first)
            position = last
    return bytes(fixed)


class RepairedFile(io.RawIOBase):
    """A read-only view of a mapped file with its repaired blocks laid over: no copy of the file is made.

    Each read copies the requested range out of the mapping once (as any read does) and overwrites the parts
    that fall inside repaired blocks.
    """

    def __init__(self, mapped: mmap.mmap, repairs: list[tuple[int, int, bytes]]) -> None:
        super().__init__()
        self._mapped, self._repairs = mapped, repairs
        self._starts = [start for start, _, _ in repairs]
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._mapped)}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        first = self._position
        last = min(first + len(buffer), len(self._mapped))
        if last <= first:
            return 0
        with memoryview(buffer) as target, memoryview(self._mapped) as source, source[first:last] as chunk:
            target[: last - first] = chunk
            index = max(bisect.bisect_right(self._starts, first) - 1, 0)
            for start, end, block in self._repairs[index:]:
                if start >= last:
                    break
                lo, hi = max(start, first), min(end, last)
                if lo < hi:
                    target[lo - first : hi - first] = block[lo - start : hi - start]
        self._position = last
        return last - first

    def close(self) -> None:
        if not self.closed:
            self._mapped.close()
        super().close()


def open_repaired(local_path: str) -> io.BufferedIOBase:
    """The file at `local_path` as DuckDB should read it: as it is when it is valid UTF-8, else repaired."""
    with open(local_path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return io.BytesIO(b"")
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)  # outlives the descriptor
    repairs = repaired_blocks(mapped)
    if not repairs:
        mapped.close()
        return open(local_path, "rb")  # the caller (DuckDB, through fsspec) closes it
    return io.BufferedReader(RepairedFile(mapped, repairs), buffer_size=1 << 20)


def filesystem() -> Any:
    """The fsspec filesystem serving `utf8sub://` paths from the local disk."""
    from fsspec.implementations.local import LocalFileSystem

    class SubstituteInvalidUtf8FileSystem(LocalFileSystem):  # type: ignore[misc]
        protocol = PROTOCOL

        @classmethod
        def _strip_protocol(cls, path: Any) -> Any:
            path = str(path)
            if path.startswith(f"{PROTOCOL}://"):
                path = path[len(PROTOCOL) + 3 :]
            return super()._strip_protocol(path)

        def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> io.BufferedIOBase:
            if "r" not in mode or "+" in mode:
                raise PermissionError(f"{PROTOCOL}:// is read-only: cannot open {path} with mode {mode}")
            return open_repaired(self._strip_protocol(path))

    return SubstituteInvalidUtf8FileSystem()


def register(connection: Any) -> None:
    """Make `utf8sub://` readable on a DuckDB connection (idempotent)."""
    if PROTOCOL not in connection.list_filesystems():
        connection.register_filesystem(filesystem())


try:
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # without dbt-duckdb, `register` still serves a plain DuckDB connection
    BasePlugin = object


class Plugin(BasePlugin):  # type: ignore[misc,valid-type]
    """dbt-duckdb entry point: registers the filesystem on every connection the adapter opens."""

    def configure_connection(self, conn: Any) -> None:
        register(conn)
