"""Number verification: states changed by a carrier callback or an admin; the
admins get an in-app notification and an e-mail when a number is verified."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tests.conftest import logged_in, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.carrier_events.models import CarrierEvent
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied
from twoway.notifications.models import Notification
from twoway.numbers.models import PhoneNumber, Verification
from twoway.numbers.verification import number_verification_set
from twoway.simulator.network import network_verification_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(number: PhoneNumber) -> PhoneNumber:
    PhoneNumber.objects.filter(pk=number.pk).update(verification_status=Verification.PENDING)
    number.refresh_from_db()
    return number


def test_verified_notifies_every_admin_in_the_app_and_by_email(
    django_capture_on_commit_callbacks: object,
    org: Organization,
    admin: Membership,
    standard: Membership,
    pending: PhoneNumber,
) -> None:
    second_admin = make_member(org, "owner@acme.test", Role.ADMINISTRATIVE)

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assert number_verification_set(number=pending, status=Verification.VERIFIED)

    pending.refresh_from_db()
    assert pending.verification_status == Verification.VERIFIED
    assert pending.is_trusted
    assert pending.verification_updated_at is not None
    notified = Notification.objects.filter(kind="number.verified")
    assert {n.recipient_id for n in notified} == {admin.user_id, second_admin.user_id}
    assert all("is verified" in n.title for n in notified)
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"admin@acme.test", "owner@acme.test"}
    assert "is verified" in mail.outbox[0].subject
    assert "agent@acme.test" not in mail.outbox[0].to


def test_in_review_tells_nobody(admin: Membership, pending: PhoneNumber) -> None:
    assert number_verification_set(number=pending, status=Verification.IN_REVIEW)
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_rejection_needs_its_reason_and_is_shown_to_the_admins(
    admin: Membership, pending: PhoneNumber
) -> None:
    with pytest.raises(InvalidInput, match="Say why"):
        number_verification_set(number=pending, status=Verification.REJECTED)
    pending.refresh_from_db()
    assert pending.verification_status == Verification.PENDING

    number_verification_set(
        number=pending, status=Verification.REJECTED, reason="Opt-in flow not shown"
    )
    pending.refresh_from_db()
    assert pending.verification_reason == "Opt-in flow not shown"
    rejected = Notification.objects.get(kind="number.rejected")
    assert "Opt-in flow not shown" in rejected.body


def test_an_unknown_state_is_refused(admin: Membership, pending: PhoneNumber) -> None:
    with pytest.raises(InvalidInput, match="Pick a verification state"):
        number_verification_set(number=pending, status="approved-ish")


def test_the_same_verdict_twice_notifies_once(admin: Membership, pending: PhoneNumber) -> None:
    assert number_verification_set(number=pending, status=Verification.VERIFIED)
    assert not number_verification_set(number=pending, status=Verification.VERIFIED)
    assert Notification.objects.count() == 1


def test_only_admins_of_the_organization_set_the_state(
    standard: Membership, other_org: Organization, pending: PhoneNumber
) -> None:
    with pytest.raises(PermissionDenied):
        number_verification_set(number=pending, status=Verification.VERIFIED, actor=standard)
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    with pytest.raises(NotFound):
        number_verification_set(number=pending, status=Verification.VERIFIED, actor=outsider)
    pending.refresh_from_db()
    assert pending.verification_status == Verification.PENDING


# --- Carrier callbacks ---------------------------------------------------------------------


def test_a_carrier_callback_is_stored_once_and_applied_by_the_worker(
    admin: Membership, pending: PhoneNumber
) -> None:
    assert network_verification_report(number=pending.number, status="in_review")
    assert network_verification_report(number=pending.number, status="verified")
    # A carrier retrying its callback changes nothing.
    assert not network_verification_report(number=pending.number, status="verified")
    pending.refresh_from_db()
    assert pending.verification_status == Verification.PENDING  # nothing before the worker

    carrier_events_process_pending()

    pending.refresh_from_db()
    assert pending.verification_status == Verification.VERIFIED
    assert Notification.objects.filter(kind="number.verified").count() == 1


def test_a_callback_for_a_number_we_do_not_have_is_kept_unprocessed(admin: Membership) -> None:
    network_verification_report(number="+14155559999", status="verified")
    carrier_events_process_pending()
    event = CarrierEvent.objects.get()
    assert event.processed_at is not None
    assert "No simulator number +14155559999" in event.error


# --- Screens -------------------------------------------------------------------------------


def test_an_admin_sets_the_state_on_the_number_page(
    admin: Membership, pending: PhoneNumber
) -> None:
    client = logged_in(admin)
    page = client.get(reverse("settings_number_edit", args=[pending.pk]))
    assert b"Save the verification state" in page.content

    response = client.post(
        reverse("settings_number_verification", args=[pending.pk]),
        {"status": "rejected", "reason": "Website missing"},
    )

    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.verification_status == Verification.REJECTED
    listing = client.get(reverse("settings_numbers"))
    assert b"Rejected: Website missing" in listing.content


def test_a_refused_state_change_says_why(admin: Membership, pending: PhoneNumber) -> None:
    client = logged_in(admin)
    response = client.post(
        reverse("settings_number_verification", args=[pending.pk]),
        {"status": "rejected", "reason": ""},
        follow=True,
    )
    assert b"Say why the carriers rejected the number" in response.content
    pending.refresh_from_db()
    assert pending.verification_status == Verification.PENDING


def test_the_bell_counts_unread_notifications_until_the_list_is_opened(
    admin: Membership, pending: PhoneNumber
) -> None:
    number_verification_set(number=pending, status=Verification.VERIFIED)
    client = logged_in(admin)

    inbox = client.get(reverse("inbox"))
    assert b'<span class="badge">1</span>' in inbox.content

    listing = client.get(reverse("notifications"))
    assert f"Your number {pending.display} is verified".encode() in listing.content
    assert b'<span class="badge">' not in client.get(reverse("inbox")).content


def test_people_see_only_their_own_notifications(
    admin: Membership, standard: Membership, other_org: Organization, pending: PhoneNumber
) -> None:
    number_verification_set(number=pending, status=Verification.VERIFIED)
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    for member in (standard, outsider):
        page = logged_in(member).get(reverse("notifications"))
        assert b"is verified" not in page.content


def test_the_composer_warns_while_the_number_is_unverified(
    admin: Membership, pending: PhoneNumber
) -> None:
    from twoway.messaging.services import message_send

    message = message_send(phone_number=pending, to="2025550172", body="Hi", membership=admin)
    assert message.conversation_id is not None
    client = logged_in(admin)
    url = reverse("conversation", args=[message.conversation_id])
    assert b"delivery of your texts is not guaranteed" in client.get(url).content

    number_verification_set(number=pending, status=Verification.VERIFIED)
    assert b"delivery of your texts is not guaranteed" not in client.get(url).content


def test_the_simulated_carrier_console_reports_a_verdict(
    admin: Membership, pending: PhoneNumber
) -> None:
    client = logged_in(admin)
    assert pending.display.encode() in client.get(reverse("simulator:carrier")).content

    response = client.post(
        reverse("simulator:carrier"), {"number_id": pending.pk, "status": "verified"}
    )

    assert response.status_code == 302
    carrier_events_process_pending()
    pending.refresh_from_db()
    assert pending.verification_status == Verification.VERIFIED


def test_the_carrier_console_is_for_the_organizations_admins(
    standard: Membership, other_org: Organization, pending: PhoneNumber
) -> None:
    assert logged_in(standard).get(reverse("simulator:carrier")).status_code == 403
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    client = logged_in(outsider)
    assert pending.display.encode() not in client.get(reverse("simulator:carrier")).content
    response = client.post(
        reverse("simulator:carrier"), {"number_id": pending.pk, "status": "verified"}
    )
    assert response.status_code == 404
    assert not CarrierEvent.objects.exists()
