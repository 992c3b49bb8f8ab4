"""Fresh databases and Twoway's real processes for one benchmark run; the children always stop.

A run gets its own database (a SQLite file in a temporary directory, or a new PostgreSQL database
`twoway_bench_<random>` dropped WITH (FORCE) afterwards), migrated with `twoway migrate`. Twoway
runs as its users run it: `twoway web` (uvicorn) and `twoway worker` as subprocesses, configured
only through environment variables, with the fake Twilio API as the carrier in its own process.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# The Twilio account the fake carrier plays: nothing here is a real credential.
TWILIO_ACCOUNT_SID = "AC" + "b" * 32
TWILIO_AUTH_TOKEN = "bench-twilio-auth-token"  # noqa: S105
SECRET_KEY = "bench-secret-key-not-for-production-" + "x" * 20

# Settings Twoway reads from the environment: a benchmark sets its own, never inherits them.
_TWOWAY_ENV_PREFIXES = ("TWILIO_", "SEND_", "WORKER_", "SIMULATOR_", "TWOWAY_", "REALTIME_")
_TWOWAY_ENV_NAMES = {
    "DATABASE_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "LOG_LEVEL",
    "WEB_PROCESSES",
    "HOST",
    "PORT",
    "DJANGO_SETTINGS_MODULE",
}


class BenchError(RuntimeError):
    """The benchmark could not run (a process did not start, a step timed out)."""


def twoway_command() -> list[str]:
    """The `twoway` console script of this environment, as an operator runs it."""
    script = Path(PYTHON).with_name("twoway")
    return [str(script)] if script.exists() else [PYTHON, "-m", "twoway.cli"]


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def http_json(url: str, payload: Any = None, timeout: float = 30.0) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    method = "GET" if data is None else "POST"
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (127.0.0.1)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (127.0.0.1)
        return json.loads(response.read())


def base_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _TWOWAY_ENV_NAMES and not k.startswith(_TWOWAY_ENV_PREFIXES)
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- Databases ------------------------------------------------------------------------------


class Database:
    """One fresh database for one benchmark run."""

    def __init__(self, kind: str, workdir: Path, pg_admin_url: str = DEFAULT_PG_ADMIN_URL) -> None:
        self.kind = kind
        self.workdir = workdir
        self.pg_admin_url = pg_admin_url
        if kind == "sqlite":
            self.path = workdir / "twoway.sqlite3"
            self.name = str(self.path)
            self.url = f"sqlite:///{self.path}"
        elif kind == "postgres":
            self.name = "twoway_bench_" + secrets.token_hex(5)
            self.url = urlunsplit(urlsplit(pg_admin_url)._replace(path="/" + self.name))
        else:
            raise ValueError(f"unknown database kind {kind!r}")
        self._conn: Any = None

    def env(self) -> dict[str, str]:
        env = base_env()
        env.update(
            DATABASE_URL=self.url,
            TWOWAY_DATA_DIR=str(self.workdir / "data"),
            SECRET_KEY=SECRET_KEY,
            LOG_LEVEL="WARNING",
        )
        return env

    def create(self) -> None:
        if self.kind == "postgres":
            import psycopg
            from psycopg import sql

            with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        result = subprocess.run(  # noqa: S603 (our own argv)
            [*twoway_command(), "migrate", "--verbosity", "0"],
            env=self.env(),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise BenchError(f"twoway migrate failed:\n{result.stderr[-3000:]}")

    def drop(self) -> None:
        self.close()
        if self.kind == "postgres":
            import psycopg
            from psycopg import sql

            with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.name)
                    )
                )

    def connection(self) -> Any:
        """An autocommit DB-API connection of the runner's own, for polling."""
        if self._conn is None:
            if self.kind == "sqlite":
                self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            else:
                import psycopg

                self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn

    def scalar(self, query: str, params: Sequence[Any] = ()) -> Any:
        if self.kind == "sqlite":
            query = query.replace("%s", "?")
        row = self.connection().execute(query, params).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# What autovacuum does when a table changed enough (PostgreSQL's defaults): ANALYZE after 50 rows
# plus 10% of the table were written, VACUUM after 50 plus 20% became dead.
ANALYZE_THRESHOLD, ANALYZE_SCALE = 50, 0.1
VACUUM_THRESHOLD, VACUUM_SCALE = 50, 0.2
# How often the stand-in looks (autovacuum's naptime is 60 s; a benchmark is minutes long).
AUTOVACUUM_NAPTIME = 5.0


class AutovacuumStandIn:
    """Does autovacuum's work on a PostgreSQL server that has it switched off.

    Test servers often run with `autovacuum = off` (CI's here does); a production server never
    should. Without it nothing ever refreshes a fast-growing table's statistics, and long-lived
    connections keep plans made when the table was empty: the foreign-key checks of every row
    the worker inserts then read the whole referenced table (measured: 10,000 sequential scans
    of the conversations and the contacts in one run, the worker at a quarter of its speed).
    So, like autovacuum, a thread looks every few seconds and runs ANALYZE / VACUUM on the
    tables that changed past autovacuum's default thresholds; its work is PostgreSQL's, counted
    in "others" like autovacuum's own would be. With autovacuum on it does nothing."""

    def __init__(self, db: Database) -> None:
        import threading

        self.db = db
        self.runs: list[str] = []  # what it did, for the log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="autovacuum", daemon=True)

    @staticmethod
    def needed(db: Database) -> bool:
        if db.kind != "postgres":
            return False
        import psycopg

        with psycopg.connect(db.url, autocommit=True) as conn:
            row = conn.execute("SHOW autovacuum").fetchone()
        return bool(row) and row[0] == "off"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def _loop(self) -> None:
        import psycopg

        with psycopg.connect(self.db.url, autocommit=True) as conn:
            while not self._stop.wait(AUTOVACUUM_NAPTIME):
                for command, table in self._due(conn):
                    conn.execute(f'{command} "{table}"')  # names from pg_stat_user_tables
                    self.runs.append(f"{command} {table}")

    @staticmethod
    def _due(conn: Any) -> list[tuple[str, str]]:
        rows = conn.execute(
            "SELECT s.relname, s.n_dead_tup, s.n_mod_since_analyze, greatest(c.reltuples, 0)"
            " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
        ).fetchall()
        due = []
        for table, dead, modified, tuples in rows:
            if dead > VACUUM_THRESHOLD + VACUUM_SCALE * tuples:
                due.append(("VACUUM (ANALYZE)", table))
            elif modified > ANALYZE_THRESHOLD + ANALYZE_SCALE * tuples:
                due.append(("ANALYZE", table))
        return due


@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path, pg_admin_url: str) -> Iterator[Database]:
    workdir.mkdir(parents=True, exist_ok=True)
    db = Database(kind, workdir, pg_admin_url)
    try:
        db.create()
        yield db
    finally:
        db.drop()


# --- Processes ------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


def _child_setup() -> None:
    """Children get SIGTERM when the runner dies, even by SIGKILL: nothing outlives a run."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        # A process group may keep children (uvicorn's workers) after its leader went.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL: the crash a worker must survive without losing or duplicating a message.

        The whole process group: a `twoway worker` running several processes dies with all of
        them, as one process would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def spawn(name: str, argv: list[str], env: dict[str, str], cwd: Path, log_dir: Path) -> Child:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{int(time.time() * 1000)}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own argv)
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup,  # the runner starts children from one thread only
        )
    return Child(name, process, log_path)


def rss_kib(pid: int) -> int:
    """Resident set size of one process, from /proc (KiB)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _udp_inodes_on_port(port: int) -> set[str]:
    inodes = set()
    with open("/proc/net/udp") as table:
        next(table)
        for line in table:
            parts = line.split()
            if int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def listens_udp(pid: int, port: int) -> bool:
    """True once the process has bound the UDP port (the worker's wake-up socket)."""
    return bool(_udp_inodes_on_port(port) & _socket_inodes(pid))


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc (children of every thread)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo += [int(child) for child in children.read().split()]
    return tree


def workers_listen(pid: int, port: int, processes: int) -> bool:
    """True once every worker process of a `twoway worker` has bound the wake-up port: the
    process itself, or `processes` children of its supervisor (whose job runners bind none)."""
    children = process_tree(pid)[1:]
    if not children:
        return listens_udp(pid, port)
    return sum(listens_udp(p, port) for p in children) >= processes


def tcp_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (127.0.0.1)
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class FakeCarrierConfig:
    latency_ms: float = 0.0
    error_rate: float = 0.0


@dataclass
class StackConfig:
    web_processes: int = 1
    workers: int = 1
    worker_concurrency: int | None = None  # None: Twoway's default (WORKER_CONCURRENCY)
    # Processes each `twoway worker` supervises; None: Twoway's default (WORKER_PROCESSES).
    worker_processes: int | None = None
    fake: FakeCarrierConfig | None = field(default_factory=FakeCarrierConfig)
    env: dict[str, str] = field(default_factory=dict)  # more Twoway settings
    start_workers: bool = True
    # py-spy samples web and workers into this directory (collapsed stacks) when set; with
    # `profile_gil` only samples holding the GIL (CPU), else waits on locks and I/O too.
    profile_dir: Path | None = None
    profile_gil: bool = False


class Stack:
    """Twoway's web server and workers plus the fake carrier, for one database."""

    def __init__(self, db: Database, config: StackConfig) -> None:
        self.db = db
        self.config = config
        self.workdir = db.workdir
        self.log_dir = db.workdir / "logs"
        self.web_port = free_port()
        self.wake_port = free_port(socket.SOCK_DGRAM)
        self.fake_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.fake_url = f"http://127.0.0.1:{self.fake_port}"
        self.web: Child | None = None
        self.fake: Child | None = None
        self.workers: list[Child | None] = [None] * config.workers
        self.profilers: list[Child] = []
        self.autovacuum: AutovacuumStandIn | None = None
        self.env = db.env()
        self.env.update(
            WORKER_WAKE_PORT=str(self.wake_port),
            TWOWAY_PUBLIC_URL=self.web_url,
            TWOWAY_DEFAULT_CARRIER="twilio",
            TWILIO_ACCOUNT_SID=TWILIO_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=TWILIO_AUTH_TOKEN,
            TWILIO_API_BASE_URL=self.fake_url,
        )
        if config.worker_concurrency:
            self.env["WORKER_CONCURRENCY"] = str(config.worker_concurrency)
        if config.worker_processes:
            self.env["WORKER_PROCESSES"] = str(config.worker_processes)
        self.env.update(config.env)

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if AutovacuumStandIn.needed(self.db):
            self.autovacuum = AutovacuumStandIn(self.db)
            self.autovacuum.start()
        if self.config.fake is not None:
            self.start_fake(self.config.fake)
        self.web = spawn(
            "web",
            [
                *twoway_command(),
                "web",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.web_port),
                "--processes",
                str(self.config.web_processes),
            ],
            self.env,
            self.workdir,
            self.log_dir,
        )
        self._wait_alive(self.web, lambda: http_ok(self.web_url + "/healthz"), "twoway web")
        self.profile(self.web)
        if self.config.start_workers:
            for index in range(self.config.workers):
                self.start_worker(index)

    def start_fake(self, fake: FakeCarrierConfig) -> None:
        self.fake = spawn(
            "fake-twilio",
            [
                PYTHON,
                "-m",
                "bench.fakes.twilio_api",
                "--port",
                str(self.fake_port),
                "--latency-ms",
                str(fake.latency_ms),
                "--error-rate",
                str(fake.error_rate),
                "--auth-token",
                TWILIO_AUTH_TOKEN,
            ],
            self.env,
            self.workdir,
            self.log_dir,
        )
        self._wait_alive(self.fake, lambda: tcp_open(self.fake_port), "the fake carrier")

    @property
    def worker_processes(self) -> int:
        """The worker processes each `twoway worker` runs (Twoway's default: 2 on PostgreSQL)."""
        if self.config.worker_processes:
            return self.config.worker_processes
        return 2 if self.db.kind == "postgres" else 1

    def start_worker(self, index: int = 0) -> Child:
        worker = spawn(
            f"worker{index}", [*twoway_command(), "worker"], self.env, self.workdir, self.log_dir
        )
        self.workers[index] = worker
        self._wait_alive(
            worker,
            lambda: workers_listen(worker.pid, self.wake_port, self.worker_processes),
            f"twoway worker {index}",
        )
        self.profile(worker)
        return worker

    def profile(self, child: Child) -> None:
        """Sample `child` with py-spy (not a dependency: `pip install py-spy` to use it)."""
        if self.config.profile_dir is None:
            return
        self.config.profile_dir.mkdir(parents=True, exist_ok=True)
        name = f"{self.workdir.name}-{child.name}-{child.pid}"
        py_spy = Path(PYTHON).with_name("py-spy")
        argv = [str(py_spy) if py_spy.exists() else "py-spy", "record", "--format", "raw"]
        argv += ["--rate", "100", "--nonblocking", "--subprocesses", "--threads"]
        argv += ["--gil"] if self.config.profile_gil else []
        argv += ["--pid", str(child.pid), "--output", str(self.config.profile_dir / name)]
        self.profilers.append(spawn(f"py-spy-{child.name}", argv, base_env(), REPO, self.log_dir))

    def worker(self, index: int = 0) -> Child:
        worker = self.workers[index]
        if worker is None:
            raise BenchError(f"worker {index} is not running")
        return worker

    def stop_workers(self) -> None:
        """SIGTERM every worker and wait: what they had in flight is sent and recorded."""
        for index, worker in enumerate(self.workers):
            if worker is not None:
                worker.stop(timeout=60)
                self.workers[index] = None

    def worker_rss_mib(self) -> float:
        """Resident memory of all workers together (MiB)."""
        pids = [p for w in self.workers if w and w.alive() for p in process_tree(w.pid)]
        return sum(rss_kib(pid) for pid in pids) / 1024

    def check_alive(self) -> None:
        for child in [self.web, self.fake, *self.workers]:
            if child is not None and not child.alive():
                raise BenchError(f"{child.name} exited early:\n{child.log_tail()}")

    def _wait_alive(self, child: Child, ready: Callable[[], bool], what: str) -> None:
        def check() -> bool:
            if not child.alive():
                raise BenchError(f"{what} exited at start:\n{child.log_tail()}")
            return ready()

        wait_until(check, 60, what)

    def fake_deliveries(self) -> list[dict[str, Any]]:
        return list(http_json(self.fake_url + "/_fake/deliveries?with=at", timeout=60))

    def fake_requests_count(self) -> int:
        return len(http_json(self.fake_url + "/_fake/requests", timeout=60))

    def stop(self) -> None:
        for profiler in self.profilers:  # SIGINT makes py-spy write what it sampled
            with contextlib.suppress(ProcessLookupError):
                os.killpg(profiler.pid, signal.SIGINT)
        for profiler in self.profilers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                profiler.process.wait(timeout=30)
            profiler.stop()
        # Workers first: they finish in-flight sends, which needs the fake still answering.
        for worker in self.workers:
            if worker is not None:
                worker.stop()
        for child in (self.web, self.fake):
            if child is not None:
                child.stop()
        if self.autovacuum is not None:
            self.autovacuum.stop()
            runs = self.autovacuum.runs
            vacuums = sum(1 for run in runs if run.startswith("VACUUM"))
            print(
                f"   autovacuum is off on this server; the bench's stand-in ran ANALYZE"
                f" {len(runs) - vacuums} times and VACUUM (ANALYZE) {vacuums} times",
                file=sys.stderr,
            )


# --- Helper processes -----------------------------------------------------------------------


def run_orm(command: str, payload: Any, env: dict[str, str], timeout: float = 600) -> Any:
    """Run a bench.orm command (Django ORM against the bench database) in its own process."""
    result = subprocess.run(  # noqa: S603 (our own argv)
        [PYTHON, "-m", "bench.orm", command],
        input=json.dumps(payload),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise BenchError(f"bench.orm {command} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_loadgen(spec: dict[str, Any], workdir: Path, timeout: float) -> dict[str, Any]:
    """Run the load generator in its own process and read back its per-request timings."""
    stamp = f"{time.time_ns()}"
    spec_path = workdir / f"loadgen-{stamp}.json"
    out_path = workdir / f"loadgen-{stamp}-out.json"
    spec_path.write_text(json.dumps(spec))
    result = subprocess.run(  # noqa: S603 (our own argv)
        [PYTHON, "-m", "bench.loadgen", str(spec_path), str(out_path)],
        env=base_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise BenchError(f"bench.loadgen failed:\n{result.stderr[-4000:]}")
    out: dict[str, Any] = json.loads(out_path.read_text())
    spec_path.unlink(missing_ok=True)
    out_path.unlink(missing_ok=True)
    return out


def proc_cpu_seconds(pid: int, *, reaped_children: bool = True) -> float | None:
    """CPU seconds (user + system) a live process has used, from /proc/<pid>/stat, with those of
    its children it has waited for when `reaped_children`; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return ""


def postgres_pids(db: Database) -> list[int]:
    """The local PostgreSQL processes that work for `db`: its backends (not the runner's own
    polling connection), the server's background processes (checkpointer, WAL writer, ...) and
    the postmaster. Empty on SQLite, and when the server runs on another machine."""
    if db.kind != "postgres":
        return []
    rows = (
        db.connection()
        .execute(
            "SELECT pid FROM pg_stat_activity WHERE (datname = current_database() OR datname IS"
            " NULL) AND pid <> pg_backend_pid()"
        )
        .fetchall()
    )
    pids = [int(pid) for (pid,) in rows if _comm(int(pid)) == "postgres"]
    if pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{pids[0]}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            if _comm(parent) == "postgres":
                pids.append(parent)
    return pids


class CpuMeter:
    """CPU seconds used between `start()` and `stop()` by groups of live processes, by the whole
    machine (/proc/stat) and by the runner itself.

    Each group is a function listing its processes now and whether their waited-for children
    count (a supervisor's exited job runners do; the postmaster's are every database's backends,
    so they do not). A process is counted from its value at `start()`, or in full when it
    appeared since; one that exits before `stop()` is lost (unless its parent in the group
    waited for it), so groups should be of processes that stay alive."""

    def __init__(self, groups: dict[str, tuple[Callable[[], Sequence[int]], bool]]) -> None:
        self.groups = groups
        self._before: dict[str, dict[int, float]] = {}
        self._machine = 0.0
        self._runner = 0.0

    def _sample(self, name: str) -> dict[int, float]:
        pids, children = self.groups[name]
        values = {pid: proc_cpu_seconds(pid, reaped_children=children) for pid in pids()}
        return {pid: value for pid, value in values.items() if value is not None}

    @staticmethod
    def _runner_seconds() -> float:
        times = os.times()
        return times.user + times.system

    def start(self) -> None:
        self._before = {name: self._sample(name) for name in self.groups}
        self._machine = cpu_seconds()[0]
        self._runner = self._runner_seconds()

    def stop(self) -> dict[str, float]:
        """Seconds per group, plus "machine" (all CPUs busy) and "runner" (this process)."""
        used = {}
        for name in self.groups:
            before = self._before.get(name, {})
            after = self._sample(name)
            used[name] = sum(max(value - before.get(pid, 0.0), 0.0) for pid, value in after.items())
        used["machine"] = cpu_seconds()[0] - self._machine
        used["runner"] = self._runner_seconds() - self._runner
        return used


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over `seconds` (0..1), from /proc/stat: are others using the box?"""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by the whole machine, and by this runner with its finished
    children (web, workers, fake carrier, load generator: not PostgreSQL's backends)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    machine_busy = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    times = os.times()
    ours = times.user + times.system + times.children_user + times.children_system
    return machine_busy, ours


def git_revision() -> str:
    """The commit measured, and whether the tree had changes on top of it (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        # --no-optional-locks: never write the index others' git commands may be using.
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' + local changes' if dirty else ''}"


def wait_quiet(limit: float, timeout: float) -> float:
    """Wait (at most `timeout` s) until the machine is busy less than `limit`; the last sample."""
    deadline = time.monotonic() + timeout
    busy = cpu_busy(2.0)
    while busy > limit and time.monotonic() < deadline:
        busy = cpu_busy(2.0)
    return busy


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_mib = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                mem_mib = int(line.split()[1]) // 1024
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_mib": mem_mib,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "twoway": git_revision(),
    }
