"""Carrier accounts of the organization's and another's, with Twilio-shaped credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bench.fakes.twilio_api import FakeTwilioServer

from twoway.accounts.models import Organization
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.selectors import carrier_account_uncache
from twoway.carrier_accounts.services import carrier_account_create
from twoway.carriers.registry import get_carrier

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f00dfeed" * 4  # 32 hexadecimal digits, as Twilio's auth tokens
OTHER_SID = "AC" + "fedcba9876543210" * 2
OTHER_TOKEN = "c0ffee42" * 4
# The installation's own Twilio, for numbers held in no account.
OPERATOR_SID = "AC" + "1" * 32
OPERATOR_TOKEN = "operator-token"


@pytest.fixture(autouse=True)
def _fresh_account_cache() -> Iterator[None]:
    # Adapters are cached by account id, and ids come back after a rolled-back test on SQLite.
    carrier_account_uncache()
    yield
    carrier_account_uncache()


def make_account(
    organization: Organization | None,
    *,
    name: str = "Main Twilio",
    sid: str = SID,
    token: str = TOKEN,
) -> CarrierAccount:
    return carrier_account_create(
        actor=None,
        organization=organization,
        carrier="twilio",
        name=name,
        credentials={"account_sid": sid, "auth_token": token},
    )


@pytest.fixture
def account(org: Organization) -> CarrierAccount:
    return make_account(org)


@pytest.fixture
def other_account(other_org: Organization) -> CarrierAccount:
    return make_account(other_org, name="Their Twilio", sid=OTHER_SID, token=OTHER_TOKEN)


@pytest.fixture
def fake(settings) -> Iterator[FakeTwilioServer]:
    """A fake Twilio for the operator's settings and every account: it takes any account's
    password, checked against the SID in its path; Twoway's public address is known."""
    with FakeTwilioServer() as server:
        config = dict(settings.TWOWAY_CARRIER_CONFIG)
        config["twilio"] = {
            "account_sid": OPERATOR_SID,
            "auth_token": OPERATOR_TOKEN,
            "api_base_url": server.url,
            "timeout": 0.5,
        }
        settings.TWOWAY_CARRIER_CONFIG = config
        settings.TWOWAY_PUBLIC_URL = "https://texts.example.com"
        get_carrier.cache_clear()
        carrier_account_uncache()
        yield server
        get_carrier.cache_clear()
        carrier_account_uncache()
