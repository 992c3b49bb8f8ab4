"""Message types and their senders: transactional texts from the
shared system number until the own number is trusted, marketing from a non-dedicated number
with no conversation, replies to the system number routed by the last send to the handset,
and what texts get while two-way texting is off."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from tests.conftest import make_member
from twoway.accounts.models import Membership, OffReply, Organization, Role
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.contacts.models import ContactPhone
from twoway.conversations.models import Category, Conversation, Direction, Folder, Message
from twoway.core.errors import InvalidInput
from twoway.messaging.auto_replies import DO_NOT_REPLY_LABEL
from twoway.messaging.senders import TwoWayOff
from twoway.messaging.services import message_send
from twoway.numbers.activation import two_way_activate, two_way_deactivate
from twoway.numbers.models import PhoneNumber, Verification
from twoway.numbers.services import system_number_ensure_simulated
from twoway.numbers.verification import number_verification_set

pytestmark = pytest.mark.django_db

HANDSET = "+12025550172"


@pytest.fixture
def system() -> PhoneNumber:
    return system_number_ensure_simulated()


@pytest.fixture
def dedicated(org: Organization, admin: Membership, system: PhoneNumber) -> PhoneNumber:
    """The organization's two-way number, as activation gives it: pending verification."""
    Organization.objects.filter(pk=org.pk).update(two_way_enabled=False)
    admin.organization.refresh_from_db()
    return two_way_activate(actor=admin)


def text_in(to: PhoneNumber, body: str, frm: str = HANDSET) -> Message:
    sid = f"SIM{uuid.uuid4().hex}"
    carrier_event_record(
        "simulator",
        InboundMessage(carrier_message_id=sid, from_number=frm, to_number=to.number, body=body),
    )
    carrier_events_process_pending()
    return Message.objects.get(carrier_message_id=sid)


def outbound_to(handset: str = HANDSET) -> list[Message]:
    return list(
        Message.objects.filter(direction=Direction.OUTBOUND, to_number=handset).order_by("pk")
    )


# --- Transactional -------------------------------------------------------------------------


def test_transactional_goes_from_the_system_number_while_unverified(
    org: Organization, dedicated: PhoneNumber, system: PhoneNumber
) -> None:
    message = message_send(
        organization=org, to=HANDSET, body="Your booking is confirmed.", category="transactional"
    )
    assert message.from_number == system.number
    assert message.carrier == system.carrier
    # It belongs to the thread with the business's own number, where a reply will show.
    assert message.conversation is not None
    assert message.conversation.phone_number == dedicated
    assert message.category == Category.TRANSACTIONAL


@pytest.mark.parametrize("state", [Verification.PENDING, Verification.IN_REVIEW, "rejected"])
def test_every_untrusted_state_keeps_the_system_number(
    org: Organization, dedicated: PhoneNumber, system: PhoneNumber, state: str
) -> None:
    number_verification_set(number=dedicated, status=state, reason="Opt-in unclear")
    message = message_send(organization=org, to=HANDSET, body="Reminder", category="transactional")
    assert message.from_number == system.number


def test_transactional_goes_from_the_own_number_once_verified(
    org: Organization, dedicated: PhoneNumber
) -> None:
    number_verification_set(number=dedicated, status=Verification.VERIFIED)
    message = message_send(organization=org, to=HANDSET, body="Reminder", category="transactional")
    assert message.from_number == dedicated.number


def test_a_number_needing_no_verification_sends_its_own_transactional_texts(
    number: PhoneNumber, system: PhoneNumber
) -> None:
    assert number.verification_status == Verification.NOT_REQUIRED
    message = message_send(phone_number=number, to=HANDSET, body="Paid", category="transactional")
    assert message.from_number == number.number


def test_without_a_system_number_an_unverified_own_number_still_sends(
    org: Organization, admin: Membership
) -> None:
    Organization.objects.filter(pk=org.pk).update(two_way_enabled=False)
    admin.organization.refresh_from_db()
    own = two_way_activate(actor=admin)
    assert not PhoneNumber.objects.filter(is_system=True).exists()
    message = message_send(organization=org, to=HANDSET, body="Reminder", category="transactional")
    assert message.from_number == own.number


def test_transactional_without_two_way_goes_from_the_system_number_with_no_thread(
    org: Organization, system: PhoneNumber
) -> None:
    Organization.objects.filter(pk=org.pk).update(two_way_enabled=False)
    org.refresh_from_db()
    message = message_send(organization=org, to=HANDSET, body="Reminder", category="transactional")
    assert message.from_number == system.number
    assert message.conversation is None
    assert not Conversation.objects.exists()


def test_nothing_to_send_from_is_a_clear_error(org: Organization) -> None:
    Organization.objects.filter(pk=org.pk).update(two_way_enabled=False)
    org.refresh_from_db()
    with pytest.raises(InvalidInput, match="no number to send this from"):
        message_send(organization=org, to=HANDSET, body="Reminder", category="transactional")
    assert not Message.objects.exists()


def test_a_reply_to_a_transactional_text_reaches_the_inbox(
    org: Organization, dedicated: PhoneNumber, system: PhoneNumber
) -> None:
    sent = message_send(organization=org, to=HANDSET, body="Booked!", category="transactional")

    reply = text_in(system, "Can I come at 3 instead?")

    assert reply.organization_id == org.pk
    assert reply.conversation == sent.conversation
    assert reply.to_number == system.number
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert conversation.folder == Folder.NEEDS_ATTENTION
    assert conversation.unread_count == 1


def test_system_number_replies_go_to_the_organization_that_texted_last(
    org: Organization,
    other_org: Organization,
    dedicated: PhoneNumber,
    system: PhoneNumber,
) -> None:
    other_admin = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    Organization.objects.filter(pk=other_org.pk).update(two_way_enabled=False)
    other_admin.organization.refresh_from_db()
    other_number = two_way_activate(actor=other_admin)
    message_send(organization=org, to=HANDSET, body="Acme: booked", category="transactional")
    later = message_send(
        organization=other_org, to=HANDSET, body="Other: paid", category="transactional"
    )

    reply = text_in(system, "Thanks!")

    assert reply.organization_id == other_org.pk
    assert reply.conversation == later.conversation
    assert later.conversation is not None and later.conversation.phone_number == other_number
    # Nothing of it shows for the first organization, not even the contact.
    assert not Message.objects.filter(organization=org, direction=Direction.INBOUND).exists()


def test_a_text_to_the_system_number_from_a_stranger_is_left_unprocessed(
    system: PhoneNumber,
) -> None:
    from twoway.carrier_events.models import CarrierEvent

    sid = "SIMstranger"
    carrier_event_record(
        "simulator",
        InboundMessage(sid, from_number=HANDSET, to_number=system.number, body="Who is this?"),
    )
    carrier_events_process_pending()
    event = CarrierEvent.objects.get(dedupe_key=sid)
    assert event.processed_at is not None
    assert "has sent it nothing" in event.error
    assert not Message.objects.exists()


# --- Marketing -----------------------------------------------------------------------------


def test_marketing_goes_from_the_system_number_and_opens_no_conversation(
    org: Organization, dedicated: PhoneNumber, system: PhoneNumber
) -> None:
    message = message_send(organization=org, to=HANDSET, body="20% off!", category="marketing")
    assert message.from_number == system.number
    assert message.conversation is None
    assert not Conversation.objects.exists()
    assert ContactPhone.objects.filter(organization=org, number=HANDSET).exists()


def test_marketing_never_goes_from_the_dedicated_number(
    org: Organization, dedicated: PhoneNumber
) -> None:
    with pytest.raises(InvalidInput, match="do not go from your dedicated number"):
        message_send(phone_number=dedicated, to=HANDSET, body="Sale", category="marketing")
    assert not Message.objects.exists()


def test_marketing_may_name_another_non_dedicated_number(
    org: Organization, number: PhoneNumber
) -> None:
    message = message_send(phone_number=number, to=HANDSET, body="Sale", category="marketing")
    assert message.from_number == number.number
    assert message.conversation is None


def test_a_reply_to_marketing_reaches_no_inbox_but_stop_still_works(
    org: Organization, dedicated: PhoneNumber, system: PhoneNumber
) -> None:
    message_send(organization=org, to=HANDSET, body="20% off!", category="marketing")

    reply = text_in(system, "nice")
    assert reply.organization_id == org.pk and reply.conversation is None
    assert not Conversation.objects.exists()
    assert len(outbound_to()) == 1  # no answer to a marketing reply

    text_in(system, "STOP")
    contact = ContactPhone.objects.get(organization=org, number=HANDSET).contact
    assert contact.is_opted_out
    confirmation = outbound_to()[-1]
    assert confirmation.category == Category.AUTO_REPLY
    assert confirmation.from_number == system.number  # from the number the contact texted


# --- Direct texts and two-way off ----------------------------------------------------------


def test_direct_texts_need_two_way_texting_on(
    org: Organization, admin: Membership, dedicated: PhoneNumber
) -> None:
    two_way_deactivate(actor=admin, off_reply=OffReply.NO_AUTO_REPLY)
    dedicated.refresh_from_db()
    with pytest.raises(TwoWayOff, match="Two-way texting is off"):
        message_send(phone_number=dedicated, to=HANDSET, body="Hi", membership=admin)
    assert not Message.objects.exists()


def test_direct_texts_from_an_unverified_number_are_sent(
    org: Organization, standard: Membership, dedicated: PhoneNumber
) -> None:
    message = message_send(phone_number=dedicated, to=HANDSET, body="Hi", membership=standard)
    assert message.from_number == dedicated.number  # with a warning in the UI, not a refusal


def test_while_off_texts_reach_no_inbox_and_get_no_reply(
    org: Organization, admin: Membership, dedicated: PhoneNumber
) -> None:
    two_way_deactivate(actor=admin, off_reply=OffReply.NO_AUTO_REPLY)
    dedicated.refresh_from_db()

    received = text_in(dedicated, "Are you open Sunday?")

    assert received.conversation is None
    assert not Conversation.objects.exists()
    assert outbound_to() == []


def test_while_off_the_do_not_reply_message_goes_once_a_day(
    org: Organization, admin: Membership, dedicated: PhoneNumber
) -> None:
    Organization.objects.filter(pk=org.pk).update(do_not_reply_text="{org} reads no texts here.")
    admin.organization.refresh_from_db()
    two_way_deactivate(actor=admin, off_reply=OffReply.DO_NOT_REPLY)
    dedicated.refresh_from_db()

    text_in(dedicated, "Hello?")
    text_in(dedicated, "Hello??")

    replies = outbound_to()
    assert [m.body for m in replies] == ["Acme Dental reads no texts here."]
    assert replies[0].from_number == dedicated.number
    assert replies[0].category == Category.AUTO_REPLY
    assert replies[0].sent_by_label == DO_NOT_REPLY_LABEL
    assert replies[0].conversation is None

    # A day later it may go again.
    Message.objects.filter(pk=replies[0].pk).update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )
    text_in(dedicated, "Anyone?")
    assert len(outbound_to()) == 2


def test_while_off_stop_is_still_honoured_and_gets_no_do_not_reply(
    org: Organization, admin: Membership, dedicated: PhoneNumber
) -> None:
    two_way_deactivate(actor=admin, off_reply=OffReply.DO_NOT_REPLY)
    dedicated.refresh_from_db()

    text_in(dedicated, "STOP")
    text_in(dedicated, "why did you text me")

    contact = ContactPhone.objects.get(organization=org, number=HANDSET).contact
    assert contact.is_opted_out
    replies = outbound_to()
    assert len(replies) == 1  # the opt-out confirmation only, nothing to an opted-out contact
    assert "unsubscribed" in replies[0].body


def test_a_system_number_reply_while_off_gets_the_off_reply(
    org: Organization, admin: Membership, dedicated: PhoneNumber, system: PhoneNumber
) -> None:
    two_way_deactivate(actor=admin, off_reply=OffReply.DO_NOT_REPLY)
    message_send(organization=org, to=HANDSET, body="Booked", category="transactional")

    reply = text_in(system, "Thanks")

    assert reply.conversation is None
    answer = outbound_to()[-1]
    assert answer.sent_by_label == DO_NOT_REPLY_LABEL
    assert answer.from_number == system.number
