"""Seeded raw data for the eBPF audit-log domain: kernel file events as JSON lines, one file per host and hour.

The shapes follow Datadog's write-up on Workload Protection (in-kernel filtering of file events):
- events are in the agent's nested format: `evt{id, name, category, outcome}`, `date`, `file{path, name, inode,
  mount_id, mode, uid, gid, filesystem}`, `process{pid, ppid, tid, uid, gid, comm, executable{path},
  container{id}}`, `container{id}`, `host`, and a block per event type (`open{flags}`, `rename{destination}`,
  `chmod{mode}`, ...). `evt.id` is our addition: the abridged format has no event id, and deduplicating
  re-delivered events needs one;
- most events are noise that the kernel filter should drop (/proc and /sys scans, build folders, package
  caches); a small share touches what an audit cares about (/etc/shadow, ssh keys, cloud credentials, TLS
  private keys, service-account tokens), including a container that reads them;
- about 0.5% of the lines are malformed, in several kinds (see `MALFORMED_KINDS`); `malformed_lines.csv`
  beside the events lists each one (file, line number, kind), so tests can check the quarantine against it;
- delivery is at least once: a few events are emitted twice in their file, and a few files are partly
  re-delivered as a second file (`<hour>.redelivered.jsonl`) holding the same bytes.

Lines are built column-wise with DuckDB from numpy draws (no per-event Python), so five million events take
seconds. `generate(out_dir, scale, seed)` writes `events/<host>/<hour>.jsonl` under `out_dir` and returns
{file name: lines}. The same (scale, seed) gives byte-identical files; `scale` multiplies events per file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# numpy at module level: this module is imported only when data is generated, never at CLI start-up.
import numpy as np

if TYPE_CHECKING:
    import duckdb

START_US = 1_748_851_200_000_000  # 2025-06-02T08:00:00Z in microseconds since the Unix epoch
HOUR_US = 3_600_000_000
HOURS = 4
HOSTS: tuple[tuple[str, str], ...] = (
    ("web-01", "web"),
    ("web-02", "web"),
    ("db-01", "db"),
    ("ci-runner-01", "ci"),
    ("k8s-node-01", "k8s"),
    ("k8s-node-02", "k8s"),
)
EVENTS_PER_FILE = 2_500  # per host and hour at scale 1: ~60 k lines in 24 files
MALFORMED_SHARE = 0.005
DUPLICATE_SHARE = 0.002  # events the agent emitted twice within one file
REDELIVERED_FILES = 3  # (host, hour) files partly delivered a second time
REDELIVERED_SHARE = 0.05  # of the original file's lines, a contiguous run

EVENT_TYPES = (
    "open",
    "unlink",
    "rename",
    "chmod",
    "chown",
    "mkdir",
    "rmdir",
    "link",
    "utimes",
    "setxattr",
    "exec",
)
# Each kind lands in the quarantine with its own reason (models/staging/ebpf).
MALFORMED_KINDS = (
    "truncated_json",
    "wrong_type",
    "missing_field",
    "bad_timestamp",
    "invalid_utf8",
    "empty_line",
)
# Invalid UTF-8 byte sequences: a bare 0xFF 0xFE, a lead byte followed by ASCII, an encoded surrogate, a lone
# continuation byte. They are written over an ASCII placeholder after the line is built (DuckDB strings are UTF-8).
INVALID_UTF8_BYTES = (b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x80")
BAD_TIMESTAMPS = ("2025-06-31T10:00:00Z", "not-a-date", "2025-06-02T25:61:00Z", "")

O_RDONLY_CLOEXEC = 0o2000000
O_WRITE_CREATE_TRUNCATE = 0o1 | 0o100 | 0o1000 | 0o2000000
O_WRITE_APPEND = 0o1 | 0o100 | 0o2000


@dataclass(frozen=True)
class Activity:
    """A process and what it does: the files it touches and the event types it produces."""

    name: str
    comm: str
    executable: str
    uid: int
    paths: Callable[[np.random.Generator], list[str]]
    event_weights: dict[str, float]
    write_share: float = 0.0  # share of its opens that write
    in_container: bool = False
    instances: int = 4  # distinct pids per host
    exec_paths: tuple[str, ...] = ()


def _numbered(template: str, values: Iterable[Any]) -> list[str]:
    return [template.format(v) for v in values]


def _proc_paths(rng: np.random.Generator) -> list[str]:
    pids = rng.choice(np.arange(1, 40_000), size=120, replace=False)
    leaves = ("stat", "status", "cmdline", "io", "cgroup", "fd", "mountinfo", "environ", "task")
    paths = [f"/proc/{pid}/{leaf}" for pid in pids for leaf in leaves]
    return [*paths, "/proc/meminfo", "/proc/loadavg", "/proc/stat", "/proc/net/dev", "/proc/diskstats"]


def _sys_paths(rng: np.random.Generator) -> list[str]:
    services = ("nginx", "postgresql", "sshd", "cron", "containerd", "kubelet", "systemd-journald", "dbus")
    leaves = ("memory.current", "memory.stat", "cpu.stat", "io.stat", "pids.current", "cgroup.procs")
    paths = [f"/sys/fs/cgroup/system.slice/{s}.service/{leaf}" for s in services for leaf in leaves]
    paths += [f"/sys/class/net/eth{i}/statistics/rx_bytes" for i in range(4)]
    paths += [f"/sys/block/vd{d}/stat" for d in "abcd"]
    paths += [f"/sys/devices/system/cpu/cpu{i}/cpufreq/scaling_cur_freq" for i in range(16)]
    return paths


def _pod_paths(rng: np.random.Generator) -> list[str]:
    pods = [f"{int(x):016x}" for x in rng.integers(2**60, 2**63, size=24)]
    paths = [f"/sys/fs/cgroup/kubepods.slice/kubepods-pod{p[:12]}.slice/memory.current" for p in pods]
    paths += [f"/var/lib/kubelet/pods/{p[:8]}-{p[8:12]}/volumes/kubernetes.io~projected/token" for p in pods]
    paths += [f"/var/lib/kubelet/pods/{p[:8]}-{p[8:12]}/etc-hosts" for p in pods]
    return paths


def _build_paths(rng: np.random.Generator) -> list[str]:
    repos = ("api-gateway", "billing", "search-indexer", "web-frontend")
    paths: list[str] = []
    for repo in repos:
        root = f"/home/ci/builds/{repo}"
        paths += _numbered(root + "/build/obj/module_{:03d}.o", range(60))
        paths += _numbered(root + "/build/gen/proto_{:02d}.pb.cc", range(20))
        paths += _numbered(root + "/src/component_{:02d}.c", range(30))
        paths += _numbered(root + "/node_modules/pkg-{:03d}/index.js", range(60))
        paths += _numbered(root + "/target/debug/deps/crate_{:03d}.rlib", range(40))
        paths += [
            f"{root}/.git/objects/{h:02x}/{int(rng.integers(2**60, 2**63)):016x}{int(rng.integers(2**60, 2**63)):016x}"
            for h in range(24)
        ]
    paths += [
        "/home/ci/builds/search-indexer/src/données.rs",
        "/home/ci/builds/web-frontend/src/naïve café.ts",
    ]
    paths += _numbered("/tmp/cc{:06d}.s", rng.integers(0, 999_999, size=40))
    return paths


def _usr_paths(rng: np.random.Generator) -> list[str]:
    libs = ("libc.so.6", "libssl.so.3", "libcrypto.so.3", "libz.so.1", "libpthread.so.0", "libstdc++.so.6")
    paths = [f"/usr/lib/x86_64-linux-gnu/{lib}" for lib in libs]
    paths += ["/etc/ld.so.cache", "/usr/share/zoneinfo/UTC", "/usr/lib/locale/locale-archive"]
    paths += _numbered("/usr/local/lib/python3.12/site-packages/pkg{:02d}/__init__.py", range(40))
    return paths


def _etc_paths(rng: np.random.Generator) -> list[str]:
    return [
        "/etc/hosts",
        "/etc/resolv.conf",
        "/etc/nsswitch.conf",
        "/etc/passwd",
        "/etc/group",
        "/etc/localtime",
        "/etc/os-release",
        "/etc/nginx/nginx.conf",
        "/etc/nginx/sites-enabled/default",
        "/etc/ssh/sshd_config",
        "/etc/pam.d/sshd",
        "/etc/pam.d/common-auth",
        "/etc/security/limits.conf",
    ]


def _ssl_paths(rng: np.random.Generator) -> list[str]:
    return [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/ssl/certs/ISRG_Root_X1.pem",
        "/etc/ssl/openssl.cnf",
        "/etc/ssl/private/nginx.key",
        "/etc/ssl/private/ssl-cert-snakeoil.key",
    ]


def _auth_paths(rng: np.random.Generator) -> list[str]:
    return [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/passwd",
        "/etc/sudoers",
        "/etc/sudoers.d/90-cloud-init-users",
        "/etc/ssh/ssh_host_ed25519_key",
        "/root/.ssh/authorized_keys",
        "/home/alice/.ssh/authorized_keys",
        "/home/bob/.ssh/authorized_keys",
        "/var/log/auth.log",
    ]


def _user_paths(rng: np.random.Generator) -> list[str]:
    paths: list[str] = []
    for user in ("alice", "bob", "zoé"):
        home = f"/home/{user}"
        paths += [f"{home}/.bashrc", f"{home}/.bash_history", f"{home}/.profile", f"{home}/.gitconfig"]
        paths += [f"{home}/.ssh/id_ed25519", f"{home}/.ssh/known_hosts", f"{home}/.aws/credentials"]
        paths += _numbered(home + "/notes/draft-{:02d}.md", range(8))
    paths += ["/home/zoé/Documents/résumé.pdf", "/etc/hosts", "/etc/resolv.conf"]
    return paths


def _app_paths(rng: np.random.Generator) -> list[str]:
    paths = _numbered("/app/service/handlers/h{:02d}.py", range(30))
    paths += _numbered("/tmp/tmp{:08x}", rng.integers(0, 2**32, size=20))
    paths += [
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
        "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/app/config/settings.yaml",
    ]
    return paths


def _intruder_paths(rng: np.random.Generator) -> list[str]:
    return [
        "/etc/shadow",
        "/etc/passwd",
        "/root/.ssh/id_rsa",
        "/root/.ssh/authorized_keys",
        "/root/.aws/credentials",
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
        "/tmp/.x/payload",
        "/tmp/.x/out.tar",
    ]


def _postgres_paths(rng: np.random.Generator) -> list[str]:
    paths = _numbered("/var/lib/postgresql/15/main/base/16384/{}", rng.integers(16_385, 99_999, size=80))
    paths += _numbered("/var/lib/postgresql/15/main/pg_wal/00000001000000A7000000{:02X}", range(16))
    paths += ["/etc/postgresql/15/main/postgresql.conf", "/etc/postgresql/15/main/pg_hba.conf"]
    return paths


def _package_paths(rng: np.random.Generator) -> list[str]:
    pkgs = ("openssl", "libc6", "curl", "nginx", "python3.12", "tzdata", "ca-certificates")
    paths = [f"/var/lib/dpkg/info/{p}.list" for p in pkgs] + [f"/var/lib/dpkg/info/{p}.md5sums" for p in pkgs]
    paths += [f"/usr/share/doc/{p}/changelog.Debian.gz" for p in pkgs]
    paths += _numbered("/var/cache/apt/archives/partial/pkg_{:03d}.deb", range(20))
    return paths


def _containerd_paths(rng: np.random.Generator) -> list[str]:
    base = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots"
    paths = [
        f"{base}/{int(n)}/fs/usr/lib/{leaf}" for n in rng.integers(100, 900, size=30) for leaf in ("a", "b")
    ]
    paths += _numbered(
        "/run/containerd/io.containerd.runtime.v2.task/k8s.io/{:016x}/rootfs", rng.integers(0, 2**60, size=10)
    )
    return paths


def _log_paths(rng: np.random.Generator) -> list[str]:
    return [
        "/var/log/syslog",
        "/var/log/syslog.1",
        "/var/log/nginx/access.log",
        "/var/log/nginx/error.log",
        "/var/log/auth.log",
        "/var/log/kern.log",
    ]


ACTIVITIES: tuple[Activity, ...] = (
    Activity("proc_scan", "node_exporter", "/usr/local/bin/node_exporter", 65534, _proc_paths, {"open": 1.0}),
    Activity("cgroup_scan", "systemd", "/usr/lib/systemd/systemd", 0, _sys_paths, {"open": 1.0}, instances=1),
    Activity(
        "kubelet",
        "kubelet",
        "/usr/bin/kubelet",
        0,
        _pod_paths,
        {"open": 0.8, "mkdir": 0.05, "rmdir": 0.04, "unlink": 0.05, "setxattr": 0.03, "chmod": 0.03},
        write_share=0.1,
        instances=2,
    ),
    Activity(
        "compile",
        "cc1",
        "/usr/lib/gcc/x86_64-linux-gnu/12/cc1",
        1001,
        _build_paths,
        {
            "open": 0.7,
            "rename": 0.08,
            "unlink": 0.08,
            "mkdir": 0.04,
            "chmod": 0.03,
            "utimes": 0.05,
            "link": 0.02,
        },
        write_share=0.4,
        instances=8,
    ),
    Activity(
        "bundle",
        "node",
        "/usr/bin/node",
        1001,
        _build_paths,
        {"open": 0.85, "rename": 0.05, "unlink": 0.05, "mkdir": 0.03, "utimes": 0.02},
        write_share=0.2,
    ),
    Activity("dynamic_loader", "bash", "/usr/bin/bash", 1000, _usr_paths, {"open": 1.0}, instances=6),
    Activity(
        "web_server",
        "nginx",
        "/usr/sbin/nginx",
        33,
        lambda rng: _etc_paths(rng) + _ssl_paths(rng) + _log_paths(rng)[2:4],
        {"open": 1.0},
        write_share=0.2,
    ),
    Activity(
        "database",
        "postgres",
        "/usr/lib/postgresql/15/bin/postgres",
        105,
        _postgres_paths,
        {"open": 0.8, "unlink": 0.06, "rename": 0.08, "utimes": 0.06},
        write_share=0.5,
        instances=12,
    ),
    Activity("ssh_daemon", "sshd", "/usr/sbin/sshd", 0, _auth_paths, {"open": 1.0}, instances=3),
    Activity(
        "privilege",
        "sudo",
        "/usr/bin/sudo",
        0,
        _auth_paths,
        {"open": 0.9, "exec": 0.1},
        exec_paths=("/usr/bin/systemctl", "/usr/bin/apt-get", "/usr/bin/journalctl"),
    ),
    Activity(
        "user_shell",
        "bash",
        "/usr/bin/bash",
        1000,
        _user_paths,
        {"open": 0.75, "exec": 0.12, "unlink": 0.04, "rename": 0.03, "chmod": 0.03, "utimes": 0.03},
        write_share=0.15,
        exec_paths=("/usr/bin/ls", "/usr/bin/cat", "/usr/bin/git", "/usr/bin/vim", "/usr/bin/ssh"),
    ),
    Activity(
        "app",
        "python3",
        "/usr/local/bin/python3.12",
        1000,
        lambda rng: _app_paths(rng) + _usr_paths(rng),
        {"open": 0.9, "unlink": 0.05, "rename": 0.05},
        write_share=0.1,
        in_container=True,
        instances=6,
    ),
    Activity(
        "intruder",
        "curl",
        "/usr/bin/curl",
        0,
        _intruder_paths,
        {"open": 0.75, "chmod": 0.1, "exec": 0.1, "chown": 0.05},
        write_share=0.2,
        in_container=True,
        instances=1,
        exec_paths=("/tmp/.x/payload", "/usr/bin/tar"),
    ),
    Activity(
        "package_manager",
        "dpkg",
        "/usr/bin/dpkg",
        0,
        _package_paths,
        {"open": 0.6, "rename": 0.1, "unlink": 0.1, "chmod": 0.08, "chown": 0.07, "utimes": 0.05},
        write_share=0.5,
        instances=1,
    ),
    Activity(
        "container_runtime",
        "containerd",
        "/usr/bin/containerd",
        0,
        _containerd_paths,
        {"open": 0.6, "mkdir": 0.1, "rmdir": 0.08, "link": 0.07, "setxattr": 0.1, "unlink": 0.05},
        write_share=0.3,
        instances=1,
    ),
    Activity(
        "log_rotation",
        "logrotate",
        "/usr/sbin/logrotate",
        0,
        _log_paths,
        {"open": 0.4, "rename": 0.25, "chown": 0.1, "chmod": 0.1, "unlink": 0.15},
        write_share=0.5,
        instances=1,
    ),
)

# How busy each kind of host is with each activity (relative weights; /proc and /sys scans dominate, as in the
# write-up where ~94% of kernel events are dropped before user space).
ROLE_WEIGHTS: dict[str, dict[str, float]] = {
    "web": {
        "proc_scan": 40,
        "cgroup_scan": 15,
        "dynamic_loader": 8,
        "web_server": 20,
        "ssh_daemon": 1.2,
        "privilege": 0.5,
        "user_shell": 2,
        "package_manager": 1,
        "log_rotation": 0.5,
    },
    "db": {
        "proc_scan": 35,
        "cgroup_scan": 15,
        "dynamic_loader": 5,
        "database": 35,
        "ssh_daemon": 1,
        "privilege": 0.6,
        "user_shell": 1.5,
        "log_rotation": 0.5,
    },
    "ci": {
        "proc_scan": 20,
        "cgroup_scan": 8,
        "compile": 40,
        "bundle": 20,
        "dynamic_loader": 8,
        "ssh_daemon": 0.5,
        "user_shell": 1,
        "package_manager": 2,
    },
    "k8s": {
        "proc_scan": 30,
        "cgroup_scan": 15,
        "kubelet": 20,
        "container_runtime": 6,
        "app": 20,
        "dynamic_loader": 4,
        "ssh_daemon": 0.5,
        "intruder": 0.3,
        "log_rotation": 0.3,
    },
}

OUTCOMES = ("Success", "Refused", "Error")
OUTCOME_WEIGHTS = (0.975, 0.018, 0.007)
XATTR_NAMES = ("security.selinux", "user.xdg.origin.url", "security.capability")


@dataclass(frozen=True)
class PathPool:
    """Every candidate path once, with the file attributes the kernel would report for it."""

    activity_start: np.ndarray  # first pool index of each activity's open paths
    activity_size: np.ndarray
    exec_start: np.ndarray  # first pool index of each activity's exec paths (size 0: none)
    exec_size: np.ndarray
    table: dict[str, Any]  # columns of the pool, one row per path


def _file_attributes(path: str) -> tuple[str, int, int, int, int]:
    """(filesystem, mount_id, mode, uid, gid) as an agent would see them."""
    if path.startswith("/proc/"):
        return "proc", 22, 0o100444, 0, 0
    if path.startswith("/sys/"):
        return "sysfs", 23, 0o100444, 0, 0
    if path.startswith(("/tmp/", "/run/", "/var/run/")):
        return "tmpfs", 25, 0o100600, 0, 0
    if path.startswith(("/app/", "/usr/local/lib/python3.12/")):
        return "overlay", 410, 0o100644, 1000, 1000
    if path in ("/etc/shadow", "/etc/gshadow"):
        return "ext4", 30, 0o100640, 0, 42
    if "/.ssh/" in path or path.endswith(("credentials", ".key", "_key")) or "/sudoers" in path:
        return "ext4", 30, 0o100600, 0, 0
    if path.startswith("/home/ci/"):
        return "ext4", 31, 0o100644, 1001, 1001
    if path.startswith("/home/"):
        return "ext4", 31, 0o100644, 1000, 1000
    if path.startswith("/var/lib/postgresql/"):
        return "ext4", 32, 0o100600, 105, 111
    if path.startswith("/usr/bin/") or path.endswith("/payload"):
        return "ext4", 30, 0o100755, 0, 0
    return "ext4", 30, 0o100644, 0, 0


def _build_pool(rng: np.random.Generator) -> PathPool:
    import hashlib

    paths: list[str] = []
    starts, sizes, exec_starts, exec_sizes = [], [], [], []
    for activity in ACTIVITIES:
        candidates = activity.paths(rng)
        starts.append(len(paths))
        sizes.append(len(candidates))
        paths += candidates
        exec_starts.append(len(paths))
        exec_sizes.append(len(activity.exec_paths))
        paths += list(activity.exec_paths)
    attributes = [_file_attributes(p) for p in paths]
    directories = [p.rsplit("/", 1)[0] or "/" for p in paths]

    def inode(path: str) -> int:  # stable per path, as an inode is for a file that is not replaced
        return int.from_bytes(hashlib.blake2b(path.encode(), digest_size=4).digest(), "little") + 2

    table = {
        "path_index": np.arange(len(paths), dtype=np.int32),
        "path": paths,
        "name": [p.rsplit("/", 1)[1] for p in paths],
        "directory": directories,
        "directory_name": [d.rsplit("/", 1)[1] or "/" for d in directories],
        "inode": np.array([inode(p) for p in paths], dtype=np.int64),
        "directory_inode": np.array([inode(d) for d in directories], dtype=np.int64),
        "filesystem": [a[0] for a in attributes],
        "mount_id": np.array([a[1] for a in attributes], dtype=np.int32),
        "mode": np.array([a[2] for a in attributes], dtype=np.int32),
        "uid": np.array([a[3] for a in attributes], dtype=np.int32),
        "gid": np.array([a[4] for a in attributes], dtype=np.int32),
    }
    return PathPool(
        activity_start=np.array(starts),
        activity_size=np.array(sizes),
        exec_start=np.array(exec_starts),
        exec_size=np.array(exec_sizes),
        table=table,
    )


@dataclass(frozen=True)
class HostProcesses:
    """Per host: a base pid, parent pid and container id for each activity (fixed for the whole run)."""

    base_pid: np.ndarray
    parent_pid: np.ndarray
    container_id: list[str | None]


def _host_processes(rng: np.random.Generator, role: str) -> HostProcesses:

    count = len(ACTIVITIES)
    base_pid = rng.integers(300, 60_000, size=count)
    parent_pid = np.where(rng.random(count) < 0.4, 1, base_pid - rng.integers(1, 200, size=count))
    containers: list[str | None] = []
    for activity in ACTIVITIES:
        hex_id = "".join(f"{int(x):016x}" for x in rng.integers(0, 2**63, size=4))
        containers.append(hex_id if activity.in_container and role == "k8s" else None)
    return HostProcesses(base_pid=base_pid, parent_pid=parent_pid, container_id=containers)


def _event_columns(
    rng: np.random.Generator,
    pool: PathPool,
    role: str,
    processes: HostProcesses,
    hour_start_us: int,
    events: int,
) -> dict[str, Any]:
    """Draw one file's events (one host, one hour) as numpy columns, in emission order."""

    names = [a.name for a in ACTIVITIES]
    weights = np.array([ROLE_WEIGHTS[role].get(n, 0.0) for n in names])
    activity = rng.choice(len(ACTIVITIES), size=events, p=weights / weights.sum())

    # Event type per activity from a cumulative table; `exec` only where the activity has exec paths.
    type_weights = np.array([[a.event_weights.get(t, 0.0) for t in EVENT_TYPES] for a in ACTIVITIES])
    cumulative = np.cumsum(type_weights / type_weights.sum(axis=1, keepdims=True), axis=1)
    event_type = (rng.random(events)[:, None] > cumulative[activity]).sum(axis=1)
    event_type = np.minimum(event_type, len(EVENT_TYPES) - 1)

    # Zipf-like popularity inside each activity's pool: a few hot files, a long tail.
    popularity = rng.random(events) ** 2.5
    open_index = pool.activity_start[activity] + (popularity * pool.activity_size[activity]).astype(np.int64)
    exec_size = np.maximum(pool.exec_size[activity], 1)
    exec_index = pool.exec_start[activity] + rng.integers(0, 1 << 30, size=events) % exec_size
    is_exec = event_type == EVENT_TYPES.index("exec")
    path_index = np.where(is_exec, exec_index, open_index)

    instances = np.array([a.instances for a in ACTIVITIES])[activity]
    pid = processes.base_pid[activity] + rng.integers(0, 1 << 30, size=events) % instances
    writes = rng.random(events) < np.array([a.write_share for a in ACTIVITIES])[activity]
    appends = rng.random(events) < 0.3
    open_flags = np.where(
        writes, np.where(appends, O_WRITE_APPEND, O_WRITE_CREATE_TRUNCATE), O_RDONLY_CLOEXEC
    )
    offsets = np.sort(rng.integers(0, HOUR_US, size=events))
    outcome = rng.choice(len(OUTCOMES), size=events, p=np.array(OUTCOME_WEIGHTS))
    return {
        "event_id": rng.integers(0, 2**63, size=events, dtype=np.int64),
        "event_us": hour_start_us + offsets,
        "activity_index": activity.astype(np.int32),
        "event_type": np.array(EVENT_TYPES)[event_type],
        "path_index": path_index.astype(np.int32),
        "outcome": np.array(OUTCOMES)[outcome],
        "pid": pid,
        "tid": pid + rng.integers(0, 1 << 30, size=events) % np.maximum(instances // 2, 1),
        "ppid": processes.parent_pid[activity],
        "open_flags": open_flags,
        "new_mode": rng.choice(np.array([0o100600, 0o100644, 0o100755]), size=events),
        "new_owner": rng.choice(np.array([0, 33, 1000]), size=events),
        "xattr_name": np.array(XATTR_NAMES)[rng.integers(0, len(XATTR_NAMES), size=events)],
    }


def _with_duplicates(rng: np.random.Generator, columns: dict[str, Any]) -> dict[str, Any]:
    """Emit a few events twice, the copy right behind the original (the agent retried a send)."""

    events = len(columns["event_id"])
    copies = rng.choice(events, size=int(events * DUPLICATE_SHARE), replace=False)
    rows = np.concatenate([np.arange(events), np.sort(copies)])
    is_copy = np.concatenate([np.zeros(events, dtype=bool), np.ones(len(copies), dtype=bool)])
    order = np.lexsort((is_copy, rows))
    return {name: values[rows[order]] for name, values in columns.items()}


def _malformed_columns(rng: np.random.Generator, lines: int) -> dict[str, Any]:
    """Which lines are malformed, of which kind and variant. Kinds are dealt round-robin, then shuffled."""

    count = max(len(MALFORMED_KINDS), round(lines * MALFORMED_SHARE))
    positions = rng.choice(lines, size=count, replace=False)
    kind = np.full(lines, "", dtype=object)
    kind[positions] = np.array(MALFORMED_KINDS, dtype=object)[
        rng.permutation(np.arange(count) % len(MALFORMED_KINDS))
    ]
    return {
        "malformed_kind": kind.astype(str),
        "variant": rng.integers(0, 4, size=lines).astype(np.int32),
        "cut_fraction": rng.uniform(0.1, 0.9, size=lines),
    }


# One JSON line per event, built column-wise. `concat_ws` skips NULLs, which is how a malformed line loses a
# required field; per-type blocks are NULL for the other event types.
LINE_SQL = """
with events as (
    select
        e.*,
        p.filesystem,
        p.mount_id,
        p.uid as file_uid,
        p.gid as file_gid,
        a.comm,
        a.executable,
        a.process_uid,
        a.container_id,
        case when e.event_type in ('mkdir', 'rmdir') then p.directory
             when e.event_type = 'rename' then p.path || '.tmp'
             else p.path end as file_path,
        case when e.event_type in ('mkdir', 'rmdir') then p.directory_name
             when e.event_type = 'rename' then p.name || '.tmp'
             else p.name end as file_name,
        case when e.event_type in ('mkdir', 'rmdir') then p.directory_inode else p.inode end as inode,
        case when e.event_type in ('mkdir', 'rmdir') then 16877 else p.mode end as file_mode,
        p.path as target_path
    from events_raw as e
    join pool as p using (path_index)
    join activities as a using (activity_index)
),

fields as (
    select
        line_index,
        malformed_kind,
        cut_fraction,
        case when malformed_kind = 'missing_field' and variant = 0 then null
             else '"id":"' || printf('%016x', event_id) || '"' end as id_field,
        case when malformed_kind = 'missing_field' and variant = 1 then null
             else '"name":"' || event_type || '"' end as name_field,
        case when malformed_kind = 'missing_field' and variant = 2 then null
             when malformed_kind = 'bad_timestamp' then '"date":"' || ({bad_timestamps})[variant + 1] || '"'
             else '"date":"' || strftime(make_timestamp(event_us), '%Y-%m-%dT%H:%M:%S.%fZ') || '"' end
            as date_field,
        case when malformed_kind = 'missing_field' and variant = 3 then null
             when malformed_kind = 'invalid_utf8'
                 then '"path":' || to_json(file_path || '~~INVALID-UTF8-' || variant || '~~')
             else '"path":' || to_json(file_path) end as path_field,
        case when malformed_kind = 'wrong_type' and variant = 0 then '"pid":"unknown"'
             else '"pid":' || pid end as pid_field,
        case when malformed_kind = 'wrong_type' and variant = 1 then '"inode":"n/a"'
             else '"inode":' || inode end as inode_field,
        case when malformed_kind = 'wrong_type' and variant = 2 then '"mount_id":true'
             else '"mount_id":' || mount_id end as mount_id_field,
        case when malformed_kind = 'wrong_type' and variant = 3 then '"uid":"root"'
             else '"uid":' || process_uid end as process_uid_field,
        '"host":"' || host || '"' as host_field,
        case when event_type = 'exec' then 'Process Activity' else 'File Activity' end as category,
        *
    from events
),

objects as (
    select
        line_index,
        malformed_kind,
        cut_fraction,
        '{{' || concat_ws(
            ',',
            '"evt":{{' || concat_ws(',', id_field, name_field, '"category":"' || category || '"',
                                    '"outcome":"' || outcome || '"') || '}}',
            date_field,
            '"file":{{' || concat_ws(
                ',', path_field, '"name":' || to_json(file_name), inode_field, mount_id_field,
                '"mode":' || file_mode, '"uid":' || file_uid, '"gid":' || file_gid,
                '"filesystem":"' || filesystem || '"') || '}}',
            '"process":{{' || concat_ws(
                ',', pid_field, '"ppid":' || ppid, '"tid":' || tid, process_uid_field, '"gid":' || process_uid,
                '"comm":' || to_json(comm), '"executable":{{"path":' || to_json(executable) || '}}',
                '"container":{{"id":"' || container_id || '"}}') || '}}',
            '"container":{{"id":"' || container_id || '"}}',
            host_field,
            case event_type
                when 'open' then '"open":{{"flags":' || open_flags || '}}'
                when 'rename' then '"rename":{{"destination":{{"path":' || to_json(target_path) || '}}}}'
                when 'link' then '"link":{{"destination":{{"path":' || to_json(target_path || '.lnk') || '}}}}'
                when 'chmod' then '"chmod":{{"mode":' || new_mode || '}}'
                when 'chown' then '"chown":{{"uid":' || new_owner || ',"gid":' || new_owner || '}}'
                when 'mkdir' then '"mkdir":{{"mode":16877}}'
                when 'setxattr' then '"setxattr":{{"name":"' || xattr_name || '"}}'
            end
        ) || '}}' as line
    from fields
)

select
    case malformed_kind
        when 'empty_line' then ''
        when 'truncated_json' then left(line, (length(line) * cut_fraction)::integer)
        else line
    end || chr(10) as line
from objects
order by line_index
"""


def _render_lines(connection: duckdb.DuckDBPyConnection, columns: dict[str, Any]) -> bytes:
    """The file's bytes: DuckDB builds the lines, Arrow hands them over as one contiguous buffer per chunk."""
    import pyarrow as pa

    events_raw = pa.table({"line_index": np.arange(len(columns["event_id"]), dtype=np.int64), **columns})
    connection.register("events_raw", events_raw)
    bad_timestamps = "[" + ", ".join(f"'{t}'" for t in BAD_TIMESTAMPS) + "]"
    table = connection.sql(LINE_SQL.format(bad_timestamps=bad_timestamps)).fetch_arrow_table()
    connection.unregister("events_raw")
    parts: list[bytes] = []
    for chunk in table.column("line").chunks:
        chunk = chunk.cast(pa.large_string()) if chunk.type != pa.large_string() else chunk
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        parts.append(chunk.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]])
    content = b"".join(parts)
    for variant, invalid in enumerate(INVALID_UTF8_BYTES):
        content = content.replace(f"~~INVALID-UTF8-{variant}~~".encode(), invalid)
    return content


def _setup_connection(pool: PathPool, host_processes: HostProcesses) -> duckdb.DuckDBPyConnection:
    import duckdb
    import pyarrow as pa

    connection = duckdb.connect()
    connection.execute("set threads to 2")
    connection.register("pool", pa.table(pool.table))
    connection.register(
        "activities",
        pa.table(
            {
                "activity_index": np.arange(len(ACTIVITIES), dtype=np.int32),
                "comm": [a.comm for a in ACTIVITIES],
                "executable": [a.executable for a in ACTIVITIES],
                "process_uid": np.array([a.uid for a in ACTIVITIES], dtype=np.int32),
                "container_id": host_processes.container_id,
            }
        ),
    )
    return connection


def generate(
    out_dir: Path, scale: int = 1, seed: int = 42, events_per_file: int | None = None
) -> dict[str, int]:
    """Write `events/<host>/<hour>.jsonl` (plus re-delivered files) and `malformed_lines.csv` under `out_dir`.

    `events_per_file` overrides `EVENTS_PER_FILE * scale` (tests use small files).
    """

    rng = np.random.default_rng(seed)
    pool = _build_pool(rng)
    events_per_file = events_per_file or EVENTS_PER_FILE * scale
    summary: dict[str, int] = {}
    labels: list[tuple[str, int, str]] = []
    for host, role in HOSTS:
        processes = _host_processes(rng, role)
        connection = _setup_connection(pool, processes)
        try:
            for hour in range(HOURS):
                hour_start_us = START_US + hour * HOUR_US
                columns = _event_columns(rng, pool, role, processes, hour_start_us, events_per_file)
                columns = _with_duplicates(rng, columns)
                columns["host"] = np.full(len(columns["event_id"]), host)
                columns.update(_malformed_columns(rng, len(columns["event_id"])))
                name = f"events/{host}/{_hour_label(hour_start_us)}.jsonl"
                summary[name] = _write(out_dir / name, _render_lines(connection, columns))
                kinds = columns["malformed_kind"]
                labels += [(name, int(i) + 1, str(kinds[i])) for i in np.flatnonzero(kinds != "")]
        finally:
            connection.close()

    # Partial re-delivery: a contiguous run of an earlier file's lines, byte for byte, as a file of its own.
    originals = sorted(summary)
    for pick in rng.choice(len(originals), size=min(REDELIVERED_FILES, len(originals)), replace=False):
        original = originals[int(pick)]
        lines = (out_dir / original).read_bytes().split(b"\n")[:-1]
        length = max(1, int(len(lines) * REDELIVERED_SHARE))
        first = int(rng.integers(0, len(lines) - length + 1))
        name = original.removesuffix(".jsonl") + ".redelivered.jsonl"
        summary[name] = _write(out_dir / name, b"\n".join(lines[first : first + length]) + b"\n")
        labels += [
            (name, line - first, kind)
            for file, line, kind in list(labels)
            if file == original and first < line <= first + length
        ]

    with open(out_dir / "malformed_lines.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file_name", "line_number", "kind"])
        writer.writerows(sorted(labels))
    summary["malformed_lines.csv"] = len(labels)
    return dict(sorted(summary.items()))


def _write(path: Path, content: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return content.count(b"\n")


def _hour_label(epoch_us: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch_us / 1e6, tz=dt.UTC).strftime("%Y-%m-%dT%H")
