"""Canned responses kept by their owners: the organization's by administrators, a member's own
by that member alone, and nobody else's seen from anywhere."""

from __future__ import annotations

import pytest

from tests.conftest import make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.canned.access import (
    access_canned_response,
    access_canned_response_change,
    canned_responses_visible_to,
)
from twoway.canned.models import CannedResponse
from twoway.canned.selectors import canned_responses_list
from twoway.canned.services import (
    canned_response_create,
    canned_response_delete,
    canned_response_update,
)
from twoway.contacts.models import CustomField
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


def _org_wide(
    admin: Membership, name: str = "Hours", body: str = "We open at 9."
) -> CannedResponse:
    return canned_response_create(actor=admin, name=name, body=body, personal=False)


def test_an_admin_adds_one_for_everyone_and_a_member_one_of_their_own(
    admin: Membership, standard: Membership, limited: Membership
) -> None:
    shared = _org_wide(admin)
    mine = canned_response_create(actor=limited, name="Mine", body="On it!", personal=True)
    assert shared.owner_id is None and not shared.is_personal
    assert mine.owner_id == limited.pk and mine.is_personal
    assert list(canned_responses_list(limited)) == [shared, mine]
    assert list(canned_responses_list(standard)) == [shared]


def test_a_member_cannot_add_edit_or_delete_the_organizations(
    admin: Membership, standard: Membership
) -> None:
    with pytest.raises(PermissionDenied):
        canned_response_create(actor=standard, name="Hours", body="x", personal=False)
    shared = _org_wide(admin)
    # They use it, but may not change it.
    assert access_canned_response(standard, shared.pk) == shared
    with pytest.raises(PermissionDenied):
        access_canned_response_change(standard, shared.pk)
    with pytest.raises(PermissionDenied):
        canned_response_update(actor=standard, canned=shared, body="Closed today.")
    with pytest.raises(PermissionDenied):
        canned_response_delete(actor=standard, canned=shared)
    shared.refresh_from_db()
    assert shared.body == "We open at 9."


def test_personal_ones_are_invisible_to_every_other_member_admins_included(
    org: Organization, admin: Membership, standard: Membership, other_org: Organization
) -> None:
    mine = canned_response_create(actor=standard, name="Mine", body="Talk soon", personal=True)
    colleague = make_member(org, "colleague@acme.test", Role.STANDARD)
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    for someone in (admin, colleague, outsider):
        assert mine not in canned_responses_visible_to(someone)
        with pytest.raises(NotFound):
            access_canned_response(someone, mine.pk)
        with pytest.raises(NotFound):
            access_canned_response_change(someone, mine.pk)


def test_another_organizations_are_not_found(admin: Membership, other_org: Organization) -> None:
    shared = _org_wide(admin)
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    assert list(canned_responses_list(outsider)) == []
    with pytest.raises(NotFound):
        access_canned_response(outsider, shared.pk)


def test_the_owner_edits_and_deletes_their_own(standard: Membership) -> None:
    mine = canned_response_create(actor=standard, name="Mine", body="Talk soon", personal=True)
    canned_response_update(actor=standard, canned=mine, name=" Later ", body="Talk later")
    mine.refresh_from_db()
    assert (mine.name, mine.body) == ("Later", "Talk later")
    canned_response_delete(actor=standard, canned=mine)
    assert not CannedResponse.objects.filter(pk=mine.pk).exists()


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("", "text", "name_required"),
        ("x" * 101, "text", "name_too_long"),
        ("Hours", "   \n ", "body_required"),
        ("Hours", "x" * 1601, "body_too_long"),
        ("Ho\x00urs", "text", "null_character"),
        ("Hours", "te\x00xt", "null_character"),
        ("Hours", "Hi {frist_name}!", "unknown_merge_field"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_kept(
    standard: Membership, name: str, body: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        canned_response_create(actor=standard, name=name, body=body, personal=True)
    assert refused.value.code == code
    assert CannedResponse.objects.count() == 0


def test_an_unknown_merge_field_is_named_with_the_ones_there_are(
    org: Organization, standard: Membership
) -> None:
    CustomField.objects.create(organization=org, name="Membership level", kind="text")
    with pytest.raises(InvalidInput) as refused:
        canned_response_create(
            actor=standard, name="x", body="{first_name}, {tier} and {plan}", personal=True
        )
    assert refused.value.status == 422
    message = refused.value.message
    assert message.startswith("{tier}, {plan} are not merge fields.")
    assert "{membership_level}" in message and "{first_name}" in message
    # A custom field's key is accepted.
    canned_response_create(
        actor=standard, name="x", body="{first_name}: {membership_level}", personal=True
    )


def test_a_refused_edit_changes_nothing(standard: Membership) -> None:
    mine = canned_response_create(actor=standard, name="Mine", body="Talk soon", personal=True)
    with pytest.raises(InvalidInput):
        canned_response_update(actor=standard, canned=mine, name="New name", body="{nope}")
    mine.refresh_from_db()
    assert (mine.name, mine.body) == ("Mine", "Talk soon")


def test_names_are_unique_within_each_list_case_aside(
    admin: Membership, standard: Membership
) -> None:
    _org_wide(admin, name="Hours")
    with pytest.raises(InvalidInput) as refused:
        _org_wide(admin, name="HOURS")
    assert refused.value.code == "name_taken"
    # A personal one may share the organization's name, and another member's.
    canned_response_create(actor=standard, name="hours", body="x", personal=True)
    canned_response_create(actor=admin, name="Hours", body="x", personal=True)
    with pytest.raises(InvalidInput):
        canned_response_create(actor=standard, name="Hours", body="y", personal=True)
