"""Inbound events processed in batches: one pass gives what one event at a time gives."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.utils import timezone

from twoway.accounts.models import Organization
from twoway.carrier_events import processing
from twoway.carrier_events.models import CarrierEvent
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.compliance.models import ConsentEvent
from twoway.contacts.models import Contact, ContactPhone, OptInStatus
from twoway.conversations.models import Conversation, Direction, Folder, Message
from twoway.messaging import inbound, inbound_batch
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent

HANDSET = "+12025550172"
OTHER = "+12025550173"
THIRD = "+12025550174"


def record(number: PhoneNumber, body: str, *, frm: str = HANDSET, sid: str | None = None) -> str:
    sid = sid or f"SIM{uuid.uuid4().hex}"
    carrier_event_record(
        "simulator",
        InboundMessage(carrier_message_id=sid, from_number=frm, to_number=number.number, body=body),
    )
    return sid


def bodies(number: PhoneNumber, contact_number: str = HANDSET) -> list[tuple[str, str]]:
    """The thread, oldest first: (direction, body)."""
    convo = Conversation.objects.get(phone_number=number, contact_number=contact_number)
    return list(convo.messages.order_by("id").values_list("direction", "body"))


def test_two_texts_of_a_new_contact_in_one_batch_make_one_contact_and_one_conversation(
    org: Organization, number: PhoneNumber
) -> None:
    first = record(number, "Hi, are you open today?")
    second = record(number, "And tomorrow?")

    assert carrier_events_process_pending() == 2

    assert Contact.objects.count() == 1
    assert ContactPhone.objects.get().number == HANDSET
    convo = Conversation.objects.get()
    assert (convo.folder, convo.unread_count) == (Folder.NEEDS_ATTENTION, 2)
    assert convo.last_message_preview == "And tomorrow?"
    texts = list(Message.objects.order_by("id"))
    assert [m.carrier_message_id for m in texts] == [first, second]
    assert convo.last_message_at == texts[1].created_at
    assert texts[0].created_at <= texts[1].created_at
    created = RealtimeEvent.objects.filter(kind="message.created").order_by("id")
    assert [e.data["message"] for e in created] == [str(m.uid) for m in texts]
    assert all(e.data["contact"] == HANDSET and e.data["muted"] is False for e in created)
    updated = RealtimeEvent.objects.get(kind="conversation.updated")
    assert updated.data == {"folder": Folder.NEEDS_ATTENTION, "unread_count": 2}
    assert not CarrierEvent.objects.filter(processed_at__isnull=True).exists()
    assert set(CarrierEvent.objects.values_list("attempts", "error")) == {(1, "")}


def test_stop_and_a_later_text_in_one_batch_act_in_order(
    org: Organization, number: PhoneNumber
) -> None:
    record(number, "Hello")
    record(number, "STOP")
    record(number, "Wait, one more question")

    assert carrier_events_process_pending() == 3

    contact = ContactPhone.objects.get(number=HANDSET).contact
    assert contact.opt_in_status == OptInStatus.OPTED_OUT
    assert ConsentEvent.objects.filter(contact=contact).count() == 1
    thread = bodies(number)
    # The confirmation answers the STOP, before the text that came after it.
    assert [d for d, _ in thread] == [
        Direction.INBOUND,
        Direction.INBOUND,
        Direction.OUTBOUND,
        Direction.INBOUND,
    ]
    assert thread[3] == (Direction.INBOUND, "Wait, one more question")
    convo = Conversation.objects.get()
    assert convo.unread_count == 2  # the STOP, answered by Twoway, is not one of them
    assert convo.last_message_preview == "Wait, one more question"


def _snapshot(org: Organization, number: PhoneNumber) -> dict[str, Any]:
    conversations = {
        c.contact_number: (c.folder, c.unread_count, c.last_message_preview)
        for c in Conversation.objects.filter(organization=org)
    }
    threads = {n: bodies(number, n) for n in conversations}
    contacts = sorted(
        (p.number, p.contact.opt_in_status, p.contact.created_from)
        for p in ContactPhone.objects.filter(organization=org).select_related("contact")
    )
    ledger = sorted((e.phone_number, e.kind) for e in ConsentEvent.objects.filter(organization=org))
    created = RealtimeEvent.objects.filter(organization=org, kind="message.created").count()
    return {
        "conversations": conversations,
        "threads": threads,
        "contacts": contacts,
        "ledger": ledger,
        "message_created_events": created,
    }


def _scenario(number: PhoneNumber) -> None:
    record(number, "Hi there", frm=HANDSET)
    record(number, "Do you deliver?", frm=OTHER)
    record(number, "HELP", frm=THIRD)
    record(number, "STOP", frm=HANDSET)
    record(number, "please stop texting me", frm=OTHER)
    record(number, "ok", frm=HANDSET)
    record(number, "START", frm=HANDSET)
    record(number, "Thanks", frm=THIRD)


def test_a_batch_ends_exactly_where_one_event_at_a_time_ends(
    org: Organization, number: PhoneNumber
) -> None:
    # A twin of `org` (its texts name the organization), processed the other way.
    other_org = Organization.objects.create(name=org.name, country="US", two_way_enabled=True)
    theirs = PhoneNumber.objects.create(
        organization=other_org, number="+14155550199", carrier="simulator", mps_limit=100
    )
    _scenario(number)
    while carrier_events_process_pending(limit=1):
        pass
    _scenario(theirs)
    assert carrier_events_process_pending(limit=100) == 8

    assert _snapshot(org, number) == _snapshot(other_org, theirs)
    assert not CarrierEvent.objects.filter(processed_at__isnull=True).exists()


def test_a_text_already_stored_is_not_stored_again_by_a_batch(
    org: Organization, number: PhoneNumber
) -> None:
    sid = record(number, "Hi")
    carrier_events_process_pending()
    CarrierEvent.objects.all().delete()  # pruned, and then the carrier sent it once more
    record(number, "Hi", sid=sid)
    record(number, "Still there?")

    assert carrier_events_process_pending() == 2

    assert Message.objects.filter(carrier_message_id=sid).count() == 1
    assert Conversation.objects.get().unread_count == 2
    assert RealtimeEvent.objects.filter(kind="message.created").count() == 2
    assert not CarrierEvent.objects.filter(processed_at__isnull=True).exists()


def test_the_same_message_id_from_another_carrier_is_another_text(
    org: Organization, number: PhoneNumber, twilio_number: PhoneNumber
) -> None:
    # Ids are the carrier's own: only the same carrier's id is the same text.
    sid = record(number, "Hi")
    carrier_events_process_pending()
    for carrier, body, to in (
        ("twilio", "Same id, other carrier", twilio_number),
        ("simulator", "Hi", number),
    ):
        carrier_event_record(
            carrier,
            InboundMessage(
                carrier_message_id=sid, from_number=OTHER, to_number=to.number, body=body
            ),
        )
    record(number, "And one more", frm=OTHER)

    assert carrier_events_process_pending() == 2  # the simulator's is the same event: not stored

    stored = Message.objects.filter(carrier_message_id=sid).order_by("id")
    assert list(stored.values_list("carrier", "body")) == [
        ("simulator", "Hi"),
        ("twilio", "Same id, other carrier"),
    ]
    assert bodies(twilio_number, OTHER) == [("in", "Same id, other carrier")]
    assert bodies(number, OTHER) == [("in", "And one more")]


def test_one_bad_event_does_not_hold_up_the_others_and_is_recorded_as_failed(
    org: Organization, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = inbound_batch.segment_info

    def fail_on_boom(body: str) -> Any:
        if body == "boom":
            raise ValueError("cannot count segments")
        return real(body)

    # Both paths count segments: the batch, and the one-event path a failed half ends in.
    monkeypatch.setattr(inbound_batch, "segment_info", fail_on_boom)
    monkeypatch.setattr(inbound, "segment_info", fail_on_boom)
    handsets = [f"+120255501{n:02d}" for n in range(10, 16)]
    sids = [
        record(number, "boom" if i == 3 else f"text {i}", frm=h) for i, h in enumerate(handsets)
    ]
    before = timezone.now()

    assert carrier_events_process_pending() == 6

    stored = set(Message.objects.values_list("carrier_message_id", flat=True))
    assert stored == set(sids) - {sids[3]}
    assert Conversation.objects.count() == 5
    bad = CarrierEvent.objects.get(dedupe_key=sids[3])
    assert bad.processed_at is None and bad.attempts == 1
    assert bad.retry_at is not None and bad.retry_at > before
    assert "ValueError" in bad.error and "cannot count segments" in bad.error
    assert CarrierEvent.objects.filter(processed_at__isnull=False).count() == 5

    monkeypatch.setattr(inbound_batch, "segment_info", real)
    monkeypatch.setattr(inbound, "segment_info", real)
    CarrierEvent.objects.update(retry_at=timezone.now() - dt.timedelta(seconds=1))
    assert carrier_events_process_pending() == 1
    assert Message.objects.count() == 6
    bad.refresh_from_db()
    assert bad.processed_at is not None and bad.attempts == 2 and bad.error == ""


class Killed(BaseException):
    """What a SIGKILL does to the batch's transaction: it never commits."""


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    org: Organization, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = inbound_batch._conversations_record_inbound
    calls = {"n": 0}

    def killed_on_the_second(by_conversation: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed
        return real(by_conversation)

    monkeypatch.setattr(inbound_batch, "_conversations_record_inbound", killed_on_the_second)
    sids = [record(number, f"text {i}", frm=f"+120255501{i:02d}") for i in range(10, 14)]
    record(number, "STOP", frm="+12025550110")  # processed alone, mid-batch
    sids += [record(number, f"after {i}", frm=f"+120255501{i:02d}") for i in (11, 14)]

    with pytest.raises(Killed):
        carrier_events_process_pending()

    assert calls["n"] == 2
    assert not Message.objects.exists()
    assert not Contact.objects.exists()
    assert not ConsentEvent.objects.exists()
    assert not RealtimeEvent.objects.exists()
    assert set(CarrierEvent.objects.values_list("processed_at", "attempts")) == {(None, 0)}

    monkeypatch.setattr(inbound_batch, "_conversations_record_inbound", real)
    assert carrier_events_process_pending() == 7
    assert carrier_events_process_pending() == 0

    stored = list(Message.objects.filter(direction=Direction.INBOUND))
    assert sorted(m.carrier_message_id for m in stored if m.body != "STOP") == sorted(sids)
    assert len(stored) == 7
    assert Contact.objects.count() == 5
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1  # one confirmation
    # Every text once, but the STOP Twoway answered itself is nobody's unread.
    assert sum(Conversation.objects.values_list("unread_count", flat=True)) == 6


@pytest.mark.django_db(transaction=True)
def test_one_worker_process_at_a_time_processes_events_on_postgresql(
    org: Organization, number: PhoneNumber
) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time anyway")
    import psycopg

    record(number, "Hello")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=False) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", [processing.EVENTS_LOCK_KEY])
        assert carrier_events_process_pending() == 0  # the other process is at it
        assert not Message.objects.exists()
    assert carrier_events_process_pending() == 1
    assert Message.objects.count() == 1


def _stored(org: Organization) -> dict[str, Any]:
    """Every column the texts wrote, in order, with ids, uids, carrier ids and times replaced by
    what they point at, so two organizations' rows compare."""
    numbers = {n.pk: n.routing_mode for n in PhoneNumber.objects.filter(organization=org)}
    numbers_by_number = {
        n.number: n.routing_mode for n in PhoneNumber.objects.filter(organization=org)
    }
    conversations = {c.pk: c for c in Conversation.objects.filter(organization=org)}
    messages = list(Message.objects.filter(organization=org).order_by("id").values())
    bodies_by_uid = {str(m["uid"]): m["body"] for m in messages}
    contacts = {c.pk: c for c in Contact.objects.filter(organization=org)}
    volatile = {"id", "uid", "organization_id", "created_at", "carrier_message_id"}

    def plain(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in volatile}

    stored_messages = []
    for m in messages:
        convo = conversations[m["conversation_id"]]
        row = plain(m) | {
            "conversation_id": (convo.contact_number, numbers[convo.phone_number_id]),
            "to_number": numbers_by_number.get(m["to_number"], m["to_number"]),
            "from_number": numbers_by_number.get(m["from_number"], m["from_number"]),
        }
        stored_messages.append(row)
        if m["direction"] == Direction.INBOUND:
            assert m["created_at"] <= convo.last_message_at
    stored_conversations = sorted(
        (
            plain(row)
            | {
                "contact_id": contacts[row["contact_id"]].name,
                "phone_number_id": numbers[row["phone_number_id"]],
                "last_message_at": None,
            }
            for row in Conversation.objects.filter(organization=org).values()
        ),
        key=repr,
    )
    for convo in conversations.values():
        newest = convo.messages.order_by("-created_at", "-id").first()
        assert newest is None or convo.last_message_at == newest.created_at
    latest: dict[int, Any] = {}
    for convo in conversations.values():
        at = latest.get(convo.contact_id)
        latest[convo.contact_id] = max(filter(None, (at, convo.last_message_at)), default=None)
    stored_contacts = sorted(
        (
            plain(row)
            | {
                "source_number_id": numbers.get(row["source_number_id"]),
                "lead_texted_at": row["lead_texted_at"] is not None,
                # Their conversations' last message, whichever path wrote it.
                "last_activity_at": (
                    row["last_activity_at"] is not None
                    and row["last_activity_at"] == latest.get(row["id"])
                ),
            }
            for row in Contact.objects.filter(organization=org).values()
        ),
        key=repr,
    )
    phones = sorted(
        (
            plain(row) | {"contact_id": contacts[row["contact_id"]].name}
            for row in ContactPhone.objects.filter(organization=org).values()
        ),
        key=repr,
    )
    created = []  # a batch publishes them conversation by conversation, each in order
    for event in RealtimeEvent.objects.filter(organization=org, kind="message.created").order_by(
        "id"
    ):
        data = event.data | {"message": bodies_by_uid[event.data["message"]]}
        created.append((conversations[event.conversation_id].contact_number, data))
    last_updated = {
        conversations[e.conversation_id].contact_number: e.data
        for e in RealtimeEvent.objects.filter(
            organization=org, kind="conversation.updated"
        ).order_by("id")
    }
    return {
        "messages": stored_messages,
        "conversations": stored_conversations,
        "contacts": stored_contacts,
        "phones": phones,
        "message.created": sorted(created, key=lambda contact_and_data: contact_and_data[0]),
        "conversation.updated, last": last_updated,
    }


def _plain_texts(number: PhoneNumber, assistant: PhoneNumber) -> None:
    long = "Can I move my cleaning to Thursday afternoon? " * 5
    record(number, "Hi there", frm=HANDSET)
    record(number, "Hello from a known client", frm=OTHER)
    record(assistant, "Is the assistant there?", frm=THIRD)
    record(number, long, frm=HANDSET)
    record(number, "Café à 10h ? 😀", frm="+12025550199")
    record(number, "muted one", frm="+12025550188")
    record(number, "(202) 555-0177 writes too", frm="(202) 555-0177")
    record(assistant, "again", frm=THIRD)
    record(number, "archived no more", frm="+12025550166")


def _known(org: Organization, number: PhoneNumber) -> None:
    """What the organization had before the texts: a named contact, a muted and an archived
    conversation."""
    from tests.conftest import make_conversation

    make_conversation(org, number, OTHER, name="Dana Known")
    muted = make_conversation(org, number, "+12025550188", name="Quiet Person")
    Conversation.objects.filter(pk=muted.pk).update(muted=True, unread_count=4)
    make_conversation(org, number, "+12025550166", name="Old Client", folder=Folder.ARCHIVED)


def test_a_batch_stores_exactly_the_rows_one_event_at_a_time_stores(
    org: Organization, number: PhoneNumber
) -> None:
    from twoway.numbers.models import RoutingMode

    assistant = PhoneNumber.objects.create(
        organization=org,
        number="+14155550101",
        carrier="simulator",
        mps_limit=100,
        routing_mode=RoutingMode.ASSISTANT,
    )
    other_org = Organization.objects.create(name=org.name, country="US", two_way_enabled=True)
    theirs = PhoneNumber.objects.create(
        organization=other_org, number="+14155550199", carrier="simulator", mps_limit=100
    )
    their_assistant = PhoneNumber.objects.create(
        organization=other_org,
        number="+14155550198",
        carrier="simulator",
        mps_limit=100,
        routing_mode=RoutingMode.ASSISTANT,
    )
    _known(org, number)
    _known(other_org, theirs)
    _plain_texts(number, assistant)
    while carrier_events_process_pending(limit=1):
        pass
    _plain_texts(theirs, their_assistant)
    assert carrier_events_process_pending(limit=100) == 9

    alone, together = _stored(org), _stored(other_org)
    assert together == alone
    assert len(together["messages"]) == 9
    assert not CarrierEvent.objects.filter(processed_at__isnull=True).exists()


def _synchronous_commit() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


@pytest.mark.parametrize(
    ("texts", "waits"),
    [
        (["Hello", "Are you open?"], False),
        (["Hello", "STOP", "Are you open?"], True),  # the STOP queues a confirmation
    ],
)
def test_a_batch_commits_without_waiting_for_the_disk_only_when_it_queued_no_send(
    org: Organization, number: PhoneNumber, texts: list[str], waits: bool
) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    for body in texts:
        record(number, body)
    assert _synchronous_commit() == "on"

    assert carrier_events_process_pending() == len(texts)

    # SET LOCAL lasts until the end of the transaction: here the test's, around the batch's.
    assert _synchronous_commit() == ("on" if waits else "off")
    queued = Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert queued is waits


def test_a_row_the_database_refuses_fails_alone_as_with_the_orm(
    org: Organization, number: PhoneNumber
) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not hold a varchar to its length")
    handsets = [f"+120255501{n:02d}" for n in range(20, 26)]
    too_long = "SM" + "0" * 70  # the column holds 64: refused, not cut short
    sids = [record(number, f"text {i}", frm=h) for i, h in enumerate(handsets[:5])]
    record(number, "the odd one", frm=handsets[5], sid=too_long)

    assert carrier_events_process_pending() == 6

    assert set(Message.objects.values_list("carrier_message_id", flat=True)) == set(sids)
    bad = CarrierEvent.objects.get(dedupe_key=too_long)
    # No later try could store it: failed for good, not retried for ever.
    assert bad.failed_at is not None and bad.processed_at is not None
    assert "DataError" in bad.error
    assert Conversation.objects.count() == 5


def test_a_large_batch_links_every_text_to_its_own_contact_and_conversation(
    org: Organization, number: PhoneNumber
) -> None:
    # More rows than one SQLite statement takes (999 values): the ids come back in order across
    # statements.
    handsets = [f"+1202555{n:04d}" for n in range(300, 450)]
    for handset in handsets:
        record(number, f"from {handset}", frm=handset)
    record(number, "second from the first", frm=handsets[0])

    assert carrier_events_process_pending(limit=1000) == len(handsets) + 1

    for message in Message.objects.select_related("conversation__contact"):
        convo = message.conversation
        assert convo is not None
        assert message.body.endswith(message.from_number) or message.from_number == handsets[0]
        assert convo.contact_number == message.from_number
        assert list(convo.contact.phones.values_list("number", flat=True)) == [message.from_number]
    assert Contact.objects.count() == Conversation.objects.count() == len(handsets)
    assert Conversation.objects.get(contact_number=handsets[0]).unread_count == 2
    created = RealtimeEvent.objects.filter(kind="message.created")
    uids = {str(u): b for u, b in Message.objects.values_list("uid", "body")}
    assert sorted(uids[e.data["message"]] for e in created) == sorted(uids.values())


def test_the_worker_takes_larger_batches_on_postgresql() -> None:
    from django.db import connection

    expected = 1000 if connection.vendor == "postgresql" else 200
    assert processing.carrier_events_batch_limit() == expected


def test_a_text_through_another_carrier_than_the_number_s_reaches_no_inbox_in_a_batch(
    org: Organization, number: PhoneNumber
) -> None:
    # The simulator's number, named by a Twilio event among the simulator's own texts.
    record(number, "first")
    carrier_event_record(
        "twilio",
        InboundMessage(
            carrier_message_id="SMforeign", from_number=OTHER, to_number=number.number, body="x"
        ),
    )
    record(number, "second")

    assert carrier_events_process_pending() == 3

    assert bodies(number) == [("in", "first"), ("in", "second")]
    assert not Message.objects.filter(carrier="twilio").exists()
    assert not ContactPhone.objects.filter(number=OTHER).exists()
    foreign = CarrierEvent.objects.get(carrier="twilio")
    assert foreign.failed_at is not None
    assert foreign.error == f"No twilio number {number.number} is set up in Twoway."
