"""A dbt-duckdb plugin that lets SQL read every line of JSON-lines files, whatever bytes they hold.

DuckDB's readers (`read_csv`, `read_json`, `read_text`) reject a file holding invalid UTF-8 outright, or with
`ignore_errors` drop the offending lines silently; its latin-1 decoder rejects bytes 0x80-0x9F. Kernel event
logs do carry such bytes (a Linux path is bytes, not text), and an audit pipeline must keep every line. This
plugin registers a read-only filesystem, `utf8sub://<path>`, that serves each file so that `read_csv` of one
column (delimiter 0x1F, no quoting, lines split on 0x0A) returns exactly the file's lines:
- each byte of an invalid UTF-8 sequence becomes U+001A SUBSTITUTE, the control character meant for exactly
  this; since JSON allows no raw control character, a line holding U+001A held invalid UTF-8 (or a raw 0x1A);
- each carriage return (0x0D) becomes a tab (0x09): DuckDB's CSV reader ends a line at a CR whatever its
  `new_line` option says (and refuses the file in strict mode), so a CRLF file would gain a blank line per
  line and a stray CR would split one. Tab and CR mean the same in JSON: whitespace between tokens, invalid
  raw inside a string, so every line stays exactly as valid or invalid as it was;
- each 0x1F (the reader's column delimiter, which would give a line two columns) becomes 0x1E: both are
  control characters, invalid anywhere in JSON.
Every substitution keeps the file's length, its line breaks and every other byte, so line numbers and valid
lines are unchanged. A line longer than `MAX_LINE_BYTES` stops the read with an error naming the file, the
line and its length (DuckDB's own error would quote the whole line), before any row is read.

Enable it in a DuckDB target of profiles.yml: `plugins: [{module: plugins.utf8_substitute}]`, then read with
`read_csv('utf8sub:///data/events/*/*.jsonl', <LINE_READER_OPTIONS>)`.
"""

from __future__ import annotations

import bisect
import io
import mmap
import os
from typing import Any

PROTOCOL = "utf8sub"
SUBSTITUTE = 0x1A
# Bytes DuckDB's line reader cannot carry, swapped for bytes with the same meaning in JSON (module docstring).
LINE_READER_SWAPS = bytes.maketrans(b"\r\x1f", b"\t\x1e")
# The longest line served: ~800 times a large serialised kernel event (~5 KB).
MAX_LINE_BYTES = 4 << 20
# read_csv options that return each served line as one VARCHAR column, `line` (null for a blank line). The line
# limit is above MAX_LINE_BYTES, so that this plugin's clearer error comes first; the explicit buffer size keeps
# DuckDB's reader parallel (a larger max_line_size alone made it 1.5x slower). The eBPF source
# (models/staging/ebpf/_ebpf__sources.yml) spells out the same options; a test keeps them equal.
LINE_READER_OPTIONS = (
    "columns = {'line': 'VARCHAR'}, header = false, delim = chr(31), quote = '', escape = '', "
    "auto_detect = false, new_line = '\\n', max_line_size = 8388608, buffer_size = 16777216"
)


# Invalid sequences never span a line break (0x0A is ASCII), so blocks cut at line ends can be checked apart.
BLOCK_BYTES = 1 << 15

Buffer = bytes | mmap.mmap


class LineTooLong(ValueError):
    """A line longer than `MAX_LINE_BYTES`: no reader should buffer it, and no JSON event is that long."""


def served_bytes(data: bytes) -> bytes:
    """`data` as the filesystem serves it: invalid UTF-8 bytes → 0x1A, CR → tab, 0x1F → 0x1E.

    Same length, same lines. The invalid sequences are those Python's UTF-8 decoder reports (its maximal
    invalid subparts). Data with nothing to substitute comes back as it is.
    """
    pieces, position = [], 0
    for start, end, block in repaired_blocks(data):
        pieces += [data[position:start], block]
        position = end
    return b"".join([*pieces, data[position:]]) if pieces else data


def repaired_blocks(data: Buffer, name: str = "<data>") -> list[tuple[int, int, bytes]]:
    """(start, end, repaired bytes) of each block of `data` that the reader cannot be served as it is.

    Logs are ASCII almost everywhere, so the data is checked in blocks of ~32 KB cut at line ends: an ASCII
    block (the C `isascii`, the common case) or a valid UTF-8 block costs one pass in C, and two `in` scans
    look for CR and 0x1F; only a block that needs it is repaired. Raises LineTooLong (naming `name`) for a
    line longer than MAX_LINE_BYTES.
    """
    repairs = []
    start, size = 0, len(data)
    while start < size:
        end = data.find(b"\n", min(start + BLOCK_BYTES, size))
        end = size if end < 0 else end + 1
        if end - start > MAX_LINE_BYTES:
            _check_line_lengths(data, start, end, name)
        block = data[start:end]
        repaired = block
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                repaired = _substitute_in_block(block)
        if b"\r" in repaired or b"\x1f" in repaired:
            repaired = repaired.translate(LINE_READER_SWAPS)
        if repaired is not block:
            repairs.append((start, end, repaired))
        start = end
    return repairs


def _check_line_lengths(data: Buffer, start: int, end: int, name: str) -> None:
    line_start = start
    while line_start < end:
        line_end = data.find(b"\n", line_start, end)
        line_end = end if line_end < 0 else line_end
        if line_end - line_start > MAX_LINE_BYTES:
            line_number = data[:line_start].count(b"\n") + 1  # mmap has no count()
            raise LineTooLong(
                f"{name}: line {line_number} is {line_end - line_start:,} bytes, longer than the "
                f"{MAX_LINE_BYTES:,}-byte limit of {PROTOCOL}:// (plugins/utf8_substitute.py); the read stops "
                "here and loads nothing. Split or remove that line (or raise MAX_LINE_BYTES, and the SQL "
                "reader's max_line_size above it)."
            )
        line_start = line_end + 1


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
    try:
        repairs = repaired_blocks(mapped, local_path)
    except LineTooLong:
        mapped.close()
        raise
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
