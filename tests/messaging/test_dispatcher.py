"""The dispatcher: claim → send → record, against the simulator and a fake Twilio API."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from bench.fakes.twilio_api import FakeTwilioServer
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.messaging import send_steps
from twoway.carriers.errors import EXPLANATIONS
from twoway.carriers.registry import get_carrier
from twoway.conversations.models import Category, Conversation, Message, Status
from twoway.messaging import claiming, recording
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.simulator.models import SimMessage

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "fake-token"
TO = "+14155550142"


@pytest.fixture
def fake(settings) -> Iterator[FakeTwilioServer]:
    """A fake Twilio the adapter is configured for; retries come quickly."""
    with FakeTwilioServer(auth_token=AUTH_TOKEN, hang_seconds=5) as server:
        config = dict(settings.TWOWAY_CARRIER_CONFIG)
        config["twilio"] = {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "api_base_url": server.url,
            "timeout": 0.5,
        }
        settings.TWOWAY_CARRIER_CONFIG = config
        settings.SEND_RETRY_BASE_SECONDS = 0.05
        get_carrier.cache_clear()
        yield server
        get_carrier.cache_clear()


def queue(number: PhoneNumber, body: str = "Hello", to: str = TO, **kwargs) -> Message:
    return message_send(phone_number=number, to=to, body=body, **kwargs)


def reload(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


def dispatch(now: dt.datetime | None = None, limit: int = 10) -> list[claiming.ClaimedSend]:
    """One worker pass: claim what is due, send it."""
    claims = claiming.claim_due(limit=limit, now=now)
    for claim in claims:
        send_steps.send_claimed(claim)
    return claims


def unique_deliveries(fake: FakeTwilioServer, key: str) -> int:
    return len({d.sid for d in fake.deliveries if d.idempotency_key == key})


def spacing(mps_limit: int, segments: int = 1) -> dt.timedelta:
    """How far apart the dispatcher books a number's slots: its limit plus the margin."""
    return dt.timedelta(seconds=float(claiming.slot_spacing(segments, Decimal(mps_limit))))


SECOND = dt.timedelta(seconds=1)


# --- Claiming ------------------------------------------------------------------------------------


def test_claim_marks_message_sending_with_lease_and_attempt(number: PhoneNumber, settings) -> None:
    settings.SEND_LEASE_SECONDS = 30
    message = queue(number)
    now = timezone.now()
    claims = claiming.claim_due(limit=10, now=now)
    assert [c.message_id for c in claims] == [message.pk]
    claim = claims[0]
    assert claim.carrier == "simulator"
    assert claim.request.idempotency_key == str(message.uid)
    assert (claim.request.from_number, claim.request.to_number) == (number.number, TO)
    assert claim.request.body == "Hello"
    message = reload(message)
    assert message.status == Status.SENDING
    assert message.attempts == 1
    assert message.lease_expires_at == claim.send_at + dt.timedelta(seconds=30)
    assert claim.send_at >= now


def test_active_lease_is_not_claimed_twice(number: PhoneNumber) -> None:
    message = queue(number)
    assert len(claiming.claim_due(limit=10)) == 1
    assert claiming.claim_due(limit=10) == []
    message = reload(message)
    assert (message.status, message.attempts) == (Status.SENDING, 1)


def test_message_not_yet_due_is_not_claimed(number: PhoneNumber) -> None:
    message = queue(number)
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(minutes=5)
    )
    assert claiming.claim_due(limit=10) == []
    assert reload(message).status == Status.QUEUED


def test_sent_message_is_not_claimed_again(number: PhoneNumber) -> None:
    message = queue(number)
    dispatch()
    assert reload(message).status == Status.SENT
    assert claiming.claim_due(limit=10) == []


# --- The simulator -------------------------------------------------------------------------------


def test_simulator_send_records_carrier_id_and_sent(number: PhoneNumber) -> None:
    message = queue(number)
    dispatch()
    message = reload(message)
    sim = SimMessage.objects.get(idempotency_key=str(message.uid))
    assert message.status == Status.SENT
    assert message.carrier_message_id == str(sim.sid)
    assert message.sent_at is not None
    assert message.lease_expires_at is None
    assert (sim.business_number, sim.handset.number, sim.body) == (number.number, TO, "Hello")


def test_expired_lease_is_claimed_again_and_delivered_once(number: PhoneNumber) -> None:
    message = queue(number)
    [claim] = claiming.claim_due(limit=10)
    # The worker handed it to the carrier, then died before recording it.
    first_sid = get_carrier("simulator").send(claim.request).carrier_message_id
    message = reload(message)
    assert (message.status, message.carrier_message_id) == (Status.SENDING, None)
    assert claiming.claim_due(limit=10) == []  # the lease still holds

    Message.objects.filter(pk=message.pk).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    [again] = dispatch()
    assert again.request.idempotency_key == claim.request.idempotency_key
    message = reload(message)
    assert message.status == Status.SENT
    assert message.attempts == 2
    assert message.carrier_message_id == first_sid
    assert SimMessage.objects.filter(idempotency_key=str(message.uid)).count() == 1


# --- Fake Twilio ---------------------------------------------------------------------------------


def test_twilio_success_records_the_sid(fake: FakeTwilioServer, twilio_number: PhoneNumber) -> None:
    message = queue(twilio_number, body="Your table is ready")
    dispatch()
    message = reload(message)
    [delivery] = fake.deliveries
    assert message.status == Status.SENT
    assert message.carrier_message_id == delivery.sid
    assert (delivery.to, delivery.from_, delivery.body) == (
        TO,
        twilio_number.number,
        "Your table is ready",
    )
    [request] = fake.requests
    assert request.idempotency_key == str(message.uid)
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)


def test_twilio_down_is_retried_later_with_growing_backoff(
    fake: FakeTwilioServer, twilio_number: PhoneNumber, settings
) -> None:
    settings.SEND_RETRY_BASE_SECONDS = 0.2
    fake.set_mode("down")
    message = queue(twilio_number)
    now = None
    for attempt, backoff in ((1, 0.2), (2, 0.4), (3, 0.8)):
        before = timezone.now()
        assert len(dispatch(now=now)) == 1
        after = timezone.now()
        message = reload(message)
        assert message.status == Status.QUEUED
        assert message.attempts == attempt
        assert message.error_code == "20500"
        assert "Retrying" in message.error_message
        assert message.lease_expires_at is None
        wait = dt.timedelta(seconds=backoff)
        assert before + wait <= message.next_attempt_at <= after + wait
        # Not due before its backoff is over.
        almost = message.next_attempt_at - dt.timedelta(milliseconds=1)
        assert claiming.claim_due(limit=10, now=almost) == []
        now = message.next_attempt_at
    assert fake.deliveries == []
    assert len(fake.requests) == 3

    fake.set_mode("normal")
    dispatch(now=message.next_attempt_at)
    message = reload(message)
    assert message.status == Status.SENT
    assert message.attempts == 4
    assert (message.error_code, message.error_message) == ("", "")


def test_twilio_timeout_is_retried_and_delivered_once(
    fake: FakeTwilioServer, twilio_number: PhoneNumber
) -> None:
    fake.set_mode("timeout")  # Twilio takes the message, the answer never comes in time
    message = queue(twilio_number)
    dispatch()
    message = reload(message)
    assert message.status == Status.QUEUED
    assert message.attempts == 1
    assert "Retrying" in message.error_message
    assert unique_deliveries(fake, str(message.uid)) == 1

    fake.set_mode("normal")
    dispatch(now=message.next_attempt_at)
    message = reload(message)
    [delivery] = fake.deliveries
    assert message.status == Status.SENT
    assert message.attempts == 2
    assert message.carrier_message_id == delivery.sid
    assert [r.idempotency_key for r in fake.requests] == [str(message.uid)] * 2


def test_twilio_rejection_fails_with_code_and_explanation(
    fake: FakeTwilioServer, twilio_number: PhoneNumber
) -> None:
    fake.set_mode("reject", code=21610, message="Attempt to send to unsubscribed recipient")
    message = queue(twilio_number)
    dispatch()
    message = reload(message)
    assert message.status == Status.FAILED
    assert message.error_code == "21610"
    assert message.error_message == EXPLANATIONS["21610"]
    assert message.attempts == 1
    assert message.lease_expires_at is None
    # A permanent error is final: nothing picks it up again.
    assert claiming.claim_due(limit=10, now=timezone.now() + dt.timedelta(hours=1)) == []


def test_gives_up_after_max_attempts(
    fake: FakeTwilioServer, twilio_number: PhoneNumber, settings
) -> None:
    settings.SEND_MAX_ATTEMPTS = 3
    fake.set_mode("down")
    message = queue(twilio_number)
    now = None
    for _ in range(3):
        assert len(dispatch(now=now)) == 1
        message = reload(message)
        now = message.next_attempt_at
    assert message.status == Status.FAILED
    assert message.attempts == 3
    assert message.error_code
    assert message.error_message and not message.error_message.startswith("Retrying")
    assert claiming.claim_due(limit=10, now=timezone.now() + dt.timedelta(hours=1)) == []
    assert len(fake.requests) == 3


def test_unreachable_carrier_gives_up_as_expired(
    fake: FakeTwilioServer, twilio_number: PhoneNumber, settings
) -> None:
    settings.SEND_MAX_ATTEMPTS = 2
    fake.set_mode("timeout")
    message = queue(twilio_number)
    dispatch()
    dispatch(now=reload(message).next_attempt_at)
    message = reload(message)
    assert message.status == Status.FAILED
    assert message.error_code == "expired"
    # The plain explanation first, then what the carrier last said, for whoever digs deeper.
    assert message.error_message.startswith(EXPLANATIONS["expired"])
    assert "Last error:" in message.error_message


def test_unconfigured_twilio_fails_at_once(twilio_number: PhoneNumber, settings) -> None:
    config = dict(settings.TWOWAY_CARRIER_CONFIG)
    config["twilio"] = {"account_sid": "", "auth_token": ""}
    settings.TWOWAY_CARRIER_CONFIG = config
    get_carrier.cache_clear()
    message = queue(twilio_number)
    dispatch()
    message = reload(message)
    assert (message.status, message.error_code) == (Status.FAILED, "config")


# --- Throughput and priority ---------------------------------------------------------------------


def test_slots_are_booked_a_little_slower_than_the_limit() -> None:
    # The margin keeps a carrier's one-second window within the limit when two sends reach it
    # a few milliseconds closer than they left; it must stay small enough to use the limit.
    assert SECOND < spacing(1) <= SECOND * 1.05
    assert spacing(4) == spacing(1) / 4
    assert spacing(1, segments=3) == spacing(1) * 3


def test_mps_limit_books_one_slot_per_second(number: PhoneNumber) -> None:
    number.mps_limit = 1
    number.save(update_fields=["mps_limit"])
    messages = [queue(number, body=f"Message {i}") for i in range(4)]
    slot = spacing(1)
    now = timezone.now()
    claims = claiming.claim_due(limit=10, now=now)
    # Within the one-second lookahead: a slot now; the next is a little over a second away.
    assert [(c.message_id, c.send_at) for c in claims] == [(messages[0].pk, now)]
    assert [reload(m).status for m in messages] == [Status.SENDING] + [Status.QUEUED] * 3
    number.refresh_from_db()
    assert number.next_send_at == now + slot

    # Another claimer at the same moment finds the number busy.
    assert claiming.claim_due(limit=10, now=now) == []
    # Once the next slot is within the lookahead it is claimed, and only it.
    assert claiming.claim_due(limit=10, now=now + slot - SECOND - dt.timedelta(0, 0, 1)) == []
    later = claiming.claim_due(limit=10, now=now + slot - SECOND)
    assert [(c.message_id, c.send_at) for c in later] == [(messages[1].pk, now + slot)]
    number.refresh_from_db()
    assert number.next_send_at == now + 2 * slot


def test_multi_segment_message_books_a_slot_per_segment(number: PhoneNumber) -> None:
    number.mps_limit = 1
    number.save(update_fields=["mps_limit"])
    long = queue(number, body="x" * 400)  # 3 GSM-7 segments
    short = queue(number, body="after")
    assert long.segments == 3
    three_slots = spacing(1, segments=3)
    now = timezone.now()
    claims = claiming.claim_due(limit=10, now=now)
    assert [c.message_id for c in claims] == [long.pk]
    number.refresh_from_db()
    assert number.next_send_at == now + three_slots
    assert claiming.claim_due(limit=10, now=now + 2 * SECOND) == []
    [next_claim] = claiming.claim_due(limit=10, now=now + three_slots - SECOND)
    assert next_claim.message_id == short.pk
    assert next_claim.send_at == now + three_slots


def test_higher_mps_limit_spaces_sends_evenly(number: PhoneNumber) -> None:
    number.mps_limit = 4
    number.save(update_fields=["mps_limit"])
    for i in range(10):
        queue(number, body=f"Message {i}")
    now = timezone.now()
    claims = claiming.claim_due(limit=20, now=now)
    # Four slots a little over a quarter of a second apart fit into the one-second lookahead.
    assert [c.send_at for c in claims] == [now + i * spacing(4) for i in range(4)]


def test_busy_number_does_not_hold_up_another(org, number: PhoneNumber) -> None:
    number.mps_limit = 2  # two slots within the lookahead
    number.save(update_fields=["mps_limit"])
    other = PhoneNumber.objects.create(
        organization=org, number="+14155550111", carrier="simulator", mps_limit=1
    )
    busy = [queue(number, body=f"Busy {i}") for i in range(3)]
    free = queue(other, body="Other")
    claims = claiming.claim_due(limit=10)
    assert {c.message_id for c in claims} == {busy[0].pk, busy[1].pk, free.pk}


def test_backlog_on_a_busy_number_does_not_starve_other_numbers(org, number: PhoneNumber) -> None:
    number.mps_limit = 1
    number.save(update_fields=["mps_limit"])
    other = PhoneNumber.objects.create(
        organization=org, number="+14155550111", carrier="simulator", mps_limit=1
    )
    for i in range(50):  # a blast on the busy number, queued first
        queue(number, body="Sale!", to=f"+141555502{i:02d}", category=Category.BLAST)
    later = queue(other, body="Sale!", category=Category.BLAST)
    now = timezone.now()
    first = claiming.claim_due(limit=10, now=now)
    second = claiming.claim_due(limit=10, now=now)
    claimed = {c.message_id for c in first + second}
    assert later.pk in claimed
    assert reload(later).status == Status.SENDING


def test_direct_message_goes_before_older_blast(number: PhoneNumber, standard) -> None:
    number.mps_limit = 2  # two slots within the lookahead
    number.save(update_fields=["mps_limit"])
    blasts = [
        queue(number, body="Sale!", to=f"+1415555016{i}", category=Category.BLAST) for i in range(3)
    ]
    direct = queue(number, body="Re: your question", membership=standard)
    assert all(b.next_attempt_at < direct.next_attempt_at for b in blasts)
    now = timezone.now()
    claims = claiming.claim_due(limit=10, now=now)
    assert claims[0].message_id == direct.pk
    assert claims[0].send_at == now
    assert [c.message_id for c in claims] == [direct.pk, blasts[0].pk]


def test_message_whose_number_was_deleted_fails_cleanly(org, number: PhoneNumber) -> None:
    orphan = queue(number, body="From a number that is gone")
    # The conversation moves to a new number and the old one is deleted; the queued message
    # still names the old sender.
    replacement = PhoneNumber.objects.create(
        organization=org, number="+14155550177", carrier="simulator", mps_limit=100
    )
    Conversation.objects.filter(pk=orphan.conversation_id).update(phone_number=replacement)
    PhoneNumber.objects.filter(pk=number.pk).delete()
    healthy = queue(replacement, body="Still fine", to="+14155550143")

    claims = dispatch()
    assert [c.message_id for c in claims] == [healthy.pk]
    orphan = reload(orphan)
    assert orphan.status == Status.FAILED
    assert orphan.error_code == "no_sender"
    assert orphan.error_message == EXPLANATIONS["no_sender"]
    assert orphan.lease_expires_at is None
    assert reload(healthy).status == Status.SENT
    assert claiming.claim_due(limit=10) == []


# --- Stale claims and idle waits ----------------------------------------------------------------


def test_a_stale_claims_failure_does_not_undo_the_new_owners_send(
    number: PhoneNumber, settings
) -> None:
    from twoway.carriers.base import CarrierError

    message = queue(number)
    first = claiming.claim_due(limit=1)[0]
    # The first worker's lease runs out while it waits on the carrier; another worker claims.
    later = timezone.now() + dt.timedelta(seconds=settings.SEND_LEASE_SECONDS + 5)
    second = claiming.claim_due(limit=1, now=later)[0]
    assert (first.attempt, second.attempt) == (1, 2)
    send_steps.record_failure(
        message.pk, CarrierError("timed out", transient=True), attempt=first.attempt
    )
    assert reload(message).status == Status.SENDING  # still the second worker's
    send_steps.record_failure(
        message.pk, CarrierError("timed out", transient=True), attempt=second.attempt
    )
    assert reload(message).status == Status.QUEUED


def test_idle_worker_sleeps_until_a_busy_sender_has_a_free_slot(number: PhoneNumber) -> None:
    number.mps_limit = 1
    number.save(update_fields=["mps_limit"])
    for _ in range(4):
        queue(number)
    slot = spacing(1)
    now = timezone.now()
    assert len(claiming.claim_due(limit=10, now=now)) == 1  # now
    later = now + slot - SECOND
    assert len(claiming.claim_due(limit=10, now=later)) == 1  # the next slot, a second ahead
    wait = claiming.next_due_in(now=later)
    # Two messages are due but their sender is booked for two slots: come back when one second
    # of its bookings is left, not at once.
    assert wait is not None
    assert wait == pytest.approx((now + 2 * slot - SECOND - later).total_seconds(), abs=0.01)
    assert wait > 0.9


def test_no_queued_message_means_no_wake_up(number: PhoneNumber) -> None:
    assert claiming.next_due_in() is None


# --- Batches -------------------------------------------------------------------------------------


def message_updates(queries: CaptureQueriesContext) -> list[str]:
    """UPDATE statements on messages; one executemany counts once ("3 times: UPDATE ...")."""
    statements = [re.sub(r"^\d+ times: ", "", q["sql"]) for q in queries.captured_queries]
    return [
        sql
        for sql in statements
        if sql.startswith("UPDATE") and sql.split()[1].strip('"') == "conversations_message"
    ]


def test_a_claim_updates_its_messages_in_one_statement(number: PhoneNumber) -> None:
    messages = [queue(number, body=f"Message {i}", to=f"+1415555016{i}") for i in range(5)]
    with CaptureQueriesContext(connection) as queries:
        claims = claiming.claim_due(limit=10)
    assert {c.message_id for c in claims} == {m.pk for m in messages}
    assert len(message_updates(queries)) == 1
    for message, claim in zip(messages, sorted(claims, key=lambda c: c.message_id), strict=True):
        message = reload(message)
        assert (message.status, message.attempts) == (Status.SENDING, 1)
        assert message.lease_expires_at == claim.lease_expires_at


def test_results_of_many_sends_are_recorded_together(number: PhoneNumber) -> None:
    from twoway.carriers.base import CarrierError, SendResult

    messages = [queue(number, body=f"Message {i}", to=f"+1415555017{i}") for i in range(4)]
    claims = sorted(claiming.claim_due(limit=10), key=lambda c: c.message_id)
    sent_at = timezone.now() - dt.timedelta(seconds=3)
    outcomes = [
        recording.SendOutcome(c.message_id, c.attempt, result=SendResult(f"SM{i}"), at=sent_at)
        for i, c in enumerate(claims[:3])
    ]
    outcomes.append(
        recording.SendOutcome(
            claims[3].message_id, claims[3].attempt, error=CarrierError("busy", transient=True)
        )
    )
    with CaptureQueriesContext(connection) as queries:
        recording.record_outcomes(outcomes)
    # One statement for the three sent, one for the retry.
    assert len(message_updates(queries)) == 2
    for i, message in enumerate(messages[:3]):
        message = reload(message)
        assert (message.status, message.carrier_message_id) == (Status.SENT, f"SM{i}")
        assert message.sent_at == sent_at  # when the carrier took it, not when it was recorded
        assert message.lease_expires_at is None
    retried = reload(messages[3])
    assert (retried.status, retried.error_message) == (Status.QUEUED, "Retrying: busy")


def test_a_stale_claims_failure_in_a_batch_records_nothing_for_it(
    number: PhoneNumber, settings
) -> None:
    from twoway.carriers.base import CarrierError, SendResult

    stale_message = queue(number, body="Taken over")
    other = queue(number, body="Fine", to="+14155550143")
    claims = {c.message_id: c for c in claiming.claim_due(limit=10)}
    later = timezone.now() + dt.timedelta(seconds=settings.SEND_LEASE_SECONDS + 5)
    Message.objects.filter(pk=other.pk).update(lease_expires_at=later + dt.timedelta(minutes=1))
    [new_claim] = claiming.claim_due(limit=10, now=later)
    assert new_claim.message_id == stale_message.pk
    stale = claims[stale_message.pk]
    recording.record_outcomes(
        [
            recording.SendOutcome(
                stale.message_id, stale.attempt, error=CarrierError("gone", transient=False)
            ),
            recording.SendOutcome(other.pk, claims[other.pk].attempt, result=SendResult("SM9")),
        ]
    )
    assert (reload(stale_message).status, reload(stale_message).attempts) == (Status.SENDING, 2)
    assert reload(other).status == Status.SENT


def test_a_claim_may_leave_lost_leases_for_a_later_look(number: PhoneNumber, settings) -> None:
    message = queue(number)
    claiming.claim_due(limit=10)
    later = timezone.now() + dt.timedelta(seconds=settings.SEND_LEASE_SECONDS + 5)
    assert claiming.claim_due(limit=10, now=later, lost_leases=False) == []
    [again] = claiming.claim_due(limit=10, now=later)
    assert (again.message_id, again.attempt) == (message.pk, 2)
