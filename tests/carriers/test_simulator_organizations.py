"""The simulated network is shared by every organization of the installation: one organization
may never text into another's conversations from a simulated phone, nor change how a phone
another organization texts behaves."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import logged_in, make_member
from tests.messaging import send_steps
from twoway.accounts.models import Membership, Organization, Role
from twoway.carrier_events.models import CarrierEvent
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.contacts.models import ContactPhone
from twoway.conversations.models import Direction, Message, Status
from twoway.messaging import claiming
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.numbers.services import system_number_ensure_simulated
from twoway.simulator import network
from twoway.simulator.models import HandsetBehaviour, SimHandset, SimMessage

pytestmark = pytest.mark.django_db

HANDSET = "+12125558100"
APPOINTMENT = "Your appointment is on Friday at 10:00."


@pytest.fixture
def system() -> PhoneNumber:
    return system_number_ensure_simulated()


@pytest.fixture
def outsider(other_org: Organization) -> Membership:
    """A member of another organization, with a simulated number of its own."""
    PhoneNumber.objects.create(organization=other_org, number="+14155550199", carrier="simulator")
    return make_member(other_org, "outsider@other.test", Role.STANDARD)


def _deliver_all(settings: object) -> None:
    settings.SIMULATOR_DELIVERY_DELAY = 0  # type: ignore[attr-defined]
    for claim in claiming.claim_due(limit=50):
        send_steps.send_claimed(claim)
    network.network_report_due()
    carrier_events_process_pending()


def _transactional_from_system(org: Organization, system: PhoneNumber, settings: object) -> None:
    """The organization's own number is not trusted yet, so the text leaves from the system
    number, and the client's phone receives it."""
    PhoneNumber.objects.create(organization=org, number="+14155550100", carrier="simulator")
    message = message_send(organization=org, to=HANDSET, body=APPOINTMENT, category="transactional")
    assert message.from_number == system.number
    _deliver_all(settings)
    assert SimMessage.objects.get(handset__number=HANDSET).body == APPOINTMENT


@pytest.mark.parametrize("body", ["STOP", "Please cancel it"])
def test_another_organization_cannot_text_into_a_conversation_through_the_system_number(
    org: Organization, system: PhoneNumber, outsider: Membership, settings: object, body: str
) -> None:
    _transactional_from_system(org, system, settings)
    events = CarrierEvent.objects.count()

    response = logged_in(outsider).post(
        f"/simulator/{HANDSET}/send/", {"to": system.number, "body": body}
    )
    _deliver_all(settings)

    assert response.status_code == 403
    assert "another organization" in response.content.decode().lower()
    assert CarrierEvent.objects.count() == events
    assert not SimMessage.objects.filter(direction=SimMessage.MO).exists()
    assert not Message.objects.filter(direction=Direction.INBOUND).exists()
    assert not ContactPhone.objects.get(organization=org, number=HANDSET).contact.is_opted_out


def test_the_phone_page_explains_instead_of_offering_a_send_form_that_would_fail(
    org: Organization, system: PhoneNumber, outsider: Membership, settings: object
) -> None:
    _transactional_from_system(org, system, settings)
    page = logged_in(outsider).get(f"/simulator/{HANDSET}/").content.decode()
    assert "Another organization" in page
    assert f"/simulator/{HANDSET}/send/" not in page
    assert f"/simulator/{HANDSET}/behaviour/" not in page
    assert APPOINTMENT not in page  # nor its text


def test_the_organization_that_texted_the_phone_plays_it(
    org: Organization, system: PhoneNumber, admin: Membership, settings: object
) -> None:
    _transactional_from_system(org, system, settings)
    client = logged_in(admin)
    page = client.get(f"/simulator/{HANDSET}/").content.decode()
    assert APPOINTMENT in page
    assert f"/simulator/{HANDSET}/send/" in page

    response = client.post(f"/simulator/{HANDSET}/send/", {"to": system.number, "body": "STOP"})
    _deliver_all(settings)

    assert response.status_code == 302
    assert ContactPhone.objects.get(organization=org, number=HANDSET).contact.is_opted_out
    assert SimHandset.objects.get(number=HANDSET).claimed_by == org


def test_a_switch_before_any_traffic_does_not_fail_another_organizations_texts(
    org: Organization, number: PhoneNumber, outsider: Membership, settings: object
) -> None:
    """A brand-new phone may be tried by anyone, but what its behaviour does is the trying
    organization's only: the phone another organization then texts still receives it."""
    response = logged_in(outsider).post(
        f"/simulator/{HANDSET}/behaviour/", {"behaviour": HandsetBehaviour.UNREACHABLE}
    )
    assert response.status_code == 302

    message = message_send(phone_number=number, to=HANDSET, body=APPOINTMENT)
    _deliver_all(settings)

    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert SimHandset.objects.get(number=HANDSET).claimed_by == outsider.organization
    # The phone now texts with two organizations: neither plays it any more.
    refused = logged_in(outsider).post(
        f"/simulator/{HANDSET}/behaviour/", {"behaviour": HandsetBehaviour.DELIVER}
    )
    assert refused.status_code == 403


def test_the_claiming_organizations_own_texts_follow_the_behaviour(
    org: Organization, number: PhoneNumber, admin: Membership, settings: object
) -> None:
    assert (
        logged_in(admin)
        .post(f"/simulator/{HANDSET}/behaviour/", {"behaviour": HandsetBehaviour.LANDLINE})
        .status_code
        == 302
    )
    message = message_send(phone_number=number, to=HANDSET, body=APPOINTMENT)
    _deliver_all(settings)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.UNDELIVERED, "30006")


def test_a_phone_first_texted_by_one_organization_is_claimed_by_it(
    org: Organization, number: PhoneNumber, outsider: Membership, settings: object
) -> None:
    message_send(phone_number=number, to=HANDSET, body=APPOINTMENT)
    _deliver_all(settings)
    assert SimHandset.objects.get(number=HANDSET).claimed_by == org

    client = logged_in(outsider)
    own = "+14155550199"
    for url, data in (
        (f"/simulator/{HANDSET}/send/", {"to": own, "body": "hello"}),
        (f"/simulator/{HANDSET}/behaviour/", {"behaviour": HandsetBehaviour.LANDLINE}),
    ):
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "Another organization" in response.content.decode()
    assert SimHandset.objects.get(number=HANDSET).behaviour == HandsetBehaviour.DELIVER
    assert not SimMessage.objects.filter(direction=SimMessage.MO).exists()


def test_a_phone_another_organization_is_texting_from_the_system_number_is_not_playable(
    org: Organization, system: PhoneNumber, outsider: Membership
) -> None:
    """The other organization's text is queued, not on the network yet: a reply to the system
    number would still be routed to it."""
    PhoneNumber.objects.create(organization=org, number="+14155550100", carrier="simulator")
    message_send(organization=org, to=HANDSET, body=APPOINTMENT, category="transactional")
    assert not SimMessage.objects.exists()
    system_text = {"to": system.number, "body": "STOP"}
    response = logged_in(outsider).post(f"/simulator/{HANDSET}/send/", system_text)
    assert response.status_code == 403
    assert not CarrierEvent.objects.exists()


def test_a_brand_new_phone_can_be_tried_and_is_claimed_by_the_first_to_play_it(
    org: Organization, number: PhoneNumber, standard: Membership, settings: object
) -> None:
    client = logged_in(standard)
    page = client.get(f"/simulator/{HANDSET}/").content.decode()
    assert f"/simulator/{HANDSET}/send/" in page
    assert not SimHandset.objects.filter(number=HANDSET).exists()  # looking writes nothing

    response = client.post(f"/simulator/{HANDSET}/send/", {"to": number.number, "body": "Hi"})
    _deliver_all(settings)

    assert response.status_code == 302
    assert SimHandset.objects.get(number=HANDSET).claimed_by == org
    assert Message.objects.get(direction=Direction.INBOUND).organization == org
    # The text it sent is the organization's: the phone stays playable right away.
    assert f"/simulator/{HANDSET}/send/" in client.get(f"/simulator/{HANDSET}/").content.decode()


def test_a_business_number_is_not_a_phone_to_play(
    org: Organization, number: PhoneNumber, system: PhoneNumber, admin: Membership
) -> None:
    client = logged_in(admin)
    for business in (number.number, system.number):
        page = client.get(f"/simulator/{business}/").content.decode()
        assert "business number" in page
        assert f"/simulator/{business}/send/" not in page
        response = client.post(f"/simulator/{business}/send/", {"to": number.number, "body": "x"})
        assert response.status_code == 403
    assert not SimMessage.objects.exists()


# ---- what a member sees: only their own organization's texts -------------------------------


def _pages(client: Client) -> str:
    return "".join(
        client.get(url).content.decode()
        for url in ("/simulator/", f"/simulator/{HANDSET}/", f"/simulator/{HANDSET}/screen/")
    )


def test_no_page_shows_another_organizations_texts(
    org: Organization,
    number: PhoneNumber,
    system: PhoneNumber,
    outsider: Membership,
    settings: object,
) -> None:
    message_send(phone_number=number, to=HANDSET, body="secret-from-own-number")
    message_send(
        organization=org, to="+12125558101", body="secret-from-system", category="transactional"
    )
    _deliver_all(settings)
    network.handset_send(handset_number=HANDSET, business_number=number.number, body="secret-reply")
    carrier_events_process_pending()
    assert SimMessage.objects.count() == 3

    pages = _pages(logged_in(outsider))
    pages += logged_in(outsider).get("/simulator/+12125558101/").content.decode()
    for secret in ("secret-from-own-number", "secret-from-system", "secret-reply"):
        assert secret not in pages
    listed = logged_in(outsider).get("/simulator/").content.decode()
    assert "(212) 555-8100" not in listed and "(212) 555-8101" not in listed

    # A control: the organization's own member sees them all.
    theirs = _pages(logged_in(make_member(org, "kim@acme.test", Role.ADMINISTRATIVE)))
    assert "secret-from-own-number" in theirs and "secret-reply" in theirs
    assert "(212) 555-8101" in theirs


def test_a_text_played_to_the_system_number_shows_on_the_phone_before_the_worker_takes_it(
    org: Organization, system: PhoneNumber, admin: Membership, settings: object
) -> None:
    _transactional_from_system(org, system, settings)
    client = logged_in(admin)
    response = client.post(
        f"/simulator/{HANDSET}/send/",
        {"to": system.number, "body": "See you then"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "See you then" in response.content.decode()
    assert not Message.objects.filter(direction=Direction.INBOUND).exists()  # not taken in yet
    # Still the organization's phone: a second text right away is not refused.
    again = client.post(f"/simulator/{HANDSET}/send/", {"to": system.number, "body": "Thanks"})
    assert again.status_code == 302
