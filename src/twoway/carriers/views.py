"""Carrier webhooks: verify → store raw, once → answer. Processing happens in the worker."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from twoway.carriers.base import WebhookParseError, WebhookRequest
from twoway.carriers.registry import UnknownCarrier, get_carrier
from twoway.messaging.inbound import carrier_event_record

log = logging.getLogger(__name__)


def _answer(
    body: str | bytes, *, status: int = 200, content_type: str = "text/plain"
) -> HttpResponse:
    """A response with its length: the webhook path has no CommonMiddleware to add it, and
    without it the answer goes out chunked."""
    response = HttpResponse(body, status=status, content_type=content_type)
    response["Content-Length"] = str(len(response.content))
    return response


def _called_url(request: HttpRequest) -> str:
    """The URL as the carrier called it, which is what its signature covers."""
    if settings.TWOWAY_PUBLIC_URL:
        return settings.TWOWAY_PUBLIC_URL + request.get_full_path()
    return request.build_absolute_uri()


@csrf_exempt
@require_POST
def carrier_webhook(request: HttpRequest, carrier: str) -> HttpResponse:
    try:
        adapter = get_carrier(carrier)
    except UnknownCarrier:
        return _answer("No such carrier.", status=404)
    content_type = request.content_type or ""
    webhook = WebhookRequest(
        url=_called_url(request),
        method=request.method or "POST",
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.body,
        form=request.POST.dict() if content_type.endswith("form-urlencoded") else {},
    )
    if not adapter.verify_signature(webhook):
        log.warning(
            "Rejected %s webhook with a bad signature from %s",
            carrier,
            request.META.get("REMOTE_ADDR"),
        )
        return _answer("Invalid signature.", status=403)
    try:
        event = adapter.parse_webhook(webhook)
    except WebhookParseError as exc:
        log.warning("Malformed %s webhook: %s", carrier, exc)
        return _answer(f"Malformed webhook: {exc}", status=400)
    if event is None:
        log.info("Ignored a %s webhook of a type Twoway does not handle", carrier)
    else:
        carrier_event_record(carrier, event)
    body, body_type = adapter.webhook_response(event)
    return _answer(body, content_type=body_type)
