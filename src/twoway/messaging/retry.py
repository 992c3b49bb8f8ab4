"""Sending a failed text again (Retry): a new text with the same words, from the same number to
the same contact, through the send path like any other, so the contact's opt-out, the balance
and the member's rights are checked as they are now. The failed text stays in the thread as it
was and points to its retry; a text is retried once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from twoway.accounts.models import Membership
from twoway.contacts.models import CreatedFrom
from twoway.conversations.models import Message
from twoway.conversations.selectors import failed_texts_visible_to
from twoway.core.errors import InvalidInput, TwowayError
from twoway.messaging.send_batch import SendResult, TextToSend, texts_send


def texts_retry(membership: Membership, message_ids: Iterable[int]) -> dict[int, SendResult]:
    """Send again each of `message_ids` the member sees among the failed texts not retried yet:
    by id, the new message or why it was refused (an id they do not see, or one retried
    meanwhile, gets a refusal too)."""
    ids = list(dict.fromkeys(message_ids))
    with transaction.atomic():
        # Locked, then read again for retries: a retry committed while we waited is seen.
        failed = {
            m.pk: m
            for m in failed_texts_visible_to(membership)
            .filter(pk__in=ids)
            .select_related("conversation")
            .select_for_update(of=("self",))
        }
        retried = set(
            Message.objects.filter(retry_of__in=list(failed)).values_list("retry_of", flat=True)
        )
        again = [failed[pk] for pk in ids if pk in failed and pk not in retried]
        sent = texts_send([_again(membership, message) for message in again])
    results: dict[int, SendResult] = dict(zip((m.pk for m in again), sent, strict=True))
    for pk in ids:
        if pk not in results:
            results[pk] = _not_retryable()
    return results


def _again(membership: Membership, message: Message) -> TextToSend:
    assert message.conversation is not None, "failed texts are texts of conversations"
    return TextToSend(
        membership=membership,
        sender=message.conversation.phone_number_id,
        to=message.to_number,
        body=message.body,
        category=message.category,
        label="",
        created_from=CreatedFrom.MANUAL,
        retry_of=message.pk,
    )


def _not_retryable() -> TwowayError:
    return InvalidInput(
        "That text cannot be sent again: it was sent again already, or it did not fail.",
        code="not_retryable",
    )
