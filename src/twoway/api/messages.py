"""POST /messages and /messages/batch queue texts through the send service
(`messaging.send_batch`); GET /messages/{id} reads a message's status."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status
from pydantic import ValidationError

from twoway.accounts.models import Membership
from twoway.api.auth import request_membership
from twoway.api.schemas import (
    ERROR_RESPONSES,
    ErrorOut,
    MessageChangeIn,
    MessageIn,
    MessageOut,
    MessagesBatchIn,
    MessagesBatchOut,
)
from twoway.conversations.access import access_message, access_message_change
from twoway.conversations.models import Message
from twoway.core.errors import TwowayError
from twoway.messaging.scheduling import scheduled_cancel, scheduled_edit
from twoway.messaging.send_batch import TextToSend, texts_send

# by_alias: MessageOut writes its `from_` field as "from".
router = Router(tags=["messages"], by_alias=True)


def text_to_send(membership: Membership, payload: MessageIn) -> TextToSend:
    return TextToSend(
        membership=membership,
        sender=payload.from_,
        to=payload.to,
        body=payload.body,
        category=payload.category,
        confirm_opted_out=payload.confirm_opted_out,
        send_at=payload.send_at,
    )


@router.post("", response={201: MessageOut, **ERROR_RESPONSES}, operation_id="message_send")
def send_message(request: HttpRequest, payload: MessageIn) -> Status[Message]:
    """Queue a text to a contact; the contact is created if the number is new.

    The key acts as its owner: `from` must be a number they may use, they need "Send SMS to
    clients" (403 `no_sms_permission`), and a Limited user's key may only answer existing
    conversations (403 `cannot_initiate`). Opted-out contacts: 403 `opted_out` unless
    `confirm_opted_out` (never for marketing). With `send_at` the text is scheduled: it is
    answered with status `scheduled`, and the worker sends it at that time.
    """
    [result] = texts_send([text_to_send(request_membership(request), payload)])
    if isinstance(result, TwowayError):
        raise result
    return Status(201, result)


@router.post(
    "/batch", response={200: MessagesBatchOut, **ERROR_RESPONSES}, operation_id="messages_send"
)
def send_messages(request: HttpRequest, payload: MessagesBatchIn) -> dict[str, Any]:
    """Queue up to 1,000 texts in one request. Each is checked on its own, as `POST /messages`
    checks one, and answered in `results` (in the order given) with the status that endpoint
    would have given: 201 and the message, or the error. The accepted ones are stored together,
    and a refused one leaves nothing behind."""
    membership = request_membership(request)
    results: list[dict[str, Any] | None] = []
    texts: list[TextToSend] = []
    for raw in payload.messages:
        try:
            texts.append(text_to_send(membership, MessageIn.model_validate(raw)))
        except ValidationError as exc:
            results.append({"status": 422, "error": {"code": "invalid", "message": _explain(exc)}})
        else:
            results.append(None)
    sent = iter(texts_send(texts))
    for index, result in enumerate(results):
        if result is None:
            outcome = next(sent)
            results[index] = (
                {
                    "status": outcome.status,
                    "error": {"code": outcome.code, "message": outcome.message},
                }
                if isinstance(outcome, TwowayError)
                else {"status": 201, "message": outcome}
            )
    accepted = sum(1 for r in results if r is not None and r["status"] == 201)
    return {"accepted": accepted, "refused": len(results) - accepted, "results": results}


def _explain(error: ValidationError) -> str:
    """What is wrong with one text, a sentence per field: "to: Field required". A field of
    several types (`from`) names each type's problem: the first of them is enough."""
    problems: dict[str, str] = {}
    for e in error.errors():
        problems.setdefault(str(e["loc"][0]) if e["loc"] else "message", e["msg"])
    return "; ".join(f"{field}: {message}" for field, message in problems.items())


@router.get("/{uid}", response={200: MessageOut, **ERROR_RESPONSES}, operation_id="message_get")
def get_message(request: HttpRequest, uid: UUID) -> Message:
    """A message with its current delivery status."""
    return access_message(request_membership(request), uid)


# A scheduled text that was already sent (or cancelled) cannot be changed: 409.
CHANGE_RESPONSES = {**ERROR_RESPONSES, 409: ErrorOut}


@router.patch(
    "/{uid}", response={200: MessageOut, **CHANGE_RESPONSES}, operation_id="message_change"
)
def change_message(request: HttpRequest, uid: UUID, payload: MessageChangeIn) -> Message:
    """Change a scheduled text's `body`, its `send_at`, or both (409 `not_scheduled` once it
    is queued, sent or cancelled). Its reserved segments follow its new length."""
    membership = request_membership(request)
    message = access_message_change(membership, uid)
    return scheduled_edit(
        message=message, membership=membership, body=payload.body, send_at=payload.send_at
    )


@router.post(
    "/{uid}/cancel", response={200: MessageOut, **CHANGE_RESPONSES}, operation_id="message_cancel"
)
def cancel_message(request: HttpRequest, uid: UUID) -> Message:
    """Cancel a scheduled text: it stays as `canceled`, its segments given back (409
    `not_scheduled` once it is queued, sent or cancelled)."""
    membership = request_membership(request)
    return scheduled_cancel(message=access_message_change(membership, uid), membership=membership)
