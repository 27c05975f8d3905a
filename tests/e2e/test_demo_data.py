"""`overclock demo-data`: the same seed gives byte-identical files; --scale 2 roughly doubles the rows."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from framework.cli import main as overclock_main
from framework.demo_data import DOMAINS, MARKER, generate_all


def file_hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def run_cli(*args: str) -> int:
    try:
        overclock_main(list(args))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    assert run_cli("demo-data", "--seed", "1", "--out", str(tmp_path / "a")) == 0
    assert run_cli("demo-data", "--seed", "1", "--out", str(tmp_path / "b")) == 0
    first, second = file_hashes(tmp_path / "a"), file_hashes(tmp_path / "b")
    assert first == second
    assert {name.split("/")[0] for name in first} >= set(DOMAINS)


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    first = generate_all(tmp_path / "a", scale=1, seed=1)
    second = generate_all(tmp_path / "b", scale=1, seed=2)
    assert file_hashes(tmp_path / "a") != file_hashes(tmp_path / "b")
    assert first.keys() == second.keys()


def test_scale_two_roughly_doubles_the_rows(tmp_path: Path) -> None:
    single = generate_all(tmp_path / "one", scale=1, seed=3)
    double = generate_all(tmp_path / "two", scale=2, seed=3)
    rows_single = sum(sum(files.values()) for files in single.values())
    rows_double = sum(sum(files.values()) for files in double.values())
    assert 1.7 <= rows_double / rows_single <= 2.3
    for domain in DOMAINS:
        domain_single, domain_double = sum(single[domain].values()), sum(double[domain].values())
        assert 1.5 <= domain_double / domain_single <= 2.5, domain


def test_if_missing_leaves_existing_data(tmp_path: Path) -> None:
    out = tmp_path / "data"
    assert run_cli("demo-data", "--seed", "5", "--out", str(out)) == 0
    before = file_hashes(out)
    assert run_cli("demo-data", "--seed", "6", "--out", str(out), "--if-missing") == 0
    assert file_hashes(out) == before


def test_regenerating_over_other_data_leaves_exactly_the_new_generation(tmp_path: Path) -> None:
    """The eBPF source globs every file: files of an earlier seed or scale must not stay behind."""
    out, fresh = tmp_path / "data", tmp_path / "fresh"
    generate_all(out, scale=2, seed=42)
    generate_all(out, scale=1, seed=7)
    generate_all(fresh, scale=1, seed=7)
    assert file_hashes(out) == file_hashes(fresh)


def test_if_missing_regenerates_data_that_is_partly_gone(tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "data"
    generate_all(out, scale=1, seed=5)
    complete = file_hashes(out)
    listed = json.loads((out / MARKER).read_text())["files"]
    assert sorted(listed) == sorted(name for name in complete if name != MARKER)  # every file, nothing else
    shutil.rmtree(out / "live_events")
    assert run_cli("demo-data", "--seed", "5", "--out", str(out), "--if-missing") == 0
    assert file_hashes(out) == complete
