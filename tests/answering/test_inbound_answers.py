"""The away message and keyword rules answer inbound texts: once per closed period, never to
an opted-out client or a compliance keyword, a number's rule before the organization's."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.answering.helpers import TUESDAY, Clock, answers_to, at, away_on, canned, text_in
from twoway.accounts.models import Organization
from twoway.answering.models import KeywordRule
from twoway.billing.models import SmsAccount
from twoway.contacts.models import Contact, ContactPhone, OptInStatus
from twoway.conversations.models import Category, Conversation, Folder
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

HANDSET = "+12025550211"
AWAY = "Hi {first_name}, we are closed; we answer from 9:00."


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, at(TUESDAY, 20))  # closed since 17:00


@pytest.fixture
def away(org: Organization) -> None:
    away_on(org, canned(org, "Closed", AWAY))


def known_contact(org: Organization, first_name: str = "Dana") -> Contact:
    contact = Contact.objects.create(organization=org, first_name=first_name, name=first_name)
    ContactPhone.objects.create(organization=org, contact=contact, number=HANDSET)
    return contact


def test_outside_hours_a_text_gets_the_away_message_once_per_closed_period(
    org: Organization, number: PhoneNumber, clock: Clock, away: None
) -> None:
    known_contact(org)
    text_in(number, "Can I book a cleaning?", HANDSET)
    assert answers_to(HANDSET) == [("Away message", "Hi Dana, we are closed; we answer from 9:00.")]
    sent = Conversation.objects.get(contact_number=HANDSET).messages.latest("pk")
    assert sent.category == Category.DIRECT and sent.sent_by is None
    clock.now += dt.timedelta(hours=2)
    text_in(number, "Hello?", HANDSET)
    assert len(answers_to(HANDSET)) == 1  # the same closed period: nothing more
    # Open on Wednesday: no away message; closed again in the evening: a new period.
    clock.now = at(TUESDAY + dt.timedelta(days=1), 10)
    text_in(number, "Morning!", HANDSET)
    assert len(answers_to(HANDSET)) == 1
    clock.now = at(TUESDAY + dt.timedelta(days=1), 18)
    text_in(number, "Still there?", HANDSET)
    assert len(answers_to(HANDSET)) == 2
    # The text still waits for an agent: the away message answers nobody's question.
    assert Conversation.objects.get(contact_number=HANDSET).folder == Folder.NEEDS_ATTENTION


def test_a_missing_first_name_is_left_out_of_the_away_message(
    org: Organization, number: PhoneNumber, clock: Clock, away: None
) -> None:
    text_in(number, "Hi", HANDSET)
    assert answers_to(HANDSET) == [("Away message", "Hi, we are closed; we answer from 9:00.")]


def test_an_away_message_fills_the_organization_and_drops_a_field_gone_since(
    org: Organization, number: PhoneNumber, clock: Clock
) -> None:
    body = "{business_name} is closed ({agent_name}). Your {gone_field} is safe."
    away_on(org, canned(org, "Closed", body))
    text_in(number, "Hi", HANDSET)
    assert answers_to(HANDSET) == [
        ("Away message", "Acme Dental is closed (Acme Dental). Your is safe.")
    ]


def test_in_business_hours_or_switched_off_there_is_no_away_message(
    org: Organization, number: PhoneNumber, clock: Clock, away: None
) -> None:
    clock.now = at(TUESDAY, 11)
    text_in(number, "Hi", HANDSET)
    assert answers_to(HANDSET) == []
    clock.now = at(TUESDAY, 20)
    org.answering.away_enabled = False
    org.answering.save()
    text_in(number, "Hi", HANDSET)
    assert answers_to(HANDSET) == []


def test_an_opted_out_client_gets_no_away_message_nor_rule_answer(
    org: Organization, number: PhoneNumber, clock: Clock, away: None
) -> None:
    contact = known_contact(org)
    contact.opt_in_status = OptInStatus.OPTED_OUT
    contact.save()
    KeywordRule.objects.create(
        organization=org, keyword="HOURS", response=canned(org, "Hours", "9 to 5")
    )
    text_in(number, "Hi", HANDSET)
    text_in(number, "hours", HANDSET)
    assert answers_to(HANDSET) == []


def test_a_compliance_keyword_gets_its_own_reply_and_no_away_message(
    org: Organization, number: PhoneNumber, clock: Clock, away: None
) -> None:
    org.help_text = "Acme Dental: call 555-0100."
    org.save()
    text_in(number, "HELP", HANDSET)
    assert answers_to(HANDSET) == [("keyword:HELP", "Acme Dental: call 555-0100.")]
    text_in(number, "STOP", HANDSET)
    assert [who for who, _ in answers_to(HANDSET)] == ["keyword:HELP", "keyword:STOP"]


def test_no_balance_no_away_message_and_the_text_is_still_received(
    org: Organization, number: PhoneNumber, clock: Clock, away: None
) -> None:
    SmsAccount.objects.create(organization=org, balance=0)
    message = text_in(number, "Hi", HANDSET)
    assert message.conversation is not None
    assert answers_to(HANDSET) == []
    event = message.carrier_message_id
    from twoway.carrier_events.models import CarrierEvent

    recorded = CarrierEvent.objects.get(payload__carrier_message_id=event)
    assert "away message was not sent" in recorded.error
    assert "balance is used up" in recorded.error


def test_a_keyword_rule_answers_at_any_hour_and_needs_no_attention(
    org: Organization, number: PhoneNumber, clock: Clock, away: None
) -> None:
    known_contact(org)
    KeywordRule.objects.create(
        organization=org, keyword="HOURS", response=canned(org, "Hours", "{first_name}: 9 to 5.")
    )
    text_in(number, "Hours? 🙂", HANDSET)  # normalised as compliance keywords are
    # The rule's answer replaces the away message; the next plain text gets the away message.
    assert answers_to(HANDSET) == [("Keyword rule: HOURS", "Dana: 9 to 5.")]
    conversation = Conversation.objects.get(contact_number=HANDSET)
    assert conversation.folder != Folder.NEEDS_ATTENTION
    clock.now = at(TUESDAY, 11)
    text_in(number, "\uff28\uff2f\uff35\uff32\uff33", HANDSET)  # full-width HOURS
    assert [who for who, _ in answers_to(HANDSET)] == ["Keyword rule: HOURS"] * 2


def test_a_number_rule_beats_the_organization_rule(
    org: Organization, number: PhoneNumber, clock: Clock
) -> None:
    other = PhoneNumber.objects.create(
        organization=org, number="+14155550101", carrier="simulator", mps_limit=100
    )
    KeywordRule.objects.create(
        organization=org, keyword="HOURS", response=canned(org, "All", "Org-wide hours")
    )
    KeywordRule.objects.create(
        organization=org,
        phone_number=other,
        keyword="HOURS",
        response=canned(org, "Branch", "Branch hours"),
    )
    text_in(number, "hours", HANDSET)
    text_in(other, "hours", HANDSET)
    assert [body for _, body in answers_to(HANDSET)] == ["Org-wide hours", "Branch hours"]
    branch = Conversation.objects.get(phone_number=other).messages.latest("pk")
    assert branch.from_number == other.number
