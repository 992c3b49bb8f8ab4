"""Number inventory of the carriers: the simulator's 555 numbers, and Twilio's search and buy
against the local fake API. No database needed: adapters never touch it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from bench.fakes.twilio_api import FakeTwilioServer

from tests.conftest import free_port
from twoway.carriers.base import AvailableNumber, Carrier, CarrierError, ProvisionedNumber
from twoway.carriers.simulator.adapter import SimulatorCarrier
from twoway.carriers.twilio.adapter import TwilioCarrier

SID = "AC0e2f6a3b9c8d47e1a5b0c9d8e7f6a5b4"
TOKEN = "fake-auth-token-inventory"


class _Plain(Carrier):
    slug = "plain"
    name = "Plain"

    def send(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def verify_signature(self, request):  # type: ignore[no-untyped-def]
        return False

    def parse_webhook(self, request):  # type: ignore[no-untyped-def]
        return None


def test_inventory_is_optional_for_a_carrier() -> None:
    plain = _Plain()
    assert plain.can_provision_numbers is False
    with pytest.raises(NotImplementedError):
        plain.available_numbers("US", None, 5)
    with pytest.raises(NotImplementedError):
        plain.provision_number("+14155550100")


# --- Simulator -------------------------------------------------------------------------------


def test_simulator_offers_555_numbers_of_the_area_code() -> None:
    simulator = SimulatorCarrier(network="twoway.simulator.network")
    assert simulator.can_provision_numbers
    offered = simulator.available_numbers("US", "212", 3)
    assert [o.number for o in offered] == ["+12125550100", "+12125550101", "+12125550102"]
    assert offered[0] == AvailableNumber(
        number="+12125550100", number_type="local", sms=True, mms=False, locality="Simulated (212)"
    )


def test_simulator_defaults_to_the_countrys_area_code() -> None:
    simulator = SimulatorCarrier(network="twoway.simulator.network")
    assert simulator.available_numbers("US", None, 1)[0].number == "+14155550100"
    assert simulator.available_numbers("ca", "", 1)[0].number == "+14165550100"


def test_simulator_offers_toll_free_numbers_for_toll_free_codes() -> None:
    offered = SimulatorCarrier(network="twoway.simulator.network").available_numbers("US", "800", 2)
    assert [o.number_type for o in offered] == ["toll_free", "toll_free"]


def test_simulator_limit_is_respected_and_capped_by_its_range() -> None:
    simulator = SimulatorCarrier(network="twoway.simulator.network")
    assert simulator.available_numbers("US", "415", 0) == []
    many = simulator.available_numbers("US", "415", 20000)
    assert len(many) == 9900
    assert many[-1].number == "+14155559999"


@pytest.mark.parametrize(
    ("country", "area_code", "says"),
    [
        ("GB", None, "US and Canada only"),
        ("US", "41", "is not an area code"),
        ("US", "abc", "is not an area code"),
        ("US", "299", "no numbers in area code 299"),
        ("US", "416", "no numbers in area code 416 in US"),  # a Canadian area code
    ],
)
def test_simulator_refuses_what_it_has_not(country: str, area_code: str | None, says: str) -> None:
    with pytest.raises(CarrierError, match=says) as refused:
        SimulatorCarrier(network="twoway.simulator.network").available_numbers(
            country, area_code, 5
        )
    assert refused.value.transient is False


def test_simulator_provisions_its_numbers_only() -> None:
    simulator = SimulatorCarrier(network="twoway.simulator.network")
    assert simulator.provision_number("+14155550142") == ProvisionedNumber(
        number="+14155550142",
        number_type="local",
        sms=True,
        mms=False,
        carrier_number_id="SIM14155550142",
    )
    assert simulator.provision_number("+18005550100").number_type == "toll_free"
    for outside in ("+14155550042", "+12025550172x", "+442079460000", "+12995550100", "4155550100"):
        with pytest.raises(CarrierError, match="not a number of the simulated network"):
            simulator.provision_number(outside)


# --- Twilio ------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer(auth_token=TOKEN) as server:
        yield server


@pytest.fixture
def twilio(fake: FakeTwilioServer) -> Iterator[TwilioCarrier]:
    carrier = TwilioCarrier(account_sid=SID, auth_token=TOKEN, api_base_url=fake.url)
    yield carrier
    carrier.close()


def _auth() -> tuple[str, str]:
    return (SID, TOKEN)


def test_twilio_searches_local_sms_numbers_by_area_code(
    fake: FakeTwilioServer, twilio: TwilioCarrier
) -> None:
    offered = twilio.available_numbers("US", "646", 3)
    assert [o.number for o in offered] == ["+16465550100", "+16465550101", "+16465550102"]
    assert offered[0] == AvailableNumber(
        number="+16465550100", number_type="local", sms=True, mms=True, locality="Fakeville, CA"
    )
    (request,) = fake.requests
    url = urlsplit(request.path)
    assert request.method == "GET"
    assert url.path == f"/2010-04-01/Accounts/{SID}/AvailablePhoneNumbers/US/Local.json"
    assert parse_qs(url.query) == {"AreaCode": ["646"], "SmsEnabled": ["true"], "PageSize": ["3"]}
    assert request.auth == _auth()


def test_twilio_search_without_area_code_and_page_size_capped(
    fake: FakeTwilioServer, twilio: TwilioCarrier
) -> None:
    offered = twilio.available_numbers("us", None, 500)
    assert len(offered) == 50  # Twilio's page; the adapter asks for no more
    query = parse_qs(urlsplit(fake.requests[0].path).query)
    assert "AreaCode" not in query
    assert query["PageSize"] == ["50"]
    assert "/AvailablePhoneNumbers/US/" in fake.requests[0].path


def test_twilio_buys_a_number_and_sets_its_webhook(
    fake: FakeTwilioServer, twilio: TwilioCarrier
) -> None:
    bought = twilio.provision_number(
        "+16465550101", sms_url="https://texts.example.com/webhooks/twilio/"
    )
    assert bought.number == "+16465550101"
    assert (bought.number_type, bought.sms, bought.mms) == ("local", True, True)
    assert bought.carrier_number_id.startswith("PN")
    (request,) = fake.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers.json"
    assert request.form == {
        "PhoneNumber": ["+16465550101"],
        "SmsUrl": ["https://texts.example.com/webhooks/twilio/"],
        "SmsMethod": ["POST"],
    }
    assert fake.state.owned_numbers["+16465550101"]["sid"] == bought.carrier_number_id
    # A bought number is no longer offered.
    assert "+16465550101" not in [o.number for o in twilio.available_numbers("US", "646", 5)]


def test_twilio_buy_without_webhook_url_sends_none(
    fake: FakeTwilioServer, twilio: TwilioCarrier
) -> None:
    twilio.provision_number("+16465550102")
    assert fake.requests[0].form == {"PhoneNumber": ["+16465550102"]}


def test_twilio_number_taken_is_a_final_error_with_twilios_code(twilio: TwilioCarrier) -> None:
    twilio.provision_number("+16465550100")
    with pytest.raises(CarrierError, match="not available") as refused:
        twilio.provision_number("+16465550100")
    assert (refused.value.code, refused.value.transient) == ("21422", False)


def test_twilio_inventory_outage_is_transient(
    fake: FakeTwilioServer, twilio: TwilioCarrier
) -> None:
    fake.set_mode("down")
    with pytest.raises(CarrierError) as search:
        twilio.available_numbers("US", "646", 3)
    with pytest.raises(CarrierError) as buy:
        twilio.provision_number("+16465550100")
    assert search.value.transient and buy.value.transient
    assert fake.state.owned_numbers == {}


def test_twilio_inventory_rejection_keeps_twilios_code(
    fake: FakeTwilioServer, twilio: TwilioCarrier
) -> None:
    fake.set_mode("reject", code=21452, message="No phone numbers found")
    with pytest.raises(CarrierError, match="No phone numbers found") as refused:
        twilio.available_numbers("US", "646", 3)
    assert (refused.value.code, refused.value.transient) == ("21452", False)


def test_twilio_wrong_credentials_are_refused(fake: FakeTwilioServer) -> None:
    carrier = TwilioCarrier(account_sid=SID, auth_token="wrong", api_base_url=fake.url)
    with pytest.raises(CarrierError) as refused:
        carrier.available_numbers("US", None, 1)
    assert (refused.value.code, refused.value.transient) == ("20003", False)
    assert fake.requests[0].auth == (SID, "wrong")


def test_twilio_unconfigured_or_unreachable() -> None:
    with pytest.raises(CarrierError) as unconfigured:
        TwilioCarrier(account_sid="", auth_token="").available_numbers("US", None, 1)
    assert unconfigured.value.code == "config"
    closed = TwilioCarrier(
        account_sid=SID, auth_token=TOKEN, api_base_url=f"http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(CarrierError, match="Could not reach Twilio") as unreachable:
        closed.provision_number("+16465550100")
    assert unreachable.value.transient
    with pytest.raises(CarrierError) as bad_url:
        TwilioCarrier(
            account_sid=SID, auth_token=TOKEN, api_base_url="api.twilio.com"
        ).available_numbers("US", None, 1)
    assert bad_url.value.code == "config"


def test_twilio_answer_without_a_list_or_sid_is_an_error(
    fake: FakeTwilioServer, twilio: TwilioCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(twilio, "_inventory_call", lambda *a, **k: {"unexpected": True})
    with pytest.raises(CarrierError, match="without a list"):
        twilio.available_numbers("US", None, 1)
    with pytest.raises(CarrierError, match="without the new number's sid"):
        twilio.provision_number("+16465550100")
