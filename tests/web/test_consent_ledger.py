"""The consent ledger read by people: a contact's Consent history on their card, and Settings >
Consent ledger (administrators) with its filters and its CSV export."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.test import Client

from tests.conftest import logged_in
from twoway.accounts.models import Membership, Organization
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.compliance.services import consent_record
from twoway.contacts.models import Contact, ContactPhone
from twoway.web.consent_ledger import CONTACT_ENTRIES_PER_PAGE, ENTRIES_PER_PAGE

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
LEDGER = "/settings/consent-ledger/"
EXPORT = "/settings/consent-ledger/export.csv"
FORMULA = '=HYPERLINK("http://evil.test","Click")'


def _contact(org: Organization, name: str, number: str) -> Contact:
    contact = Contact.objects.create(organization=org, name=name)
    ContactPhone.objects.create(organization=org, contact=contact, number=number)
    return contact


def _entry(
    contact: Contact,
    kind: str,
    source: str,
    at: datetime.datetime,
    text: str = "",
    actor: str = "",
    phone_number: str = "",
) -> ConsentEvent:
    entry = consent_record(
        organization_id=contact.organization_id,
        contact_id=contact.pk,
        kind=ConsentEventKind(kind),
        source=source,
        text=text,
        actor=actor,
        phone_number=phone_number,
    )
    ConsentEvent.objects.filter(pk=entry.pk).update(created_at=at)
    return entry


def _ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-consent-entry="(\d+)"', html)]


def _csv(response: object) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.fixture
def ledger(org: Organization, other_org: Organization) -> dict[str, ConsentEvent]:
    """Ann texted STOP on Nov 2 (New York), Bob was opted in by hand on Nov 3 and opted out by
    an import on Nov 4; another organization has an entry too."""
    ann = _contact(org, "Ann Lee", "+12025550200")
    bob = _contact(org, "Bob Ray", "+12025550201")
    theirs = _contact(other_org, "Their Secret Client", "+12025550209")
    # 01:30 UTC on Nov 3 is still Nov 2 in New York: the dates are the organization's.
    stop = _entry(
        ann,
        "opt_out",
        "keyword",
        datetime.datetime(2026, 11, 3, 1, 30, tzinfo=UTC),
        FORMULA,
        phone_number="+12025550200",
    )
    hand = _entry(
        bob,
        "opt_in",
        "manual",
        datetime.datetime(2026, 11, 3, 15, tzinfo=UTC),
        "Changed by admin@acme.test",
        actor="admin@acme.test",
    )
    imported = _entry(
        bob, "opt_out", "import", datetime.datetime(2026, 11, 4, 15, tzinfo=UTC), "Imported"
    )
    _entry(theirs, "opt_out", "keyword", datetime.datetime(2026, 11, 3, 15, tzinfo=UTC), "STOP")
    return {"stop": stop, "hand": hand, "imported": imported}


def test_the_page_lists_the_organizations_entries_newest_first(
    admin: Membership, ledger: dict[str, ConsentEvent]
) -> None:
    page = logged_in(admin).get(LEDGER)
    assert page.status_code == 200
    html = page.content.decode()
    assert _ids(html) == [ledger["imported"].pk, ledger["hand"].pk, ledger["stop"].pk]
    assert "Their Secret Client" not in html
    # Plain words, who, the time in the organization's zone, the text (escaped), the contact.
    assert "Opted out" in html and "Keyword text" in html and "Import" in html
    assert "The contact, from (202) 555-0200" in html and "admin@acme.test" in html
    assert '<time datetime="2026-11-02T20:30:00-05:00">Nov 2, 20:30</time>' in html
    assert "=HYPERLINK(&quot;http://evil.test&quot;" in html
    assert f'href="/contacts/{ledger["stop"].contact_id}/"' in html
    assert "America/New_York" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=opt_out", ["imported", "stop"]),
        ("source=manual", ["hand"]),
        # Both days included, in New York: Ann's STOP (Nov 2, 20:30 there) is not on Nov 3.
        ("from=2026-11-03&to=2026-11-03", ["hand"]),
        ("to=2026-11-02", ["stop"]),
        ("contact=bob", ["imported", "hand"]),
        ("contact=202-555-0200", ["stop"]),
        ("kind=opt_out&contact=Bob", ["imported"]),
        ("contact=Their+Secret", []),
    ],
)
def test_the_filters(
    admin: Membership, ledger: dict[str, ConsentEvent], query: str, expected: list[str]
) -> None:
    page = logged_in(admin).get(f"{LEDGER}?{query}")
    assert page.status_code == 200
    assert _ids(page.content.decode()) == [ledger[name].pk for name in expected]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=deleted", "Choose a kind from the list."),
        ("source=carrier-pigeon", "Choose a source from the list."),
        ("from=yesterday", "The From date must be a date such as 2026-12-31."),
        ("from=2026-11-04&to=2026-11-03", "The From date is after the To date."),
        ("contact=%00", "Null characters are not allowed."),
    ],
)
def test_filters_that_cannot_be_read_are_refused_saying_why(
    admin: Membership, ledger: dict[str, ConsentEvent], query: str, message: str
) -> None:
    client = logged_in(admin)
    page = client.get(f"{LEDGER}?{query}")
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html and _ids(html) == []
    assert "Export CSV" not in html  # nothing to export from filters that mean nothing
    export = client.get(f"{EXPORT}?{query}")
    assert export.status_code == 400 and message in export.content.decode()


@pytest.mark.parametrize("role", ["standard", "limited"])
def test_other_roles_may_not_read_the_organizations_ledger(
    request: pytest.FixtureRequest, ledger: dict[str, ConsentEvent], role: str
) -> None:
    client = logged_in(request.getfixturevalue(role))
    for url in (LEDGER, EXPORT):
        response = client.get(url)
        assert response.status_code == 403
        text = response.content.decode()
        assert "Only administrators can read the organization" in text
        assert "Ann Lee" not in text and "HYPERLINK" not in text
    # Nor is it offered to them.
    assert "Consent ledger" not in client.get("/settings/").content.decode()


def test_the_settings_index_offers_the_ledger_to_administrators(admin: Membership) -> None:
    html = logged_in(admin).get("/settings/").content.decode()
    assert 'href="/settings/consent-ledger/"' in html


def test_the_export_streams_the_filtered_entries_as_safe_csv(
    admin: Membership, ledger: dict[str, ConsentEvent]
) -> None:
    response = logged_in(admin).get(f"{EXPORT}?kind=opt_out")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="consent-ledger-\d{4}-\d{2}-\d{2}\.csv"',
        response["Content-Disposition"],
    )
    rows = _csv(response)
    assert rows[0] == [
        "When",
        "Kind",
        "Source",
        "Who",
        "Contact",
        "Contact number",
        "Text",
        "Entry",
    ]
    assert [row[7] for row in rows[1:]] == [str(ledger["imported"].pk), str(ledger["stop"].pk)]
    stop = rows[2]
    assert stop[:5] == [
        "2026-11-02T20:30:00-05:00",
        "Opted out",
        "Keyword text",
        "The contact, from (202) 555-0200",
        "Ann Lee",
    ]
    # The spreadsheet gets text, never a formula; the number starts with "+" and is kept as text.
    assert stop[6] == "'" + FORMULA
    assert stop[5] == "'+12025550200"


def test_the_export_without_filters_has_every_entry_of_the_organization_only(
    admin: Membership, ledger: dict[str, ConsentEvent]
) -> None:
    rows = _csv(logged_in(admin).get(EXPORT))
    assert len(rows) == 4
    assert all("Their Secret Client" not in cell for row in rows for cell in row)


def test_the_page_is_paged_with_its_filters_kept(admin: Membership, org: Organization) -> None:
    ann = _contact(org, "Ann Lee", "+12025550200")
    start = datetime.datetime(2026, 11, 2, 15, tzinfo=UTC)
    for n in range(ENTRIES_PER_PAGE + 2):
        _entry(ann, "opt_out", "keyword", start + datetime.timedelta(minutes=n), "STOP")
    client = logged_in(admin)
    first = client.get(f"{LEDGER}?kind=opt_out").content.decode()
    assert len(_ids(first)) == ENTRIES_PER_PAGE
    assert 'href="?kind=opt_out&amp;page=2"' in first
    second = client.get(f"{LEDGER}?kind=opt_out&page=2").content.decode()
    assert len(_ids(second)) == 2 and not set(_ids(first)) & set(_ids(second))


def test_the_contact_card_shows_its_consent_history_paged(
    standard: Membership, org: Organization
) -> None:
    ann = _contact(org, "Ann Lee", "+12025550200")
    bob = _contact(org, "Bob Ray", "+12025550201")
    _entry(bob, "opt_out", "keyword", datetime.datetime(2026, 11, 2, tzinfo=UTC), "Bob's STOP")
    start = datetime.datetime(2026, 11, 2, 15, tzinfo=UTC)
    made = [
        _entry(ann, "opt_out", "keyword", start + datetime.timedelta(minutes=n), f"STOP {n}")
        for n in range(CONTACT_ENTRIES_PER_PAGE + 1)
    ]
    client = logged_in(standard)  # the card is theirs to read, and so is its history
    card = client.get(f"/contacts/{ann.pk}/").content.decode()
    assert "Consent history" in card
    assert _ids(card) == [e.pk for e in reversed(made)][:CONTACT_ENTRIES_PER_PAGE]
    assert "Bob&#x27;s STOP" not in card
    assert f'hx-get="/contacts/{ann.pk}/consent/?page=2"' in card
    # The pager's page, in place (htmx) or as the whole card (without JavaScript).
    older = client.get(f"/contacts/{ann.pk}/consent/?page=2").content.decode()
    assert _ids(older) == [made[0].pk]
    assert 'id="consent-history"' in older and "<html" not in older
    assert _ids(client.get(f"/contacts/{ann.pk}/?consent_page=2").content.decode()) == [made[0].pk]


def test_a_limited_user_gets_no_contacts_consent_history(
    limited: Membership, org: Organization
) -> None:
    ann = _contact(org, "Ann Lee", "+12025550200")
    _entry(ann, "opt_out", "keyword", datetime.datetime(2026, 11, 2, tzinfo=UTC), "STOP")
    response = logged_in(limited).get(f"/contacts/{ann.pk}/consent/")
    assert response.status_code == 403 and _ids(response.content.decode()) == []


def test_the_ledger_has_no_way_to_change_an_entry(
    admin: Membership, ledger: dict[str, ConsentEvent]
) -> None:
    client: Client = logged_in(admin)
    before = list(ConsentEvent.objects.values().order_by("pk"))
    for url in (LEDGER, EXPORT, f"/contacts/{ledger['stop'].contact_id}/consent/"):
        assert client.post(url, {"text": "changed"}).status_code == 405
    assert list(ConsentEvent.objects.values().order_by("pk")) == before
