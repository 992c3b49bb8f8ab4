"""Reading the consent ledger: a contact's entries, the organization's filtered, the export's
batches, who caused each entry; and the writers saying who did it."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from twoway.accounts.models import Membership, Organization
from twoway.compliance import selectors
from twoway.compliance.access import access_consent_ledger
from twoway.compliance.models import ConsentEvent, ConsentEventKind, ConsentSource
from twoway.compliance.selectors import (
    LedgerFilters,
    consent_csv_row,
    consent_event_who,
    consent_events_filtered,
    consent_events_in_batches,
    consent_events_of_contact,
)
from twoway.compliance.services import consent_record
from twoway.contacts.lookup import contact_ids_matching
from twoway.contacts.models import Contact, ContactPhone
from twoway.contacts.services import ContactChanges, contact_review_opt_out, contact_update
from twoway.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def _contact(org: Organization, name: str, number: str) -> Contact:
    contact = Contact.objects.create(organization=org, name=name)
    ContactPhone.objects.create(organization=org, contact=contact, number=number)
    return contact


def _entry(
    contact: Contact, kind: str, source: str, at: datetime.datetime, text: str = ""
) -> ConsentEvent:
    entry = consent_record(
        organization_id=contact.organization_id,
        contact_id=contact.pk,
        kind=ConsentEventKind(kind),
        source=source,
        text=text,
    )
    # `created_at` is set by the database clock; the tests place entries in time.
    ConsentEvent.objects.filter(pk=entry.pk).update(created_at=at)
    entry.refresh_from_db()
    return entry


def test_a_contacts_entries_newest_first_and_only_theirs(
    org: Organization, other_org: Organization
) -> None:
    ann = _contact(org, "Ann Lee", "+12025550200")
    bob = _contact(org, "Bob Ray", "+12025550201")
    stranger = _contact(other_org, "Ann Lee", "+12025550200")
    at = datetime.datetime(2026, 11, 2, 9, tzinfo=UTC)
    first = _entry(ann, "opt_out", "keyword", at, "STOP")
    second = _entry(ann, "opt_in", "keyword", at + datetime.timedelta(hours=1), "START")
    tie = _entry(ann, "opt_out", "manual", at + datetime.timedelta(hours=1))
    _entry(bob, "opt_out", "keyword", at)
    _entry(stranger, "opt_out", "keyword", at)
    assert list(consent_events_of_contact(org.pk, ann.pk)) == [tie, second, first]
    assert list(consent_events_of_contact(other_org.pk, ann.pk)) == []


def test_the_filters_each_narrow_and_combine(org: Organization, other_org: Organization) -> None:
    ann = _contact(org, "Ann Lee", "+12025550200")
    bob = _contact(org, "Bob Ray", "+12025550201")
    theirs = _contact(other_org, "Ann Lee", "+12025550202")
    day = datetime.datetime(2026, 11, 2, 12, tzinfo=UTC)
    stop = _entry(ann, "opt_out", "keyword", day, "STOP")
    hand = _entry(bob, "opt_in", "manual", day + datetime.timedelta(days=1))
    imported = _entry(bob, "opt_out", "import", day + datetime.timedelta(days=2))
    _entry(theirs, "opt_out", "keyword", day)
    entries = ConsentEvent.objects.filter(organization=org)

    def found(**given: object) -> list[ConsentEvent]:
        return list(consent_events_filtered(entries, LedgerFilters(**given)))  # type: ignore[arg-type]

    assert found() == [imported, hand, stop]
    assert found(kind="opt_out") == [imported, stop]
    assert found(source="manual") == [hand]
    assert found(since=day + datetime.timedelta(days=1)) == [imported, hand]
    assert found(until=day + datetime.timedelta(days=1)) == [stop]
    assert found(contact_id=bob.pk) == [imported, hand]
    assert found(kind="opt_out", source="import", contact_id=bob.pk) == [imported]
    # The contacts table's search: a part of the name, or the number typed any way.
    assert found(contact_ids=contact_ids_matching(org.pk, "ann")) == [stop]
    assert found(contact_ids=contact_ids_matching(org.pk, "(202) 555-0201")) == [imported, hand]
    assert found(contact_ids=contact_ids_matching(org.pk, "nobody")) == []


def test_the_organization_ledger_is_for_administrators(
    admin: Membership, standard: Membership, limited: Membership
) -> None:
    assert access_consent_ledger(admin).query is not None
    for member in (standard, limited):
        with pytest.raises(PermissionDenied) as refused:
            access_consent_ledger(member)
        assert "administrators" in refused.value.message


def test_batches_cover_every_entry_once_even_with_equal_times(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "EXPORT_BATCH", 3)
    ann = _contact(org, "Ann Lee", "+12025550200")
    at = datetime.datetime(2026, 11, 2, 9, tzinfo=UTC)
    # Seven entries, four of them recorded in the same microsecond.
    made = [_entry(ann, "opt_out", "keyword", at) for _ in range(4)]
    made += [
        _entry(ann, "opt_in", "keyword", at - datetime.timedelta(minutes=n)) for n in (1, 2, 3)
    ]
    entries = consent_events_filtered(
        ConsentEvent.objects.filter(organization=org), LedgerFilters()
    )
    batches = list(consent_events_in_batches(entries))
    assert [len(b) for b in batches] == [3, 3, 1]
    flat = [e.pk for b in batches for e in b]
    assert flat == [e.pk for e in entries] and sorted(flat) == sorted(e.pk for e in made)


def test_who_caused_an_entry(org: Organization) -> None:
    ann = _contact(org, "Ann Lee", "+12025550200")
    keyword = consent_record(
        organization_id=org.pk,
        contact_id=ann.pk,
        kind=ConsentEventKind.OPT_OUT,
        source="keyword",
        text="STOP",
        phone_number="+12025550200",
    )
    consent = consent_record(
        organization_id=org.pk,
        contact_id=ann.pk,
        kind=ConsentEventKind.CONSENT_SENT,
        source="message",
    )
    by_hand = consent_record(
        organization_id=org.pk,
        contact_id=ann.pk,
        kind=ConsentEventKind.OPT_IN,
        source="manual",
        actor="admin@acme.test",
    )
    assert consent_event_who(keyword) == "The contact, from (202) 555-0200"
    assert consent_event_who(consent) == "Twoway (automatic)"
    assert consent_event_who(by_hand) == "admin@acme.test"


def test_the_card_and_the_api_record_who_changed_the_opt_in(
    org: Organization, admin: Membership
) -> None:
    ann = _contact(org, "Ann Lee", "+12025550200")
    contact_update(contact=ann, changed_by=admin, changes=ContactChanges(opted_out=True))
    contact_update(
        contact=ann, changed_by=admin, changes=ContactChanges(opted_out=False), source="api"
    )
    entries = list(consent_events_of_contact(org.pk, ann.pk).values_list("source", "actor"))
    assert entries == [("api", "admin@acme.test"), ("manual", "admin@acme.test")]


def test_a_decided_possible_opt_out_records_who_decided(
    org: Organization, admin: Membership
) -> None:
    ann = _contact(org, "Ann Lee", "+12025550200")
    Contact.objects.filter(pk=ann.pk).update(opt_out_flagged_at=datetime.datetime.now(UTC))
    ann.refresh_from_db()
    assert contact_review_opt_out(contact=ann, confirmed=False, by=admin)
    entry = consent_events_of_contact(org.pk, ann.pk).get()
    assert (entry.kind, entry.source, entry.actor) == (
        "flag_dismissed",
        "manual",
        "admin@acme.test",
    )


def test_a_csv_row_is_in_the_organizations_zone(org: Organization) -> None:
    ann = _contact(org, "Ann Lee", "+12025550200")
    entry = _entry(
        ann, "opt_out", "keyword", datetime.datetime(2026, 11, 2, 14, 5, tzinfo=UTC), "STOP"
    )
    entry = ConsentEvent.objects.select_related("contact").get(pk=entry.pk)
    row = consent_csv_row(entry, zoneinfo.ZoneInfo("America/Chicago"))
    assert row[:3] == ["2026-11-02T08:05:00-06:00", "Opted out", ConsentSource.KEYWORD.label]
    assert row[4] == "Ann Lee" and row[6] == "STOP" and row[7] == str(entry.pk)
