"""Buying a number through one of the organization's carrier accounts (Settings, Numbers, Add):
the search and the purchase go with the account's credentials, the number belongs to the account
and the carrier posts its texts to the account's webhook URL."""

from __future__ import annotations

import pytest
from bench.fakes.twilio_api import FakeTwilioServer
from django.test import Client

from tests.carrier_accounts.conftest import SID, TOKEN
from twoway.carrier_accounts.models import CarrierAccount
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

ADD = "/settings/numbers/add/"


def test_the_add_page_offers_each_account_of_the_organization(
    fake: FakeTwilioServer,
    admin_client: Client,
    account: CarrierAccount,
    other_account: CarrierAccount,
) -> None:
    page = admin_client.get(ADD).content.decode()

    assert f'value="twilio@{account.pk}"' in page
    assert "Twilio: Main Twilio (your account)" in page
    assert f"twilio@{other_account.pk}" not in page  # another organization's
    assert 'value="twilio"' in page  # Twoway's own account stays on offer


def test_a_number_bought_through_an_account_belongs_to_it(
    fake: FakeTwilioServer, admin_client: Client, account: CarrierAccount
) -> None:
    source = f"twilio@{account.pk}"
    search = admin_client.get(ADD, {"carrier": source, "area_code": "646"})
    assert search.status_code == 200
    assert [request.auth for request in fake.requests] == [(SID, TOKEN)]

    response = admin_client.post(
        f"{ADD}?carrier={source}&area_code=646",
        {"carrier": source, "number": "+16465550104", "label": "Own Twilio"},
    )

    assert response.status_code == 302
    number = PhoneNumber.objects.get(number="+16465550104")
    assert (number.carrier, number.carrier_account_id) == ("twilio", account.pk)
    bought = fake.state.owned_numbers["+16465550104"]
    assert bought["sms_url"] == f"https://texts.example.com/webhooks/twilio/{account.webhook_key}/"
    assert fake.requests[-1].auth == (SID, TOKEN)
    listing = admin_client.get("/settings/numbers/").content.decode()
    assert "Twilio: Main Twilio" in listing


def test_another_organizations_account_cannot_be_bought_through(
    fake: FakeTwilioServer, admin_client: Client, other_account: CarrierAccount
) -> None:
    source = f"twilio@{other_account.pk}"

    response = admin_client.post(ADD, {"carrier": source, "number": "+16465550104"})

    assert response.status_code == 422
    assert not PhoneNumber.objects.filter(number="+16465550104").exists()
    assert not fake.requests
