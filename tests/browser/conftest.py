"""Browser tests: Debian's chromium against the real `twoway serve`, started as a user starts it.

The server runs in a subprocess with a database of its own (a fresh PostgreSQL database when
DATABASE_URL points at PostgreSQL, else a SQLite file), so these tests never use pytest-django's
database fixtures.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ADMIN_EMAIL = "owner@e2e.test"
ADMIN_PASSWORD = "e2e-correct-horse-battery"
SCREENSHOTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
LOG_TAIL_CHARS = 6000


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Debian's chromium (never a downloaded one), headless."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `apt-get install chromium` to run the browser tests."
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS, "headless": True}


@dataclass
class TwowayServer:
    url: str
    admin_email: str
    admin_password: str
    log_path: Path

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-chars:]


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connection(url: str) -> Any:
    import psycopg

    # The maintenance database: the one DATABASE_URL names may not exist.
    return psycopg.connect(_with_database(url, "postgres"), autocommit=True)


@pytest.fixture(scope="session")
def _server_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A DATABASE_URL for the server: a new PostgreSQL database, or a SQLite file."""
    configured = os.environ.get("DATABASE_URL", "")
    if not _is_postgres(configured):
        yield f"sqlite:///{tmp_path_factory.mktemp('twoway-db') / 'twoway.sqlite3'}"
        return
    name = f"twoway_e2e_{secrets.token_hex(4)}"
    with _admin_connection(configured) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(configured, name)
    finally:
        with _admin_connection(configured) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_until_up(proc: subprocess.Popen[bytes], server: TwowayServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last_error = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"`twoway serve` exited with {proc.returncode} before answering.\n"
                f"--- log tail ---\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/login/", timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.2)
    raise RuntimeError(
        f"`twoway serve` did not answer GET /login/ with 200 within {START_TIMEOUT:.0f} s "
        f"(last: {last_error}).\n--- log tail ---\n{server.log_tail()}"
    )


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(proc: subprocess.Popen[bytes]) -> str:
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group.

    Returns "" when `twoway serve` and all its children stopped within STOP_TIMEOUT, else what
    was left (which is then killed).
    """
    pgid = proc.pid  # start_new_session=True made it the group leader
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_TIMEOUT)
    # The web server and the worker must be gone too, not just the supervisor.
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if proc.poll() is None:
        problem = "`twoway serve` itself was still running"
    elif _group_alive(pgid):
        problem = "`twoway serve` exited but left child processes running"
    else:
        return ""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    proc.wait()
    return f"{problem} {STOP_TIMEOUT:.0f} s after Ctrl-C (SIGINT); killed them."


_SERVER_KEY = pytest.StashKey[TwowayServer]()


@pytest.fixture(scope="session")
def twoway_server(
    _server_database: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[TwowayServer]:
    """`twoway serve` on a free port, as an operator runs it; Ctrl-C must stop all of it."""
    workdir = tmp_path_factory.mktemp("twoway-serve")
    port = _free_port()
    env = dict(os.environ)
    env.pop("HOST", None)
    env.pop("PORT", None)
    env.update(
        DATABASE_URL=_server_database,
        TWOWAY_DATA_DIR=str(workdir / "data"),
        WORKER_WAKE_PORT=str(_free_port(socket.SOCK_DGRAM)),
        SIMULATOR_DELIVERY_DELAY="0.5",
        # The webhooks test's receiver listens on this machine.
        TWOWAY_WEBHOOKS_ALLOW_PRIVATE="1",
        TWOWAY_ADMIN_EMAIL=ADMIN_EMAIL,
        TWOWAY_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PYTHONUNBUFFERED="1",
    )
    server = TwowayServer(
        url=f"http://127.0.0.1:{port}",
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        log_path=workdir / "twoway-serve.log",
    )
    with server.log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "twoway.cli", "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(proc, server)
    except RuntimeError as exc:
        _stop(proc)
        pytest.fail(str(exc), pytrace=False)
    request.config.stash[_SERVER_KEY] = server
    yield server
    problem = _stop(proc)
    if request.session.testsfailed:
        print(f"\n--- `twoway serve` log ---\n{server.log_tail()}")
    assert not problem, f"{problem}\n--- log tail ---\n{server.log_tail()}"
    assert proc.returncode == 0, (
        f"`twoway serve` exited with {proc.returncode} on Ctrl-C.\n{server.log_tail()}"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed browser test's report ends with what the server logged."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    server = item.config.stash.get(_SERVER_KEY, None)
    if report.failed and server is not None:
        report.sections.append(("twoway serve log (tail)", server.log_tail()))


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """When a test that drives a browser fails, keep a screenshot of each of its pages."""
    if "page" not in request.fixturenames and "context" not in request.fixturenames:
        yield
        return
    context = request.getfixturevalue("context")  # set up first, so torn down after this
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    out = Path(request.config.getoption("--output")).absolute() / "failures"
    out.mkdir(parents=True, exist_ok=True)
    stem = request.node.name
    for index, page in enumerate(context.pages, start=1):
        path = out / f"{stem}-{index}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"Could not screenshot {page.url}: {exc}")
        else:
            print(f"Screenshot of {page.url}: {path}")


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS_DIR


@pytest.fixture(scope="session")
def twoway_cli(
    twoway_server: TwowayServer, _server_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., str]:
    """Run a `twoway` command (createadmin, manage, ...) on the running server's database, as an
    operator would from a shell; returns its output, failing the test when it fails."""
    data_dir = tmp_path_factory.mktemp("twoway-cli-shared")

    def run(*args: str) -> str:
        env = dict(os.environ)
        env.update(DATABASE_URL=_server_database, TWOWAY_DATA_DIR=str(data_dir))
        result = subprocess.run(
            [sys.executable, "-m", "twoway.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"twoway {args[0]} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    return run
