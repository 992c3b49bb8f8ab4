"""ASGI entry point: `uvicorn twoway.asgi:application` (what `twoway web` runs).

Carrier webhooks (`/webhooks/...`) take a lean path: Django with none of the browser's
middleware (WhiteNoise, sessions, CSRF, authentication, messages, clickjacking, htmx). A webhook
uses none of it, the carrier's signature being its authentication, and under ASGI every sync
middleware is a hop between the event loop and a thread: on the empty view those hops were about
three quarters of the CPU (docs/performance.md). Everything else gets the full stack.
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.asgi import get_asgi_application
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.http import HttpResponseBase
from django.urls import set_script_prefix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
# No persistent database connections under ASGI (Django's own advice): each request runs its sync
# code in a context of its own, so a kept connection is never reused, only left open until garbage
# collection, and a burst of webhooks exhausts PostgreSQL's max_connections. On PostgreSQL the
# settings give the web server a connection pool instead.
os.environ.setdefault("TWOWAY_CONN_MAX_AGE", "0")

WEBHOOK_PATH = "/webhooks/"
# Middleware of the webhook path: none (see above).
WEBHOOK_MIDDLEWARE: list[str] = []
# Threads one web process runs webhooks on: enough to overlap database round trips, at most the
# connection pool's size so none waits for a connection.
WEBHOOK_THREADS = 8


class WebhookASGIHandler(ASGIHandler):
    """Django's ASGI handler with WEBHOOK_MIDDLEWARE instead of settings.MIDDLEWARE, which runs
    each request's sync part (signals, the view, closing the response) in one call on a small
    pool of long-lived threads.

    Django's own handler makes a new thread for every request (a context of its own) and hops to
    it three times (request_started, the sync view, response.close); here it is one hop to a
    thread that already exists. The database connection stays with its thread and Django's
    request signals run there too, so each request still hands its connection back to the pool.
    """

    def __init__(self) -> None:
        super().__init__()
        pooled = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
        threads = min(WEBHOOK_THREADS, settings.DB_POOL_SIZE) if pooled else WEBHOOK_THREADS
        self.executor = ThreadPoolExecutor(max_workers=max(threads, 1), thread_name_prefix="hook")

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the middleware chain from settings.MIDDLEWARE, once, here at startup;
        # the chain is sync, as it runs on the executor's threads.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async=False)
        finally:
            settings.MIDDLEWARE = full

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(self.executor, self._respond, scope, body_file)
        await self.send_response(response, send)

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """The request's whole sync part, on one of the executor's threads."""
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, response = self.create_request(scope, body_file)
            if request is not None:
                response = self.get_response(request)
            assert response is not None
            # The body is in memory: closing now sends request_finished from this thread,
            # which gives the database connection back.
            response.close()
            return response
        finally:
            body_file.close()
            # The thread outlives the request: its connection goes back (to the pool) now, as
            # with CONN_MAX_AGE=0, whatever the settings say, and never outlives the database.
            connections.close_all()


django_application = get_asgi_application()
webhook_application = WebhookASGIHandler()


def is_webhook(scope: dict[str, Any]) -> bool:
    if scope["type"] != "http":
        return False
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.startswith(WEBHOOK_PATH)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    handler = webhook_application if is_webhook(scope) else django_application
    await handler(scope, receive, send)
