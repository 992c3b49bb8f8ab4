"""Real `twoway web` and `twoway worker` processes for the fault tests, and a carrier that
posts signed Twilio webhooks to them."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "fault-test-auth-token"
HANDSET = "+12025550172"


def ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


class Process:
    """A `twoway` subcommand in a session of its own; its output goes to a file shown on
    failure."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "twoway.cli", *self.argv],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole session: nothing of it gets to finish anything."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def log(self) -> str:
        try:
            return f"=== {self.name} ===\n" + self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""


class WebServer(Process):
    def __init__(self, port: int, env: dict[str, str], log_dir: Path) -> None:
        super().__init__("web", ["web", "--host", "127.0.0.1", "--port", str(port)], env, log_dir)
        self.port = port

    def start(self, timeout: float = 20.0) -> None:
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"twoway web exited\n{self.log()}")
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            time.sleep(0.05)
        raise AssertionError(f"twoway web did not answer within {timeout:g} s\n{self.log()}")


def web_env(base: dict[str, str], port: int, **extra: str) -> dict[str, str]:
    """The settings of a web server on `port` taking Twilio webhooks signed with AUTH_TOKEN."""
    env = dict(base)
    env.update(
        TWOWAY_PUBLIC_URL=f"http://127.0.0.1:{port}",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


class Carrier:
    """Posts signed inbound texts as Twilio does, one request at a time."""

    def __init__(self, port: int, to: str, timeout: float = 15.0) -> None:
        self.port = port
        self.to = to
        self.url = f"http://127.0.0.1:{port}/webhooks/twilio/"
        self.timeout = timeout  # what Twilio waits for an answer

    @staticmethod
    def new_sid() -> str:
        return "SM" + uuid.uuid4().hex

    def post(self, sid: str, body: str = "Is my appointment still on?") -> int | None:
        """The answer's status; None when no answer came (refused, reset, timed out)."""
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": HANDSET,
            "To": self.to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        signature = RequestValidator(AUTH_TOKEN).compute_signature(self.url, form)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            connection.request(
                "POST",
                "/webhooks/twilio/",
                body=urlencode(form),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                },
            )
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):  # a connection cut mid-answer too
            return None
        finally:
            connection.close()
