"""ASGI entry point: `uvicorn twoway.asgi:application` (what `twoway web` runs).

Carrier webhooks (`/webhooks/...`) take a lean path: Django with none of the browser's
middleware (WhiteNoise, sessions, CSRF, authentication, messages, clickjacking, htmx). A webhook
uses none of it, the carrier's signature being its authentication, and under ASGI every sync
middleware is a hop between the event loop and a thread: on the empty view those hops were about
three quarters of the CPU (docs/performance.md). Everything else gets the full stack.
"""

import os
from typing import Any

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
# No persistent database connections under ASGI (Django's own advice): each request runs its sync
# code in a context of its own, so a kept connection is never reused, only left open until garbage
# collection, and a burst of webhooks exhausts PostgreSQL's max_connections. On PostgreSQL the
# settings give the web server a connection pool instead.
os.environ.setdefault("TWOWAY_CONN_MAX_AGE", "0")

WEBHOOK_PATH = "/webhooks/"
# Middleware of the webhook path: none (see above).
WEBHOOK_MIDDLEWARE: list[str] = []


class WebhookASGIHandler(ASGIHandler):
    """Django's ASGI handler with WEBHOOK_MIDDLEWARE instead of settings.MIDDLEWARE."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the middleware chain from settings.MIDDLEWARE, once, here at startup.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


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
