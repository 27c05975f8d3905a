"""Throwaway database servers for the tests: a real PostgreSQL cluster and the local BigQuery emulator.

Both listen on 127.0.0.1 on a free port, live in a temporary folder, and are stopped by the fixture that
started them. Nothing here mocks a database.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    dbname: str

    def env(self) -> dict[str, str]:
        """The variables `project/profiles.yml` reads for the postgres target."""
        return {
            "OVERCLOCK_PG_HOST": self.host,
            "OVERCLOCK_PG_PORT": str(self.port),
            "OVERCLOCK_PG_USER": self.user,
            "OVERCLOCK_PG_PASSWORD": "",
            "OVERCLOCK_PG_DATABASE": self.dbname,
        }

    def dsn(self, dbname: str | None = None) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname or self.dbname}"

    def create_database(self, name: str) -> None:
        import psycopg2

        connection = psycopg2.connect(self.dsn("postgres"))
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'create database "{name}"')
        connection.close()


def _postgres_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError(
        "PostgreSQL server binaries not found: run `make system-deps` (Debian package postgresql)"
    )


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """initdb + pg_ctl start a cluster in a temporary folder; as root, the cluster runs as user postgres."""
    bin_dir = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="overclock-pg-"))
    data = root / "data"
    port = free_port()
    as_root = os.geteuid() == 0
    prefix: list[str] = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres")
        os.chmod(root, 0o700)
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off -c max_connections=200"
    subprocess.run(
        [
            *prefix,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        _wait_for_port(port, 30)
        server = PostgresServer("127.0.0.1", port, "postgres", "overclock")
        server.create_database("overclock")
        yield server
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class BigQueryEmulator:
    port: int
    project: str = "local-project"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The variables `project/profiles.yml` reads for the bigquery target."""
        return {
            "OVERCLOCK_BQ_METHOD": "oauth-secrets",
            "OVERCLOCK_BQ_TOKEN": "local-emulator-token",
            "OVERCLOCK_BQ_PROJECT": self.project,
            "OVERCLOCK_BQ_ENDPOINT": self.endpoint,
        }


def emulator_executable() -> Path:
    executable = REPO_ROOT / ".venv-bq-emulator" / "bin" / "crucible"
    if not executable.exists():
        raise RuntimeError("BigQuery emulator not installed: run `make bq-emulator`")
    return executable


@contextlib.contextmanager
def bigquery_emulator() -> Iterator[BigQueryEmulator]:
    """`crucible serve --dialect bigquery` on a free port, in memory; stopped afterwards."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="overclock-bq-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [str(emulator_executable()), "serve", "--dialect", "bigquery", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, 60, process)
        # The port opens before the app is ready on some starts; wait for an HTTP answer.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/bigquery/v2/projects/local-project/datasets", timeout=2
                )
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        yield BigQueryEmulator(port)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        os.unlink(log.name)
