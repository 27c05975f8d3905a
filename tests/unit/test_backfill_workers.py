"""A backfill's worker processes end when their coordinator is killed outright: nobody would record their
batches, and they would race the `resume` that redoes them. The pool is built as WorkerPoolRunner builds it
(spawned processes, an initializer); the coordinator is a real process, killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

COORDINATOR = textwrap.dedent(
    """
    import concurrent.futures, multiprocessing, os, sys, time
    from framework.backfill.executor import exit_with_parent

    def start_worker():
        exit_with_parent(poll_seconds=0.05)

    def batch(path):
        with open(path, "a") as out:
            out.write(f"{os.getpid()}\\n")
        time.sleep(600)  # a long batch: the worker is busy when its coordinator dies

    if __name__ == "__main__":
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=2, mp_context=multiprocessing.get_context("spawn"), initializer=start_worker
        )
        for _ in range(2):
            pool.submit(batch, sys.argv[1])
        time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")  # a zombie has ended


def test_workers_end_when_the_coordinator_is_killed(tmp_path: Path) -> None:
    script, pids_file = tmp_path / "coordinator.py", tmp_path / "workers"
    script.write_text(COORDINATOR)
    repo = Path(__file__).resolve().parents[2]
    coordinator = subprocess.Popen(
        [sys.executable, str(script), str(pids_file)], cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}
    )
    try:
        deadline = time.monotonic() + 60
        while not (pids_file.is_file() and len(pids_file.read_text().split()) == 2):
            assert time.monotonic() < deadline, "the workers did not start their batches"
            time.sleep(0.05)
        workers = [int(pid) for pid in pids_file.read_text().split()]
        assert all(alive(pid) for pid in workers)
    finally:
        coordinator.send_signal(signal.SIGKILL)
        coordinator.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "the workers outlived their coordinator"
        time.sleep(0.05)
