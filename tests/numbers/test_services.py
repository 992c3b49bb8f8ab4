"""Numbers: searching and buying through carriers, inbox settings, releasing."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from bench.fakes.twilio_api import FakeTwilioServer

from tests.conftest import make_member
from twoway.accounts.models import Membership, Organization, Role, Team
from twoway.carriers.registry import get_carrier
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.numbers.services import (
    CarrierRefused,
    InvalidNumberField,
    number_add,
    number_assign_simulated,
    number_release,
    number_search,
    number_update,
    provisioning_carriers,
)

pytestmark = pytest.mark.django_db

SID = "AC5b1e4f2a9c3d48e7b6a0f1e2d3c4b5a6"
TOKEN = "fake-auth-token-numbers"


@pytest.fixture
def fake_twilio(settings) -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer(auth_token=TOKEN) as server:
        config = dict(settings.TWOWAY_CARRIER_CONFIG)
        config["twilio"] = {"account_sid": SID, "auth_token": TOKEN, "api_base_url": server.url}
        settings.TWOWAY_CARRIER_CONFIG = config
        get_carrier.cache_clear()
        yield server
        get_carrier.cache_clear()


@pytest.fixture
def other_admin(other_org: Organization) -> Membership:
    return make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)


def add(actor: Membership, number: str = "+14155550142", **fields: object) -> PhoneNumber:
    return number_add(
        actor=actor,
        organization=actor.organization,
        carrier=str(fields.pop("carrier", "simulator")),
        number=number,
        **fields,  # type: ignore[arg-type]
    )


# --- Searching ---------------------------------------------------------------------------------


def test_every_carrier_that_sells_numbers_is_offered_in_settings_order() -> None:
    assert [c.slug for c in provisioning_carriers()] == ["simulator", "twilio", "telnyx", "vonage"]


def test_search_leaves_out_numbers_taken_in_any_organization(
    org: Organization, other_org: Organization, number: PhoneNumber
) -> None:
    PhoneNumber.objects.create(organization=other_org, number="+14155550101", carrier="simulator")
    offered = [o.number for o in number_search(organization=org, carrier="simulator")]
    assert len(offered) == 20
    assert offered[:2] == ["+14155550102", "+14155550103"]
    assert number.number not in offered


def test_search_still_fills_the_page_when_many_are_taken(org: Organization) -> None:
    PhoneNumber.objects.bulk_create(
        PhoneNumber(organization=org, number=f"+1415555{line:04d}", carrier="simulator")
        for line in range(100, 140)
    )
    offered = number_search(organization=org, carrier="simulator", limit=5)
    assert [o.number for o in offered] == [f"+1415555{line:04d}" for line in range(140, 145)]


def test_search_by_area_code_in_the_organizations_country(org: Organization) -> None:
    offered = number_search(organization=org, carrier="simulator", area_code=" 212 ", limit=2)
    assert [o.number for o in offered] == ["+12125550100", "+12125550101"]
    org.country = "CA"
    assert number_search(organization=org, carrier="simulator", limit=1)[0].number == (
        "+14165550100"
    )


@pytest.mark.parametrize("area_code", ["41", "4155", "abc"])
def test_search_refuses_a_malformed_area_code(org: Organization, area_code: str) -> None:
    with pytest.raises(InvalidNumberField) as refused:
        number_search(organization=org, carrier="simulator", area_code=area_code)
    assert refused.value.field == "area_code"


def test_search_of_an_unknown_carrier(org: Organization) -> None:
    with pytest.raises(InvalidNumberField, match="no carrier called 'nope'") as refused:
        number_search(organization=org, carrier="nope")
    assert refused.value.field == "carrier"


def test_search_carrier_refusal_is_explained(org: Organization, settings) -> None:
    org.country = "GB"
    with pytest.raises(CarrierRefused, match="Simulator could not list available numbers"):
        number_search(organization=org, carrier="simulator")
    config = dict(settings.TWOWAY_CARRIER_CONFIG)
    config["twilio"] = {"account_sid": "", "auth_token": ""}
    settings.TWOWAY_CARRIER_CONFIG = config
    get_carrier.cache_clear()
    org.country = "US"
    with pytest.raises(CarrierRefused, match="check its credentials"):
        number_search(organization=org, carrier="twilio")


def test_search_twilio_leaves_out_numbers_twoway_holds(
    org: Organization, fake_twilio: FakeTwilioServer
) -> None:
    PhoneNumber.objects.create(organization=org, number="+16465550100", carrier="twilio")
    offered = number_search(organization=org, carrier="twilio", area_code="646", limit=3)
    assert [o.number for o in offered] == ["+16465550101", "+16465550102", "+16465550103"]


# --- Adding --------------------------------------------------------------------------------


def test_admin_adds_a_simulated_number_with_the_local_default(admin: Membership) -> None:
    added = add(admin, "415-555-0142", label="  Front desk ")
    assert added.organization == admin.organization
    assert (added.number, added.label, added.carrier) == ("+14155550142", "Front desk", "simulator")
    assert (added.number_type, added.mps_limit) == ("local", Decimal(1))
    assert (added.sms_enabled, added.mms_enabled) == (True, False)
    assert (added.access_everyone, added.routing_mode) == (True, "agent")


@pytest.mark.parametrize(
    ("number", "number_type", "mps"),
    [
        ("+18005550100", None, 3),  # toll-free, as the carrier says
        ("+14155550150", "toll_free", 3),
        ("+14155550151", "short_code", 100),
        ("+14155550152", "local", 1),
    ],
)
def test_default_throughput_follows_the_number_type(
    admin: Membership, number: str, number_type: str | None, mps: int
) -> None:
    added = add(admin, number, number_type=number_type)
    assert added.mps_limit == Decimal(mps)


def test_explicit_throughput_wins_and_is_checked(admin: Membership) -> None:
    assert add(admin, "+14155550160", mps_limit=Decimal("2.5")).mps_limit == Decimal("2.5")
    with pytest.raises(InvalidNumberField, match="more than 0"):
        add(admin, "+14155550161", mps_limit=0)
    assert not PhoneNumber.objects.filter(number="+14155550161").exists()


def test_a_number_taken_anywhere_cannot_be_added_again(
    admin: Membership, other_admin: Membership, number: PhoneNumber
) -> None:
    with pytest.raises(InvalidNumberField, match=r"\(415\) 555-0100 is already in use") as taken:
        add(other_admin, number.number)
    assert (taken.value.field, taken.value.code) == ("number", "number_taken")
    add(admin, "+14155550170")
    with pytest.raises(InvalidNumberField, match="already in use"):
        add(admin, "4155550170")
    assert PhoneNumber.objects.filter(number="+14155550170").count() == 1


def test_only_admins_add_and_only_to_their_organization(
    admin: Membership,
    standard: Membership,
    limited: Membership,
    other_org: Organization,
) -> None:
    for member in (standard, limited):
        with pytest.raises(PermissionDenied):
            add(member, "+14155550180")
    with pytest.raises(NotFound):
        number_add(actor=admin, organization=other_org, carrier="simulator", number="+14155550180")
    admin.user.is_active = False
    with pytest.raises(PermissionDenied):
        add(admin, "+14155550180")
    assert not PhoneNumber.objects.filter(number="+14155550180").exists()


@pytest.mark.parametrize(
    ("number", "fields", "field"),
    [
        ("12345", {}, "number"),
        ("+14155550190", {"label": "x" * 101}, "label"),
        ("+14155550190", {"number_type": "landline"}, "number_type"),
        ("+14155550190", {"carrier": "nope"}, "carrier"),
    ],
)
def test_add_refuses_bad_input(
    admin: Membership, number: str, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidNumberField) as refused:
        add(admin, number, **fields)
    assert refused.value.field == field
    assert not PhoneNumber.objects.filter(number="+14155550190").exists()


def test_add_a_number_the_carrier_does_not_have(admin: Membership) -> None:
    with pytest.raises(CarrierRefused, match="not a number of the simulated network"):
        add(admin, "+12024561111")  # a real number, not a 555 one
    assert not PhoneNumber.objects.exists()


def test_add_buys_the_number_from_twilio(
    admin: Membership, fake_twilio: FakeTwilioServer, settings
) -> None:
    settings.TWOWAY_PUBLIC_URL = "https://texts.example.com"
    added = add(admin, "+16465550104", carrier="twilio", label="Twilio line")
    assert (added.carrier, added.number_type, added.mps_limit) == ("twilio", "local", Decimal(1))
    assert (added.sms_enabled, added.mms_enabled) == (True, True)
    bought = fake_twilio.state.owned_numbers["+16465550104"]
    assert bought["sms_url"] == "https://texts.example.com/webhooks/twilio/"


def test_twilio_refusal_stores_nothing(admin: Membership, fake_twilio: FakeTwilioServer) -> None:
    fake_twilio.set_mode("reject", code=21422, message="PhoneNumber requested is not available")
    with pytest.raises(CarrierRefused, match="Twilio could not provide") as refused:
        add(admin, "+16465550105", carrier="twilio")
    assert "not available" in refused.value.message
    fake_twilio.set_mode("down")
    with pytest.raises(CarrierRefused, match="Try again in a moment"):
        add(admin, "+16465550105", carrier="twilio")
    assert not PhoneNumber.objects.exists()


def test_number_assign_simulated_still_gives_a_free_number(
    org: Organization, number: PhoneNumber
) -> None:
    assigned = number_assign_simulated(organization=org)
    assert (assigned.number, assigned.label, assigned.mps_limit) == (
        "+14155550101",
        "Main",
        Decimal(1),
    )


# --- Inbox settings ------------------------------------------------------------------------


def test_admin_updates_every_setting(
    org: Organization, admin: Membership, standard: Membership, number: PhoneNumber
) -> None:
    team = Team.objects.create(organization=org, name="Front desk")
    updated = number_update(
        actor=admin,
        number=number,
        label=" Reception ",
        number_type="toll_free",
        sms_enabled=False,
        mms_enabled=False,
        mps_limit="2.75",
        access_everyone=False,
        access_users=[standard],
        access_teams=[team],
        routing_mode="assistant",
    )
    number.refresh_from_db()
    assert updated == number
    assert (number.label, number.number_type, number.sms_enabled) == (
        "Reception",
        "toll_free",
        False,
    )
    assert (number.mps_limit, number.access_everyone, number.routing_mode) == (
        Decimal("2.75"),
        False,
        "assistant",
    )
    assert list(number.access_users.all()) == [standard]
    assert list(number.access_teams.all()) == [team]


def test_update_leaves_what_it_is_not_given(
    admin: Membership, standard: Membership, number: PhoneNumber
) -> None:
    number.access_users.add(standard)
    number_update(actor=admin, number=number, label="Only the label")
    number.refresh_from_db()
    assert (number.label, number.mps_limit, number.access_everyone) == (
        "Only the label",
        Decimal(100),
        True,
    )
    assert list(number.access_users.all()) == [standard]
    number_update(actor=admin, number=number, access_users=[])
    assert list(number.access_users.all()) == []


def test_update_never_overwrites_the_rate_limiters_column(
    admin: Membership, number: PhoneNumber
) -> None:
    stale = PhoneNumber.objects.get(pk=number.pk)
    from django.utils import timezone

    moment = timezone.now()
    PhoneNumber.objects.filter(pk=number.pk).update(next_send_at=moment)
    number_update(actor=admin, number=stale, mps_limit=5)
    number.refresh_from_db()
    assert (number.mps_limit, number.next_send_at) == (Decimal(5), moment)


@pytest.mark.parametrize("mps", [0, -1, "1000.01", 5000, "0.001", "abc", "NaN", "Infinity"])
def test_throughput_must_be_positive_and_at_most_1000(
    admin: Membership, number: PhoneNumber, mps: object
) -> None:
    with pytest.raises(InvalidNumberField) as refused:
        number_update(actor=admin, number=number, mps_limit=mps)  # type: ignore[arg-type]
    assert refused.value.field == "mps_limit"
    number.refresh_from_db()
    assert number.mps_limit == Decimal(100)


@pytest.mark.parametrize("mps", ["0.01", 1, 1000, Decimal("999.99")])
def test_throughput_bounds_allowed(admin: Membership, number: PhoneNumber, mps: object) -> None:
    number_update(actor=admin, number=number, mps_limit=mps)  # type: ignore[arg-type]
    number.refresh_from_db()
    assert number.mps_limit == Decimal(str(mps))


def test_users_of_another_organization_are_refused(
    admin: Membership, other_admin: Membership, number: PhoneNumber, standard: Membership
) -> None:
    with pytest.raises(InvalidNumberField, match=r"boss@other\.test is not a member") as refused:
        number_update(
            actor=admin,
            number=number,
            label="changed",
            access_everyone=False,
            access_users=[standard, other_admin],
        )
    assert (refused.value.field, refused.value.code) == ("access_users", "foreign_user")
    number.refresh_from_db()
    assert (number.label, number.access_everyone) == ("", True)
    assert not number.access_users.exists()


def test_teams_of_another_organization_are_refused(
    admin: Membership, other_org: Organization, number: PhoneNumber
) -> None:
    foreign = Team.objects.create(organization=other_org, name="Elsewhere")
    with pytest.raises(InvalidNumberField, match="'Elsewhere' is not one of") as refused:
        number_update(actor=admin, number=number, access_teams=[foreign])
    assert (refused.value.field, refused.value.code) == ("access_teams", "foreign_team")
    assert not number.access_teams.exists()


def test_only_admins_of_the_organization_update(
    standard: Membership, limited: Membership, other_admin: Membership, number: PhoneNumber
) -> None:
    for member in (standard, limited):
        with pytest.raises(PermissionDenied):
            number_update(actor=member, number=number, label="mine")
    with pytest.raises(NotFound):
        number_update(actor=other_admin, number=number, label="mine")
    number.refresh_from_db()
    assert number.label == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"number_type": "fax"}, "number_type"),
        ({"routing_mode": "robot"}, "routing_mode"),
        ({"label": "x" * 101}, "label"),
    ],
)
def test_update_refuses_bad_values(
    admin: Membership, number: PhoneNumber, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidNumberField) as refused:
        number_update(actor=admin, number=number, **fields)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_mms_refused_on_a_carrier_that_sends_none(admin: Membership, org: Organization) -> None:
    vonage = PhoneNumber.objects.create(
        organization=org, number="+14155550124", carrier="vonage", mps_limit=30
    )
    with pytest.raises(InvalidNumberField) as refused:
        number_update(actor=admin, number=vonage, mms_enabled=True)
    assert refused.value.field == "mms_enabled"
    vonage.refresh_from_db()
    assert not vonage.mms_enabled


def test_mms_on_a_carrier_that_sends_it(admin: Membership, twilio_number: PhoneNumber) -> None:
    number_update(actor=admin, number=twilio_number, mms_enabled=True)
    twilio_number.refresh_from_db()
    assert twilio_number.mms_enabled


def test_restricting_a_number_changes_who_may_use_it(
    org: Organization,
    admin: Membership,
    standard: Membership,
    limited: Membership,
    number: PhoneNumber,
) -> None:
    from twoway.numbers.access import numbers_usable_by

    team = Team.objects.create(organization=org, name="Nights")
    team.members.add(limited)
    number_update(actor=admin, number=number, access_everyone=False)
    assert not numbers_usable_by(standard).exists()
    assert not numbers_usable_by(limited).exists()
    assert list(numbers_usable_by(admin)) == [number]
    number_update(actor=admin, number=number, access_users=[standard], access_teams=[team])
    assert list(numbers_usable_by(standard)) == [number]
    assert list(numbers_usable_by(limited)) == [number]


# --- Releasing -------------------------------------------------------------------------------


def test_admin_releases_an_unused_number(admin: Membership, number: PhoneNumber) -> None:
    number_release(actor=admin, number=number)
    assert not PhoneNumber.objects.exists()


def test_a_number_with_conversations_is_not_released(
    admin: Membership, number: PhoneNumber
) -> None:
    message_send(phone_number=number, to="2025550172", body="Hi", membership=admin)
    with pytest.raises(InvalidInput, match="has conversations, so it cannot be released") as no:
        number_release(actor=admin, number=number)
    assert no.value.code == "number_in_use"
    assert PhoneNumber.objects.filter(pk=number.pk).exists()


def test_only_admins_of_the_organization_release(
    standard: Membership, other_admin: Membership, number: PhoneNumber
) -> None:
    with pytest.raises(PermissionDenied):
        number_release(actor=standard, number=number)
    with pytest.raises(NotFound):
        number_release(actor=other_admin, number=number)
    assert PhoneNumber.objects.filter(pk=number.pk).exists()
