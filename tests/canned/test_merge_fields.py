"""Merge fields filled from a conversation's contact, and the fields this contact has no value
for named, left in the text as written."""

from __future__ import annotations

import pytest

from tests.conftest import make_conversation, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.canned.merge_fields import field_key, merge_fields, merge_fields_fill
from twoway.canned.models import CannedResponse
from twoway.canned.selectors import canned_response_filled
from twoway.canned.services import canned_response_create
from twoway.contacts.models import CustomField, CustomFieldValue
from twoway.core.errors import NotFound
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

EVERY_FIELD = (
    "{first_name} {last_name}, {business_name} here, {agent_name} speaking. "
    "Level: {membership_level}; visits: {visits}."
)


@pytest.fixture
def fields(org: Organization) -> tuple[CustomField, CustomField]:
    level = CustomField.objects.create(organization=org, name="Membership level", kind="text")
    visits = CustomField.objects.create(organization=org, name="Visits", kind="number")
    return level, visits


def test_keys_come_from_the_custom_fields_names() -> None:
    assert field_key("Membership level") == "membership_level"
    assert field_key("  Plan (2025)!") == "plan_2025"
    assert field_key("★") == ""


def test_built_in_keys_win_and_the_older_of_two_fields_keeps_a_key(org: Organization) -> None:
    CustomField.objects.create(organization=org, name="First name", kind="text")
    older = CustomField.objects.create(organization=org, name="Plan A", kind="text")
    CustomField.objects.create(organization=org, name="Plan-A", kind="text")
    keys = {f.key: f for f in merge_fields(org.pk)}
    assert list(keys)[:4] == ["first_name", "last_name", "business_name", "agent_name"]
    assert keys["first_name"].custom_field is None
    assert keys["plan_a"].custom_field == older
    assert len(keys) == 5


def test_every_merge_field_is_filled(
    org: Organization, number: PhoneNumber, sam: Membership, fields: tuple[CustomField, ...]
) -> None:
    level, visits = fields
    conversation = make_conversation(org, number, "+12025550101")
    contact = conversation.contact
    contact.first_name, contact.last_name = "Dana", "Whitfield"
    contact.save()
    CustomFieldValue.objects.create(contact=contact, field=level, value="Gold")
    CustomFieldValue.objects.create(contact=contact, field=visits, value="12")
    filled = merge_fields_fill(body=EVERY_FIELD, contact=contact, membership=sam)
    assert filled.text == (
        "Dana Whitfield, Acme Dental here, Sam Rivera speaking. Level: Gold; visits: 12."
    )
    assert filled.empty == [] and filled.unknown == []


def test_an_agent_without_a_name_is_their_email(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    contact = make_conversation(org, number, "+12025550101").contact
    filled = merge_fields_fill(body="{agent_name}", contact=contact, membership=standard)
    assert filled.text == "agent@acme.test"


def test_empty_fields_stay_as_written_and_are_named_once(
    org: Organization, number: PhoneNumber, sam: Membership, fields: tuple[CustomField, ...]
) -> None:
    contact = make_conversation(org, number, "+12025550101").contact
    contact.first_name = "Dana"
    contact.save()
    body = "Hi {first_name} {last_name}, level {membership_level}, again {membership_level}."
    filled = merge_fields_fill(body=body, contact=contact, membership=sam)
    assert filled.text == "Hi Dana {last_name}, level {membership_level}, again {membership_level}."
    assert filled.empty == ["last_name", "membership_level"]


def test_a_field_renamed_since_is_left_and_named_unknown(
    org: Organization, number: PhoneNumber, admin: Membership, fields: tuple[CustomField, ...]
) -> None:
    level, _ = fields
    canned = canned_response_create(
        actor=admin, name="Level", body="Your level: {membership_level}", personal=False
    )
    level.name = "Tier"
    level.save()
    conversation = make_conversation(org, number, "+12025550101")
    _, filled = canned_response_filled(admin, canned_id=canned.pk, conversation_id=conversation.pk)
    assert filled.text == "Your level: {membership_level}"
    assert filled.unknown == ["membership_level"] and filled.empty == []


def test_filling_needs_the_conversation_and_the_response_to_be_the_members(
    org: Organization, number: PhoneNumber, admin: Membership, other_org: Organization
) -> None:
    conversation = make_conversation(org, number, "+12025550101")
    personal = canned_response_create(actor=admin, name="Mine", body="Hi", personal=True)
    colleague = make_member(org, "colleague@acme.test", Role.ADMINISTRATIVE)
    with pytest.raises(NotFound):
        canned_response_filled(colleague, canned_id=personal.pk, conversation_id=conversation.pk)
    theirs = CannedResponse.objects.create(organization=other_org, name="T", body="Theirs")
    with pytest.raises(NotFound):
        canned_response_filled(admin, canned_id=theirs.pk, conversation_id=conversation.pk)
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    own = CannedResponse.objects.create(organization=other_org, name="O", body="Own")
    with pytest.raises(NotFound):
        canned_response_filled(outsider, canned_id=own.pk, conversation_id=conversation.pk)
