"""The eBPF demo data generator and the utf8sub:// reader: deterministic bytes, realistic shapes, lossless lines."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.config import REPO_ROOT
from framework.demo_data import ebpf
from plugins import utf8_substitute

EVENTS_PER_FILE = 300


def _labels(folder: Path) -> list[dict[str, str]]:
    with open(folder / "malformed_lines.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("ebpf")
    return folder, ebpf.generate(folder, seed=7, events_per_file=EVENTS_PER_FILE)


def test_same_seed_gives_identical_bytes(generated: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    folder, _ = generated
    ebpf.generate(tmp_path / "again", seed=7, events_per_file=EVENTS_PER_FILE)
    ebpf.generate(tmp_path / "other", seed=8, events_per_file=EVENTS_PER_FILE)
    assert _digest(tmp_path / "again") == _digest(folder)
    assert _digest(tmp_path / "other") != _digest(folder)


def test_layout_one_file_per_host_and_hour_plus_redeliveries(generated: tuple[Path, dict[str, int]]) -> None:
    folder, summary = generated
    event_files = [name for name in summary if name.endswith(".jsonl")]
    originals = [name for name in event_files if not name.endswith(".redelivered.jsonl")]
    assert len(originals) == len(ebpf.HOSTS) * ebpf.HOURS
    assert len(event_files) - len(originals) == ebpf.REDELIVERED_FILES
    for name in event_files:
        assert summary[name] == (folder / name).read_bytes().count(b"\n")


def test_scale_two_roughly_doubles_the_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ebpf, "EVENTS_PER_FILE", 150)  # scale multiplies this; small keeps the test fast
    one = ebpf.generate(tmp_path / "one", scale=1, seed=3)
    two = ebpf.generate(tmp_path / "two", scale=2, seed=3)
    lines = [sum(v for k, v in s.items() if k.endswith(".jsonl")) for s in (one, two)]
    assert 1.9 < lines[1] / lines[0] < 2.1


def test_valid_lines_carry_the_agent_format(generated: tuple[Path, dict[str, int]]) -> None:
    folder, _ = generated
    malformed = {(r["file_name"], int(r["line_number"])) for r in _labels(folder)}
    name = "events/k8s-node-01/2025-06-02T08.jsonl"
    events = [
        json.loads(line)
        for number, line in enumerate((folder / name).read_bytes().split(b"\n")[:-1], start=1)
        if (name, number) not in malformed
    ]
    assert events
    for event in events:
        assert set(event["evt"]) == {"id", "name", "category", "outcome"}
        assert event["evt"]["name"] in ebpf.EVENT_TYPES
        assert set(event["file"]) == {"path", "name", "inode", "mount_id", "mode", "uid", "gid", "filesystem"}
        assert event["file"]["path"].endswith(event["file"]["name"])
        assert {"pid", "ppid", "tid", "uid", "gid", "comm", "executable"} <= set(event["process"])
        assert event["host"] == "k8s-node-01"
        if event["evt"]["name"] == "open":
            assert isinstance(event["open"]["flags"], int)
        if event["evt"]["name"] == "rename":
            assert event["rename"]["destination"]["path"] + ".tmp" == event["file"]["path"]
    paths = {event["file"]["path"] for event in events}
    assert any(p.startswith("/proc/") for p in paths) and any(p.startswith("/sys/") for p in paths)
    assert any("container" in event for event in events)  # k8s hosts run containers


def test_malformed_lines_are_about_half_a_percent_of_every_kind(
    generated: tuple[Path, dict[str, int]],
) -> None:
    folder, summary = generated
    rows = _labels(folder)
    kinds = Counter(row["kind"] for row in rows)
    assert set(kinds) == set(ebpf.MALFORMED_KINDS)
    lines = sum(v for k, v in summary.items() if k.endswith(".jsonl"))
    # At least one of each kind per file, so small files carry more than the 0.5% of large ones.
    assert 0.004 < len(rows) / lines < 0.03
    for row in rows:
        line = (folder / row["file_name"]).read_bytes().split(b"\n")[int(row["line_number"]) - 1]
        if row["kind"] == "empty_line":
            assert line == b""
        elif row["kind"] == "invalid_utf8":
            with pytest.raises(UnicodeDecodeError):
                line.decode("utf-8")
        elif row["kind"] == "truncated_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        else:
            json.loads(line)  # the other kinds are valid JSON with a bad field


def test_events_are_redelivered(generated: tuple[Path, dict[str, int]]) -> None:
    folder, _ = generated
    ids: Counter[str] = Counter()
    for path in (folder / "events").rglob("*.jsonl"):
        for line in path.read_bytes().split(b"\n")[:-1]:
            try:
                ids[json.loads(line)["evt"]["id"]] += 1
            except (ValueError, KeyError, TypeError):
                continue
    assert sum(1 for count in ids.values() if count > 1) > 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"plain ascii\n", b"plain ascii\n"),
        ("caf\u00e9 z\u00f6\n".encode(), "caf\u00e9 z\u00f6\n".encode()),
        (b'{"p":"a\xff\xfeb"}\n', b'{"p":"a\x1a\x1ab"}\n'),
        (b"x\xc3(y\n\xed\xa0\x80\n\x80", b"x\x1a(y\n\x1a\x1a\x1a\n\x1a"),
        ("\u00e9".encode() + b"\xff" + "\u00e9".encode(), "\u00e9".encode() + b"\x1a" + "\u00e9".encode()),
        (b'{"a":1}\r\n{"b":"x\ry"}\r\n', b'{"a":1}\t\n{"b":"x\ty"}\t\n'),  # CR -> tab
        (b'{"a":"\x1f"}\n\xff\r\x1f', b'{"a":"\x1e"}\n\x1a\t\x1e'),  # 0x1F -> 0x1E, with the others
    ],
)
def test_served_bytes_keep_length_lines_and_valid_text(raw: bytes, expected: bytes) -> None:
    served = utf8_substitute.served_bytes(raw)
    assert served == expected
    assert len(served) == len(raw) and served.count(b"\n") == raw.count(b"\n")
    served.decode("utf-8")


@pytest.mark.parametrize(
    "line",
    [b'{"a":1}\r', b'{"a":1,\r"b":2}', b'{"a":"x\ry"}', b'{"a":"x\x1fy"}', b'{"a":1}\x1f', b"\r", b"{\x1f}"],
)
def test_swapped_bytes_keep_json_validity(line: bytes) -> None:
    """CR -> tab and 0x1F -> 0x1E leave every line exactly as valid (or invalid) JSON as it was."""
    import duckdb

    def valid(text: bytes) -> bool:
        [(result,)] = duckdb.execute("select json_valid(?)", [text.decode()]).fetchall()
        return bool(result)

    assert valid(utf8_substitute.served_bytes(line)) == valid(line)


def read_lines(connection: Any, folder: Path) -> list[Any]:
    return [
        row[0]
        for row in connection.sql(
            f"select line from read_csv('utf8sub://{folder}/*.jsonl', {utf8_substitute.LINE_READER_OPTIONS})"
        ).fetchall()
    ]


def test_the_ebpf_source_reads_with_the_plugins_options() -> None:
    import yaml

    sources = yaml.safe_load((REPO_ROOT / "models" / "staging" / "ebpf" / "_ebpf__sources.yml").read_text())
    [table] = [t for t in sources["sources"][0]["tables"] if t["name"] == "event_lines"]
    location = " ".join(table["config"]["external_location"].split())
    assert utf8_substitute.LINE_READER_OPTIONS in location


def test_utf8sub_filesystem_serves_every_line_to_duckdb(tmp_path: Path) -> None:
    import duckdb

    (tmp_path / "f.jsonl").write_bytes(
        b'{"a":1}\n{"a":"\xff"}\n\n{"a":\n{"b":"\xc3\xa9"}\r\n{"c":"x\ry"}\n{"d":"\x1f"}\n'
        + b'{"e":"'
        + b"x" * 3_000_000
        + b'"}\n{"f":"no final newline"}'
    )
    connection = duckdb.connect()
    utf8_substitute.register(connection)
    utf8_substitute.register(connection)  # idempotent
    rows = read_lines(connection, tmp_path)
    assert rows[:7] == [
        '{"a":1}',
        '{"a":"\x1a"}',
        None,
        '{"a":',
        '{"b":"\u00e9"}\t',
        '{"c":"x\ty"}',
        '{"d":"\x1e"}',
    ]
    assert len(rows[7]) == 3_000_008  # over DuckDB's default 2 MB line limit
    assert rows[8:] == ['{"f":"no final newline"}']


def test_a_line_over_the_limit_stops_the_read_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    monkeypatch.setattr(utf8_substitute, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(utf8_substitute, "BLOCK_BYTES", 64)
    (tmp_path / "f.jsonl").write_bytes(b'{"a":1}\n' * 20 + b"x" * 101 + b'\n{"a":2}\n')
    connection = duckdb.connect()
    utf8_substitute.register(connection)
    with pytest.raises(Exception, match=r"f\.jsonl: line 21 is 101 bytes, longer than the 100-byte limit"):
        read_lines(connection, tmp_path)
    (tmp_path / "f.jsonl").write_bytes(b'{"a":1}\n' * 20 + b"x" * 100 + b'\n{"a":2}\n')  # at the limit: read
    assert len(read_lines(connection, tmp_path)) == 22


def _reference_substitution(data: bytes) -> bytes:
    """The definition: decode with Python's UTF-8 decoder, each byte of a reported invalid sequence → 0x1A;
    then CR → tab and 0x1F → 0x1E."""
    pieces, position = [], 0
    while True:
        try:
            data[position:].decode("utf-8")
            return b"".join([*pieces, data[position:]]).replace(b"\r", b"\t").replace(b"\x1f", b"\x1e")
        except UnicodeDecodeError as error:
            first, last = position + error.start, position + error.end
            pieces += [data[position:first], b"\x1a" * (last - first)]
            position = last


ALPHABET = [
    b"a",
    b"\n",
    b"\r",
    b"\x1f",
    b"{",
    b"\xc3",
    b"\xa9",
    b"\xff",
    b"\xed",
    b"\xa0",
    b"\x80",
    b"\xf0",
    b"\x9f",
    b"\x98",
]
ALPHABET += ["é".encode(), "😀".encode()]


@given(st.lists(st.sampled_from(ALPHABET), max_size=80))
@settings(max_examples=400, deadline=None)
def test_substitution_matches_the_decoder_definition(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert utf8_substitute.served_bytes(data) == _reference_substitution(data)


def test_repaired_file_reads_and_seeks_like_the_substituted_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The served file (mapped, repaired blocks laid over reads) equals the substituted bytes at any offset."""
    import random

    monkeypatch.setattr(utf8_substitute, "BLOCK_BYTES", 64)  # many blocks, repairs across read boundaries
    rng = random.Random(5)
    data = b"".join(rng.choice(ALPHABET) for _ in range(20_000))
    path = tmp_path / "events.jsonl"
    path.write_bytes(data)
    expected = _reference_substitution(data)
    with utf8_substitute.open_repaired(str(path)) as served:
        assert served.read() == expected
        for _ in range(500):
            offset, size = rng.randrange(len(data)), rng.randrange(1, 3_000)
            served.seek(offset)
            assert served.read(size) == expected[offset : offset + size]
    valid = tmp_path / "valid.jsonl"
    valid.write_bytes('{"p": "caf\u00e9"}\n'.encode())
    with utf8_substitute.open_repaired(str(valid)) as served:  # nothing to repair: the file itself
        assert served.read() == valid.read_bytes()
    (tmp_path / "empty.jsonl").write_bytes(b"")
    with utf8_substitute.open_repaired(str(tmp_path / "empty.jsonl")) as served:
        assert served.read() == b""
