"""The organization's possible duplicates: pairs with the same e-mail or name in any case,
found with a fixed number of queries however many contacts, capped, and only the
organization's own."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.contacts.duplicates import PAIRS_SHOWN, SAME_EMAIL, SAME_NAME, duplicate_pairs
from twoway.contacts.models import Contact, ContactPhone
from twoway.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def contact(org: Organization, name: str = "", email: str = "", number: str = "") -> Contact:
    made = Contact.objects.create(organization=org, name=name, email=email)
    if number:
        ContactPhone.objects.create(organization=org, contact=made, number=number)
    return made


def pairs_of(by: Membership) -> list[tuple[int, int, tuple[str, ...]]]:
    return [(p.older.pk, p.newer.pk, p.same) for p in duplicate_pairs(by).pairs]


def test_pairs_with_the_same_email_or_name_in_any_case(
    org: Organization, admin: Membership
) -> None:
    dana = contact(org, "Dana Whitfield", "dana@example.com", "+14155550101")
    dana_lead = contact(org, "", "DANA@example.com", "+14155550102")
    dana_again = contact(org, "dana whitfield", "dana@example.com")
    lee = contact(org, "Lee Park", "lee@example.com")
    contact(org, "Lee Parker", "lee.park@example.com")
    contact(org, "", "")  # no name, no e-mail: nothing to compare
    contact(org, "", "")

    assert pairs_of(admin) == [
        (dana.pk, dana_lead.pk, (SAME_EMAIL,)),
        (dana.pk, dana_again.pk, (SAME_EMAIL, SAME_NAME)),
        (dana_lead.pk, dana_again.pk, (SAME_EMAIL,)),
    ]
    assert lee.pk not in {pk for pair in pairs_of(admin) for pk in pair[:2]}
    first = duplicate_pairs(admin).pairs[0]
    assert [p.number for p in first.older.phones.all()] == ["+14155550101"]
    assert duplicate_pairs(admin).more is False


def test_another_organizations_contacts_never_appear(
    org: Organization, admin: Membership, other_org: Organization
) -> None:
    mine = contact(org, "Dana Whitfield", "dana@example.com")
    contact(other_org, "Dana Whitfield", "dana@example.com")
    contact(other_org, "dana whitfield", "DANA@example.com")
    other_admin = make_member(other_org, "admin@other.test", Role.ADMINISTRATIVE)

    assert pairs_of(admin) == []
    assert mine.pk not in {pk for pair in pairs_of(other_admin) for pk in pair[:2]}
    assert len(pairs_of(other_admin)) == 1


def test_the_queries_are_as_many_for_many_contacts_and_the_pairs_capped(
    org: Organization, admin: Membership
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            duplicate_pairs(admin)
        return len(captured)

    for n in range(3):
        contact(org, f"Client {n}", f"client{n}@example.com")
        contact(org, f"CLIENT {n}", f"Client{n}@Example.com", f"+1415555{n:04d}")
    few = queries()
    Contact.objects.bulk_create(
        Contact(organization=org, name=f"Client {n}", email=f"client{n}@example.com")
        for n in range(3, 3 + PAIRS_SHOWN)
    )
    Contact.objects.bulk_create(
        Contact(organization=org, name=f"client {n}", email=f"other{n}@example.com")
        for n in range(3, 3 + PAIRS_SHOWN)
    )

    assert queries() == few
    found = duplicate_pairs(admin)
    assert (len(found.pairs), found.more) == (PAIRS_SHOWN, True)
    assert all(pair.older.pk < pair.newer.pk for pair in found.pairs)


def test_only_for_members_who_may_manage_contacts(limited: Membership) -> None:
    with pytest.raises(PermissionDenied):
        duplicate_pairs(limited)
