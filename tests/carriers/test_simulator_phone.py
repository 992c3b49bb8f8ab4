"""The simulated phone page: changing how a handset behaves on the shared simulated network."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import logged_in, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.numbers.models import PhoneNumber
from twoway.simulator.models import HandsetBehaviour, SimHandset, SimMessage
from twoway.simulator.network import handset_get

HANDSET = "+14155550142"


def _behaviour(client: Client, behaviour: str) -> int:
    response = client.post(f"/simulator/{HANDSET}/behaviour/", {"behaviour": behaviour})
    return response.status_code


def _text(business_number: str) -> None:
    SimMessage.objects.create(
        handset=handset_get(HANDSET),
        direction=SimMessage.MT,
        business_number=business_number,
        body="hello",
        idempotency_key=None,
    )


@pytest.fixture
def other_number(other_org: Organization) -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=other_org, number="+14155550199", carrier="simulator"
    )


def test_a_new_phone_can_be_made_a_landline(admin: Membership, number: PhoneNumber) -> None:
    assert _behaviour(logged_in(admin), HandsetBehaviour.LANDLINE) == 302
    assert SimHandset.objects.get(number=HANDSET).behaviour == HandsetBehaviour.LANDLINE


def test_a_phone_texting_only_our_numbers_can_change(
    admin: Membership, number: PhoneNumber
) -> None:
    _text(number.number)
    assert _behaviour(logged_in(admin), HandsetBehaviour.UNREACHABLE) == 302
    assert SimHandset.objects.get(number=HANDSET).behaviour == HandsetBehaviour.UNREACHABLE


def test_a_phone_another_organization_texts_is_left_alone(
    admin: Membership, number: PhoneNumber, other_number: PhoneNumber
) -> None:
    _text(number.number)
    _text(other_number.number)
    response = logged_in(admin).post(
        f"/simulator/{HANDSET}/behaviour/", {"behaviour": HandsetBehaviour.LANDLINE}
    )
    assert response.status_code == 403
    assert "another organization" in response.content.decode()
    assert SimHandset.objects.get(number=HANDSET).behaviour == HandsetBehaviour.DELIVER


def test_an_unknown_behaviour_is_refused(admin: Membership, number: PhoneNumber) -> None:
    assert _behaviour(logged_in(admin), "nonsense") == 400
    # Refused before the phone is looked up: nothing is claimed nor changed.
    assert not SimHandset.objects.filter(number=HANDSET).exists()


def test_the_other_organization_cannot_change_our_clients_phone(
    other_org: Organization, number: PhoneNumber, other_number: PhoneNumber
) -> None:
    _text(number.number)
    outsider = make_member(other_org, "outsider@other.test", Role.ADMINISTRATIVE)
    assert _behaviour(logged_in(outsider), HandsetBehaviour.LANDLINE) == 403
    assert SimHandset.objects.get(number=HANDSET).behaviour == HandsetBehaviour.DELIVER


def test_a_phone_sends_no_text_longer_than_a_carrier_would(
    admin: Membership, number: PhoneNumber
) -> None:
    client = logged_in(admin)
    too_long = client.post(f"/simulator/{HANDSET}/send/", {"to": number.number, "body": "x" * 1601})
    assert too_long.status_code == 400
    assert "at most 1600 characters" in too_long.content.decode()
    assert not SimMessage.objects.filter(direction=SimMessage.MO).exists()
    longest = client.post(f"/simulator/{HANDSET}/send/", {"to": number.number, "body": "x" * 1600})
    assert longest.status_code == 302
    assert SimMessage.objects.filter(direction=SimMessage.MO).count() == 1
