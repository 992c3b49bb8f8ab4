"""The `twoway` command as an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import subprocess_env


def twoway(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twoway.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_segments_of_an_argument() -> None:
    result = twoway("segments", "hello")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "encoding": "GSM-7",
        "segments": 1,
        "characters": 5,
        "units": 5,
        "non_gsm": [],
    }


def test_segments_from_stdin_one_result_per_line() -> None:
    lines = [json.dumps("A" * 161), json.dumps("ça va"), "not json"]
    result = twoway("segments", stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0]["segments"] == 2 and out[0]["encoding"] == "GSM-7"
    assert out[1]["encoding"] == "UCS-2" and out[1]["non_gsm"] == ["ç"]
    assert "error" in out[2]
    assert result.returncode == 1


@pytest.mark.django_db(transaction=True)
def test_createadmin_and_apikey(tmp_path) -> None:
    env = subprocess_env(TWOWAY_DATA_DIR=str(tmp_path))
    created = twoway(
        "createadmin", "--email", "Owner@Example.com", "--organization", "Bakery", env=env
    )
    assert created.returncode == 0, created.stderr
    assert "owner@example.com with password" in created.stdout
    assert "(415) 555-01" in created.stdout  # its simulated number
    again = twoway("createadmin", "--email", "owner@example.com", env=env)
    assert again.returncode == 2 and "exists already" in again.stderr
    key = twoway("createapikey", "--email", "owner@example.com", env=env)
    assert key.returncode == 0 and key.stdout.startswith("tw_")
    from twoway.accounts.models import ApiKey

    found = ApiKey.find_active(key.stdout.strip())
    assert found.organization.name == "Bakery"
    assert found.owner.user.email == "owner@example.com"


@pytest.mark.django_db(transaction=True)
def test_only_the_first_admin_gets_the_operators_django_admin(tmp_path) -> None:
    from django.contrib.auth import get_user_model

    env = subprocess_env(TWOWAY_DATA_DIR=str(tmp_path))
    assert twoway("createadmin", "--email", "op@first.test", env=env).returncode == 0
    assert twoway("createadmin", "--email", "boss@second.test", env=env).returncode == 0
    users = get_user_model().objects.in_bulk(field_name="username")
    assert users["op@first.test"].is_superuser and users["op@first.test"].is_staff
    assert not users["boss@second.test"].is_superuser and not users["boss@second.test"].is_staff


@pytest.mark.django_db(transaction=True)
def test_createadmin_switches_two_way_on_unless_told_not_to(tmp_path) -> None:
    from twoway.accounts.models import Organization
    from twoway.numbers.models import PhoneNumber

    env = subprocess_env(TWOWAY_DATA_DIR=str(tmp_path))
    on = twoway("createadmin", "--email", "on@first.test", "--organization", "On", env=env)
    assert on.returncode == 0, on.stderr
    assert "Its texting number is" in on.stdout
    off = twoway(
        "createadmin",
        "--email",
        "off@second.test",
        "--organization",
        "Off",
        "--no-two-way",
        env=env,
    )
    assert off.returncode == 0, off.stderr
    assert "Its texting number" not in off.stdout
    assert "Two-way texting is off" in off.stdout
    assert Organization.objects.get(name="On").two_way_enabled
    off_org = Organization.objects.get(name="Off")
    assert not off_org.two_way_enabled
    assert not PhoneNumber.objects.filter(organization=off_org).exists()
    # The shared system number is there all the same, for its transactional texts.
    assert PhoneNumber.objects.filter(is_system=True).count() == 1


def test_an_empty_database_url_means_the_default_sqlite_file(tmp_path) -> None:
    # `DATABASE_URL=` is what an env file holds when the operator left it blank.
    env = {**subprocess_env(TWOWAY_DATA_DIR=str(tmp_path)), "DATABASE_URL": ""}
    migrated = twoway("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "twoway.sqlite3").stat().st_size > 0


@pytest.mark.django_db(transaction=True)
def test_contacts_import_runs_in_the_foreground_and_writes_the_error_report(tmp_path) -> None:
    from twoway.compliance.models import ConsentEvent
    from twoway.contacts.models import Contact, ContactImport

    env = subprocess_env(TWOWAY_DATA_DIR=str(tmp_path))
    assert twoway("createadmin", "--email", "owner@example.com", env=env).returncode == 0
    path = tmp_path / "clients.csv"
    path.write_bytes(
        "Prénom;Nom;Portable;Notes;Désabonné\n"
        "Renée;Dupont;415-555-0101;VIP;oui\n"
        "Luc;Martin;not a number;;\n"
        "Zoë;Roy;(415) 555-0103;;1\n".encode("cp1252")
    )
    report = tmp_path / "errors.csv"
    args = ["contacts", "import", str(path), "--email", "owner@example.com"]
    maps = ["--map", "Prénom=first_name", "--map", "Nom=Last name", "--map", "Portable=phone"]
    done = twoway(*args, *maps, "--map", "Désabonné=opted_out", "--errors", str(report), env=env)
    assert done.returncode == 0, done.stderr
    assert "Portable -> phone" in done.stderr and "Notes -> not imported" in done.stderr
    assert done.stdout.startswith("3 rows read: 1 created, 0 added to contacts already there")
    assert "2 skipped; 1 opted out." in done.stdout
    # "oui" is no answer the column takes: that row is skipped too, and says why.
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,column,reason"
    assert lines[1].startswith("2,Désabonné,")
    assert lines[2].startswith("3,Portable,") and "not a number" in lines[2]
    assert len(lines) == 3
    zoe = Contact.objects.get(first_name="Zoë")
    assert zoe.is_opted_out and zoe.created_from == "import"
    assert ConsentEvent.objects.get(contact=zoe).source == "import"
    assert ContactImport.objects.get().stored_name == ""

    again = twoway(*args, *maps, "--map", "Désabonné=opted_out", env=env)
    assert again.returncode == 0, again.stderr
    assert "0 created" in again.stdout and "1 with nothing new" in again.stdout
    assert "row 2, Désabonné: “oui” is neither yes nor no" in again.stdout

    refused = twoway(*args, "--map", "Nope=phone", env=env)
    assert refused.returncode == 2 and "no column “Nope”" in refused.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused = twoway("contacts", "import", str(empty), "--email", "owner@example.com", env=env)
    assert refused.returncode == 2 and "The file is empty" in refused.stderr
    assert ContactImport.objects.count() == 2
