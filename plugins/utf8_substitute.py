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

import io
from typing import Any

PROTOCOL = "utf8sub"
SUBSTITUTE = 0x1A


def substitute_invalid_utf8(data: bytes) -> bytes:
    """`data` with each byte of every invalid UTF-8 sequence replaced by 0x1A; same length, same lines.

    Only runs of non-ASCII bytes can be invalid, and they are rare in logs, so numpy finds the runs and
    Python decodes just those; a file that is ASCII or valid UTF-8 comes back as it is.
    """
    if data.isascii():
        return data
    import numpy as np

    octets = np.frombuffer(data, dtype=np.uint8)
    high = np.flatnonzero(octets >= 0x80)
    breaks = np.flatnonzero(np.diff(high) != 1) + 1
    starts = high[np.concatenate(([0], breaks))].tolist()
    ends = (high[np.concatenate((breaks - 1, [len(high) - 1]))] + 1).tolist()
    fixed: bytearray | None = None
    for start, end in zip(starts, ends, strict=True):
        position = start
        while position < end:  # decode the run, substituting each invalid sequence the decoder reports
            try:
                data[position:end].decode("utf-8")
                break
            except UnicodeDecodeError as error:
                fixed = fixed if fixed is not None else bytearray(data)
                fixed[position + error.start : position + error.end] = bytes([SUBSTITUTE]) * (
                    error.end - error.start
                )
                position += error.end
    return data if fixed is None else bytes(fixed)


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

        def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> io.BytesIO:
            if "r" not in mode or "+" in mode:
                raise PermissionError(f"{PROTOCOL}:// is read-only: cannot open {path} with mode {mode}")
            with open(self._strip_protocol(path), "rb") as handle:
                return io.BytesIO(substitute_invalid_utf8(handle.read()))

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
