"""Texts queued together (`texts_send`) and one at a time through `message_send` leave the same
rows and events, and get the same answers.

The same texts are sent twice from the same starting state, once as one group and once each
through the one-text path, and everything they wrote is compared with the ids and timestamps
taken out. The one difference by design: one text at a time publishes `conversation.updated`
after every text, a group once per conversation with its final state, so the last such event
of each conversation is what is compared.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Max

from tests.conftest import make_conversation, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.billing.models import BalanceEntry, SmsAccount
from twoway.compliance.models import ConsentEvent
from twoway.contacts.models import Contact, ContactPhone, OptInStatus
from twoway.conversations.models import Conversation, Message
from twoway.core.errors import TwowayError
from twoway.messaging import send_batch
from twoway.messaging.send_batch import TextToSend, one_text_send, require_sender, texts_send
from twoway.numbers.access import access_phone_number
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent

pytestmark = pytest.mark.django_db

KNOWN = "+12025550181"  # a named contact, muted and archived, with unread texts
OPTED_OUT = "+12025550182"
TWO_SEGMENTS = "Your appointment is tomorrow at 9:30. " * 5


class Rollback(Exception):
    pass


def one_at_a_time(texts: list[TextToSend]) -> list[Message | TwowayError]:
    """What the API's one-text endpoint did for each text before the group existed."""
    results: list[Message | TwowayError] = []
    for text in texts:
        try:
            require_sender(text)
            number = (
                access_phone_number(text.membership, text.sender)
                if text.sender is not None
                else None
            )
            results.append(one_text_send(text, phone_number=number))
        except TwowayError as exc:
            results.append(exc)
    return results


def snapshot(results: list[Message | TwowayError]) -> dict[str, Any]:
    """What the texts wrote and answered, keyed by what stays the same from one run to the
    other (a message by its destination and body)."""
    conversation_key: dict[int | None, Any] = {
        c.pk: (c.phone_number_id, c.contact_number) for c in Conversation.objects.all()
    }
    message_key: dict[int | None, Any] = {
        m.pk: (m.to_number, m.body, m.category) for m in Message.objects.all()
    }
    uid_key = {str(m.uid): message_key[m.pk] for m in Message.objects.all()}
    phones: dict[int | None, str] = dict(ContactPhone.objects.values_list("contact_id", "number"))
    answers = [
        (r.status, r.code, r.message)
        if isinstance(r, TwowayError)
        else ("queued", message_key[r.pk], r.segments, r.from_number)
        for r in results
    ]
    messages = sorted(
        (
            message_key[m.pk],
            conversation_key.get(m.conversation_id),
            m.direction,
            m.encoding,
            m.segments,
            m.status,
            m.kind,
            m.from_number,
            m.carrier,
            m.organization_id,
            m.sent_by_id,
            m.sent_by_label,
            m.priority,
            m.attempts,
            m.next_attempt_at is not None,
        )
        for m in Message.objects.all()
    )
    conversations = sorted(
        (
            conversation_key[c.pk],
            phones.get(c.contact_id),
            c.folder,
            c.unread_count,
            c.last_message_preview,
            c.muted,
            c.organization_id,
        )
        for c in Conversation.objects.all()
    )
    latest = dict(
        Conversation.objects.values("contact_id")
        .annotate(at=Max("last_message_at"))
        .values_list("contact_id", "at")
    )
    contacts = sorted(
        (
            phones.get(c.pk),
            c.name,
            c.created_from,
            c.opt_in_status,
            c.consent_status,
            c.organization_id,
            # Last activity: their conversations' last message, whichever path wrote it.
            c.last_activity_at is not None,
            c.last_activity_at == latest.get(c.pk),
        )
        for c in Contact.objects.all()
    )
    balance = sorted(
        (e.delta, e.balance_after, e.reason, message_key.get(e.message_id))
        for e in BalanceEntry.objects.all()
    )
    ledger = sorted(
        (e.kind, e.source, e.text, e.phone_number, message_key.get(e.message_id))
        for e in ConsentEvent.objects.all()
    )
    created: Counter[tuple[Any, ...]] = Counter()
    last_update: dict[Any, dict[str, Any]] = {}
    for event in RealtimeEvent.objects.order_by("id"):
        data = dict(event.data)
        if event.kind == "message.created":
            data["message"] = uid_key[data["message"]]
            key = conversation_key.get(event.conversation_id)
            created[(key, tuple(sorted(data.items())))] += 1
        elif event.kind == "conversation.updated":
            last_update[conversation_key[event.conversation_id]] = data
        else:
            created[(event.kind, tuple(sorted(data.items())))] += 1
    return {
        "answers": answers,
        "messages": messages,
        "conversations": conversations,
        "contacts": contacts,
        "balance": balance,
        "balances_left": sorted(SmsAccount.objects.values_list("organization_id", "balance")),
        "ledger": ledger,
        "events": created,
        "conversation_updates": last_update,
    }


def run(texts: list[TextToSend], *, together: bool) -> dict[str, Any]:
    """Send `texts` from the current state and return what they wrote, then undo it all."""
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            results = texts_send(texts) if together else one_at_a_time(texts)
            assert len(results) == len(texts)
            result = snapshot(results)
            raise Rollback
    except Rollback:
        pass
    return result


def assert_agree(texts: list[TextToSend]) -> dict[str, Any]:
    together = run(texts, together=True)
    alone = run(texts, together=False)
    for part in together:
        assert together[part] == alone[part], part
    return together


@pytest.fixture
def people(org: Organization, number: PhoneNumber) -> dict[str, Membership]:
    known = make_conversation(org, number, KNOWN, name="Dana Known", folder="archived")
    Conversation.objects.filter(pk=known.pk).update(muted=True, unread_count=3)
    ContactPhone.objects.create(organization=org, contact=known.contact, number=KNOWN)
    out = make_conversation(org, number, OPTED_OUT, name="Olly Out")
    ContactPhone.objects.create(organization=org, contact=out.contact, number=OPTED_OUT)
    Contact.objects.filter(pk=out.contact_id).update(opt_in_status=OptInStatus.OPTED_OUT)
    mute = make_member(org, "mute@acme.test", Role.STANDARD)
    mute.can_send_sms = False
    mute.save()
    return {
        "admin": make_member(org, "admin@acme.test", Role.ADMINISTRATIVE),
        "limited": make_member(org, "limited@acme.test", Role.LIMITED),
        "mute": mute,
    }


def texts_for(people: dict[str, Membership], number: PhoneNumber) -> list[TextToSend]:
    admin, limited, mute = people["admin"], people["limited"], people["mute"]
    sender = number.number

    def text(to: str, body: str, who: Membership = admin, **kw: Any) -> TextToSend:
        return TextToSend(membership=who, sender=kw.pop("sender", sender), to=to, body=body, **kw)

    return [
        text("202-555-0180", "Hi, your order is ready"),
        text(KNOWN, "Back to you, Dana"),
        text("+12025550183", TWO_SEGMENTS),
        text("202-555-0180", "And a second one 🙂"),  # the same new contact again
        text(OPTED_OUT, "Are you there?"),  # opted out, not confirmed
        text(OPTED_OUT, "Confirmed anyway", confirm_opted_out=True),
        text(OPTED_OUT, "Sale!", category="marketing", sender=None),
        text(number.number, "To myself"),  # own number
        text("+19005550100", "Premium"),
        text("not a number", "Hello"),
        text("+12025550184", "   "),
        text("+12025550184", "x" * 2000),
        text("+12025550184", "Wrong sender", sender="+13105550000"),
        text("+12025550184", "No sender", sender=None),
        text(KNOWN, "A limited user answers", limited),
        text("+12025550185", "A limited user starts one", limited),
        text("+12025550186", "No permission", mute),
        text("+12025550187", "By id", sender=number.pk),
        text("+12025550188", "Your booking is confirmed", category="transactional"),
        text("+12025550189", "Transactional, no sender", category="transactional", sender=None),
        text("+12025550190", "Sale today!", category="marketing", sender=None),
        text("+447400123456", "Abroad"),  # a country the organization does not text
    ]


def test_a_group_and_one_at_a_time_agree(
    org: Organization, number: PhoneNumber, people: dict[str, Membership]
) -> None:
    PhoneNumber.objects.create(number="+18885550100", carrier="simulator", is_system=True)
    texts = texts_for(people, number)
    result = assert_agree(texts)
    codes = [a[0] if a[0] == "queued" else a[1] for a in result["answers"]]
    assert codes.count("queued") == 10
    assert {
        "opted_out",
        "own_number",
        "premium_rate",
        "invalid_to",
        "empty_body",
        "too_long",
        "not_found",
        "sender_required",
        "cannot_initiate",
        "no_sms_permission",
        "country_not_allowed",
    } <= set(codes)


def test_the_balance_is_spent_in_the_order_given(
    org: Organization, number: PhoneNumber, people: dict[str, Membership]
) -> None:
    SmsAccount.objects.create(organization=org, balance=4)
    result = assert_agree(texts_for(people, number))
    answers = [a for a in result["answers"] if a[0] != "queued"]
    assert any(a[1] == "balance_exhausted" for a in answers)
    assert result["balances_left"] == [(org.pk, 0)]


def test_the_consent_message_goes_first_through_the_one_text_path(
    org: Organization, number: PhoneNumber, people: dict[str, Membership], monkeypatch: Any
) -> None:
    org.consent_required = True
    org.save()
    one_by_one: list[str] = []
    real = send_batch.one_text_send

    def counted(text: TextToSend, **kw: Any) -> Message:
        one_by_one.append(text.to)
        return real(text, **kw)

    monkeypatch.setattr(send_batch, "one_text_send", counted)
    result = assert_agree(texts_for(people, number))
    assert any(kind == "consent_sent" for kind, *_ in result["ledger"])
    # Only texts to contacts who never had the consent message, and later texts to them, take
    # the one-text path when grouped; KNOWN (who has not had it either) is among them.
    assert one_by_one


def test_a_group_writes_its_texts_in_a_few_statements(
    org: Organization,
    number: PhoneNumber,
    people: dict[str, Membership],
    django_assert_max_num_queries: Any,
) -> None:
    admin = people["admin"]
    texts = [
        TextToSend(membership=admin, sender=number.number, to=f"+1202555{1000 + i:04d}", body="Hi")
        for i in range(50)
    ]
    with django_assert_max_num_queries(16):
        results = texts_send(texts)
    assert all(isinstance(r, Message) for r in results)
    assert Message.objects.filter(status="queued").count() == 50
