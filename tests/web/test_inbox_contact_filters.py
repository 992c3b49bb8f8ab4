"""The inbox's filters on the contact: client type, group and home location narrow the list and
its tab counts, combine with each other and the assignee filter, stay on across folders, live
redraws and "Show older", and show only what the organization's contacts have."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import make_conversation
from twoway.accounts.models import Membership, Organization
from twoway.contacts.models import ContactGroup
from twoway.conversations.models import Conversation
from twoway.conversations.selectors import INBOX_PAGE
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


def _client_of(
    org: Organization,
    number: PhoneNumber,
    handset: str,
    *,
    client_type: str = "",
    location: str = "",
    groups: tuple[ContactGroup, ...] = (),
    folder: str = "needs_attention",
) -> Conversation:
    conversation = make_conversation(org, number, handset, folder=folder)
    contact = conversation.contact
    contact.client_type, contact.home_location = client_type, location
    contact.save()
    contact.groups.set(groups)
    return conversation


def _listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-conversation="(\d+)"', html)}


@pytest.fixture
def clinic(org: Organization, number: PhoneNumber) -> dict[str, object]:
    vip = ContactGroup.objects.create(organization=org, name="VIP")
    new = ContactGroup.objects.create(organization=org, name="New patients")
    return {
        "vip": vip,
        "new": new,
        "ada": _client_of(
            org, number, "+12025550101", client_type="Patient", location="Lyon", groups=(vip,)
        ),
        "bob": _client_of(
            org, number, "+12025550102", client_type="Patient", location="Paris", groups=(new,)
        ),
        "cy": _client_of(
            org, number, "+12025550103", client_type="Supplier", location="Lyon", groups=(vip, new)
        ),
        "dee": _client_of(org, number, "+12025550104"),
    }


def test_each_filter_narrows_the_list_and_the_counts(
    admin_client: Client, clinic: dict[str, object]
) -> None:
    ada, bob, cy, dee = (clinic[k] for k in ("ada", "bob", "cy", "dee"))
    vip = clinic["vip"]
    cases = {
        "": {ada.pk, bob.pk, cy.pk, dee.pk},
        "client_type=Patient": {ada.pk, bob.pk},
        f"group={vip.pk}": {ada.pk, cy.pk},
        "location=Lyon": {ada.pk, cy.pk},
        f"client_type=Patient&group={vip.pk}": {ada.pk},
        "client_type=Patient&location=Paris": {bob.pk},
        "client_type=Nobody": set(),
    }
    for query, expected in cases.items():
        html = admin_client.get(f"/inbox/?{query}").content.decode()
        listed = _listed(html.split('id="conversation-list"', 1)[1])
        assert listed == expected, query
        count = re.search(r"Needs attention\s*<span[^>]*>(\d+)</span>", html)
        assert count is not None and int(count.group(1)) == len(expected), query


def test_the_filters_stay_on_across_tabs_live_redraws_and_older_rows(
    admin_client: Client, org: Organization, number: PhoneNumber, clinic: dict[str, object]
) -> None:
    vip = clinic["vip"]
    html = admin_client.get(f"/inbox/?group={vip.pk}&location=Lyon").content.decode()
    assert f"?folder=archived&amp;group={vip.pk}&amp;location=Lyon" in html  # the tabs
    assert f"?folder=needs_attention&amp;group={vip.pk}&amp;location=Lyon" in html  # live list
    redrawn = admin_client.get(f"/inbox/list/?folder=needs_attention&group={vip.pk}")
    assert _listed(redrawn.content.decode()) == {clinic["ada"].pk, clinic["cy"].pk}
    # More VIPs than a page: "Show older" follows the filter.
    for index in range(INBOX_PAGE):
        _client_of(org, number, f"+1202555{2000 + index:04d}", groups=(vip,))
    html = admin_client.get(f"/inbox/?group={vip.pk}").content.decode()
    older = re.search(r'hx-get="([^"]*before=[^"]*)"', html)
    assert older is not None and f"group={vip.pk}" in older.group(1)
    rows = admin_client.get(older.group(1).replace("&amp;", "&")).content.decode()
    assert _listed(rows) and clinic["bob"].pk not in _listed(rows)


def test_a_group_of_another_organization_keeps_nothing(
    admin_client: Client, other_org: Organization, clinic: dict[str, object]
) -> None:
    theirs = ContactGroup.objects.create(organization=other_org, name="VIP")
    html = admin_client.get(f"/inbox/?group={theirs.pk}").content.decode()
    assert _listed(html.split('id="conversation-list"', 1)[1]) == set()


def test_bad_filter_values_are_ignored(admin_client: Client, clinic: dict[str, object]) -> None:
    for query in ["group=abc", "group=-1", f"client_type={'x' * 500}", "location=" + "y" * 500]:
        response = admin_client.get(f"/inbox/?{query}")
        assert response.status_code == 200
        assert len(_listed(response.content.decode().split('id="conversation-list"', 1)[1])) == 4


def test_the_menus_offer_what_the_contacts_have(
    admin_client: Client, admin: Membership, clinic: dict[str, object]
) -> None:
    html = admin_client.get("/inbox/").content.decode()
    for option in ("Patient", "Supplier", "Lyon", "Paris", "VIP", "New patients"):
        assert f">{option}</option>" in html
    ContactGroup.objects.all().delete()
    from twoway.contacts.models import Contact

    Contact.objects.update(client_type="", home_location="")
    html = admin_client.get("/inbox/").content.decode()
    for menu in ("client-type-filter", "group-filter", "location-filter"):
        assert menu not in html  # no menu with nothing to pick
