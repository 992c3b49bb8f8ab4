"""Texts sent later: scheduling, changing and cancelling them, their reserved segments, and the
worker's promotion of due ones to the queue (compliance checked again then)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.messaging.send_steps import send_claimed
from twoway.accounts.models import Membership
from twoway.billing.models import BalanceEntry, SmsAccount
from twoway.billing.services import BalanceExhausted
from twoway.contacts.models import ConsentStatus, Contact, OptInStatus
from twoway.conversations.models import Message, Status
from twoway.core.errors import Conflict, InvalidInput
from twoway.messaging import claiming, scheduling
from twoway.messaging.services import OptedOutError, message_send
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent

pytestmark = pytest.mark.django_db

CLIENT = "+12025550172"


def _in(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def _schedule(
    admin: Membership, number: PhoneNumber, *, seconds: float = 60, body: str = "See you at 3"
) -> Message:
    return message_send(
        phone_number=number, to=CLIENT, body=body, membership=admin, send_at=_in(seconds)
    )


def _balance(admin: Membership, segments: int) -> SmsAccount:
    return SmsAccount.objects.create(organization=admin.organization, balance=segments)


def _reload(message: Message) -> Message:
    message.refresh_from_db()
    return message


def test_a_scheduled_text_waits_unclaimed_until_its_time(
    admin: Membership, number: PhoneNumber
) -> None:
    message = _schedule(admin, number, seconds=60)
    assert (message.status, message.next_attempt_at) == (Status.SCHEDULED, None)
    assert message.send_at is not None and message.conversation_id is not None
    assert claiming.claim_due(limit=10) == []
    assert scheduling.scheduled_promote() == 0
    assert scheduling.next_scheduled_in() == pytest.approx(60, abs=2)


def test_a_due_text_is_promoted_once_then_claimed_and_sent(
    admin: Membership, number: PhoneNumber
) -> None:
    message = _schedule(admin, number, seconds=30)
    later = timezone.now() + dt.timedelta(seconds=31)
    assert scheduling.scheduled_promote(later) == 1
    assert scheduling.scheduled_promote(later) == 0  # already queued: never taken twice
    message = _reload(message)
    assert (message.status, message.next_attempt_at) == (Status.QUEUED, message.send_at)
    event = RealtimeEvent.objects.filter(kind="message.status").latest("id")
    assert event.data["message"] == str(message.uid) and event.data["status"] == "queued"
    [claim] = claiming.claim_due(limit=10, now=later)
    send_claimed(claim, wait=False)  # its slot is at the moved clock, not 31 s of real time
    assert _reload(message).status == Status.SENT
    assert scheduling.next_scheduled_in() is None


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (dt.timedelta(seconds=-1), "send_at_past"),
        (dt.timedelta(days=366), "send_at_too_far"),
    ],
)
def test_times_in_the_past_or_over_a_year_ahead_are_refused(
    admin: Membership, number: PhoneNumber, when: dt.timedelta, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        message_send(
            phone_number=number,
            to=CLIENT,
            body="Hi",
            membership=admin,
            send_at=timezone.now() + when,
        )
    assert refused.value.code == code
    assert not Message.objects.exists() and not Contact.objects.exists()


def test_a_time_without_offset_is_refused(admin: Membership, number: PhoneNumber) -> None:
    with pytest.raises(InvalidInput) as refused:
        message_send(
            phone_number=number,
            to=CLIENT,
            body="Hi",
            membership=admin,
            send_at=dt.datetime(2030, 1, 1, 9, 0),
        )
    assert refused.value.code == "send_at_naive"


def test_an_opted_out_contact_cannot_be_scheduled_even_when_confirmed(
    admin: Membership, number: PhoneNumber
) -> None:
    Contact.objects.create(organization=admin.organization, opt_in_status=OptInStatus.OPTED_OUT)
    contact = Contact.objects.get()
    contact.phones.create(organization=admin.organization, number=CLIENT)
    with pytest.raises(OptedOutError, match="not scheduled"):
        message_send(
            phone_number=number,
            to=CLIENT,
            body="Hi",
            membership=admin,
            confirm_opted_out=True,
            send_at=_in(60),
        )
    assert not Message.objects.exists()


def test_a_contact_who_opts_out_meanwhile_is_not_sent_the_text(
    admin: Membership, number: PhoneNumber
) -> None:
    _balance(admin, 10)
    message = _schedule(admin, number, seconds=30)
    assert SmsAccount.objects.get().balance == 9  # reserved when scheduled
    Contact.objects.update(opt_in_status=OptInStatus.OPTED_OUT)
    assert scheduling.scheduled_promote(_in(31)) == 1
    message = _reload(message)
    assert (message.status, message.error_code) == (Status.FAILED, "opted_out")
    assert "opted out before this scheduled text was due" in message.error_message
    assert claiming.claim_due(limit=10, now=_in(31)) == []
    assert SmsAccount.objects.get().balance == 10  # given back


def test_a_released_number_fails_the_text_at_its_time_with_the_reason(
    admin: Membership, number: PhoneNumber
) -> None:
    message = _schedule(admin, number, seconds=30)
    PhoneNumber.all_objects.filter(pk=number.pk).update(released_at=timezone.now())
    assert scheduling.scheduled_promote(_in(31)) == 1
    assert claiming.claim_due(limit=10, now=_in(31)) == []
    message = _reload(message)
    assert (message.status, message.error_code) == (Status.FAILED, "no_sender")
    assert "removed from Twoway" in message.error_message


def test_editing_changes_words_and_time_and_books_the_segments(
    admin: Membership, number: PhoneNumber
) -> None:
    _balance(admin, 5)
    message = _schedule(admin, number, seconds=60)
    assert SmsAccount.objects.get().balance == 4
    new_time = _in(600)
    edited = scheduling.scheduled_edit(
        message=message, membership=admin, body="x" * 200, send_at=new_time
    )
    assert (edited.body, edited.segments, edited.send_at) == ("x" * 200, 2, new_time)
    assert _reload(message).status == Status.SCHEDULED
    assert SmsAccount.objects.get().balance == 3  # one more segment reserved
    scheduling.scheduled_edit(message=message, membership=admin, body="Short again")
    assert SmsAccount.objects.get().balance == 4
    scheduling.scheduled_cancel(message=message, membership=admin)
    assert SmsAccount.objects.get().balance == 5  # everything it held, given back once
    assert BalanceEntry.objects.filter(message=message, reason="refund").count() == 1


def test_an_edit_the_balance_cannot_pay_for_changes_nothing(
    admin: Membership, number: PhoneNumber
) -> None:
    _balance(admin, 1)
    message = _schedule(admin, number)
    with pytest.raises(BalanceExhausted):
        scheduling.scheduled_edit(message=message, membership=admin, body="x" * 200)
    message = _reload(message)
    assert (message.body, message.segments) == ("See you at 3", 1)
    assert SmsAccount.objects.get().balance == 0


def test_an_edit_checks_the_new_words_and_time(admin: Membership, number: PhoneNumber) -> None:
    message = _schedule(admin, number)
    with pytest.raises(InvalidInput) as empty:
        scheduling.scheduled_edit(message=message, membership=admin, body="  ", send_at=_in(90))
    assert empty.value.code == "empty_body"
    with pytest.raises(InvalidInput) as past:
        scheduling.scheduled_edit(message=message, membership=admin, send_at=_in(-5))
    assert past.value.code == "send_at_past"
    assert _reload(message).send_at == message.send_at


def test_cancelled_text_stays_cancelled_and_is_never_sent(
    admin: Membership, number: PhoneNumber
) -> None:
    message = _schedule(admin, number, seconds=30)
    cancelled = scheduling.scheduled_cancel(message=message, membership=admin)
    assert cancelled.status == Status.CANCELED
    assert scheduling.scheduled_promote(_in(31)) == 0
    assert claiming.claim_due(limit=10, now=_in(31)) == []
    with pytest.raises(Conflict):
        scheduling.scheduled_cancel(message=message, membership=admin)


def test_a_text_already_queued_cannot_be_changed_or_cancelled(
    admin: Membership, number: PhoneNumber
) -> None:
    message = _schedule(admin, number, seconds=30)
    scheduling.scheduled_promote(_in(31))
    with pytest.raises(Conflict) as edit:
        scheduling.scheduled_edit(message=message, membership=admin, body="Changed")
    assert edit.value.status == 409 and edit.value.code == "not_scheduled"
    with pytest.raises(Conflict):
        scheduling.scheduled_cancel(message=message, membership=admin)
    assert _reload(message).body == "See you at 3"


def test_the_consent_message_goes_at_once_and_the_text_at_its_time(
    admin: Membership, number: PhoneNumber
) -> None:
    admin.organization.consent_required = True
    admin.organization.save()
    message = _schedule(admin, number, seconds=30)
    consent = Message.objects.exclude(pk=message.pk).get()
    assert (consent.category, consent.status) == ("consent", Status.QUEUED)
    assert Contact.objects.get().consent_status == ConsentStatus.SENT
    assert _reload(message).status == Status.SCHEDULED


def test_a_promotion_rolled_back_midway_leaves_the_texts_scheduled(
    admin: Membership, number: PhoneNumber
) -> None:
    message = _schedule(admin, number, seconds=30)

    class Killed(Exception):
        pass

    with pytest.raises(Killed), transaction.atomic():
        assert scheduling.scheduled_promote(_in(31)) == 1
        raise Killed  # the worker dies before its transaction commits
    assert _reload(message).status == Status.SCHEDULED
    assert scheduling.scheduled_promote(_in(31)) == 1
    assert len(claiming.claim_due(limit=10, now=_in(31))) == 1


@pytest.mark.django_db(transaction=True)
def test_two_promoters_at_once_queue_each_text_once(admin: Membership, number: PhoneNumber) -> None:
    messages = [
        message_send(
            phone_number=number,
            to=f"+1202555{i:04d}",
            body=f"Reminder {i}",
            membership=admin,
            send_at=_in(30),
        )
        for i in range(20)
    ]
    due = _in(31)
    counts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def promote() -> None:
        try:
            start.wait()
            counts.append(scheduling.scheduled_promote(due))
        except BaseException as exc:  # reported below: a thread's failure is not the test's
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=promote) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(counts) == len(messages)
    assert set(
        Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True)
    ) == {Status.QUEUED}
    queued_events = RealtimeEvent.objects.filter(kind="message.status", data__status="queued")
    assert queued_events.count() == len(messages)
