"""POST /api/v1/messages on a lean path: the texts of concurrent requests queued together.

Under ASGI every request through Django's full stack costs a dozen hops between the event loop
and threads (each sync middleware, the view, the request signals), and each text its own
transaction. Here a send is read and checked against its schema on the event loop and handed
to a thread of its own (`core.grouped`), which authenticates the keys of everything that came
in meanwhile with one query and queues all their texts with `texts_send`: one transaction and
one commit for the group. Each request is answered once its own text is committed (201), or
with the error that refused it, in the same words and format as the API's view.

Whatever this path does not answer itself goes to Django with the body it read: a body that
does not match the schema, a missing or unknown key, an address refused for too many wrong
keys, a request that must be redirected to HTTPS. Django's answer to those is the API's own.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from csp.middleware import CSPMiddleware
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from ninja.responses import NinjaJSONEncoder
from psycopg_pool import PoolTimeout
from pydantic import ValidationError

from twoway.accounts.api_keys import api_key_mark_used
from twoway.accounts.models import ApiKey
from twoway.accounts.throttling import API_KEYS, client_address
from twoway.api.messages import text_to_send
from twoway.api.schemas import MessageIn, MessageOut
from twoway.conversations.models import Message
from twoway.core.asgi_body import TOO_LARGE, request_body
from twoway.core.errors import TwowayError
from twoway.core.grouped import GroupedWork
from twoway.messaging.send_batch import failed_before_commit, texts_send

SEND_PATH = "/api/v1/messages"


@dataclass(frozen=True)
class _Send:
    request: HttpRequest
    key: str
    payload: MessageIn


class _Django:
    """This request is Django's to answer (no key, a wrong key, a refused address)."""


DJANGO = _Django()


class TextQueue(GroupedWork[_Send, "Message | TwowayError | _Django"]):
    THREAD_NAME = "api-sends"

    def do(self, items: Sequence[_Send]) -> list[Message | TwowayError | _Django]:
        try:
            return _send_group(items)
        except (OperationalError, InterfaceError) as exc:
            connections.close_all()  # a broken connection is not handed on to the next group
            if isinstance(exc.__cause__, PoolTimeout) or not failed_before_commit(exc):
                raise  # the database is down, or the texts may be stored: 503
            # A connection the database dropped (a restart) before anything was stored: one
            # try at once on a new one (the backend replaces the pool's broken ones).
            return _send_group(items)


def _send_group(items: Sequence[_Send]) -> list[Message | TwowayError | _Django]:
    answers: list[Message | TwowayError | _Django] = [DJANGO] * len(items)
    # One look at the wrong-key counter per address, however many of its requests came.
    refused: dict[str, bool] = {}
    for item in items:
        address = client_address(item.request)
        if address not in refused:
            refused[address] = bool(API_KEYS.wait(item.request))
    allowed = [i for i, item in enumerate(items) if not refused[client_address(item.request)]]
    keys = ApiKey.find_active_many({items[i].key for i in allowed})
    for key in keys.values():
        api_key_mark_used(key)
    found = [i for i in allowed if items[i].key in keys]
    texts = [text_to_send(keys[items[i].key].owner, items[i].payload) for i in found]
    for index, result in zip(found, texts_send(texts), strict=True):
        answers[index] = result
    return answers


class SendPath:
    """The ASGI application of POST /api/v1/messages; `fallback` (Django) answers the rest."""

    def __init__(self, fallback: ASGIHandler) -> None:
        self.fallback = fallback
        self.queue = TextQueue()
        self._security = SecurityMiddleware(_no_view)
        self._frames = XFrameOptionsMiddleware(_no_view)
        self._csp = CSPMiddleware(_no_view)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await request_body(receive)
        if body is None:
            return  # the client hung up
        request = ASGIRequest(scope, io.BytesIO(body))
        answer = None if body is TOO_LARGE else await self._answer(request, body)
        if answer is None:
            await self.fallback(scope, _replay(body, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": answer.status_code,
                "headers": [
                    (name.encode("latin-1"), value.encode("latin-1"))
                    for name, value in answer.items()
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.content})

    async def _answer(self, request: HttpRequest, body: bytes) -> HttpResponse | None:
        """The answer, or None for Django to give it."""
        key = _bearer(request)
        if key is None or self._security.process_request(request) is not None:
            return None
        try:
            payload = MessageIn.model_validate_json(body)
        except ValidationError:
            return None  # the view explains it in ninja's format
        try:
            result = await self.queue.submit(_Send(request, key, payload))
        except TwowayError as exc:
            return self._respond(request, exc.status, _error(exc.code, exc.message))
        except Exception:  # logged by the queue's thread
            return self._respond(
                request,
                503,
                _error("unavailable", "The text could not be stored; please try again."),
            )
        if isinstance(result, _Django):
            return None
        return self._respond(
            request, 201, MessageOut.model_validate(result).model_dump(by_alias=True)
        )

    def _respond(self, request: HttpRequest, status: int, data: dict[str, Any]) -> HttpResponse:
        response = HttpResponse(
            json.dumps(data, cls=NinjaJSONEncoder),
            status=status,
            content_type="application/json; charset=utf-8",
        )
        response["Content-Length"] = str(len(response.content))
        self._csp.process_request(request)
        for middleware in (self._csp, self._frames, self._security):
            response = middleware.process_response(request, response)  # type: ignore[assignment]
        return response


def is_send(scope: dict[str, Any]) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] == "POST"
        and scope.get("path", "").removeprefix(scope.get("root_path", "")) == SEND_PATH
    )


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _bearer(request: HttpRequest) -> str | None:
    """The key of `Authorization: Bearer <key>`, read as the API's authentication (ninja's
    HttpBearer) reads it."""
    parts = request.headers.get("Authorization", "").split(" ")
    if parts[0].lower() != "bearer":
        return None
    return " ".join(parts[1:])


def _no_view(request: HttpRequest) -> HttpResponse:
    raise AssertionError("the middleware here only adds headers")


def _replay(body: bytes, receive: Any) -> Any:
    """An ASGI `receive` giving Django the body already read, then what the client sends next
    (its disconnect, which Django listens for while it answers)."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        message: dict[str, Any] = await receive()
        return message

    return replay
