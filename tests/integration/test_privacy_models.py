"""The vocabulary release as dbt models, built on the search domain's demo messages (scale 1).

Built once per module in a throwaway home, with a fixed noise seed so the assertions are deterministic (a
seeded release is marked as such in the ledger). dbt runs in a subprocess, isolated from other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from framework.config import resolve_settings
from framework.dbt import run_dbt_subprocess
from framework.demo_data import domain_seed
from framework.demo_data import search as search_data
from tests.integration.documentation_support import undocumented
from tests.integration.search_support import patched_environ

# The privacy models and what they read; the search domain's own tests are the search suite's business.
SELECTION = [
    "--select",
    "+fct_privacy_vocabulary_releases",
    "--exclude",
    "resource_type:test,path:../models/staging/search",
]
SEEDED = {"noise_seed": 7}

OVERCLOCK = str(Path(sys.executable).with_name("overclock"))

# One warehouse for the module: keep its tests on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("privacy_models")]


@dataclass(frozen=True)
class Warehouse:
    home: Path
    data_dir: Path

    def environ(self) -> dict[str, str | None]:
        return {
            "OVERCLOCK_HOME": str(self.home),
            "DBT_TARGET_PATH": str(self.home / "target"),
            "DBT_LOG_PATH": str(self.home / "logs"),
            "OVERCLOCK_DATA_DIR": str(self.data_dir),
            "OVERCLOCK_DUCKDB_PATH": None,
            "OVERCLOCK_NAMESPACE": None,
        }

    def build(self, variables: dict[str, object], select: list[str] = SELECTION) -> tuple[int, str]:
        with patched_environ(self.environ()):
            settings = resolve_settings(target="local", production=True)
            done = run_dbt_subprocess(
                settings, ["build"], [*select, "--vars", json.dumps(variables)], timeout=600
            )
        return done.returncode, done.stdout + done.stderr

    def docs_generate(self) -> tuple[int, str]:
        with patched_environ(self.environ()):
            settings = resolve_settings(target="local", production=True)
            done = run_dbt_subprocess(
                settings, ["docs", "generate"], ["--select", "+fct_privacy_vocabulary_releases"], timeout=600
            )
        return done.returncode, done.stdout + done.stderr

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with duckdb.connect(str(self.home / "warehouse.duckdb"), read_only=True) as connection:
            return connection.sql(sql).fetchall()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    root = tmp_path_factory.mktemp("privacy")
    (root / "data" / "search").mkdir(parents=True)
    search_data.generate(root / "data" / "search", scale=1, seed=domain_seed(42, "search"))
    built = Warehouse(root / "home", root / "data")
    code, output = built.build(SEEDED)
    assert code == 0, output[-3000:]
    yield built


def test_docs_generate_and_every_model_and_column_is_described(warehouse: Warehouse) -> None:
    code, output = warehouse.docs_generate()
    assert code == 0, output[-3000:]
    models, problems = undocumented(warehouse.home / "target")
    assert "model.overclock.fct_privacy_released_vocabulary" in models
    assert problems == []


def test_the_vocabulary_is_released(warehouse: Warehouse) -> None:
    ((released, by_length),) = warehouse.query(
        "select count(*), list(distinct ngram_length order by ngram_length) "
        "from marts.fct_privacy_released_vocabulary"
    )
    assert released > 50
    assert by_length == [1, 2, 3]
    # Only n-grams many authors use: nothing below a handful of authors passes T ≈ 20–70.
    ((fewest_authors,),) = warehouse.query(
        "select min(authors) from (select v.ngram, count(*) as authors "
        "from marts.fct_privacy_released_vocabulary v "
        "join intermediate.int_privacy__ngram_contributions c using (ngram) group by v.ngram)"
    )
    assert fewest_authors >= 5


def test_author_private_handles_are_never_released(warehouse: Warehouse) -> None:
    ((handles_in_data,),) = warehouse.query(
        "select count(distinct ngram) from intermediate.int_privacy__ngram_contributions where ngram like 'handle%'"
    )
    assert handles_in_data > 100
    assert (
        warehouse.query("select ngram from marts.fct_privacy_released_vocabulary where ngram like '%handle%'")
        == []
    )


def test_the_ledger_records_parameters_sigma_and_threshold_per_round(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "select release_id, algorithm, round, noise, noise_scale, threshold, items_released, noise_seeded, "
        "guarantee_epsilon, guarantee_delta from marts.fct_privacy_vocabulary_releases order by released_at, round"
    )
    first, second = rows[:2]
    assert first[0] == second[0] and (first[1], first[2], second[2]) == ("two_round", 1, 2)
    assert first[3] == "gaussian" and first[4] > 4 and first[5] > 20
    assert first[7] is True and (first[8], first[9]) == (1.0, 1e-5)
    ((released,),) = warehouse.query(
        f"select count(*) from marts.fct_privacy_released_vocabulary where release_id = '{first[0]}'"
    )
    assert first[6] + second[6] == released
    columns = {
        c
        for (c,) in warehouse.query(
            "select column_name from information_schema.columns where table_name = 'fct_privacy_vocabulary_releases'"
        )
    }
    # The ledger says what was released and at what cost; nothing about what was not.
    assert not {c for c in columns if "candidate" in c or "unreleased" in c or "distinct" in c}


@pytest.mark.parametrize(
    ("variables", "reason"),
    [("{epsilon: -1}", "got -1.0"), ("{epsilon: .inf}", "got inf")],  # .nan takes the same path as .inf
)
def test_bad_vars_fail_the_model_with_a_clear_message(
    warehouse: Warehouse, variables: str, reason: str
) -> None:
    """Through the CLI as a user runs it: dbt prints the Python traceback once; Overclock's own report of
    the node is the exception's one line (a bare inf or nan from YAML reaches the checks, not a NameError)."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("OVERCLOCK_", "DBT_"))
    }
    environment.update({key: value for key, value in warehouse.environ().items() if value is not None})
    done = subprocess.run(
        [OVERCLOCK, "run", "--prod", "-s", "fct_privacy_released_vocabulary", "--vars", variables],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    expected = f"Python model failed: PrivacyParameterError: epsilon must be a finite number > 0, {reason}"
    assert f"error fct_privacy_released_vocabulary: {expected}\n" in done.stdout, done.stdout[-3000:]
    assert "NameError" not in done.stdout + done.stderr


def test_every_build_is_a_new_release_in_the_ledger(warehouse: Warehouse) -> None:
    before = warehouse.query("select count(distinct release_id) from marts.fct_privacy_vocabulary_releases")[
        0
    ][0]
    code, output = warehouse.build(
        {**SEEDED, "algorithm": "basic", "max_items_per_user": 30},
        select=["--select", "fct_privacy_released_vocabulary", "fct_privacy_vocabulary_releases"],
    )
    assert code == 0, output[-3000:]
    rows = warehouse.query(
        "select count(distinct release_id), max_by(algorithm, released_at), max_by(threshold, released_at) "
        "from marts.fct_privacy_vocabulary_releases"
    )
    assert rows[0][0] == before + 1
    assert rows[0][1] == "basic"
    assert rows[0][2] > 19  # T for (1, 1e-5, 30)
