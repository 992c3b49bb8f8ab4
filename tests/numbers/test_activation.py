"""Two-way texting on and off: a dedicated number at once, US and Canada
only, the two alternatives when off, the number held for three months and released after."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in
from twoway.accounts.models import Membership, OffReply, Organization
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.jobs.runner import JobRunner
from twoway.jobs.schedule import Schedule, chores_from_settings
from twoway.numbers.activation import (
    TwoWayUnavailable,
    dedicated_number,
    held_numbers_release,
    two_way_activate,
    two_way_deactivate,
)
from twoway.numbers.models import PhoneNumber, Verification

pytestmark = pytest.mark.django_db


@pytest.fixture
def off(org: Organization) -> Organization:
    Organization.objects.filter(pk=org.pk).update(two_way_enabled=False)
    org.refresh_from_db()
    return org


def test_activating_assigns_a_dedicated_number_in_the_business_area_code(
    off: Organization, admin: Membership
) -> None:
    Organization.objects.filter(pk=off.pk).update(business_phone="+12125550147")
    admin.organization.refresh_from_db()

    number = two_way_activate(actor=admin)

    off.refresh_from_db()
    assert off.two_way_enabled
    assert number.organization_id == off.pk
    assert number.is_dedicated and number.held_until is None
    assert number.number.startswith("+1212555")
    # The carriers register a new business number before they trust it.
    assert number.verification_status == Verification.PENDING
    assert not number.is_trusted
    assert dedicated_number(off) == number


def test_without_a_business_phone_any_local_number_of_the_country_is_given(
    off: Organization, admin: Membership
) -> None:
    number = two_way_activate(actor=admin)
    assert number.number.startswith("+1415555")  # the simulator's default US area code


def test_an_area_code_the_carrier_has_no_numbers_in_falls_back_to_the_country(
    off: Organization, admin: Membership
) -> None:
    # 416 is Toronto: the simulator has no US numbers there.
    Organization.objects.filter(pk=off.pk).update(business_phone="+14165550147")
    admin.organization.refresh_from_db()
    number = two_way_activate(actor=admin)
    assert number.number.startswith("+1415555")


def test_canadian_businesses_get_a_canadian_number(admin: Membership, off: Organization) -> None:
    Organization.objects.filter(pk=off.pk).update(country="CA", business_phone="416-555-0147")
    admin.organization.refresh_from_db()
    assert two_way_activate(actor=admin).number.startswith("+1416555")


@pytest.mark.parametrize("country", ["GB", "DE", "MX"])
def test_only_us_and_canada_can_activate(
    admin: Membership, off: Organization, country: str
) -> None:
    Organization.objects.filter(pk=off.pk).update(country=country)
    admin.organization.refresh_from_db()
    with pytest.raises(TwoWayUnavailable, match="United States and Canada"):
        two_way_activate(actor=admin)
    off.refresh_from_db()
    assert not off.two_way_enabled
    assert not PhoneNumber.objects.filter(organization=off).exists()


def test_activating_twice_keeps_the_one_number(off: Organization, admin: Membership) -> None:
    first = two_way_activate(actor=admin)
    assert two_way_activate(actor=admin) == first
    assert PhoneNumber.objects.filter(organization=off).count() == 1


@pytest.mark.parametrize("role", ["standard", "limited"])
def test_only_admins_switch_two_way_texting(
    off: Organization, role: str, request: pytest.FixtureRequest
) -> None:
    member: Membership = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        two_way_activate(actor=member)
    with pytest.raises(PermissionDenied):
        two_way_deactivate(actor=member, off_reply=OffReply.NO_AUTO_REPLY)
    off.refresh_from_db()
    assert not off.two_way_enabled


@pytest.mark.parametrize("off_reply", [OffReply.DO_NOT_REPLY, OffReply.NO_AUTO_REPLY])
def test_deactivating_holds_the_number_for_three_months(
    off: Organization, admin: Membership, off_reply: str
) -> None:
    number = two_way_activate(actor=admin)
    before = timezone.now()

    held = two_way_deactivate(actor=admin, off_reply=off_reply)

    off.refresh_from_db()
    assert not off.two_way_enabled
    assert off.off_reply == off_reply
    assert held == number
    assert held is not None and held.held_until is not None
    assert before + dt.timedelta(days=89) < held.held_until < before + dt.timedelta(days=91)
    assert dedicated_number(off) == number  # still the organization's


def test_deactivating_needs_one_of_the_two_alternatives(
    off: Organization, admin: Membership
) -> None:
    two_way_activate(actor=admin)
    with pytest.raises(InvalidInput, match="do-not-reply auto message or no auto reply"):
        two_way_deactivate(actor=admin, off_reply="shrug")
    off.refresh_from_db()
    assert off.two_way_enabled


def test_reactivating_within_the_hold_gives_the_same_number_back(
    off: Organization, admin: Membership
) -> None:
    number = two_way_activate(actor=admin)
    two_way_deactivate(actor=admin, off_reply=OffReply.NO_AUTO_REPLY)

    again = two_way_activate(actor=admin)

    assert again == number
    assert again.held_until is None
    assert PhoneNumber.objects.filter(organization=off).count() == 1


def test_the_periodic_release_lets_a_number_go_only_after_its_hold(
    off: Organization, admin: Membership
) -> None:
    number = two_way_activate(actor=admin)
    two_way_deactivate(actor=admin, off_reply=OffReply.NO_AUTO_REPLY)
    number.refresh_from_db()
    assert number.held_until is not None

    # The clock moved: a day before the hold ends nothing happens, a day after it the number goes.
    assert held_numbers_release(now=number.held_until - dt.timedelta(days=1)) == []
    assert dedicated_number(off) == number
    released = held_numbers_release(now=number.held_until + dt.timedelta(days=1))

    assert [n.pk for n in released] == [number.pk]
    assert dedicated_number(off) is None
    assert not PhoneNumber.objects.filter(pk=number.pk).exists()  # not among current numbers
    row = PhoneNumber.all_objects.get(pk=number.pk)
    assert row.released_at is not None and not row.is_dedicated

    # Reactivating after the window buys a new number; the old one may even be bought again.
    fresh = two_way_activate(actor=admin)
    assert fresh.pk != number.pk
    assert fresh.is_dedicated


def test_a_released_number_keeps_its_conversations_history(
    off: Organization, admin: Membership, standard: Membership
) -> None:
    from twoway.conversations.models import Conversation
    from twoway.messaging.services import message_send
    from twoway.numbers.verification import number_verification_set

    number = two_way_activate(actor=admin)
    number_verification_set(number=number, status=Verification.VERIFIED)
    message_send(phone_number=number, to="2025550172", body="Hello", membership=standard)
    two_way_deactivate(actor=admin, off_reply=OffReply.NO_AUTO_REPLY)
    number.refresh_from_db()
    assert number.held_until is not None
    held_numbers_release(now=number.held_until + dt.timedelta(seconds=1))

    conversation = Conversation.objects.get(organization=off)
    assert conversation.phone_number.number == number.number
    assert conversation.messages.count() == 1


def test_the_release_is_a_periodic_job(off: Organization, admin: Membership) -> None:
    number = two_way_activate(actor=admin)
    two_way_deactivate(actor=admin, off_reply=OffReply.NO_AUTO_REPLY)
    PhoneNumber.objects.filter(pk=number.pk).update(
        held_until=timezone.now() - dt.timedelta(minutes=1)
    )
    chores = [c for c in chores_from_settings() if c.name == "held_numbers_release"]
    runner = JobRunner(schedule=Schedule([]))
    now = timezone.now()

    assert Schedule(chores).enqueue_due(now) == 1
    assert runner.run_until_idle() == 1

    assert PhoneNumber.all_objects.get(pk=number.pk).released_at is not None
    # And not again within the period: a second number whose hold just ran out waits.
    other = PhoneNumber.objects.create(
        organization=off,
        number="+14155550999",
        is_dedicated=True,
        held_until=timezone.now() - dt.timedelta(minutes=1),
    )
    # (another runner's schedule, looking in the same period)
    assert Schedule(chores).enqueue_due(now) == 0
    assert runner.run_until_idle() == 0
    assert PhoneNumber.all_objects.get(pk=other.pk).released_at is None


def test_a_dedicated_number_cannot_be_released_by_hand(
    off: Organization, admin: Membership
) -> None:
    from twoway.numbers.services import number_release

    number = two_way_activate(actor=admin)
    with pytest.raises(InvalidInput, match="Turn two-way texting off instead"):
        number_release(actor=admin, number=number)
    assert PhoneNumber.objects.filter(pk=number.pk).exists()


# --- The settings page ---------------------------------------------------------------------


def test_settings_page_activates_and_deactivates(off: Organization, admin: Membership) -> None:
    client = logged_in(admin)
    page = client.get(reverse("settings_two_way"))
    assert page.status_code == 200
    assert b"Get two-way texting" in page.content

    response = client.post(reverse("settings_two_way_on"), {"business_phone": "212-555-0147"})

    assert response.status_code == 302
    number = dedicated_number(off)
    assert number is not None and number.number.startswith("+1212555")
    off.refresh_from_db()
    assert off.business_phone == "+12125550147"
    page = client.get(reverse("settings_two_way"))
    assert number.display.encode() in page.content
    assert b"Pending" in page.content

    response = client.post(
        reverse("settings_two_way_off"),
        {"off_reply": OffReply.DO_NOT_REPLY, "do_not_reply_text": "{org} does not read texts."},
    )
    assert response.status_code == 302
    off.refresh_from_db()
    assert not off.two_way_enabled
    assert off.do_not_reply_text == "{org} does not read texts."
    page = client.get(reverse("settings_two_way"))
    assert b"kept for you until" in page.content


def test_settings_page_shows_the_refusal_outside_us_and_canada(
    off: Organization, admin: Membership
) -> None:
    Organization.objects.filter(pk=off.pk).update(country="GB")
    client = logged_in(admin)
    page = client.get(reverse("settings_two_way"))
    assert b"only to businesses in the United States and Canada" in page.content
    response = client.post(reverse("settings_two_way_on"), {"business_phone": ""})
    assert response.status_code == 422
    assert b"United States and Canada" in response.content
    assert not PhoneNumber.objects.filter(organization=off).exists()


def test_settings_page_rejects_a_bad_business_phone(off: Organization, admin: Membership) -> None:
    response = logged_in(admin).post(reverse("settings_two_way_on"), {"business_phone": "12"})
    assert response.status_code == 422
    off.refresh_from_db()
    assert not off.two_way_enabled and off.business_phone == ""


@pytest.mark.parametrize("role", ["standard", "limited"])
def test_settings_page_is_for_admins(
    off: Organization, role: str, request: pytest.FixtureRequest
) -> None:
    client: Client = logged_in(request.getfixturevalue(role))
    assert client.get(reverse("settings_two_way")).status_code == 403
    assert client.post(reverse("settings_two_way_on"), {}).status_code == 403
    off.refresh_from_db()
    assert not off.two_way_enabled
