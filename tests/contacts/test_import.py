"""Importing contacts from CSV: reading every file people bring, matching columns, merging by
phone, skipping bad rows with their reasons, the consent ledger, and importing twice."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from twoway.accounts.models import Membership, Organization
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.contacts.imports import (
    contact_import_create,
    contact_import_preview,
    contact_import_run,
    contact_import_start,
)
from twoway.contacts.models import (
    Contact,
    ContactGroup,
    ContactImport,
    ContactImportStatus,
    ContactPhone,
    CreatedFrom,
    CustomField,
    CustomFieldValue,
    OptInStatus,
)
from twoway.core.errors import InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _files(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "files")
    return tmp_path / "files"


def upload(by: Membership, data: bytes | str, name: str = "clients.csv") -> ContactImport:
    raw = data.encode() if isinstance(data, str) else data
    return contact_import_create(
        membership=by, file_name=name, content=io.BytesIO(raw), size=len(raw)
    )


def run(by: Membership, data: bytes | str, mapping: list[str] | None = None) -> ContactImport:
    started = upload(by, data)
    contact_import_start(
        membership=by,
        contact_import=started,
        mapping=started.mapping if mapping is None else mapping,
        background=False,
    )
    return contact_import_run(started.pk)


def refused(by: Membership, data: bytes | str) -> str:
    with pytest.raises(InvalidInput) as refusal:
        upload(by, data)
    return refusal.value.message


def problems(done: ContactImport) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in done.problems.order_by("row", "pk")]


def phones_of(org: Organization) -> dict[str, str]:
    return dict(
        ContactPhone.objects.filter(organization=org).values_list("number", "contact__name")
    )


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


SIMPLE = (
    "First Name,Last Name,Phone,E-mail\n"
    "Dana,Whitfield,415-555-0101,dana@example.com\n"
    "Lee,Park,(415) 555-0102,\n"
)


def test_the_columns_are_guessed_from_their_names(org: Organization, admin: Membership) -> None:
    field = CustomField.objects.create(organization=org, name="Birthday", kind="date")
    started = upload(
        admin,
        "First Name,Surname,Mobile,Cell,Work Phone,E-mail,Client ID,Group(s),Opted out,"
        "birthday,Notes\n1,2,3,4,5,6,7,8,9,10,11\n",
    )
    assert started.mapping == [
        "first_name",
        "last_name",
        "phone:mobile",
        "phone:mobile",
        "phone:work",
        "email",
        "client_id",
        "groups",
        "opted_out",
        f"custom:{field.pk}",
        "",
    ]
    assert started.status == ContactImportStatus.MAPPING
    assert contact_import_preview(started) == [[str(n) for n in range(1, 12)]]


def test_a_whole_name_beside_first_and_last_names_is_left_out(admin: Membership) -> None:
    started = upload(admin, "Name,First name,Last name,Phone\nDana W,Dana,Whitfield,4155550101\n")
    assert started.mapping == ["", "first_name", "last_name", "phone"]


def test_rows_become_contacts_created_from_import(org: Organization, admin: Membership) -> None:
    done = run(admin, SIMPLE)

    assert done.status == ContactImportStatus.DONE
    assert (done.rows_done, done.created, done.skipped) == (2, 2, 0)
    dana = Contact.objects.get(organization=org, first_name="Dana")
    assert (dana.name, dana.email) == ("Dana Whitfield", "dana@example.com")
    assert dana.created_from == CreatedFrom.IMPORT
    phone = dana.phones.get()
    assert (phone.number, phone.is_primary) == ("+14155550101", True)
    assert phones_of(org)["+14155550102"] == "Lee Park"


def test_the_file_is_kept_only_until_the_import_is_done(admin: Membership, _files: Path) -> None:
    started = upload(admin, SIMPLE)
    assert default_storage.exists(started.stored_name)
    assert len(stored_files(_files)) == 1
    contact_import_start(
        membership=admin, contact_import=started, mapping=started.mapping, background=False
    )
    done = contact_import_run(started.pk)
    assert done.stored_name == ""
    assert stored_files(_files) == []


def test_numbers_in_every_format_and_junk(org: Organization, admin: Membership) -> None:
    done = run(
        admin,
        "Name,Phone\n"
        "A One,4155550111\n"
        "B Two,+1 (415) 555-0112\n"
        "C Three,1-415-555-0113\n"
        "D Four,415.555.0114\n"
        "E Five,+44 20 7946 0958\n"
        "F Six,call me\n"
        "G Seven,555\n"
        "H Eight,415-555-0118 ext. 12\n"
        "I Nine,\n",
    )
    numbers = set(phones_of(org))
    assert numbers == {
        "+14155550111",
        "+14155550112",
        "+14155550113",
        "+14155550114",
        "+442079460958",
    }
    found = problems(done)
    assert [(row, column) for row, column, _ in found] == [
        (7, "Phone"),
        (8, "Phone"),
        (9, "Phone"),
        (10, "Phone"),
    ]
    assert "not a phone number" in found[0][2] or "not a valid phone number" in found[0][2]
    assert "extension" in found[2][2]
    assert "no phone number" in found[3][2]
    assert (done.created, done.skipped) == (5, 4)


def test_numbers_are_read_in_the_organizations_country(
    admin: Membership, org: Organization
) -> None:
    org.country = "GB"
    org.save()
    run(admin, "Name,Phone\nAda,020 7946 0958\n")
    assert set(phones_of(org)) == {"+442079460958"}


def test_duplicates_in_the_file_and_against_stored_contacts_are_merged_by_phone(
    org: Organization, admin: Membership
) -> None:
    stored = Contact.objects.create(
        organization=org, name="Known Client", first_name="Known", last_name="Client"
    )
    ContactPhone.objects.create(organization=org, contact=stored, number="+14155550150")
    done = run(
        admin,
        "Name,Phone,Mobile,E-mail\n"
        "Dana Whitfield,4155550101,,\n"
        "Someone Else,415-555-0101,4155550199,dana@example.com\n"
        "Renamed Client,(415) 555-0150,,known@example.com\n",
    )

    assert (done.created, done.updated, done.unchanged, done.skipped) == (1, 2, 0, 0)
    dana = Contact.objects.get(organization=org, phones__number="+14155550101")
    # The first row named her; the second added what she lacked (a number, an e-mail).
    assert (dana.name, dana.email) == ("Dana Whitfield", "dana@example.com")
    assert sorted(dana.phones.values_list("number", "is_primary")) == [
        ("+14155550101", True),
        ("+14155550199", False),
    ]
    stored.refresh_from_db()
    assert (stored.name, stored.email) == ("Known Client", "known@example.com")
    assert Contact.objects.filter(organization=org).count() == 2


def test_a_row_with_two_contacts_numbers_is_skipped(org: Organization, admin: Membership) -> None:
    done = run(
        admin,
        "Name,Phone,Mobile\nAnn,4155550101,\nBen,4155550102,\nBoth,4155550101,4155550102\n",
    )
    assert (done.created, done.skipped) == (2, 1)
    ((row, _, reason),) = problems(done)
    assert row == 4 and "two different contacts" in reason and "Ann" in reason
    assert Contact.objects.filter(organization=org).count() == 2


def test_importing_the_same_file_again_changes_nothing(
    org: Organization, admin: Membership
) -> None:
    group = ContactGroup.objects.create(organization=org, name="VIP")
    field = CustomField.objects.create(organization=org, name="Visits", kind="number")
    data = (
        "First name;Last name;Phone;Groups;Visits;Opted out\n"
        "Dana;Whitfield;4155550101;vip;3;no\n"
        "Lee;Park;4155550102;;;yes\n"
        "Lee;Park;4155550102;VIP;4;yes\n"
        "Bad;Row;nope;;;\n"
    )
    first = run(admin, data)
    assert (first.created, first.updated, first.skipped, first.opted_out) == (2, 1, 1, 1)

    def snapshot() -> Any:
        return (
            sorted(
                Contact.objects.filter(organization=org).values_list(
                    "pk", "name", "first_name", "last_name", "email", "opt_in_status"
                )
            ),
            sorted(
                ContactPhone.objects.filter(organization=org).values_list(
                    "contact_id", "number", "label", "is_primary"
                )
            ),
            sorted(group.contacts.values_list("pk", flat=True)),
            sorted(CustomFieldValue.objects.filter(field=field).values_list("contact_id", "value")),
            ConsentEvent.objects.filter(organization=org).count(),
        )

    before = snapshot()
    again = run(admin, data)
    assert snapshot() == before
    assert (again.created, again.updated, again.unchanged, again.skipped) == (0, 0, 3, 1)
    assert again.opted_out == 0
    assert sorted(CustomFieldValue.objects.values_list("value", flat=True)) == ["3", "4"]


def test_an_opted_out_column_is_honoured_and_recorded_in_the_ledger(
    org: Organization, admin: Membership
) -> None:
    stored = Contact.objects.create(organization=org, name="Known")
    ContactPhone.objects.create(organization=org, contact=stored, number="+14155550150")
    data = (
        "Name,Phone,Unsubscribed\n"
        "Yes One,4155550101,yes\n"
        "True Two,4155550102,TRUE\n"
        "One Three,4155550103,1\n"
        "No Four,4155550104,no\n"
        "Zero Five,4155550105,0\n"
        "False Six,4155550106,false\n"
        "Empty Seven,4155550107,\n"
        "Known,4155550150,y\n"
        "Maybe Eight,4155550108,maybe\n"
    )
    done = run(admin, data)

    out = set(
        Contact.objects.filter(organization=org, opt_in_status=OptInStatus.OPTED_OUT).values_list(
            "name", flat=True
        )
    )
    assert out == {"Yes One", "True Two", "One Three", "Known"}
    events = ConsentEvent.objects.filter(organization=org)
    assert events.count() == 4
    assert set(events.values_list("kind", "source")) == {(ConsentEventKind.OPT_OUT, "import")}
    known = events.get(contact=stored)
    assert known.phone_number == "+14155550150"
    assert known.text == f"Imported from clients.csv by {admin.user.email}"
    ((row, column, reason),) = problems(done)
    assert (row, column) == (10, "Unsubscribed") and "neither yes nor no" in reason


def test_no_in_the_file_never_opts_a_contact_back_in(org: Organization, admin: Membership) -> None:
    stored = Contact.objects.create(
        organization=org, name="Stopped", opt_in_status=OptInStatus.OPTED_OUT
    )
    ContactPhone.objects.create(organization=org, contact=stored, number="+14155550150")
    run(admin, "Name,Phone,Opted out\nStopped,4155550150,no\n")
    stored.refresh_from_db()
    assert stored.is_opted_out
    assert not ConsentEvent.objects.exists()


def test_groups_and_custom_fields_are_checked_like_the_card(
    org: Organization, admin: Membership
) -> None:
    ContactGroup.objects.create(organization=org, name="VIP")
    ContactGroup.objects.create(organization=org, name="Walk-in")
    CustomField.objects.create(organization=org, name="Visits", kind="number")
    CustomField.objects.create(
        organization=org, name="Tier", kind="choice", options=["Gold", "Silver"]
    )
    done = run(
        admin,
        "Phone,Groups,Visits,Tier,E-mail,Time zone\n"
        "4155550101,VIP; walk-in,12,gold,a@example.com,America/Chicago\n"
        "4155550102,Nobody,,,,\n"
        "4155550103,,lots,,,\n"
        "4155550104,,,Bronze,,\n"
        "4155550105,,,,not-an-email,Mars/Olympus\n",
    )
    first = Contact.objects.get(phones__number="+14155550101")
    assert sorted(first.groups.values_list("name", flat=True)) == ["VIP", "Walk-in"]
    assert sorted(first.custom_values.values_list("field__name", "value")) == [
        ("Tier", "Gold"),
        ("Visits", "12"),
    ]
    assert first.time_zone == "America/Chicago"
    found = problems(done)
    assert [(row, column) for row, column, _ in found] == [
        (3, "Groups"),
        (4, "Visits"),
        (5, "Tier"),
        (6, "E-mail"),
        (6, "Time zone"),
    ]
    assert "no group “Nobody”" in found[0][2]
    assert done.skipped == 4 and done.created == 1


def test_names_with_html_are_kept_as_text(org: Organization, admin: Membership) -> None:
    run(admin, 'Name,Phone\n"<script>alert(1)</script> <b>Bold</b>",4155550101\n')
    assert Contact.objects.get().name == "<script>alert(1)</script> <b>Bold</b>"


ENCODED = "Prénom;Nom;Téléphone\nRenée;Müller-Łukasz;4155550101\n"


@pytest.mark.parametrize(
    "data",
    [
        ENCODED.encode("utf-8"),
        b"\xef\xbb\xbf" + ENCODED.encode("utf-8"),
        ENCODED.replace("Ł", "L").encode("cp1252"),
        ENCODED.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf-8", "utf-8 with BOM", "windows-1252", "CRLF"],
)
def test_encodings_and_semicolons(org: Organization, admin: Membership, data: bytes) -> None:
    started = upload(admin, data)
    assert started.delimiter == ";"
    assert started.columns == ["Prénom", "Nom", "Téléphone"]
    mapping = ["first_name", "last_name", "phone"]
    contact_import_start(
        membership=admin, contact_import=started, mapping=mapping, background=False
    )
    contact_import_run(started.pk)
    contact = Contact.objects.get()
    assert contact.first_name == "Renée"
    assert contact.last_name in {"Müller-Łukasz", "Müller-Lukasz"}


def test_windows_1252_after_the_first_megabyte_is_still_found(admin: Membership) -> None:
    filler = "".join(f"Client {n},41555{n:05d}\n" for n in range(60_000))
    data = ("Name,Phone\n" + filler).encode() + "Zoë,4155550101\n".encode("cp1252")
    started = upload(admin, data)
    assert started.encoding == "cp1252"


def test_quoted_cells_with_line_breaks_and_separators(org: Organization, admin: Membership) -> None:
    done = run(
        admin,
        'Name,Phone,Home location\n"Whitfield, Dana",4155550101,"12 Main St\nSuite 4"\nLee,bad,\n',
    )
    contact = Contact.objects.get()
    assert contact.home_location == "12 Main St\nSuite 4"
    assert contact.name == "Whitfield, Dana"
    # The second record starts on the file's fourth line but is the spreadsheet's row 3.
    assert [row for row, _, _ in problems(done)] == [3]


def test_an_empty_file_is_refused(admin: Membership, _files: Path) -> None:
    assert "empty" in refused(admin, b"")
    assert "empty" in refused(admin, b"\xef\xbb\xbf\n\n")
    assert stored_files(_files) == []
    assert not ContactImport.objects.exists()


def test_a_file_that_is_not_csv_is_refused(admin: Membership, _files: Path) -> None:
    assert "spreadsheet" in refused(admin, b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)))
    assert "binary" in refused(admin, b"\x00\x01\x02\x03garbage")
    assert "not a CSV file" in refused(admin, "a,b\n".encode("utf-16"))
    assert stored_files(_files) == []
    assert not ContactImport.objects.exists()


def test_a_header_only_file_is_refused(admin: Membership) -> None:
    assert "no contacts under them" in refused(admin, "Name,Phone\n")
    assert "no contacts under them" in refused(admin, "Name,Phone\n,\n\n")


def test_a_file_over_the_limit_is_refused_before_it_is_kept(
    admin: Membership, settings: Any, _files: Path
) -> None:
    settings.CONTACT_IMPORT_MAX_MB = 0.001
    with pytest.raises(InvalidInput) as refusal:
        contact_import_create(
            membership=admin, file_name="big.csv", content=io.BytesIO(b"x"), size=200 * 1024 * 1024
        )
    assert refusal.value.message == (
        "The file is 200.0 MB; an import takes at most 0.001 MB. Split it into smaller files "
        "and import each."
    )
    assert stored_files(_files) == []


def test_a_row_with_ten_thousand_columns(org: Organization, admin: Membership) -> None:
    wide = "Dana,4155550102," + ",".join(["x"] * 10_000)
    done = run(admin, f"Name,Phone\nLee,4155550101\n{wide}\n")
    assert done.created == 1
    ((row, _, reason),) = problems(done)
    assert row == 3 and "10,002 cells" in reason


def test_a_header_with_ten_thousand_columns_is_refused(admin: Membership) -> None:
    assert "at most 200" in refused(admin, ",".join(["x"] * 10_000) + "\n1\n")


def test_a_cell_past_the_limit_skips_its_row_only(org: Organization, admin: Membership) -> None:
    huge = "y" * 200_000
    done = run(admin, f'Name,Phone\n"{huge}",4155550101\nLee,4155550102\n')
    assert set(phones_of(org)) == {"+14155550102"}
    assert done.skipped == 1 and "longer than" in problems(done)[0][2]


def test_the_mapping_needs_a_phone_column_and_each_field_once(
    org: Organization, admin: Membership
) -> None:
    started = upload(admin, SIMPLE)
    with pytest.raises(InvalidInput, match="phone numbers"):
        contact_import_start(
            membership=admin,
            contact_import=started,
            mapping=["first_name", "last_name", "", "email"],
            background=False,
        )
    with pytest.raises(InvalidInput, match="both fill First name"):
        contact_import_start(
            membership=admin,
            contact_import=started,
            mapping=["first_name", "first_name", "phone", "email"],
            background=False,
        )
    with pytest.raises(InvalidInput, match="no such field"):
        contact_import_start(
            membership=admin,
            contact_import=started,
            mapping=["first_name", "last_name", "phone", "custom:99999"],
            background=False,
        )
    started.refresh_from_db()
    assert started.status == ContactImportStatus.MAPPING


def test_limited_members_cannot_import(limited: Membership) -> None:
    with pytest.raises(PermissionDenied):
        upload(limited, SIMPLE)


def test_an_interrupted_import_goes_on_after_its_last_batch(
    org: Organization, admin: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twoway.contacts import imports

    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    data = "Name,Phone\n" + "".join(f"C{n},41555501{n:02d}\n" for n in range(10, 17))
    started = upload(admin, data)
    contact_import_start(
        membership=admin, contact_import=started, mapping=started.mapping, background=False
    )
    calls = 0

    def stop_after_two(_: ContactImport) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        contact_import_run(started.pk, progress=stop_after_two)
    started.refresh_from_db()
    assert (started.rows_done, started.created, started.status) == (4, 4, "running")
    assert 0 < started.percent < 100

    done = contact_import_run(started.pk)
    assert (done.rows_done, done.created, done.status) == (7, 7, "done")
    assert Contact.objects.filter(organization=org).count() == 7


def test_an_upload_nobody_imports_is_dropped_after_a_day(admin: Membership) -> None:
    import datetime as dt

    from django.utils import timezone

    from twoway.contacts.imports import contact_imports_abandoned_prune

    old, recent, started = upload(admin, SIMPLE), upload(admin, SIMPLE), upload(admin, SIMPLE)
    contact_import_start(
        membership=admin, contact_import=started, mapping=started.mapping, background=False
    )
    ContactImport.objects.filter(pk__in=[old.pk, started.pk]).update(
        created_at=timezone.now() - dt.timedelta(days=1, minutes=1)
    )
    assert contact_imports_abandoned_prune() == 1
    assert set(ContactImport.objects.values_list("pk", flat=True)) == {recent.pk, started.pk}
    assert not default_storage.exists(old.stored_name)
    assert default_storage.exists(recent.stored_name)


def test_tabs_and_commas_inside_quotes_are_told_apart(org: Organization, admin: Membership) -> None:
    started = upload(admin, 'Name\tPhone\tHome location\n"Lee, Ann"\t4155550101\t"a;b,c"\n')
    assert (started.delimiter, started.columns) == ("\t", ["Name", "Phone", "Home location"])
    started = upload(admin, '"Name, full";Phone\n"Lee, Ann";4155550101\n')
    assert (started.delimiter, started.columns) == (";", ["Name, full", "Phone"])


def test_a_file_larger_than_it_was_announced_is_refused_too(
    admin: Membership, settings: Any, _files: Path
) -> None:
    settings.CONTACT_IMPORT_MAX_MB = 0.001
    data = b"Name,Phone\n" + b"Lee,4155550101\n" * 100
    with pytest.raises(InvalidInput, match="an import takes at most"):
        contact_import_create(
            membership=admin, file_name="big.csv", content=io.BytesIO(data), size=10
        )
    assert stored_files(_files) == []
