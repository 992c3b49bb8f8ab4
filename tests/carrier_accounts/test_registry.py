"""`carrier_for_account`: an account's adapter is built from its credentials, reused, and built
again once the account changes; no account is the operator's adapter, as before."""

from __future__ import annotations

import pytest

from twoway.carrier_accounts.crypto import credentials_encrypt
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.services import carrier_account_delete, carrier_account_update
from twoway.carriers import registry
from twoway.carriers.base import CarrierError, SendRequest, WebhookRequest
from twoway.carriers.registry import UnknownCarrierAccount, carrier_for_account, get_carrier
from twoway.carriers.twilio.adapter import TwilioCarrier

from .conftest import OTHER_TOKEN, SID, TOKEN

pytestmark = pytest.mark.django_db

ENV_TOKEN = "the-operators-own-env-auth-token"


@pytest.fixture(autouse=True)
def operator_twilio(settings) -> None:
    config = dict(settings.TWOWAY_CARRIER_CONFIG)
    config["twilio"] = {
        **config["twilio"],
        "account_sid": "AC" + "e" * 32,
        "auth_token": ENV_TOKEN,
        "api_base_url": "http://twilio.invalid:9",
    }
    settings.TWOWAY_CARRIER_CONFIG = config


def token_of(carrier: object) -> str:
    assert isinstance(carrier, TwilioCarrier)
    return carrier._auth_token


def test_no_account_is_the_operators_adapter() -> None:
    assert carrier_for_account(None, "twilio") is get_carrier("twilio")
    assert token_of(get_carrier("twilio")) == ENV_TOKEN


def test_an_accounts_adapter_has_its_credentials_and_the_operators_api_address(
    account: CarrierAccount,
) -> None:
    carrier = carrier_for_account(account.pk, "twilio")

    assert isinstance(carrier, TwilioCarrier)
    assert (carrier.account_sid, token_of(carrier)) == (SID, TOKEN)
    assert carrier.api_base_url == "http://twilio.invalid:9"
    assert carrier is not get_carrier("twilio")
    assert carrier_for_account(account.pk, "twilio") is carrier  # built once
    assert TOKEN not in repr(carrier)


def test_a_credential_the_account_lacks_is_empty_never_the_operators(org) -> None:
    account = CarrierAccount.objects.create(
        organization=org,
        carrier="twilio",
        name="Half",
        credentials_encrypted=credentials_encrypt({"account_sid": SID}),
    )

    carrier = carrier_for_account(account.pk, "twilio")

    assert token_of(carrier) == ""
    with pytest.raises(CarrierError) as refused:
        carrier.send(SendRequest("k", "+14155550123", "+12025550172", "hi"))
    assert refused.value.code == "config"


def test_a_change_here_takes_effect_at_once(
    admin, account: CarrierAccount, django_capture_on_commit_callbacks
) -> None:
    before = carrier_for_account(account.pk, "twilio")

    with django_capture_on_commit_callbacks(execute=True):
        carrier_account_update(
            actor=admin, account=account, credentials={"auth_token": OTHER_TOKEN}
        )

    after = carrier_for_account(account.pk, "twilio")
    assert after is not before
    assert token_of(after) == OTHER_TOKEN


def test_a_change_elsewhere_takes_effect_when_the_account_is_read_again(
    account: CarrierAccount, monkeypatch
) -> None:
    before = carrier_for_account(account.pk, "twilio")
    # Another process (the web server's settings page) replaces the token.
    CarrierAccount.objects.filter(pk=account.pk).update(
        credentials_encrypted=credentials_encrypt({"account_sid": SID, "auth_token": OTHER_TOKEN})
    )
    assert carrier_for_account(account.pk, "twilio") is before  # not read again yet

    monkeypatch.setattr(registry, "ACCOUNT_RECHECK_SECONDS", 0.0)
    registry.carrier_account_forget(account.pk)
    carrier_for_account(account.pk, "twilio")
    again = carrier_for_account(account.pk, "twilio")  # read again: changed, built again

    assert token_of(again) == OTHER_TOKEN
    assert carrier_for_account(account.pk, "twilio") is again  # unchanged: the same adapter


def test_unknown_deleted_and_other_carriers_accounts_are_unknown(
    admin, account: CarrierAccount, django_capture_on_commit_callbacks
) -> None:
    with pytest.raises(UnknownCarrierAccount):
        carrier_for_account(999_999, "twilio")
    with pytest.raises(UnknownCarrierAccount):
        carrier_for_account(account.pk, "simulator")
    account_id = account.pk
    carrier_for_account(account_id, "twilio")

    with django_capture_on_commit_callbacks(execute=True):
        carrier_account_delete(actor=admin, account=account)

    with pytest.raises(UnknownCarrierAccount):
        carrier_for_account(account_id, "twilio")


def test_credentials_no_key_reads_make_an_unconfigured_adapter(
    settings, account: CarrierAccount, caplog
) -> None:
    settings.SECRET_KEY = "a secret key that never encrypted these credentials"

    carrier = carrier_for_account(account.pk, "twilio")

    assert token_of(carrier) == ""
    webhook = WebhookRequest(url="http://x/", method="POST", headers={}, body=b"", form={})
    assert not carrier.verify_signature(webhook)
    assert "cannot be decrypted" in caplog.text
    assert TOKEN not in caplog.text
