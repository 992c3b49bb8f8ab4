"""message_send: what it accepts, what it refuses, and what it stores for the dispatcher."""

from __future__ import annotations

import pytest

from twoway.accounts.models import Membership, Organization
from twoway.contacts.models import Contact, ContactPhone, OptInStatus
from twoway.contacts.services import contact_get_or_create_by_phone
from twoway.conversations.models import Category, Conversation, Direction, Message, Status
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.core.segments import segment_info
from twoway.messaging.services import OptedOutError, message_send
from twoway.numbers.models import PhoneNumber

TO = "+14155550142"


def nothing_created() -> bool:
    return (
        not Contact.objects.exists()
        and not ContactPhone.objects.exists()
        and not Conversation.objects.exists()
        and not Message.objects.exists()
    )


def opted_out_contact(org: Organization) -> Contact:
    contact, _ = contact_get_or_create_by_phone(organization=org, number=TO)
    contact.opt_in_status = OptInStatus.OPTED_OUT
    contact.save(update_fields=["opt_in_status"])
    return contact


# --- Recipient numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["415-555-0142", "4155550142", "+14155550142", " 415-555-0142 "])
def test_common_ways_of_typing_a_number_are_stored_as_e164(
    number: PhoneNumber, standard: Membership, typed: str
) -> None:
    message = message_send(phone_number=number, to=typed, body="Hello", membership=standard)
    message.refresh_from_db()
    assert message.to_number == TO
    assert message.from_number == number.number
    assert message.conversation.contact_number == TO
    assert ContactPhone.objects.get().number == TO


def test_the_same_number_typed_differently_reaches_one_contact_and_conversation(
    number: PhoneNumber, standard: Membership
) -> None:
    for typed in ("415-555-0142", "4155550142", "+14155550142"):
        message_send(phone_number=number, to=typed, body="Hi", membership=standard)
    assert Contact.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == 3


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12345", "not a valid phone number"),
        ("abc", "not a phone number"),
        ("", "Enter a phone number"),
    ],
)
def test_invalid_numbers_are_refused_readably_and_create_nothing(
    number: PhoneNumber, standard: Membership, typed: str, expected: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        message_send(phone_number=number, to=typed, body="Hello", membership=standard)
    assert caught.value.code == "invalid_to"
    assert expected in caught.value.message
    assert nothing_created()


# --- Bodies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "   ", "\n\t "])
def test_empty_body_is_refused_and_creates_nothing(
    number: PhoneNumber, standard: Membership, body: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        message_send(phone_number=number, to=TO, body=body, membership=standard)
    assert caught.value.code == "empty_body"
    assert caught.value.message == "Type a message first."
    assert nothing_created()


def test_body_over_the_organization_limit_is_refused_and_creates_nothing(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    org.max_message_length = 200
    org.save(update_fields=["max_message_length"])
    number.refresh_from_db()
    with pytest.raises(InvalidInput) as caught:
        message_send(phone_number=number, to=TO, body="x" * 201, membership=standard)
    assert caught.value.code == "too_long"
    assert "201" in caught.value.message and "200" in caught.value.message
    assert nothing_created()
    # Exactly at the limit is fine.
    message = message_send(phone_number=number, to=TO, body="x" * 200, membership=standard)
    assert len(message.body) == 200


def test_body_is_stored_trimmed(number: PhoneNumber, standard: Membership) -> None:
    message = message_send(phone_number=number, to=TO, body="  Hello there \n", membership=standard)
    message.refresh_from_db()
    assert message.body == "Hello there"


# --- What is stored ------------------------------------------------------------------------------


def test_message_is_stored_queued_with_gsm_segments(
    number: PhoneNumber, standard: Membership
) -> None:
    body = "a" * 161
    message = message_send(phone_number=number, to=TO, body=body, membership=standard)
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.direction == Direction.OUTBOUND
    assert message.category == Category.DIRECT
    assert message.segments == 2
    assert message.encoding == segment_info(body).encoding == "GSM-7"
    assert message.carrier == "simulator"
    assert message.sent_by_id == standard.user_id
    assert message.attempts == 0
    assert message.next_attempt_at is not None
    assert message.carrier_message_id is None


def test_one_gsm_segment_is_160_characters(number: PhoneNumber, standard: Membership) -> None:
    message = message_send(phone_number=number, to=TO, body="a" * 160, membership=standard)
    assert (message.segments, message.encoding) == (1, "GSM-7")


def test_emoji_makes_the_message_ucs2(number: PhoneNumber, standard: Membership) -> None:
    body = "See you tomorrow 🙂"
    message = message_send(phone_number=number, to=TO, body=body, membership=standard)
    message.refresh_from_db()
    info = segment_info(body)
    assert message.encoding == info.encoding == "UCS-2"
    assert message.segments == info.segments == 1
    # 71 UCS-2 characters no longer fit one 70-unit segment.
    longer = message_send(phone_number=number, to=TO, body="🙂" + "a" * 69, membership=standard)
    assert (longer.encoding, longer.segments) == ("UCS-2", 2)


def test_sender_that_cannot_send_sms_is_refused(number: PhoneNumber, standard: Membership) -> None:
    number.sms_enabled = False
    number.save(update_fields=["sms_enabled"])
    with pytest.raises(InvalidInput) as caught:
        message_send(phone_number=number, to=TO, body="Hello", membership=standard)
    assert caught.value.code == "sender_disabled"
    assert nothing_created()


# --- Who may send --------------------------------------------------------------------------------


def test_limited_member_cannot_start_a_conversation(
    number: PhoneNumber, limited: Membership
) -> None:
    with pytest.raises(PermissionDenied) as caught:
        message_send(phone_number=number, to=TO, body="Hello", membership=limited)
    assert caught.value.code == "cannot_initiate"
    assert "not start new ones" in caught.value.message
    assert nothing_created()


def test_limited_member_can_reply_in_an_existing_conversation(
    number: PhoneNumber, standard: Membership, limited: Membership
) -> None:
    first = message_send(phone_number=number, to=TO, body="Hello", membership=standard)
    reply = message_send(phone_number=number, to="415-555-0142", body="Me too", membership=limited)
    assert reply.conversation_id == first.conversation_id
    assert reply.status == Status.QUEUED
    assert reply.sent_by_id == limited.user_id


def test_limited_member_cannot_start_one_on_another_number_either(
    org: Organization, number: PhoneNumber, standard: Membership, limited: Membership
) -> None:
    message_send(phone_number=number, to=TO, body="Hello", membership=standard)
    other = PhoneNumber.objects.create(organization=org, number="+14155550199", carrier="simulator")
    with pytest.raises(PermissionDenied) as caught:
        message_send(phone_number=other, to=TO, body="Hello", membership=limited)
    assert caught.value.code == "cannot_initiate"
    assert Conversation.objects.count() == 1


@pytest.mark.parametrize("role_fixture", ["admin", "standard", "limited"])
def test_member_without_send_permission_cannot_send(
    request: pytest.FixtureRequest, number: PhoneNumber, standard: Membership, role_fixture: str
) -> None:
    existing = message_send(phone_number=number, to=TO, body="Hello", membership=standard)
    member: Membership = request.getfixturevalue(role_fixture)
    member.can_send_sms = False
    member.save(update_fields=["can_send_sms"])
    with pytest.raises(PermissionDenied) as caught:
        message_send(phone_number=number, to=TO, body="Reply", membership=member)
    assert caught.value.code == "no_sms_permission"
    assert list(Message.objects.values_list("pk", flat=True)) == [existing.pk]


# --- Opted-out contacts --------------------------------------------------------------------------


def test_direct_message_to_opted_out_contact_needs_confirmation(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    opted_out_contact(org)
    with pytest.raises(OptedOutError) as caught:
        message_send(phone_number=number, to=TO, body="Hello", membership=standard)
    assert caught.value.code == "opted_out"
    assert "confirm" in caught.value.message
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()

    message = message_send(
        phone_number=number, to=TO, body="Hello", membership=standard, confirm_opted_out=True
    )
    assert message.status == Status.QUEUED
    assert Message.objects.count() == 1


@pytest.mark.parametrize("category", [Category.MARKETING, Category.BLAST, Category.DRIP])
def test_automated_messages_never_go_to_opted_out_contacts(
    org: Organization, number: PhoneNumber, category: str
) -> None:
    opted_out_contact(org)
    with pytest.raises(OptedOutError) as caught:
        message_send(
            phone_number=number, to=TO, body="Sale!", category=category, confirm_opted_out=True
        )
    assert "automated messages are not sent" in caught.value.message
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()


def test_auto_reply_reaches_opted_out_contact(org: Organization, number: PhoneNumber) -> None:
    opted_out_contact(org)
    message = message_send(
        phone_number=number, to=TO, body="You are unsubscribed.", category=Category.AUTO_REPLY
    )
    assert message.status == Status.QUEUED
    assert message.category == Category.AUTO_REPLY


def test_opted_in_contact_gets_automated_messages(org: Organization, number: PhoneNumber) -> None:
    message = message_send(phone_number=number, to=TO, body="Sale!", category=Category.BLAST)
    assert message.status == Status.QUEUED


# --- Priority ------------------------------------------------------------------------------------


def test_conversation_replies_go_ahead_of_bulk(number: PhoneNumber, standard: Membership) -> None:
    direct = message_send(phone_number=number, to=TO, body="Hi", membership=standard)
    blast = message_send(phone_number=number, to=TO, body="Sale!", category=Category.BLAST)
    drip = message_send(phone_number=number, to=TO, body="Day 3", category=Category.DRIP)
    transactional = message_send(
        phone_number=number, to=TO, body="Your booking", category=Category.TRANSACTIONAL
    )
    auto_reply = message_send(
        phone_number=number, to=TO, body="Thanks", category=Category.AUTO_REPLY
    )
    assert direct.priority < blast.priority
    assert direct.priority == auto_reply.priority
    assert direct.priority < transactional.priority < blast.priority
    assert blast.priority == drip.priority
