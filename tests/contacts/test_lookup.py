"""The contacts table's search, filters, sort and pages (contacts.lookup), on the real database."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from twoway.accounts.models import Membership, Organization
from twoway.contacts import lookup
from twoway.contacts.lookup import ContactCursor, ContactFilters, contact_suggestions, contacts_page
from twoway.contacts.lookup_plan import matches_are_few
from twoway.contacts.models import (
    Contact,
    ContactGroup,
    ContactPhone,
    CreatedFrom,
    OptInStatus,
)
from twoway.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


def _contact(org: Organization, name: str, *numbers: str, **fields: object) -> Contact:
    contact = Contact.objects.create(organization=org, name=name, **fields)
    for number in numbers:
        ContactPhone.objects.create(organization=org, contact=contact, number=number)
    return contact


def _names(member: Membership, **filters: object) -> list[str]:
    page = contacts_page(member, ContactFilters(**filters))  # type: ignore[arg-type]
    return [c.name for c in page.contacts]


@pytest.fixture
def book(org: Organization, other_org: Organization) -> dict[str, Contact]:
    vip = ContactGroup.objects.create(organization=org, name="VIP")
    dana = _contact(
        org,
        "Dana Whitfield",
        "+14155550166",
        "+13125550199",
        email="dana@example.com",
        external_uid="UID-77",
        client_id="C-1042",
        client_type="Member",
        home_location="Uptown",
    )
    dana.groups.add(vip)
    lee = _contact(
        org,
        "Lee Ortiz",
        "+442079460958",
        client_type="Guest",
        home_location="Uptown",
        opt_in_status=OptInStatus.OPTED_OUT,
    )
    lead = _contact(org, "", "+12025550147", created_from=CreatedFrom.INBOUND)
    nophone = _contact(org, "Sam No-Phone", client_type="Member")
    _contact(other_org, "Dana Elsewhere", "+14155550177", email="dana@other.test")
    return {"dana": dana, "lee": lee, "lead": lead, "nophone": nophone}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("whitf", ["Dana Whitfield"]),  # a part of the name, any case
        ("DANA@EXAMPLE", ["Dana Whitfield"]),  # e-mail
        ("uid-77", ["Dana Whitfield"]),  # external UID
        ("C-1042", ["Dana Whitfield"]),  # client ID
        ("(312) 555-0199", ["Dana Whitfield"]),  # the second number, typed nationally
        ("555 0166", ["Dana Whitfield"]),  # any part of a number
        ("+1 415 555 0166", ["Dana Whitfield"]),
        ("+44 20 7946 0958", ["Lee Ortiz"]),
        ("2025550147", [""]),  # an unnamed lead, by its number
        ("dana", ["Dana Whitfield"]),  # never another organization's Dana
        ("nobody", []),
    ],
)
def test_search_by_each_kind(
    book: dict[str, Contact], standard: Membership, query: str, expected: list[str]
) -> None:
    assert _names(standard, query=query) == expected


def test_filters_alone_and_combined(book: dict[str, Contact], standard: Membership) -> None:
    vip = ContactGroup.objects.get(name="VIP")
    assert _names(standard, client_type="Member") == ["Dana Whitfield", "Sam No-Phone"]
    assert _names(standard, group=vip.pk) == ["Dana Whitfield"]
    assert _names(standard, home_location="Uptown") == ["Dana Whitfield", "Lee Ortiz"]
    assert _names(standard, opted_out=True) == ["Lee Ortiz"]
    assert _names(standard, lead=True) == [""]
    assert _names(standard, home_location="Uptown", client_type="Guest") == ["Lee Ortiz"]
    assert _names(standard, query="7946", home_location="Uptown", opted_out=True) == ["Lee Ortiz"]
    assert _names(standard, query="sam", client_type="Member") == ["Sam No-Phone"]
    assert _names(standard, query="dana", client_type="Guest") == []


def test_sorts_both_ways_with_unnamed_last(book: dict[str, Contact], standard: Membership) -> None:
    assert _names(standard) == ["Dana Whitfield", "Lee Ortiz", "Sam No-Phone", ""]
    assert _names(standard, sort="-name") == ["Sam No-Phone", "Lee Ortiz", "Dana Whitfield", ""]
    assert _names(standard, sort="created") == ["Dana Whitfield", "Lee Ortiz", "", "Sam No-Phone"]
    assert _names(standard, sort="-created") == ["Sam No-Phone", "", "Lee Ortiz", "Dana Whitfield"]


def _many(org: Organization) -> None:
    """Names and last activities that repeat (ties broken by id), some empty."""
    at = timezone.now()
    for n in range(23):
        Contact.objects.create(
            organization=org,
            name=["Ann", "Bo", "", "Cy"][n % 4] + str(n % 3),
            email=f"c{n}@example.com" if n % 7 else "",
            last_activity_at=None if n % 5 == 0 else at - datetime.timedelta(minutes=n % 4),
        )


@pytest.mark.parametrize("sort", ["name", "-name", "created", "-created", "-activity"])
def test_pages_show_every_contact_once(org: Organization, standard: Membership, sort: str) -> None:
    _many(org)
    filters = ContactFilters(sort=sort)
    seen: list[int] = []
    after = ""
    for _ in range(10):
        page = contacts_page(standard, filters, after=after, size=4)
        seen += [c.pk for c in page.contacts]
        after = page.next_cursor
        if not after:
            break
    everyone = list(Contact.objects.filter(organization=org).values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == set(everyone)
    whole = [c.pk for c in contacts_page(standard, filters, size=100).contacts]
    assert seen == whole  # the pages, one after another, are the table in order


def test_recent_activity_first_then_those_never_texted(
    book: dict[str, Contact], standard: Membership
) -> None:
    at = timezone.now()
    Contact.objects.filter(pk=book["lee"].pk).update(last_activity_at=at)
    Contact.objects.filter(pk=book["dana"].pk).update(last_activity_at=at - datetime.timedelta(1))
    # Never texted: newest first.
    assert _names(standard, sort="-activity") == ["Lee Ortiz", "Dana Whitfield", "Sam No-Phone", ""]


@pytest.mark.parametrize("sort", ["name", "-name", "created", "-created", "-activity"])
def test_matches_read_whole_and_sorted_page_as_a_walk_does(
    org: Organization, standard: Membership, sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL reads a search's few matches and sorts them; the pages must not change.
    _many(org)
    filters = ContactFilters(query="example", sort=sort)

    def pages(few: bool) -> list[list[int]]:
        monkeypatch.setattr(lookup, "matches_are_few", lambda *args: few)
        found, after = [], ""
        while True:
            page = contacts_page(standard, filters, after=after, size=4)
            found.append([c.pk for c in page.contacts])
            after = page.next_cursor
            if not after:
                return found

    walked = pages(False)
    assert sum(len(page) for page in walked) == 19  # those with an e-mail, named or not
    assert pages(True) == walked


def test_suggestions_read_whole_and_sorted_are_those_walked(
    book: dict[str, Contact], standard: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(12):
        _contact(book["dana"].organization, f"Dana {n}")
    monkeypatch.setattr(lookup, "matches_are_few", lambda *args: False)
    walked = [c.pk for c in contact_suggestions(standard, "dana")]
    monkeypatch.setattr(lookup, "matches_are_few", lambda *args: True)
    assert [c.pk for c in contact_suggestions(standard, "dana")] == walked
    assert len(walked) == 8


def test_only_postgresql_reads_matches_whole(book: dict[str, Contact]) -> None:
    rare = Contact.objects.filter(name="Lee Ortiz")
    assert matches_are_few(rare) == (connection.vendor == "postgresql")


def test_a_bad_cursor_is_refused(standard: Membership) -> None:
    with pytest.raises(InvalidInput):
        contacts_page(standard, ContactFilters(), after="not-a-cursor")
    with pytest.raises(InvalidInput):
        contacts_page(
            standard, ContactFilters(sort="created"), after=str(ContactCursor(True, "x", 1))
        )


def test_filters_read_from_a_query_string_and_back() -> None:
    params = {"q": " dana ", "group": "7", "opted_out": "1", "sort": "-created", "lead": "0"}
    filters = ContactFilters.from_params(params)
    assert filters == ContactFilters(query="dana", group=7, opted_out=True, sort="-created")
    assert filters.as_params() == {"q": "dana", "group": "7", "opted_out": "1", "sort": "-created"}
    odd = ContactFilters.from_params({"group": "²", "sort": "bogus"})
    assert (odd.group, odd.sort) == (None, "name")


def test_suggestions_find_by_email_and_stay_in_the_organization(
    book: dict[str, Contact], standard: Membership
) -> None:
    assert [c.name for c in contact_suggestions(standard, "dana@")] == ["Dana Whitfield"]
    assert contact_suggestions(standard, "   ") == []
    assert contact_suggestions(standard, "other.test") == []


def test_a_national_number_with_a_trunk_zero_is_found_in_e164(
    other_org: Organization,
) -> None:
    from tests.conftest import make_member

    other_org.country = "GB"
    other_org.save()
    member = make_member(other_org, "uk@other.test")
    _contact(other_org, "Lee London", "+442079460958")
    assert _names(member, query="020 7946 0958") == ["Lee London"]


def test_suggestions_are_the_newest_matches_by_name(
    org: Organization, standard: Membership
) -> None:
    made = [Contact.objects.create(organization=org, name=f"Sam {n:02}") for n in range(10, 0, -1)]
    Contact.objects.create(organization=org, name="Other")
    found = contact_suggestions(standard, "sam")
    assert [c.name for c in found] == sorted(c.name for c in made[2:])


# ---- SQLite's trigram tables ----------------------------------------------------------------

sqlite_only = pytest.mark.skipif(
    "connection.vendor != 'sqlite'",
    reason="only SQLite keeps trigram tables by triggers; PostgreSQL's indexes are its own",
)

_QUERIES = [
    "whitf", "DANA@EXAMPLE", "uid-77", "C-1042", "(312) 555-0199", "555 0166", "+44 20 7946 0958",
    "a W", "a\"b", "50", "Da", "%", "_e", "nobody", "ortiz", "2025550147",
]  # fmt: skip


@sqlite_only
@pytest.mark.parametrize("query", _QUERIES)
def test_the_trigram_tables_find_what_a_scan_finds(
    book: dict[str, Contact], standard: Membership, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexed = _names(standard, query=query)
    monkeypatch.setattr(lookup, "sqlite_text_matches", lambda *args: None)
    assert indexed == _names(standard, query=query)


@sqlite_only
def test_a_search_of_three_characters_or_more_reads_the_trigram_tables(
    standard: Membership,
) -> None:
    sql = lambda q: str(lookup.contacts_filtered(standard, ContactFilters(query=q)).query)  # noqa: E731
    assert "contacts_contact_trigram" in sql("whi")
    assert "contacts_contactphone_trigram" in sql("555 01")
    assert "trigram" not in sql("wh")  # too short for a trigram: a scan


@sqlite_only
def test_the_trigram_tables_follow_edits_deletes_and_new_numbers(
    book: dict[str, Contact], standard: Membership
) -> None:
    dana = book["dana"]
    dana.email = "whitfield@clinic.test"
    dana.save(update_fields=["email"])
    assert _names(standard, query="dana@example") == []
    assert _names(standard, query="@clinic") == ["Dana Whitfield"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT searched FROM contacts_contact_trigram WHERE rowid = %s", [dana.pk])
        assert cursor.fetchone()[0] == "Dana Whitfield whitfield@clinic.test UID-77 C-1042"
    ContactPhone.objects.create(organization=dana.organization, contact=dana, number="+16175550111")
    assert _names(standard, query="617 555") == ["Dana Whitfield"]
    ContactPhone.objects.filter(number="+16175550111").update(contact=book["nophone"])
    assert _names(standard, query="617 555") == ["Sam No-Phone"]
    book["nophone"].delete()
    assert _names(standard, query="617 555") == []
    assert _names(standard, query="no-phone") == []


@sqlite_only
def test_trigram_triggers_dropped_by_a_table_rebuild_come_back(
    book: dict[str, Contact], standard: Membership
) -> None:
    from twoway.contacts.lookup_index import lookup_triggers_ensure

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER contacts_contact_trigram_ai")
    _contact(book["dana"].organization, "Quentin Blake")  # written while the trigger is missing
    assert lookup_triggers_ensure(connection) is True
    assert _names(standard, query="quentin") == ["Quentin Blake"]
    assert lookup_triggers_ensure(connection) is False
