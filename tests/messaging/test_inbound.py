"""Inbound processing: stored carrier events become contacts,
conversations and messages, move folders, and act on compliance keywords, exactly once."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from tests.messaging import send_steps
from twoway.accounts.models import Membership, Organization
from twoway.carrier_events import processing
from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.carriers.errors import explain
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.contacts.models import Contact, ContactPhone, CreatedFrom, OptInStatus
from twoway.conversations.models import (
    Category,
    Conversation,
    Direction,
    Folder,
    Message,
    Status,
)
from twoway.messaging import claiming, inbound
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent
from twoway.simulator import network
from twoway.simulator.models import HandsetBehaviour, SimHandset, SimMessage

HANDSET = "+12025550172"
OPT_OUT_TEXT = "Acme Dental: you are unsubscribed and will receive no more messages."
OPT_IN_TEXT = "Acme Dental: you are subscribed again."


def record(number: PhoneNumber, body: str, *, sid: str | None = None, frm: str = HANDSET) -> str:
    """The carrier delivers a text from `frm` to `number` (stored as its webhook would)."""
    sid = sid or f"SIM{uuid.uuid4().hex}"
    carrier_event_record(
        "simulator",
        InboundMessage(carrier_message_id=sid, from_number=frm, to_number=number.number, body=body),
    )
    return sid


def receive(number: PhoneNumber, body: str, *, frm: str = HANDSET) -> Message:
    """A text arrives and the worker processes it."""
    sid = record(number, body, frm=frm)
    carrier_events_process_pending()
    return Message.objects.get(carrier="simulator", carrier_message_id=sid)


def conversation(number: PhoneNumber, contact_number: str = HANDSET) -> Conversation:
    return Conversation.objects.get(phone_number=number, contact_number=contact_number)


def contact_of(org: Organization, phone: str = HANDSET) -> Contact:
    return ContactPhone.objects.get(organization=org, number=phone).contact


def auto_replies() -> list[Message]:
    return list(
        Message.objects.filter(direction=Direction.OUTBOUND, category=Category.AUTO_REPLY).order_by(
            "id"
        )
    )


def ledger(contact: Contact, kind: str | None = None) -> list[ConsentEvent]:
    rows = ConsentEvent.objects.filter(contact=contact).order_by("id")
    return list(rows.filter(kind=kind) if kind else rows)


def pending_events() -> int:
    return CarrierEvent.objects.filter(processed_at__isnull=True).count()


# --- Contacts, conversations, folders -------------------------------------------------------------


def test_unknown_number_creates_a_lead_and_a_conversation_needing_attention(
    org: Organization, number: PhoneNumber
) -> None:
    message = receive(number, "Hi, do you have any openings on Friday?")

    contact = contact_of(org)
    assert contact.created_from == CreatedFrom.INBOUND
    assert contact.source_number == number
    assert contact.opt_in_status == OptInStatus.OPTED_IN
    assert [p.number for p in contact.phones.all()] == [HANDSET]

    convo = conversation(number)
    assert convo.contact == contact
    assert convo.organization == org
    assert convo.folder == Folder.NEEDS_ATTENTION
    assert convo.unread_count == 1
    assert convo.last_message_preview == "Hi, do you have any openings on Friday?"
    assert convo.last_message_at == message.created_at

    assert message.conversation == convo
    assert message.direction == Direction.INBOUND
    assert message.status == Status.RECEIVED
    assert (message.from_number, message.to_number) == (HANDSET, number.number)
    assert message.segments == 1 and message.encoding
    assert not auto_replies()


def test_known_contact_is_reused_not_duplicated(org: Organization, number: PhoneNumber) -> None:
    receive(number, "first")
    receive(number, "second")

    assert Contact.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 2


def test_a_national_format_sender_is_stored_as_e164(org: Organization, number: PhoneNumber) -> None:
    message = receive(number, "hello", frm="(202) 555-0172")

    assert message.from_number == HANDSET
    assert contact_of(org, HANDSET)


def test_each_inbound_adds_to_unread_and_our_reply_clears_it(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    receive(number, "Hello?")
    receive(number, "Anyone there?")
    convo = conversation(number)
    assert (convo.folder, convo.unread_count) == (Folder.NEEDS_ATTENTION, 2)

    reply = message_send(
        phone_number=number, to=HANDSET, body="Yes, how can we help?", membership=standard
    )
    convo.refresh_from_db()
    assert reply.conversation == convo  # the same thread, not a new one
    assert (convo.folder, convo.unread_count) == (Folder.PARTICIPATING, 0)
    assert convo.last_message_preview == "Yes, how can we help?"

    receive(number, "Is 3pm free?")
    convo.refresh_from_db()
    # Counted since our last outbound only.
    assert (convo.folder, convo.unread_count) == (Folder.NEEDS_ATTENTION, 1)


def test_conversation_we_started_stays_participating_until_they_answer(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    message_send(phone_number=number, to=HANDSET, body="Your crown is ready.", membership=standard)
    convo = conversation(number)
    assert (convo.folder, convo.unread_count) == (Folder.PARTICIPATING, 0)

    receive(number, "Great, thanks")
    convo.refresh_from_db()
    assert (convo.folder, convo.unread_count) == (Folder.NEEDS_ATTENTION, 1)
    assert Conversation.objects.count() == 1


def test_inbound_in_an_archived_conversation_brings_it_back_to_needs_attention(
    org: Organization, number: PhoneNumber
) -> None:
    receive(number, "Thanks!")
    Conversation.objects.update(folder=Folder.ARCHIVED, unread_count=0)

    receive(number, "One more question")

    convo = conversation(number)
    assert (convo.folder, convo.unread_count) == (Folder.NEEDS_ATTENTION, 1)


def test_outbound_in_an_archived_conversation_moves_it_to_participating(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    receive(number, "Thanks!")
    Conversation.objects.update(folder=Folder.ARCHIVED, unread_count=0)

    message_send(phone_number=number, to=HANDSET, body="See you Tuesday.", membership=standard)

    assert conversation(number).folder == Folder.PARTICIPATING


def test_muted_conversation_still_counts_unread_and_says_muted(
    org: Organization, number: PhoneNumber
) -> None:
    receive(number, "hi")
    Conversation.objects.update(muted=True)

    message = receive(number, "hello again")

    convo = conversation(number)
    assert (convo.folder, convo.unread_count, convo.muted) == (Folder.NEEDS_ATTENTION, 2, True)
    created = RealtimeEvent.objects.filter(kind="message.created").last()
    assert created is not None
    assert created.data["message"] == str(message.uid)
    assert created.data["muted"] is True  # the inbox shows it but does not alert


def test_same_handset_to_two_numbers_of_one_org_is_one_contact_two_conversations(
    org: Organization, number: PhoneNumber
) -> None:
    second = PhoneNumber.objects.create(organization=org, number="+14155550101")

    receive(number, "to the front desk")
    receive(second, "to billing")

    assert Contact.objects.filter(organization=org).count() == 1
    assert Conversation.objects.count() == 2
    assert conversation(number).contact == conversation(second).contact


def test_same_handset_texting_two_orgs_makes_one_contact_and_conversation_per_org(
    org: Organization, other_org: Organization, number: PhoneNumber
) -> None:
    theirs = PhoneNumber.objects.create(organization=other_org, number="+14155550199")

    mine_msg = receive(number, "Hello Acme")
    theirs_msg = receive(theirs, "Hello Other")
    receive(theirs, "STOP")

    ours, other = contact_of(org), contact_of(other_org)
    assert ours != other
    assert ours.organization == org and other.organization == other_org
    assert conversation(number).organization == org
    assert conversation(theirs).organization == other_org
    assert mine_msg.organization == org and theirs_msg.organization == other_org
    assert set(conversation(number).messages.values_list("body", flat=True)) == {"Hello Acme"}
    # Opting out of one organization is not opting out of another.
    ours.refresh_from_db()
    other.refresh_from_db()
    assert ours.opt_in_status == OptInStatus.OPTED_IN
    assert other.opt_in_status == OptInStatus.OPTED_OUT
    assert not ConsentEvent.objects.filter(organization=org).exists()
    # Each organization's inbox hears only about its own conversation.
    assert set(
        RealtimeEvent.objects.filter(organization=org).values_list("conversation_id", flat=True)
    ) == {conversation(number).pk}
    assert set(
        RealtimeEvent.objects.filter(organization=other_org).values_list(
            "conversation_id", flat=True
        )
    ) == {conversation(theirs).pk}


def test_inbound_publishes_message_created_and_conversation_updated(
    org: Organization, number: PhoneNumber
) -> None:
    message = receive(number, "Is my order ready?")
    convo = conversation(number)

    created = RealtimeEvent.objects.get(kind="message.created")
    assert created.organization == org
    assert created.conversation_id == convo.pk
    assert created.data["message"] == str(message.uid)
    assert created.data["direction"] == "in"
    assert created.data["preview"] == "Is my order ready?"
    assert created.data["contact"] == HANDSET

    updated = RealtimeEvent.objects.get(kind="conversation.updated")
    assert updated.organization == org
    assert updated.conversation_id == convo.pk
    assert updated.data == {"folder": Folder.NEEDS_ATTENTION, "unread_count": 1}


# --- Exactly once ---------------------------------------------------------------------------------


def test_the_same_carrier_event_recorded_five_times_is_one_message(
    org: Organization, number: PhoneNumber
) -> None:
    for _ in range(5):
        record(number, "Running late", sid="SIM-dup-1")
    assert CarrierEvent.objects.count() == 1

    for _ in range(3):
        carrier_events_process_pending()

    assert Message.objects.count() == 1
    assert conversation(number).unread_count == 1
    assert RealtimeEvent.objects.filter(kind="message.created").count() == 1


def test_receiving_the_same_carrier_message_twice_returns_the_first(
    org: Organization, number: PhoneNumber
) -> None:
    """Even past the event table's unique key, a carrier id is one message."""
    text = InboundMessage(
        carrier_message_id="SIM-direct-1", from_number=HANDSET, to_number=number.number, body="Hi"
    )

    first = inbound.inbound_message_receive("simulator", text)
    again = inbound.inbound_message_receive("simulator", text)

    assert again.pk == first.pk
    assert Message.objects.count() == 1
    assert conversation(number).unread_count == 1


def test_a_crash_during_processing_rolls_everything_back_and_retries_once(
    org: Organization, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = inbound.conversation_record_inbound
    calls = {"n": 0}

    def crash_once(**kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")
        real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(inbound, "conversation_record_inbound", crash_once)
    record(number, "Can I move my appointment?")
    before = timezone.now()

    assert carrier_events_process_pending() == 1

    # Nothing the half-done processing wrote survives: contact, conversation and message were all
    # created before the crash.
    assert not Contact.objects.exists()
    assert not ContactPhone.objects.exists()
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not RealtimeEvent.objects.exists()
    event = CarrierEvent.objects.get()
    assert event.processed_at is None
    assert event.retry_at is not None and event.retry_at > before
    assert event.attempts == 1
    assert "RuntimeError" in event.error and "database hiccup" in event.error

    # Not retried before its time...
    assert carrier_events_process_pending() == 0
    assert not Message.objects.exists()
    # ...then processed once when it is due, however many passes run.
    CarrierEvent.objects.update(retry_at=timezone.now() - dt.timedelta(seconds=1))
    carrier_events_process_pending()
    carrier_events_process_pending()

    event = CarrierEvent.objects.get()
    assert event.processed_at is not None
    assert event.error == ""
    assert event.attempts == 2
    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1
    convo = conversation(number)
    assert (convo.folder, convo.unread_count) == (Folder.NEEDS_ATTENTION, 1)
    assert RealtimeEvent.objects.filter(kind="message.created").count() == 1


def test_losing_the_database_while_answering_stop_undoes_the_opt_out_too(
    org: Organization, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (Any other failure to queue the confirmation leaves the opt-out applied: see
    # tests/compliance/test_long_replies.py.)
    from django.db import OperationalError

    from twoway.messaging import auto_replies as replying

    real = replying.message_send
    calls = {"n": 0}

    def crash_once(**kwargs: object) -> Message:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("lost the database")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(replying, "message_send", crash_once)
    record(number, "STOP")
    carrier_events_process_pending()

    # The opt-out is not half-applied without its confirmation (or the other way round).
    assert not Contact.objects.exists()
    assert not ConsentEvent.objects.exists()
    assert not Message.objects.exists()
    assert pending_events() == 1

    CarrierEvent.objects.update(retry_at=timezone.now() - dt.timedelta(seconds=1))
    carrier_events_process_pending()

    contact = contact_of(org)
    assert contact.opt_in_status == OptInStatus.OPTED_OUT
    assert len(ledger(contact, ConsentEventKind.OPT_OUT)) == 1
    assert len(auto_replies()) == 1
    assert pending_events() == 0


def test_events_are_processed_in_arrival_order(org: Organization, number: PhoneNumber) -> None:
    record(number, "STOP")
    record(number, "START")

    carrier_events_process_pending()

    # STOP then START: subscribed at the end, with both confirmations in order.
    assert contact_of(org).opt_in_status == OptInStatus.OPTED_IN
    kinds = [row.kind for row in ledger(contact_of(org))]
    assert kinds == [ConsentEventKind.OPT_OUT, ConsentEventKind.OPT_IN]
    bodies = [m.body for m in auto_replies()]
    assert len(bodies) == 2
    assert bodies[0].startswith(OPT_OUT_TEXT) and bodies[1].startswith(OPT_IN_TEXT)


# --- Compliance keywords --------------------------------------------------------------------------


def test_stop_opts_out_records_the_ledger_and_confirms_once(
    org: Organization, number: PhoneNumber
) -> None:
    for _ in range(5):
        record(number, "Stop.", sid="SIM-stop-1")
    for _ in range(3):
        carrier_events_process_pending()

    contact = contact_of(org)
    assert contact.opt_in_status == OptInStatus.OPTED_OUT
    stop = Message.objects.get(direction=Direction.INBOUND)
    (entry,) = ledger(contact)
    assert entry.kind == ConsentEventKind.OPT_OUT
    assert entry.source == "keyword"
    assert entry.text == "Stop."
    assert entry.phone_number == HANDSET
    assert entry.message == stop
    assert entry.organization == org

    (reply,) = auto_replies()
    assert reply.body.startswith(OPT_OUT_TEXT)
    assert reply.category == Category.AUTO_REPLY
    assert reply.status == Status.QUEUED  # handed to the dispatcher like any other text
    assert reply.to_number == HANDSET and reply.from_number == number.number
    assert reply.conversation == stop.conversation
    assert reply.sent_by_label == "keyword:STOP"
    assert reply.sent_by_id is None

    # Answered by Twoway itself: the STOP is in the thread and the preview, and it does not
    # pile up as unread in Needs attention.
    convo = conversation(number)
    assert (convo.folder, convo.unread_count) != (Folder.NEEDS_ATTENTION, 1)
    assert convo.unread_count == 0
    assert convo.last_message_preview
    updated = RealtimeEvent.objects.filter(kind="contact.updated").get()
    assert updated.data["opt_in_status"] == OptInStatus.OPTED_OUT


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "END", "quit", "REVOKE!"])
def test_every_opt_out_keyword_opts_out(org: Organization, number: PhoneNumber, word: str) -> None:
    receive(number, word)

    assert contact_of(org).opt_in_status == OptInStatus.OPTED_OUT
    assert len(auto_replies()) == 1


def test_opted_out_contact_gets_no_automated_messages(
    org: Organization, number: PhoneNumber
) -> None:
    from twoway.messaging.services import OptedOutError

    receive(number, "STOP")

    with pytest.raises(OptedOutError):
        message_send(phone_number=number, to=HANDSET, body="Big sale!", category=Category.BLAST)
    assert len(auto_replies()) == 1
    assert Message.objects.filter(category=Category.BLAST).count() == 0


def test_stop_twice_confirms_only_the_first_time(org: Organization, number: PhoneNumber) -> None:
    receive(number, "STOP")
    second = receive(number, "stop")

    contact = contact_of(org)
    assert contact.opt_in_status == OptInStatus.OPTED_OUT
    # Both texts are in the thread, but they opted out once: one ledger entry, one confirmation.
    assert second.direction == Direction.INBOUND
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 2
    assert len(ledger(contact, ConsentEventKind.OPT_OUT)) == 1
    assert len(auto_replies()) == 1
    # Keywords Twoway acted on ask nobody for anything: neither counts as unread.
    assert conversation(number).unread_count == 0


def test_start_opts_back_in_and_confirms(org: Organization, number: PhoneNumber) -> None:
    receive(number, "STOP")
    start = receive(number, "start")

    contact = contact_of(org)
    assert contact.opt_in_status == OptInStatus.OPTED_IN
    entry = ledger(contact, ConsentEventKind.OPT_IN)[0]
    assert (entry.source, entry.text, entry.message) == ("keyword", "start", start)
    replies = auto_replies()
    assert len(replies) == 2
    assert replies[1].body.startswith(OPT_IN_TEXT)
    assert replies[1].sent_by_label == "keyword:START"
    # Automated messages may go again.
    message_send(phone_number=number, to=HANDSET, body="Big sale!", category=Category.BLAST)


def test_yes_from_a_contact_who_never_opted_out_is_just_a_reply(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    message_send(
        phone_number=number, to=HANDSET, body="Can you come Tuesday at 3?", membership=standard
    )

    receive(number, "Yes!")

    # Not a resubscription: no ledger entry, no "subscribed again" to someone who never left.
    assert contact_of(org).opt_in_status == OptInStatus.OPTED_IN
    assert not ConsentEvent.objects.exists()
    assert not auto_replies()
    assert conversation(number).folder == Folder.NEEDS_ATTENTION


@pytest.mark.parametrize("word", ["HELP", "info", " Help? "])
def test_help_answers_with_the_org_help_text(
    org: Organization, number: PhoneNumber, word: str
) -> None:
    receive(number, word)

    (reply,) = auto_replies()
    assert reply.body == org.render(org.help_text)
    assert reply.body.startswith("Acme Dental:")
    assert "{org}" not in reply.body
    assert reply.sent_by_label == "keyword:HELP" or reply.sent_by_label == "keyword:INFO"
    assert contact_of(org).opt_in_status == OptInStatus.OPTED_IN
    assert not ConsentEvent.objects.exists()


def test_help_uses_the_org_s_own_help_text(org: Organization, number: PhoneNumber) -> None:
    org.help_text = "{org} front desk: call 415-555-0100. Reply STOP to opt out."
    org.save(update_fields=["help_text"])

    receive(number, "HELP")

    assert auto_replies()[0].body == (
        "Acme Dental front desk: call 415-555-0100. Reply STOP to opt out."
    )


def test_help_is_answered_even_after_opting_out(org: Organization, number: PhoneNumber) -> None:
    receive(number, "STOP")
    receive(number, "HELP")

    assert contact_of(org).opt_in_status == OptInStatus.OPTED_OUT
    replies = auto_replies()
    assert len(replies) == 2
    assert replies[1].body == org.render(org.help_text)


def test_natural_language_opt_out_is_flagged_not_applied(
    org: Organization, number: PhoneNumber
) -> None:
    message = receive(number, "please stop texting me")

    contact = contact_of(org)
    assert contact.opt_in_status == OptInStatus.OPTED_IN
    (entry,) = ledger(contact)
    assert entry.kind == ConsentEventKind.OPT_OUT_FLAGGED
    assert entry.text == "please stop texting me"
    assert entry.message == message
    assert entry.organization == org
    assert not auto_replies()
    assert conversation(number).folder == Folder.NEEDS_ATTENTION


def test_ordinary_text_touches_no_consent(org: Organization, number: PhoneNumber) -> None:
    receive(number, "Can I stop by at 5 to pick it up?")

    assert not ConsentEvent.objects.exists()
    assert not auto_replies()
    assert contact_of(org).opt_in_status == OptInStatus.OPTED_IN


# --- The simulated network ------------------------------------------------------------------------


def test_network_accepts_an_idempotency_key_once(db: None) -> None:
    first = network.network_accept(
        idempotency_key="key-1", from_number="+14155550100", to_number=HANDSET, body="Hi"
    )
    again = network.network_accept(
        idempotency_key="key-1", from_number="+14155550100", to_number=HANDSET, body="Hi"
    )
    other = network.network_accept(
        idempotency_key="key-2", from_number="+14155550100", to_number=HANDSET, body="Hi"
    )

    assert first == again
    assert other != first
    assert SimMessage.objects.filter(idempotency_key="key-1").count() == 1
    assert SimMessage.objects.count() == 2
    assert SimHandset.objects.filter(number=HANDSET).count() == 1


def _dispatch_all() -> None:
    for claim in claiming.claim_due(limit=10):
        send_steps.send_claimed(claim)


def test_network_reports_delivery_by_handset_behaviour(
    org: Organization, number: PhoneNumber, settings
) -> None:
    settings.SIMULATOR_DELIVERY_DELAY = 0
    landline = "+12025550199"
    SimHandset.objects.create(number=landline, behaviour=HandsetBehaviour.LANDLINE)
    to_mobile = message_send(phone_number=number, to=HANDSET, body="Your order is ready.")
    to_landline = message_send(phone_number=number, to=landline, body="Your order is ready.")
    _dispatch_all()
    to_mobile.refresh_from_db()
    to_landline.refresh_from_db()
    assert to_mobile.status == to_landline.status == Status.SENT
    assert to_mobile.carrier_message_id and to_landline.carrier_message_id

    assert network.network_report_due() == 2
    assert network.network_report_due() == 0  # each message is reported once
    assert CarrierEvent.objects.filter(kind=EventKind.STATUS).count() == 2
    carrier_events_process_pending()

    to_mobile.refresh_from_db()
    to_landline.refresh_from_db()
    assert to_mobile.status == Status.DELIVERED
    assert to_mobile.delivered_at is not None
    assert to_landline.status == Status.UNDELIVERED
    assert to_landline.error_code == "30006"
    assert to_landline.error_message == explain("30006")
    statuses = dict(SimMessage.objects.values_list("handset__number", "status"))
    assert statuses == {HANDSET: "delivered", landline: "undelivered"}


def test_network_waits_for_the_delivery_delay(
    org: Organization, number: PhoneNumber, settings
) -> None:
    settings.SIMULATOR_DELIVERY_DELAY = 60
    message_send(phone_number=number, to=HANDSET, body="Later")
    _dispatch_all()

    assert network.network_report_due() == 0
    assert not CarrierEvent.objects.exists()
    assert 0 < (network.network_next_report_in() or 0) <= 60


def test_handset_reply_becomes_an_inbound_message(org: Organization, number: PhoneNumber) -> None:
    sim = network.handset_send(handset_number=HANDSET, business_number=number.number, body="Hi!")

    event = CarrierEvent.objects.get()
    assert (event.carrier, event.kind, event.dedupe_key) == (
        "simulator",
        EventKind.INBOUND,
        str(sim.sid),
    )
    assert not Message.objects.exists()

    carrier_events_process_pending()

    message = Message.objects.get()
    assert message.body == "Hi!"
    assert message.direction == Direction.INBOUND
    assert message.carrier_message_id == str(sim.sid)
    assert message.conversation == conversation(number)
    assert contact_of(org).created_from == CreatedFrom.INBOUND


def test_handset_stop_round_trip_reaches_the_handset_once(
    org: Organization, number: PhoneNumber, settings
) -> None:
    settings.SIMULATOR_DELIVERY_DELAY = 0
    network.handset_send(handset_number=HANDSET, business_number=number.number, body="STOP")
    carrier_events_process_pending()
    _dispatch_all()
    _dispatch_all()

    received = SimMessage.objects.filter(direction=SimMessage.MT, handset__number=HANDSET)
    assert received.count() == 1
    assert received.get().body.startswith(OPT_OUT_TEXT)
    network.network_report_due()
    carrier_events_process_pending()
    assert auto_replies()[0].status == Status.DELIVERED


def test_a_crashing_event_is_retried_ever_more_slowly_but_at_most_every_ten_minutes(
    org: Organization, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always_crash(**kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(inbound, "conversation_record_inbound", always_crash)
    record(number, "Hello?")
    delays = []
    for attempts_before in (0, 1, processing.CRASH_MAX_ATTEMPTS - 2):
        CarrierEvent.objects.update(retry_at=None, attempts=attempts_before)
        start = timezone.now()
        carrier_events_process_pending()
        delays.append((CarrierEvent.objects.get().retry_at - start).total_seconds())
    assert delays[0] < delays[1] < delays[2]
    assert 599 <= delays[2] <= 601
    event = CarrierEvent.objects.get()
    assert event.processed_at is None and event.failed_at is None  # kept, still tried

    # The last try that crashes marks it failed: processed, kept, no more tries.
    CarrierEvent.objects.update(retry_at=None)
    carrier_events_process_pending()
    event = CarrierEvent.objects.get()
    assert event.attempts == processing.CRASH_MAX_ATTEMPTS
    assert event.failed_at is not None and event.processed_at is not None
    assert event.retry_at is None
    assert (
        event.error
        == f"Crashed on each of {processing.CRASH_MAX_ATTEMPTS} tries: RuntimeError: bug"
    )
    assert not Message.objects.exists()
    assert carrier_events_process_pending() == 0


def test_losing_the_database_is_retried_however_often_it_happens(
    org: Organization, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    def outage(**kwargs: object) -> None:
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(inbound, "conversation_record_inbound", outage)
    record(number, "Hello?")
    CarrierEvent.objects.update(attempts=processing.CRASH_MAX_ATTEMPTS + 5)
    carrier_events_process_pending()
    event = CarrierEvent.objects.get()
    assert event.failed_at is None and event.processed_at is None
    assert event.retry_at is not None


def test_a_status_report_never_touches_an_inbound_message(
    org: Organization, number: PhoneNumber
) -> None:
    from twoway.carriers.base import StatusUpdate

    received = receive(number, "Hi")
    carrier_event_record(
        "simulator",
        StatusUpdate(carrier_message_id=received.carrier_message_id, status="failed"),
    )
    carrier_events_process_pending()
    received.refresh_from_db()
    assert received.status == Status.RECEIVED
    assert CarrierEvent.objects.filter(kind=EventKind.STATUS, processed_at=None).count() == 1
