"""`pairs_in` keeps the rows holding one of the given pairs, and only those."""

from __future__ import annotations

import pytest

from tests.conftest import make_conversation
from twoway.accounts.models import Organization
from twoway.contacts.models import Contact, ContactPhone
from twoway.conversations.models import Conversation
from twoway.core.rows import pairs_in
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

X, Y = "+12025550181", "+12025550182"


def test_a_pair_matches_its_own_row_not_every_mix_of_its_parts(
    org: Organization, number: PhoneNumber, twilio_number: PhoneNumber
) -> None:
    make_conversation(org, number, X)
    wanted = make_conversation(org, number, Y)
    make_conversation(org, twilio_number, X)
    found = Conversation.objects.filter(
        pairs_in(
            Conversation,
            ("phone_number_id", "contact_number"),
            [(number.pk, Y), (twilio_number.pk, Y)],
        )
    )
    assert list(found) == [wanted]


def test_columns_are_named_with_their_table_so_a_join_does_not_confuse_them(
    org: Organization, other_org: Organization
) -> None:
    ours = Contact.objects.create(organization=org, name="Ours")
    ContactPhone.objects.create(organization=org, contact=ours, number=X)
    theirs = Contact.objects.create(organization=other_org, name="Theirs")
    ContactPhone.objects.create(organization=other_org, contact=theirs, number=Y)
    phones = ContactPhone.objects.filter(
        pairs_in(ContactPhone, ("organization_id", "number"), {(org.pk, X), (org.pk, Y)})
    ).select_related("contact")
    assert [phone.contact.name for phone in phones] == ["Ours"]


def test_no_pairs_is_a_mistake_of_the_caller() -> None:
    with pytest.raises(ValueError, match="at least one pair"):
        pairs_in(Conversation, ("phone_number_id", "contact_number"), [])
