"""The operator's admin pages for carrier accounts: credentials typed in, shown masked only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from twoway.carrier_accounts.models import CarrierAccount
from twoway.numbers.models import PhoneNumber

from .conftest import OTHER_TOKEN, SID, TOKEN

pytestmark = pytest.mark.django_db

LIST = "/admin/carrier_accounts/carrieraccount/"


@pytest.fixture
def operator() -> Client:
    user = get_user_model().objects.create_superuser("op", "op@example.test", "pw-operator-1")
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_shows_credentials_masked_only(operator: Client, account: CarrierAccount) -> None:
    for url in (LIST, f"{LIST}{account.pk}/change/"):
        page = operator.get(url).content.decode()
        assert "••••" + TOKEN[-4:] in page, url
        assert TOKEN not in page and SID not in page, url
        assert account.credentials_encrypted not in page, url


def test_the_operator_adds_an_account_of_the_installation(operator: Client) -> None:
    form = operator.get(f"{LIST}add/").content.decode()
    assert 'name="twilio__account_sid"' in form
    assert 'type="password" name="twilio__auth_token"' in form

    response = operator.post(
        f"{LIST}add/",
        {
            "carrier": "twilio",
            "name": "Installation Twilio",
            "twilio__account_sid": SID,
            "twilio__auth_token": TOKEN,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    account = CarrierAccount.objects.get()
    assert account.organization is None
    assert account.credentials() == {"account_sid": SID, "auth_token": TOKEN}


def test_a_wrong_token_is_refused_without_showing_it(operator: Client) -> None:
    wrong = "not-a-twilio-token-" + "z" * 13
    response = operator.post(
        f"{LIST}add/",
        {"carrier": "twilio", "name": "x", "twilio__account_sid": SID, "twilio__auth_token": wrong},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "32 hexadecimal digits" in page
    assert wrong not in page
    assert not CarrierAccount.objects.exists()


def test_blank_credentials_keep_the_stored_ones_and_new_ones_replace_them(
    operator: Client, account: CarrierAccount
) -> None:
    url = f"{LIST}{account.pk}/change/"
    assert (
        operator.post(
            url, {"name": "Renamed", "twilio__account_sid": "", "twilio__auth_token": ""}
        ).status_code
        == 302
    )
    account.refresh_from_db()
    assert (account.name, account.credentials()["auth_token"]) == ("Renamed", TOKEN)

    operator.post(url, {"name": "Renamed", "twilio__auth_token": OTHER_TOKEN})
    account.refresh_from_db()
    assert account.credentials() == {"account_sid": SID, "auth_token": OTHER_TOKEN}


def test_an_account_holding_a_number_offers_no_delete(operator: Client, account, org) -> None:
    PhoneNumber.objects.create(
        organization=org, number="+14155550177", carrier="twilio", carrier_account=account
    )

    assert operator.get(f"{LIST}{account.pk}/delete/").status_code == 403
    assert operator.post(f"{LIST}{account.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CarrierAccount.objects.filter(pk=account.pk).exists()
