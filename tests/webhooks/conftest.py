"""A real HTTP receiver on this machine (a server in a thread) and the webhook jobs run here,
one pass at a time, so a test decides when time has passed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from twoway.accounts.models import Membership
from twoway.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from twoway.webhooks.services import endpoint_create
from twoway.webhooks.tasks import webhook_deliver_job


@dataclass
class Received:
    headers: dict[str, str]
    body: str

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # The statuses to answer, in turn; 200 once they run out.
    answers: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private(settings: Any) -> None:
    settings.TWOWAY_WEBHOOKS_ALLOW_PRIVATE = True
    settings.TWOWAY_WEBHOOKS_TIMEOUT_SECONDS = 2.0


ALL_TYPES = [
    "message.received",
    "message.sent",
    "message.status",
    "contact.opted_out",
    "contact.opted_in",
]


@pytest.fixture
def endpoint(admin: Membership, receiver: Receiver, allow_private: None) -> WebhookEndpoint:
    return endpoint_create(actor=admin, url=receiver.url, description="CRM", event_types=ALL_TYPES)


def run_webhook_jobs() -> list[str]:
    """Run the delivery jobs that are due, and those they enqueue for now, as a job runner
    would; the results, in order. A test moves the clock with `make_due`."""
    results = []
    path = webhook_deliver_job.module_path
    while True:
        jobs = list(
            DBTaskResult.objects.ready().filter(task_path=path).order_by("enqueued_at", "id")
        )
        if not jobs:
            return results
        for job in jobs:
            job.delete()
            results.append(
                webhook_deliver_job.func(*job.args_kwargs["args"], **job.args_kwargs["kwargs"])
            )


def enqueued_webhook_jobs() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=webhook_deliver_job.module_path))


def make_due() -> None:
    """Time passes until every waiting retry, and its job, is due."""
    now = timezone.now()
    WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=now)
    DBTaskResult.objects.filter(task_path=webhook_deliver_job.module_path).update(run_after=now)
