"""ASGI entry point: `uvicorn twoway.asgi:application` (what `twoway web` runs).

Carrier webhooks (`/webhooks/...`) take a lean path. A POST to `/webhooks/<carrier>/` is
verified and parsed on the event loop and its event handed to an `EventRecorder`, which stores
the events of concurrent webhooks with one statement and one commit on a thread of its own; the
answer goes out once the event is committed (`WebhookPath`). Any other request there goes to
Django with none of the browser's middleware (WhiteNoise, sessions, CSRF, authentication,
messages, clickjacking, htmx): a webhook uses none of it, the carrier's signature being its
authentication. Under ASGI every sync middleware and view is a hop between the event loop and a
thread, and on the empty view those hops were about three quarters of the CPU
(docs/performance.md). An API send (`POST /api/v1/messages`) takes a lean path of its own too
(`api.send_path`). Everything else gets the full stack.
"""

import io
import logging
import os
import re
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
# No persistent database connections under ASGI (Django's own advice): each request runs its sync
# code in a context of its own, so a kept connection is never reused, only left open until garbage
# collection, and a burst of webhooks exhausts PostgreSQL's max_connections. On PostgreSQL the
# settings give the web server a connection pool instead.
os.environ.setdefault("TWOWAY_CONN_MAX_AGE", "0")
# Sets Django up, which the imports below need (they load models).
django_application = get_asgi_application()

from twoway.api.send_path import SendPath, is_send  # noqa: E402
from twoway.carrier_events.store import (  # noqa: E402
    EventRecorder,
    carrier_event_row,
    carrier_event_row_unparsed,
)
from twoway.carrier_events.webhooks import (  # noqa: E402
    WebhookAnswer,
    WebhookTarget,
    webhook_answer,
    webhook_request,
    webhook_target,
    webhook_target_cached,
)
from twoway.core.asgi_body import TOO_LARGE, request_body  # noqa: E402

WEBHOOK_PATH = "/webhooks/"
# Middleware of the webhook path: none (see above).
WEBHOOK_MIDDLEWARE: list[str] = []
# The webhook URLs of carrier_events/urls.py under WEBHOOK_PATH: `<slug:carrier>/` and
# `<slug:carrier>/<slug:account>/`.
WEBHOOK_ROUTE = re.compile(r"/webhooks/([-a-zA-Z0-9_]+)/(?:([-a-zA-Z0-9_]+)/)?")

log = logging.getLogger("twoway.carrier_events.webhooks")


class WebhookASGIHandler(ASGIHandler):
    """Django's ASGI handler with WEBHOOK_MIDDLEWARE instead of settings.MIDDLEWARE: what
    `WebhookPath` leaves to Django (another method, a path that is not a carrier's)."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the middleware chain from settings.MIDDLEWARE, once, here at startup.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async=is_async)
        finally:
            settings.MIDDLEWARE = full


class WebhookPath:
    """POST /webhooks/<carrier>/[<account>/] without Django's request cycle, its events stored
    together.

    The steps and answers are the view's (`carriers.webhooks.webhook_answer`); Django's request
    object still gives the URL the carrier called (ALLOWED_HOSTS, proxy settings). Verifying and
    parsing are CPU work of a few tens of microseconds, done on the event loop; the only wait,
    storing, happens on the recorder's thread, one commit for every webhook that came in
    meanwhile. A carrier account's adapter comes from memory, and from the database on a thread
    when the account was not read in the last few seconds (`carriers.registry`). Anything else
    under /webhooks/ goes to `fallback`.
    """

    def __init__(self, fallback: ASGIHandler) -> None:
        self.fallback = fallback
        self.recorder = EventRecorder()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        route = self._route(scope)
        if route is None:
            await self.fallback(scope, receive, send)
            return
        body = await request_body(receive)
        if body is None:
            return  # the carrier hung up: it will retry
        answer = await self._answer(scope, *route, body)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (b"content-type", answer.content_type.encode()),
                    (b"content-length", str(len(answer.body.encode())).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body.encode()})

    @staticmethod
    def _route(scope: dict[str, Any]) -> tuple[str, str | None] | None:
        """(carrier, account) of a POST to a webhook URL; None for anything else."""
        if scope["method"] != "POST":
            return None
        match = WEBHOOK_ROUTE.fullmatch(_app_path(scope))
        return (match.group(1), match.group(2)) if match else None

    async def _answer(
        self, scope: dict[str, Any], carrier: str, account: str | None, body: bytes
    ) -> WebhookAnswer:
        if body is TOO_LARGE:
            return WebhookAnswer(400, "Request body too large.")
        request = ASGIRequest(scope, io.BytesIO(body))
        try:
            webhook = webhook_request(request, _headers(scope), body)
        except SuspiciousOperation as exc:  # a host not allowed, a body too large, ...
            log.warning("Refused a %s webhook: %s", carrier, exc)
            return WebhookAnswer(400, "Bad request.")
        target = webhook_target_cached(carrier, account)
        if target is None and account is not None:
            # An account not looked up lately (at most every few seconds): read off the loop.
            target = await sync_to_async(_target_from_database)(carrier, account)
        answer = webhook_answer(
            carrier, webhook, request.META.get("REMOTE_ADDR", ""), target=target, account=account
        )
        if answer.event is not None:
            row = carrier_event_row(
                carrier, answer.event, carrier_account_id=answer.carrier_account_id
            )
        elif answer.unparsed is not None:
            row = carrier_event_row_unparsed(
                carrier, answer.unparsed, carrier_account_id=answer.carrier_account_id
            )
        else:
            return answer
        try:
            await self.recorder.record(row)
        except Exception:  # logged by the recorder; the carrier retries a 5xx
            return WebhookAnswer(503, "Could not store the event; please retry.")
        return answer


webhook_application = WebhookPath(WebhookASGIHandler())


def _target_from_database(carrier: str, account: str) -> WebhookTarget | None:
    """`webhook_target` on a worker thread, its connection handled as around a request."""
    close_old_connections()
    try:
        return webhook_target(carrier, account)
    finally:
        close_old_connections()


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    """The request's headers, names lower-cased; a repeated header's values joined with commas,
    as Django does."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def _app_path(scope: dict[str, Any]) -> str:
    """The request's path below the application's root (a prefix a proxy may add)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path


def is_webhook(scope: dict[str, Any]) -> bool:
    return scope["type"] == "http" and _app_path(scope).startswith(WEBHOOK_PATH)


send_application = SendPath(django_application)  # type: ignore[arg-type]


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if is_webhook(scope):
        handler: Any = webhook_application
    elif is_send(scope):
        handler = send_application
    else:
        handler = django_application
    await handler(scope, receive, send)
