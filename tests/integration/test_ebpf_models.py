"""The eBPF audit-log models on DuckDB: every line accounted for, quarantine reasons, longest-prefix filtering,
incremental increments equal to a full refresh, and a re-delivered file that adds nothing."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from framework.config import resolve_settings
from framework.dbt import run_dbt_subprocess
from framework.demo_data import ebpf
from plugins import utf8_substitute
from tests.integration.documentation_support import undocumented

pytestmark = pytest.mark.xdist_group("ebpf")

SELECTION = ["--select", "+marts.ebpf"]
# Each kind of damage the generator makes lands in quarantine with its own reason.
EXPECTED_REASON = {
    "truncated_json": "invalid_json",
    "wrong_type": "wrong_field_type",
    "missing_field": "missing_required_field",
    "bad_timestamp": "bad_timestamp",
    "invalid_utf8": "invalid_utf8",
    "empty_line": "empty_line",
}


@dataclass(frozen=True)
class Warehouse:
    data_dir: Path
    home: Path

    @property
    def path(self) -> Path:
        return self.home / "warehouse.duckdb"

    def env(self) -> dict[str, str]:
        return {
            "OVERCLOCK_DATA_DIR": str(self.data_dir),
            "OVERCLOCK_HOME": str(self.home),
            "DBT_TARGET_PATH": str(self.home / "target"),
            "DBT_LOG_PATH": str(self.home / "logs"),
        }

    def dbt(self, command: str, *extra: str) -> None:
        process = self.run_dbt(command, *extra)
        failures = [line for line in process.stdout.splitlines() if " FAIL " in line or "ERROR" in line]
        assert process.returncode == 0, "\n".join(failures[:10] or process.stdout.splitlines()[-20:])

    def run_dbt(self, command: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """dbt in a child process: dbt-duckdb keeps its connection to the warehouse open in the process that
        ran it, and DuckDB would then refuse this test's read-only connections."""
        with pytest.MonkeyPatch.context() as patch:
            for key, value in self.env().items():
                patch.setenv(key, value)
            for key in ("OVERCLOCK_DUCKDB_PATH", "OVERCLOCK_NAMESPACE", "OVERCLOCK_TARGET"):
                patch.delenv(key, raising=False)
            settings = resolve_settings(production=True)
            return run_dbt_subprocess(settings, command.split(), list(extra), timeout=600)

    def query(self, sql: str) -> list[tuple[object, ...]]:
        connection = duckdb.connect(str(self.path), read_only=True)
        try:
            utf8_substitute.register(connection)  # the staging views read utf8sub:// files
            return connection.sql(sql).fetchall()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ebpf-data")
    ebpf.generate(folder / "ebpf", seed=11, events_per_file=500)
    return folder


@pytest.fixture(scope="module")
def built(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """One full build (models and their data tests) over the small data set, shared by the tests."""
    warehouse = Warehouse(data_dir, tmp_path_factory.mktemp("ebpf-home"))
    warehouse.dbt("build", *SELECTION)
    yield warehouse


def _lines_per_file(data_dir: Path) -> dict[str, int]:
    events = data_dir / "ebpf"
    return {str(p.relative_to(events)): p.read_bytes().count(b"\n") for p in sorted(events.rglob("*.jsonl"))}


def test_lines_in_equal_parsed_plus_quarantined_per_file(built: Warehouse) -> None:
    lines_in = _lines_per_file(built.data_dir)
    parsed = dict(
        built.query(
            "select file_name, count(*) from staging.stg_ebpf__event_lines where quarantine_reason is null group by all"
        )
    )
    quarantined = dict(
        built.query("select file_name, count(*) from marts.fct_ebpf_quarantined_lines group by all")
    )
    assert set(parsed) == set(lines_in)
    for file_name, count in lines_in.items():
        assert parsed[file_name] + quarantined.get(file_name, 0) == count, file_name
    ingestion = built.query(
        "select file_name, lines_read, lines_parsed, lines_quarantined from marts.fct_ebpf_file_ingestion"
    )
    assert {row[0]: row[1] for row in ingestion} == lines_in
    assert all(read == ok + bad for _, read, ok, bad in ingestion)


def test_each_malformed_kind_has_its_own_reason(built: Warehouse) -> None:
    with open(built.data_dir / "ebpf" / "malformed_lines.csv", newline="") as handle:
        labels = {(row["file_name"], int(row["line_number"])): row["kind"] for row in csv.DictReader(handle)}
    quarantined = {
        (file_name, line_number): reason
        for file_name, line_number, reason in built.query(
            "select file_name, line_number, quarantine_reason from marts.fct_ebpf_quarantined_lines"
        )
    }
    assert set(quarantined) == set(labels)  # every malformed line, and nothing else, is quarantined
    reasons_by_kind: dict[str, set[str]] = {}
    for key, kind in labels.items():
        reasons_by_kind.setdefault(kind, set()).add(str(quarantined[key]))
    assert reasons_by_kind == {kind: {reason} for kind, reason in EXPECTED_REASON.items()}
    assert len(set(EXPECTED_REASON.values())) == len(EXPECTED_REASON)
    details = dict(
        built.query(
            "select quarantine_reason, min(quarantine_detail) from marts.fct_ebpf_quarantined_lines group by all"
        )
    )
    assert str(details["missing_required_field"]).startswith("missing: ")
    assert str(details["wrong_field_type"]).startswith("wrong type: ")


def _event(event_id: str, separator: str = ",") -> str:
    return (
        f'{{"evt":{{"id":"{event_id}","name":"open"}}{separator}"date":"2025-06-02T08:00:01Z",'
        '"file":{"path":"/etc/hosts","name":"hosts"},"process":{"pid":7,"comm":"cat"},"host":"edge-01"}'
    )


def test_awkward_bytes_are_read_line_for_line(tmp_path: Path) -> None:
    """CRLF endings, stray CRs, the reader's delimiter byte, NULs, a lone surrogate, a 3 MB line and no final
    newline: every line is read where it is, valid events parse, the rest is quarantined with the right reason."""
    events = tmp_path / "data" / "ebpf" / "events" / "edge-01"
    events.mkdir(parents=True)
    lines = [
        (_event("crlf") + "\r\n", None),
        ("\r\n", "empty_line"),  # a CRLF file's blank line
        (_event("cr-between-tokens", ",\r") + "\n", None),  # CR is whitespace between JSON tokens
        (_event("cr-in-string").replace("/etc/hosts", "/etc/ho\rsts") + "\n", "invalid_json"),
        (_event("unit-separator").replace("hosts", "ho\x1fsts") + "\n", "invalid_json"),
        (_event("nul").replace("hosts", "ho\x00sts") + "\n", "invalid_json"),
        (" \t \n", "empty_line"),
        # JSON's grammar allows a lone surrogate escape, but it encodes no text: DuckDB's parser refuses it.
        (_event("lone-surrogate").replace("/etc/hosts", "/etc/\\ud800") + "\n", "invalid_json"),
        (_event("three-megabytes").replace('"cat"', '"' + "c" * 3_000_000 + '"') + "\n", None),
        (_event("no-final-newline"), None),
    ]
    (events / "2025-06-02T08.jsonl").write_bytes("".join(text for text, _ in lines).encode())
    warehouse = Warehouse(tmp_path / "data", tmp_path / "home")
    warehouse.dbt(
        "build",
        "--select",
        "+fct_ebpf_file_ingestion",
        "+fct_ebpf_quarantined_lines",
        "--exclude",
        "resource_type:test",
        "resource_type:unit_test",
    )

    rows = warehouse.query(
        "select line_number, quarantine_reason, event_id, strlen(process_comm) from staging.stg_ebpf__event_lines"
        " order by line_number"
    )
    assert [(number, reason) for number, reason, _, _ in rows] == [
        (number, reason) for number, (_, reason) in enumerate(lines, start=1)
    ]
    assert {str(event_id) for _, reason, event_id, _ in rows if reason is None} == {
        "crlf",
        "cr-between-tokens",
        "three-megabytes",
        "no-final-newline",
    }
    assert max(int(str(length)) for *_, length in rows if length is not None) == 3_000_000
    [(read, parsed, quarantined)] = warehouse.query(
        "select lines_read, lines_parsed, lines_quarantined from marts.fct_ebpf_file_ingestion"
    )
    assert (read, parsed, quarantined) == (len(lines), 4, 6)


def test_docs_generate_and_every_model_and_column_is_described(built: Warehouse) -> None:
    built.dbt("docs generate", *SELECTION)
    models, problems = undocumented(built.home / "target")
    assert "model.overclock.int_ebpf__event_file_arrivals" in models and len(models) >= 12
    assert problems == []


def test_the_statistics_do_not_wait_on_the_quarantine_ledger(built: Warehouse) -> None:
    """The ledger and the events table each read the arrivals: neither is upstream of the other."""
    manifest = json.loads((built.home / "target" / "manifest.json").read_text())
    parents = {uid: node.get("depends_on", {}).get("nodes", []) for uid, node in manifest["nodes"].items()}

    def ancestors(uid: str) -> set[str]:
        seen: set[str] = set()
        pending = [uid]
        while pending:
            for parent in parents.get(pending.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    pending.append(parent)
        return seen

    upstream = ancestors("model.overclock.fct_ebpf_filter_statistics")
    assert "model.overclock.int_ebpf__event_file_arrivals" in upstream
    assert "model.overclock.int_ebpf__event_files_read" not in upstream
    assert "model.overclock.int_ebpf__event_file_arrivals" in ancestors(
        "model.overclock.int_ebpf__event_files_read"
    )


def _longest_prefix_action(path: str, rules: dict[str, str]) -> tuple[str | None, str]:
    """An independent oracle: walk the path's ancestors from the deepest, as an LPM trie lookup would."""
    parts = path.rstrip("/").split("/")
    for depth in range(len(parts), 0, -1):
        candidate = "/".join(parts[:depth]) or "/"
        if candidate in rules:
            return candidate, rules[candidate]
    return ("/", rules["/"]) if "/" in rules else (None, "allow")


def test_nested_prefix_rules_are_decided_by_the_longest_prefix(built: Warehouse) -> None:
    rules = dict(built.query("select prefix, action from staging.stg_ebpf__filter_prefix_rules"))
    assert rules["/etc"] == "deny" and rules["/etc/ssl"] == "allow" and rules["/etc/ssl/certs"] == "deny"
    decisions = built.query(
        "select distinct file_path, matched_prefix, prefix_action from intermediate.int_ebpf__filter_decisions"
    )
    assert len(decisions) > 100
    for path, matched_prefix, action in decisions:
        assert (matched_prefix, action) == _longest_prefix_action(str(path), rules), path

    by_path = {
        path: (decision, approved_by)
        for path, decision, approved_by in built.query(
            "select distinct file_path, filter_decision, approved_by from intermediate.int_ebpf__filter_decisions"
            " where event_type = 'open'"
        )
    }
    assert by_path["/etc/hosts"] == ("discarded", None)  # /etc deny
    assert by_path["/etc/ssl/private/nginx.key"] == ("passed", None)  # /etc/ssl allow beats /etc deny
    assert by_path["/etc/ssl/certs/ca-certificates.crt"] == ("discarded", None)  # /etc/ssl/certs deny
    assert by_path["/etc/shadow"] == ("approved", "basename")  # an approver beats /etc deny


def test_filter_statistics_add_up(built: Warehouse) -> None:
    [(events, seen, approved, discarded, kept, wrong)] = built.query(
        """
        select
            (select count(*) from intermediate.int_ebpf__file_events_deduplicated),
            sum(events_seen), sum(events_approved), sum(events_discarded), sum(events_kept),
            count_if(events_kept <> events_seen - events_discarded or events_approved > events_kept)
        from marts.fct_ebpf_filter_statistics
        """
    )
    assert seen == events and kept == seen - discarded and wrong == 0
    assert 0.8 < discarded / seen < 0.97  # most kernel events are noise, as in the write-up
    assert approved > 0


def test_sensitive_accesses_by_host_container_process_executable(built: Warehouse) -> None:
    rows = built.query(
        """
        select host, container_id, process_comm, executable_path, file_path, sensitive_category,
               access_count, first_seen_at <= last_seen_at, all_kept_by_filter
        from marts.fct_ebpf_sensitive_file_accesses
        """
    )
    assert all(row[7] and row[8] for row in rows)
    categories = {row[5] for row in rows}
    assert {"password_hashes", "ssh_key", "tls_private_key"} <= categories
    # The intruder: a container process reading the host's secrets.
    assert any(row[1] is not None and row[2] == "curl" and row[4] == "/etc/shadow" for row in rows)
    [(expected,)] = built.query(
        """
        select count(*) from intermediate.int_ebpf__file_events_deduplicated
        where file_path in ('/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/ssh/ssh_host_ed25519_key')
           or file_basename in ('authorized_keys', 'id_rsa', 'id_ed25519', 'credentials')
           or starts_with(file_path, '/etc/ssl/private/') or starts_with(file_path, '/etc/sudoers.d/')
           or starts_with(file_path, '/var/run/secrets/kubernetes.io/')
        """
    )
    assert sum(int(str(row[6])) for row in rows) == expected


# Every model of the domain, without the data tests (the full build runs those once).
INCREMENT = ["--select", "+marts.ebpf", "--exclude", "resource_type:test", "resource_type:unit_test"]
# What an increment must leave as a full refresh does (when and at which size a file was read aside).
SNAPSHOT_SQL = {
    "int_ebpf__file_events_deduplicated": "select * exclude (source_arrived_at)"
    " from intermediate.int_ebpf__file_events_deduplicated",
    "fct_ebpf_filter_statistics": "select * exclude (source_arrived_at) from marts.fct_ebpf_filter_statistics",
    "fct_ebpf_quarantined_lines": "select * from marts.fct_ebpf_quarantined_lines",
    "fct_ebpf_file_ingestion": "select * exclude (file_modified_at, read_at) from marts.fct_ebpf_file_ingestion",
    "fct_ebpf_sensitive_file_accesses": "select * from marts.fct_ebpf_sensitive_file_accesses",
}
EVENT_TABLES = ("int_ebpf__file_events_deduplicated", "fct_ebpf_filter_statistics")


def _snapshot(
    warehouse: Warehouse, tables: tuple[str, ...] = tuple(SNAPSHOT_SQL)
) -> dict[str, list[tuple[object, ...]]]:
    return {name: sorted(warehouse.query(SNAPSHOT_SQL[name]), key=repr) for name in tables}


def test_increments_equal_full_refresh_whatever_order_files_arrive_in(
    built: Warehouse, tmp_path: Path
) -> None:
    """Files arrive over several runs — one hours late, one still being written — and each run reads only what
    is new: the end state equals the full build's, and a re-delivered file adds no event."""
    source = built.data_dir / "ebpf" / "events"
    events = tmp_path / "data" / "ebpf" / "events"
    every_file = sorted(path.relative_to(source) for path in source.rglob("*.jsonl"))
    late = Path("db-01/2025-06-02T08.jsonl")  # its events are hours older than the newest loaded
    growing = Path("web-01/2025-06-02T10.jsonl")  # the agent is still appending to it
    first_run = [name for name in every_file if "T11" not in name.name and name not in (late, growing)]
    assert late in every_file and growing in every_file and len(first_run) < len(every_file) - 6

    def arrive(name: Path, content: bytes | None = None) -> None:
        (events / name).parent.mkdir(parents=True, exist_ok=True)
        (events / name).write_bytes((source / name).read_bytes() if content is None else content)

    for name in first_run:
        arrive(name)
    growing_lines = (source / growing).read_bytes().splitlines(keepends=True)
    arrive(growing, b"".join(growing_lines[: len(growing_lines) // 2]))
    warehouse = Warehouse(tmp_path / "data", tmp_path / "home")
    warehouse.dbt("build", *INCREMENT)
    [(first_increment,)] = warehouse.query(
        "select count(*) from intermediate.int_ebpf__file_events_deduplicated"
    )

    for name in every_file:
        if name not in first_run:
            arrive(name)  # the rest, the late file, and the growing file complete
    warehouse.dbt("build", *INCREMENT)
    full_refresh = _snapshot(built)
    assert 0 < first_increment < len(full_refresh["int_ebpf__file_events_deduplicated"])
    assert _snapshot(warehouse) == full_refresh

    # The agent re-sends whole files, recent and old: their events are already loaded.
    for host, hour in (("web-01", "2025-06-02T11"), ("db-01", "2025-06-02T08")):
        original = events / host / f"{hour}.jsonl"
        shutil.copy(original, original.with_name(f"{hour}.retry-1.jsonl"))
    warehouse.dbt("build", *INCREMENT)
    assert _snapshot(warehouse, EVENT_TABLES) == _snapshot(built, EVENT_TABLES)
    retries = warehouse.query(
        "select lines_parsed, events_first_delivered, events_redelivered from marts.fct_ebpf_file_ingestion"
        " where file_name like '%.retry-1.jsonl'"
    )
    assert len(retries) == 2 and all(
        parsed > 0 and first == 0 and again == parsed for parsed, first, again in retries
    )


def test_a_run_opens_only_files_that_are_new_or_changed(built: Warehouse, tmp_path: Path) -> None:
    """The arrivals decide what is read: a file rewritten behind its back (same size, same modification time) is
    not opened again; once its modification time moves, it is read again and its rows replaced."""
    data_dir = tmp_path / "data"
    shutil.copytree(built.data_dir, data_dir)
    warehouse = Warehouse(data_dir, tmp_path / "home")
    warehouse.dbt("build", *INCREMENT)
    before = _snapshot(warehouse)
    [(reads_before,)] = warehouse.query("select max(read_at) from intermediate.int_ebpf__event_files_read")

    target = data_dir / "ebpf" / "events" / "k8s-node-01" / "2025-06-02T09.jsonl"
    status = target.stat()
    lines = target.read_bytes().count(b"\n")
    target.write_bytes(b"x" * (status.st_size - lines) + b"\n" * lines)  # same size, same line count
    os.utime(target, ns=(status.st_atime_ns, status.st_mtime_ns))
    warehouse.dbt("build", *INCREMENT)
    assert _snapshot(warehouse) == before  # not opened: its lines would all have been quarantined
    [(reads_after,)] = warehouse.query("select max(read_at) from intermediate.int_ebpf__event_files_read")
    assert reads_after == reads_before

    os.utime(target, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    warehouse.dbt("build", *INCREMENT)
    [(read, parsed, quarantined, first)] = warehouse.query(
        "select lines_read, lines_parsed, lines_quarantined, events_first_delivered"
        " from marts.fct_ebpf_file_ingestion where file_name = 'events/k8s-node-01/2025-06-02T09.jsonl'"
    )
    assert (read, parsed, quarantined) == (lines, 0, lines)
    # The audit store keeps events once loaded: rewriting a file does not take them back.
    assert first > 0
    assert _snapshot(warehouse, EVENT_TABLES) == {name: before[name] for name in EVENT_TABLES}


def test_a_reader_built_by_an_earlier_version_stops_the_run_with_what_to_do(
    built: Warehouse, tmp_path: Path
) -> None:
    """An events table built before the arrivals model has no source_arrived_at, so which files it holds is
    unknown: the run stops naming the fix, loads nothing, and the fix rebuilds the same rows."""
    data_dir = tmp_path / "data"
    shutil.copytree(built.data_dir, data_dir)
    warehouse = Warehouse(data_dir, tmp_path / "home")
    warehouse.dbt("build", *INCREMENT)
    expected = _snapshot(warehouse)
    connection = duckdb.connect(str(warehouse.path))
    connection.execute(
        "alter table intermediate.int_ebpf__file_events_deduplicated rename source_arrived_at to source_read_at"
    )
    connection.close()
    (data_dir / "ebpf" / "events" / "web-01" / "2025-06-02T11.jsonl").touch()  # something arrives

    process = warehouse.run_dbt("build", *INCREMENT)
    assert process.returncode != 0
    assert "has no source_arrived_at column" in process.stdout
    assert "overclock build --full-refresh -s int_ebpf__event_file_arrivals+" in process.stdout
    [(events,)] = warehouse.query("select count(*) from intermediate.int_ebpf__file_events_deduplicated")
    assert events == len(expected["int_ebpf__file_events_deduplicated"])

    warehouse.dbt("build", "--full-refresh", "--select", "int_ebpf__event_file_arrivals+")
    assert _snapshot(warehouse) == expected
