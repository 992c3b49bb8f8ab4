"""Admins set business hours, the away message and keyword rules (Settings, Business hours and
auto-answers); refusals say why and save nothing; `twoway keywords` names the rule."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from tests.answering.helpers import TUESDAY, Clock, at, canned
from tests.conftest import logged_in, make_member
from twoway import cli
from twoway.accounts.models import Membership, Organization, Role
from twoway.answering.models import Answering, KeywordRule
from twoway.answering.services import away_message_set, keyword_rule_add
from twoway.canned.models import CannedResponse
from twoway.compliance.organization_keywords import keyword_add
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

PAGE = "/settings/answering/"


def hours_form(**days: list[tuple[str, str]]) -> dict[str, str]:
    """The hours form with the given weekdays ("d0" Monday) open, the others closed."""
    data: dict[str, str] = {}
    for key, ranges in days.items():
        index = key[1:]
        data[f"open_{index}"] = "on"
        for n, (opens, closes) in enumerate(ranges):
            data[f"from_{index}_{n}"], data[f"to_{index}_{n}"] = opens, closes
    return data


def test_the_page_shows_the_default_week(admin_client: Client) -> None:
    page = admin_client.get(PAGE).content.decode()
    assert 'name="open_0" checked' in page and 'name="open_5" checked' not in page
    assert 'value="09:00"' in page and 'value="17:00"' in page


def test_an_admin_saves_hours_and_a_bad_range_saves_nothing(
    admin_client: Client, org: Organization
) -> None:
    saved = admin_client.post(
        f"{PAGE}hours/",
        hours_form(d0=[("08:00", "12:00"), ("13:00", "18:00")], d5=[("10:00", "14:00")]),
    )
    assert saved.status_code == 302
    hours = Answering.objects.get(organization=org).hours
    assert hours["0"] == [["08:00", "12:00"], ["13:00", "18:00"]]
    assert hours["1"] == [] and hours["5"] == [["10:00", "14:00"]]

    for form, says in [
        (hours_form(d2=[("17:00", "09:00")]), "Wednesday: 09:00 is not after 17:00"),
        (hours_form(d3=[("09:00", "13:00"), ("12:00", "17:00")]), "Thursday: two ranges overlap"),
        ({"open_4": "on", "from_4_0": "17:00"}, "Friday: a range needs both"),
        ({"open_6": "on"}, "Sunday is marked open but has no hours"),
    ]:
        refused = admin_client.post(f"{PAGE}hours/", form)
        assert refused.status_code == 422
        assert says in refused.content.decode()
        # What was typed stays in the form to be corrected.
        assert 'value="17:00"' in refused.content.decode() or "Sunday" in says
    assert Answering.objects.get(organization=org).hours == hours


def test_the_away_message_needs_an_organization_response(
    admin_client: Client, admin: Membership, org: Organization
) -> None:
    refused = admin_client.post(f"{PAGE}away/", {"enabled": "on", "response": ""})
    assert refused.status_code == 422
    assert "Pick one of your organization" in refused.content.decode()
    personal = CannedResponse.objects.create(
        organization=org, owner=admin, name="Mine", body="Personal"
    )
    refused = admin_client.post(f"{PAGE}away/", {"enabled": "on", "response": str(personal.pk)})
    assert refused.status_code == 422
    assert not Answering.objects.filter(away_enabled=True).exists()

    closed = canned(org, "Closed", "We are closed.")
    assert (
        admin_client.post(f"{PAGE}away/", {"enabled": "on", "response": closed.pk}).status_code
        == 302
    )
    answering = Answering.objects.get(organization=org)
    assert answering.away_enabled and answering.away_response == closed
    page = admin_client.get(PAGE).content.decode()
    assert "The away message is on." in page


def test_keyword_rules_refuse_compliance_keywords_and_duplicates(
    admin: Membership, org: Organization, number: PhoneNumber
) -> None:
    hours = canned(org, "Hours", "9 to 5")
    keyword_add(actor=admin, word="PARAR", action="opt_out")
    for word, says in [
        ("Stop!", "STOP is a compliance keyword (it means opt out)"),
        ("help", "HELP is a compliance keyword"),
        ("parar", "PARAR is a compliance keyword"),
        (" 🙂 ", "Type the word or phrase"),
        ("x" * 41, "at most 40 characters"),
    ]:
        with pytest.raises(InvalidInput, match=None) as refused:
            keyword_rule_add(actor=admin, keyword=word, response_id=hours.pk, phone_number_id=None)
        assert says in refused.value.message
    rule = keyword_rule_add(
        actor=admin, keyword="hours?", response_id=hours.pk, phone_number_id=None
    )
    assert rule.keyword == "HOURS"
    with pytest.raises(InvalidInput, match="has a rule for all numbers already"):
        keyword_rule_add(actor=admin, keyword="HOURS", response_id=hours.pk, phone_number_id=None)
    own = keyword_rule_add(
        actor=admin, keyword="HOURS", response_id=hours.pk, phone_number_id=number.pk
    )
    assert own.phone_number == number
    assert KeywordRule.objects.count() == 2


def test_a_rule_takes_only_the_organizations_own_responses_and_numbers(
    admin: Membership, org: Organization, other_org: Organization
) -> None:
    theirs = canned(other_org, "Theirs", "Not yours")
    their_number = PhoneNumber.objects.create(
        organization=other_org, number="+14155550190", carrier="simulator"
    )
    with pytest.raises(InvalidInput, match="Pick one of your organization"):
        keyword_rule_add(actor=admin, keyword="HOURS", response_id=theirs.pk, phone_number_id=None)
    ours = canned(org, "Hours", "9 to 5")
    with pytest.raises(InvalidInput, match="Pick one of your numbers"):
        keyword_rule_add(
            actor=admin, keyword="HOURS", response_id=ours.pk, phone_number_id=their_number.pk
        )
    with pytest.raises(InvalidInput, match="Pick one of your organization"):
        away_message_set(actor=admin, enabled=True, response_id=theirs.pk)
    assert not KeywordRule.objects.exists()


def test_the_page_adds_lists_and_removes_rules(
    admin_client: Client, org: Organization, number: PhoneNumber
) -> None:
    hours = canned(org, "Hours", "9 to 5")
    refused = admin_client.post(f"{PAGE}rules/", {"keyword": "stop", "response": hours.pk})
    assert refused.status_code == 422
    assert "STOP is a compliance keyword" in refused.content.decode()
    added = admin_client.post(
        f"{PAGE}rules/", {"keyword": "hours", "response": hours.pk, "number": number.pk}
    )
    assert added.status_code == 302
    rule = KeywordRule.objects.get()
    page = admin_client.get(PAGE).content.decode()
    assert "HOURS" in page and number.display in page
    assert admin_client.post(f"{PAGE}rules/{rule.pk}/delete/").status_code == 302
    assert not KeywordRule.objects.exists()


@pytest.mark.parametrize("role", [Role.STANDARD, Role.LIMITED])
def test_only_admins_see_and_change_answering(org: Organization, role: str) -> None:
    client = logged_in(make_member(org, f"{role}@acme.test", role))
    hours = canned(org, "Hours", "9 to 5")
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}hours/", hours_form(d0=[("08:00", "09:00")])).status_code == 403
    assert client.post(f"{PAGE}away/", {"enabled": "on", "response": hours.pk}).status_code == 403
    assert (
        client.post(f"{PAGE}rules/", {"keyword": "hours", "response": hours.pk}).status_code == 403
    )
    assert not Answering.objects.exists() and not KeywordRule.objects.exists()


def test_a_standard_member_cannot_remove_a_rule(
    standard: Membership, admin: Membership, org: Organization
) -> None:
    hours = canned(org, "Hours", "9 to 5")
    rule = keyword_rule_add(
        actor=admin, keyword="HOURS", response_id=hours.pk, phone_number_id=None
    )
    with pytest.raises(PermissionDenied):
        keyword_rule_add(actor=standard, keyword="OPEN", response_id=hours.pk, phone_number_id=None)
    assert logged_in(standard).post(f"{PAGE}rules/{rule.pk}/delete/").status_code == 403
    assert KeywordRule.objects.filter(pk=rule.pk).exists()


def test_twoway_keywords_names_the_rule_and_the_away_message(
    org: Organization, admin: Membership, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch, at(TUESDAY, 20))
    keyword_rule_add(
        actor=admin, keyword="HOURS", response_id=canned(org, "All", "9-5").pk, phone_number_id=None
    )
    keyword_rule_add(
        actor=admin,
        keyword="HOURS",
        response_id=canned(org, "Branch", "10-4").pk,
        phone_number_id=number.pk,
    )
    away_message_set(actor=admin, enabled=True, response_id=canned(org, "Away", "Closed").pk)

    def lines(*extra: str) -> list[dict[str, object]]:
        out = io.StringIO()
        monkeypatch.setattr("sys.stdin", io.StringIO('"hours!"\n"Hi there"\n"STOP"\n'))
        monkeypatch.setattr("sys.stdout", out)
        assert cli.main(["keywords", "--organization", org.name, *extra]) == 0
        return [json.loads(line) for line in out.getvalue().splitlines()]

    everywhere = lines()
    assert everywhere[0]["rule"] == {"keyword": "HOURS", "number": None, "response": "All"}
    assert everywhere[0]["away"] is False  # the rule answers instead
    assert everywhere[1] == {"action": "none", "rule": None, "away": True}
    assert everywhere[2]["action"] == "opt_out" and everywhere[2]["rule"] is None
    assert everywhere[2]["away"] is False
    branch = lines("--number", number.number)
    assert branch[0]["rule"] == {"keyword": "HOURS", "number": number.number, "response": "Branch"}


def test_deleting_the_canned_response_removes_its_rules_and_stops_the_away_message(
    admin: Membership, admin_client: Client, org: Organization
) -> None:
    closed = canned(org, "Closed", "We are closed.")
    keyword_rule_add(actor=admin, keyword="HOURS", response_id=closed.pk, phone_number_id=None)
    away_message_set(actor=admin, enabled=True, response_id=closed.pk)
    closed.delete()
    assert not KeywordRule.objects.exists()
    answering = Answering.objects.get(organization=org)
    assert answering.away_response is None
    assert 'name="enabled" checked' not in admin_client.get(PAGE).content.decode()


def test_twoway_keywords_refuses_a_number_of_another_organization(
    org: Organization, other_org: Organization, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = PhoneNumber.objects.create(
        organization=other_org, number="+14155550191", carrier="simulator"
    )
    assert cli.main(["keywords", "--organization", org.name, "--number", theirs.number]) == 2
    assert f"has no number {theirs.number}" in capsys.readouterr().err
    assert cli.main(["keywords", "--number", theirs.number]) == 2
