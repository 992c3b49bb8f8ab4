"""Who a text may go to: not the organization's own numbers, not an extension, not a premium or
a no-SMS line, only the organization's allowed countries; and a body someone can read."""

from __future__ import annotations

import uuid

import pytest

from twoway.accounts.models import Membership, Organization
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.contacts.models import Contact, ContactPhone, OptInStatus
from twoway.conversations.models import Category, Conversation, Direction, Message
from twoway.core.errors import InvalidInput
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.numbers.services import system_number_ensure_simulated

pytestmark = pytest.mark.django_db


def nothing_created() -> bool:
    return not (
        Contact.objects.exists()
        or ContactPhone.objects.exists()
        or Conversation.objects.exists()
        or Message.objects.exists()
    )


def refusal(number: PhoneNumber, member: Membership, to: str, body: str = "Hello") -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        message_send(phone_number=number, to=to, body=body, membership=member)
    assert nothing_created()
    return caught.value


def test_an_own_number_is_refused(number: PhoneNumber, standard: Membership) -> None:
    other = PhoneNumber.objects.create(organization=number.organization, number="+14155550111")
    for to in (number.number, "415-555-0111"):
        problem = refusal(number, standard, to)
        assert problem.code == "own_number"
    assert "(415) 555-0111 is one of your own numbers" in problem.message
    assert other.pk


def test_the_system_number_is_refused(number: PhoneNumber, standard: Membership) -> None:
    system = system_number_ensure_simulated()
    assert refusal(number, standard, system.number).code == "own_number"


def test_another_organizations_number_is_a_number_like_any(
    number: PhoneNumber, standard: Membership, other_org: Organization
) -> None:
    PhoneNumber.objects.create(organization=other_org, number="+14155550199")
    message = message_send(phone_number=number, to="+14155550199", body="Hi", membership=standard)
    assert message.to_number == "+14155550199"


@pytest.mark.parametrize(
    "typed", ["+1 (415) 555-0123 ext 5", "415-555-0123 x12", "+14155550123;ext=7"]
)
def test_an_extension_is_refused_not_dropped(
    number: PhoneNumber, standard: Membership, typed: str
) -> None:
    """The extension was dropped and the main line texted."""
    problem = refusal(number, standard, typed)
    assert problem.code == "invalid_to"
    assert "extension" in problem.message


def test_a_number_with_a_nul_is_refused(number: PhoneNumber, standard: Membership) -> None:
    """A NUL at the end was skipped and the number texted."""
    problem = refusal(number, standard, "415-555-0142\x00")
    assert (problem.code, problem.message) == ("invalid_to", "Null characters are not allowed.")


def test_normalize_phone_refuses_an_extension() -> None:
    with pytest.raises(InvalidPhoneNumber, match="has an extension"):
        normalize_phone("+1 (415) 555-0123 ext 5")
    assert normalize_phone("+1 (415) 555-0123") == "+14155550123"


def test_a_premium_rate_number_is_refused(number: PhoneNumber, standard: Membership) -> None:
    problem = refusal(number, standard, "+1 900 555 0123")
    assert problem.code == "premium_rate"
    assert "premium-rate" in problem.message


def test_a_line_that_cannot_take_texts_is_refused(number: PhoneNumber, org: Organization) -> None:
    """An Australian shared-cost 1300 line, where phonenumbers can tell."""
    org.allowed_countries = "US,CA,AU"
    org.save(update_fields=["allowed_countries"])
    with pytest.raises(InvalidInput) as caught:
        message_send(phone_number=number, to="+61 1300 123 456", body="Hi")
    assert caught.value.code == "invalid_to" and "shared-cost" in caught.value.message


@pytest.mark.parametrize("to", ["+44 7400 123456", "+52 55 1234 5678", "+1 876 555 0123"])
def test_a_country_outside_the_allowed_ones_is_refused(
    number: PhoneNumber, standard: Membership, to: str
) -> None:
    """Jamaica shares +1 with the US and Canada and is a country of its own all the same."""
    problem = refusal(number, standard, to)
    assert problem.code == "country_not_allowed"
    assert "number; this organization texts only numbers of CA, US" in problem.message


def test_canada_is_allowed_by_default_and_the_setting_decides(
    number: PhoneNumber, standard: Membership, org: Organization
) -> None:
    assert org.allowed_countries == "US,CA"
    message_send(phone_number=number, to="+1 416 555 0123", body="Hi", membership=standard)
    org.allowed_countries = "GB"
    org.save(update_fields=["allowed_countries"])
    with pytest.raises(InvalidInput) as caught:
        message_send(phone_number=number, to="+1 415 555 0142", body="Hi", membership=standard)
    assert caught.value.code == "country_not_allowed"
    message = message_send(
        phone_number=number, to="+44 7400 123456", body="Hi", membership=standard
    )
    assert message.to_number == "+447400123456"


@pytest.mark.parametrize("category", [Category.TRANSACTIONAL, Category.MARKETING, Category.BLAST])
def test_automation_is_bound_by_the_allowed_countries_too(
    org: Organization, number: PhoneNumber, category: str
) -> None:
    system_number_ensure_simulated()
    with pytest.raises(InvalidInput) as caught:
        message_send(
            phone_number=number, organization=org, to="+447400123456", body="Hi", category=category
        )
    assert caught.value.code == "country_not_allowed"


def test_a_stop_from_abroad_is_applied_and_confirmed(
    org: Organization, number: PhoneNumber
) -> None:
    """A compliance reply answers the handset that texted in, wherever it is."""
    handset = "+447400123456"
    sid = f"SIM{uuid.uuid4().hex}"
    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id=sid, from_number=handset, to_number=number.number, body="STOP"
        ),
    )
    carrier_events_process_pending()
    contact = ContactPhone.objects.get(organization=org, number=handset).contact
    assert contact.opt_in_status == OptInStatus.OPTED_OUT
    reply = Message.objects.get(direction=Direction.OUTBOUND, category=Category.AUTO_REPLY)
    assert reply.to_number == handset
    assert reply.body == org.render(org.opt_out_confirmation)


# --- Bodies --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "\u200b",
        "\u200b\u200c\u200d",
        " \u200e\u200f ",
        "\u2060\ufeff",
        "\u202a\u202b\u202c\u202d\u202e",
        "\u2066\u2067\u2068\u2069",
        "\n\u200b\t\u00a0",
    ],
)
def test_a_body_of_invisible_marks_only_is_empty(
    number: PhoneNumber, standard: Membership, body: str
) -> None:
    """It was sent and billed, and showed nothing."""
    problem = refusal(number, standard, "+14155550142", body)
    assert (problem.code, problem.message) == ("empty_body", "Type a message first.")


def test_invisible_marks_within_words_are_kept(number: PhoneNumber, standard: Membership) -> None:
    body = "\u200f\u05e9\u05dc\u05d5\u05dd\u200e ok"
    message = message_send(phone_number=number, to="+14155550142", body=body, membership=standard)
    assert message.body == body


def test_a_body_with_a_nul_is_refused(number: PhoneNumber, standard: Membership) -> None:
    """PostgreSQL cannot store it (a 500); SQLite stored it: refused on both alike."""
    problem = refusal(number, standard, "+14155550142", "before\x00after")
    assert (problem.code, problem.message) == ("null_character", "Null characters are not allowed.")
