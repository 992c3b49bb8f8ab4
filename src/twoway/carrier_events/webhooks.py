"""A carrier's webhook, answered: verify → parse → say what to store → answer.

The same steps whichever way the request came in: Django's view (`views.carrier_webhook`) or
the web server's webhook path (`twoway.asgi`), which stores the events of concurrent requests
together. Storing is the caller's part, so each path stores the way it can do fastest.

A webhook comes to /webhooks/<carrier>/, the operator's (verified with the carrier's settings,
TWILIO_AUTH_TOKEN and the like), or to /webhooks/<carrier>/<account>/, a carrier account's
(verified with that account's credentials; `account` is its unguessable webhook key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest

from twoway.carrier_accounts.selectors import (
    carrier_account_for_webhook,
    carrier_account_for_webhook_cached,
)
from twoway.carrier_events.store import UnparsedWebhook
from twoway.carriers.base import (
    Carrier,
    CarrierEventData,
    WebhookParseError,
    WebhookRequest,
    event_without_nul,
)
from twoway.carriers.registry import UnknownCarrier, get_carrier

log = logging.getLogger(__name__)

UNSUPPORTED = "A webhook of a type Twoway does not handle."


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: str
    content_type: str = "text/plain"
    event: CarrierEventData | None = None  # stored (once) before the answer goes out
    carrier_account_id: int | None = None  # whose webhook it came to, stored with the event
    # A verified webhook that made no event: stored as received (and parsed again later).
    unparsed: UnparsedWebhook | None = None


@dataclass(frozen=True)
class WebhookTarget:
    """What a webhook URL names: the adapter that verifies and parses it, and the carrier
    account (None: the operator's webhook)."""

    adapter: Carrier
    carrier_account_id: int | None = None


def webhook_target(carrier: str, account: str | None) -> WebhookTarget | None:
    """Whose webhook /webhooks/<carrier>/[<account>/] is; None when no such carrier or account.
    May read the database (an account not looked up lately)."""
    if account is None:
        return _operator_target(carrier)
    found = carrier_account_for_webhook(carrier, account)
    return None if found is None else WebhookTarget(found[1], found[0])


def webhook_target_cached(carrier: str, account: str | None) -> WebhookTarget | None:
    """`webhook_target` without the database, for an event loop: None also when an account
    would have to be read."""
    if account is None:
        return _operator_target(carrier)
    found = carrier_account_for_webhook_cached(carrier, account)
    return None if found is None else WebhookTarget(found[1], found[0])


def _operator_target(carrier: str) -> WebhookTarget | None:
    try:
        return WebhookTarget(get_carrier(carrier))
    except UnknownCarrier:
        return None


def webhook_request(request: HttpRequest, headers: dict[str, str], body: bytes) -> WebhookRequest:
    """What an adapter needs to verify and parse a webhook: `headers` (names lower-cased) and
    `body` as received, the URL the carrier called from Django's `request`. The form is parsed
    once, without Django's QueryDict. Raises SuspiciousOperation as Django would (too many
    fields, a host not allowed)."""
    content_type = headers.get("content-type", "").split(";", 1)[0].strip()
    form: dict[str, str] = {}
    if content_type.endswith("form-urlencoded"):
        try:
            fields = parse_qsl(
                body.decode("utf-8", errors="replace"),
                keep_blank_values=True,
                max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
            )
        except ValueError as exc:  # more fields than allowed
            raise TooManyFieldsSent(str(exc)) from exc
        form = dict(fields)  # a repeated field keeps its last value, as QueryDict.dict()
    return WebhookRequest(
        url=_called_url(request), method="POST", headers=headers, body=body, form=form
    )


def _called_url(request: HttpRequest) -> str:
    """The URL as the carrier called it, which is what its signature covers."""
    if settings.TWOWAY_PUBLIC_URL:
        return settings.TWOWAY_PUBLIC_URL + request.get_full_path()
    return request.build_absolute_uri()


def webhook_answer(
    carrier: str,
    webhook: WebhookRequest,
    remote_addr: str,
    *,
    target: WebhookTarget | None,
    account: str | None = None,
) -> WebhookAnswer:
    """The answer to a webhook to `target` (`webhook_target(carrier, account)`: None answers
    404, nothing stored)."""
    if target is None:
        return WebhookAnswer(404, "No such carrier account." if account else "No such carrier.")
    adapter = target.adapter
    if not adapter.verify_signature(webhook):
        log.warning("Rejected %s webhook with a bad signature from %s", carrier, remote_addr)
        return WebhookAnswer(403, "Invalid signature.")
    try:
        event = adapter.parse_webhook(webhook)
    except WebhookParseError as exc:
        log.warning("Malformed %s webhook: %s", carrier, exc)
        reason = f"Malformed webhook: {exc}"
        kept = _unparsed(webhook, reason)
        return WebhookAnswer(
            400, reason, unparsed=kept, carrier_account_id=target.carrier_account_id
        )
    if event is None:
        log.info("Kept a %s webhook of a type Twoway does not handle", carrier)
        body, body_type = adapter.webhook_response(None)
        kept = _unparsed(webhook, UNSUPPORTED)
        return WebhookAnswer(200, body, body_type, None, target.carrier_account_id, kept)
    else:
        # Whatever the adapter left in (raw fields, a status's text): NUL cannot be stored.
        event = event_without_nul(event)
    body, body_type = adapter.webhook_response(event)
    return WebhookAnswer(200, body, body_type, event, target.carrier_account_id)


def _unparsed(webhook: WebhookRequest, reason: str) -> UnparsedWebhook:
    return UnparsedWebhook(
        url=webhook.url,
        content_type=webhook.headers.get("content-type", ""),
        body=webhook.body.decode("utf-8", errors="replace"),
        form=dict(webhook.form),
        reason=reason,
    )
