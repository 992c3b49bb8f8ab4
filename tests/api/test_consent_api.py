"""GET /api/v1/consent: the consent ledger for a key, with its owner's rights and the web
page's filters, paged like the other lists."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from tests.conftest import make_member
from twoway.accounts.models import ApiKey, Membership, Organization, Role
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.compliance.services import consent_record
from twoway.contacts.models import Contact, ContactPhone

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def _client(owner: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=owner, name='CRM')[1]}")


def _contact(org: Organization, name: str, number: str) -> Contact:
    contact = Contact.objects.create(organization=org, name=name)
    ContactPhone.objects.create(organization=org, contact=contact, number=number)
    return contact


def _entry(contact: Contact, kind: str, source: str, at: datetime.datetime, **more: str) -> int:
    entry = consent_record(
        organization_id=contact.organization_id,
        contact_id=contact.pk,
        kind=ConsentEventKind(kind),
        source=source,
        **more,  # type: ignore[arg-type]
    )
    ConsentEvent.objects.filter(pk=entry.pk).update(created_at=at)
    return entry.pk


@pytest.fixture
def entries(org: Organization, other_org: Organization) -> dict[str, int]:
    ann = _contact(org, "Ann Lee", "+12025550200")
    bob = _contact(org, "Bob Ray", "+12025550201")
    theirs = _contact(other_org, "Their Client", "+12025550209")
    day = datetime.datetime(2026, 11, 2, 15, tzinfo=UTC)
    return {
        "stop": _entry(ann, "opt_out", "keyword", day, text="STOP", phone_number="+12025550200"),
        "hand": _entry(bob, "opt_in", "manual", day + datetime.timedelta(days=1), actor="a@x.test"),
        "theirs": _entry(theirs, "opt_out", "keyword", day, text="STOP"),
        "ann": ann.pk,
        "bob": bob.pk,
        "their_contact": theirs.pk,
    }


def test_an_administrators_key_reads_the_organizations_ledger(
    admin: Membership, entries: dict[str, int]
) -> None:
    body = _client(admin).get("/api/v1/consent").json()
    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [entries["hand"], entries["stop"]]
    stop = body["items"][1]
    assert stop == {
        "id": entries["stop"],
        "kind": "opt_out",
        "source": "keyword",
        "who": "The contact, from (202) 555-0200",
        "text": "STOP",
        "phone_number": "+12025550200",
        "contact_id": entries["ann"],
        "contact_name": "Ann Lee",
        "message_id": None,
        "created_at": "2026-11-02T15:00:00Z",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=opt_in", ["hand"]),
        ("source=keyword", ["stop"]),
        ("since=2026-11-03T00:00:00Z", ["hand"]),
        ("until=2026-11-03T00:00:00-05:00", ["stop"]),
        ("contact=ann", ["stop"]),
        ("contact=2025550201", ["hand"]),
        ("limit=1&offset=1", ["stop"]),
    ],
)
def test_the_filters_and_pages(
    admin: Membership, entries: dict[str, int], query: str, expected: list[str]
) -> None:
    body = _client(admin).get(f"/api/v1/consent?{query}").json()
    assert [item["id"] for item in body["items"]] == [entries[name] for name in expected]


def test_a_standard_key_reads_one_contact_it_may_open_not_the_whole_ledger(
    standard: Membership, entries: dict[str, int]
) -> None:
    client = _client(standard)
    refused = client.get("/api/v1/consent")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "admin_only"
    body = client.get(f"/api/v1/consent?contact_id={entries['bob']}").json()
    assert [item["id"] for item in body["items"]] == [entries["hand"]]


def test_a_limited_key_reads_no_contacts_ledger(org: Organization, entries: dict[str, int]) -> None:
    client = _client(make_member(org, "lim@acme.test", Role.LIMITED))
    assert client.get(f"/api/v1/consent?contact_id={entries['ann']}").status_code == 403


def test_another_organizations_contact_is_not_found(
    admin: Membership, entries: dict[str, int]
) -> None:
    client = _client(admin)
    theirs = client.get(f"/api/v1/consent?contact_id={entries['their_contact']}")
    nowhere = client.get("/api/v1/consent?contact_id=999999")
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json() == nowhere.json()
    listed = client.get("/api/v1/consent?contact=Their").json()
    assert listed["items"] == []


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("kind=deleted", 422),
        ("since=yesterday", 422),
        ("contact_id=0", 422),
        ("since=2026-11-04T00:00:00Z&until=2026-11-03T00:00:00Z", 400),
    ],
)
def test_bad_filters_are_refused(
    admin: Membership, entries: dict[str, int], query: str, status: int
) -> None:
    assert _client(admin).get(f"/api/v1/consent?{query}").status_code == status
