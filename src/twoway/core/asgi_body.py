"""Reading a request's body on the event loop, for the web server's lean paths (webhooks, API
sends), with Django's size limit."""

from __future__ import annotations

from typing import Any

from django.conf import settings

# What `request_body` gives for a body over DATA_UPLOAD_MAX_MEMORY_SIZE (compared by identity).
TOO_LARGE = b"<too large>"


async def request_body(receive: Any) -> bytes | None:
    """The whole body; None when the client disconnected first. Past Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE nothing more is kept and TOO_LARGE stands for it."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is None or size <= limit:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks) if limit is None or size <= limit else TOO_LARGE
