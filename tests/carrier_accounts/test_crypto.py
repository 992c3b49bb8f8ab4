"""Credentials at rest: encrypted (nothing of them in the table), decrypted back, shown masked,
and readable across a key rotation."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from twoway.carrier_accounts.crypto import (
    CredentialsUnreadable,
    credentials_decrypt,
    credentials_encrypt,
    masked,
)
from twoway.carrier_accounts.models import CarrierAccount

from .conftest import SID, TOKEN, make_account

pytestmark = pytest.mark.django_db


def stored_row(account: CarrierAccount) -> str:
    """Every column of the account's row as the database holds it, joined."""
    table = connection.ops.quote_name(CarrierAccount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [account.pk])  # noqa: S608
        return " ".join(str(value) for value in cursor.fetchone())


def test_credentials_go_in_encrypted_and_come_back_as_they_were(account: CarrierAccount) -> None:
    account.refresh_from_db()

    assert account.credentials() == {"account_sid": SID, "auth_token": TOKEN}
    raw = stored_row(account)
    for secret in (TOKEN, SID, TOKEN[:16], TOKEN[-16:], SID[2:18]):
        assert secret not in raw
    assert "auth_token" not in raw  # not even the JSON's names


def test_the_same_credentials_encrypt_differently_each_time() -> None:
    first = credentials_encrypt({"auth_token": TOKEN})
    second = credentials_encrypt({"auth_token": TOKEN})

    assert first != second
    assert credentials_decrypt(first) == credentials_decrypt(second) == {"auth_token": TOKEN}


def test_a_tampered_token_is_unreadable() -> None:
    token = credentials_encrypt({"auth_token": TOKEN})
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]

    with pytest.raises(CredentialsUnreadable):
        credentials_decrypt(tampered)
    with pytest.raises(CredentialsUnreadable):
        credentials_decrypt("not a token at all")


def test_credentials_are_shown_masked_to_their_last_four_characters(
    account: CarrierAccount,
) -> None:
    assert account.credentials_masked() == [
        ("Account SID", "••••" + SID[-4:]),
        ("Auth token", "••••" + TOKEN[-4:]),
    ]
    assert masked("short") == "••••"
    for shown in (str(account), repr(account)):
        assert TOKEN not in shown and SID not in shown
        assert TOKEN[-4:] not in shown


def test_the_key_comes_from_secret_key_unless_its_own_setting_is_set(settings) -> None:
    made_with_secret_key = credentials_encrypt({"auth_token": TOKEN})
    settings.SECRET_KEY = "another secret key altogether, of a good length"

    with pytest.raises(CredentialsUnreadable):
        credentials_decrypt(made_with_secret_key)

    settings.CARRIER_CREDENTIALS_KEY = ["carrier-key-one"]
    made_with_own_key = credentials_encrypt({"auth_token": TOKEN})
    settings.SECRET_KEY = "and yet another secret key, rotated the Django way"
    # SECRET_KEY plays no part any more: its change loses nothing.
    assert credentials_decrypt(made_with_own_key) == {"auth_token": TOKEN}


def test_secret_key_fallbacks_still_decrypt(settings) -> None:
    old = settings.SECRET_KEY
    token = credentials_encrypt({"auth_token": TOKEN})
    settings.SECRET_KEY = "the new secret key, with the old one kept as a fallback"
    settings.SECRET_KEY_FALLBACKS = [old]

    assert credentials_decrypt(token) == {"auth_token": TOKEN}


def test_a_new_key_first_reads_what_the_old_one_wrote_and_the_rotation_rewrites_it(
    settings, org
) -> None:
    settings.CARRIER_CREDENTIALS_KEY = ["old-carrier-key"]
    account = make_account(org)
    before = account.credentials_encrypted

    settings.CARRIER_CREDENTIALS_KEY = ["new-carrier-key", "old-carrier-key"]
    account.refresh_from_db()
    assert account.credentials()["auth_token"] == TOKEN  # the old key still reads it

    call_command("rotate_carrier_credentials", stdout=io.StringIO())

    account.refresh_from_db()
    assert account.credentials_encrypted != before
    settings.CARRIER_CREDENTIALS_KEY = ["new-carrier-key"]  # the old key dropped
    assert account.credentials() == {"account_sid": SID, "auth_token": TOKEN}
    assert TOKEN not in stored_row(account)


def test_setting_a_key_on_an_installation_that_had_none_loses_nothing(settings, org) -> None:
    account = make_account(org)  # encrypted with SECRET_KEY's key
    settings.CARRIER_CREDENTIALS_KEY = ["first-own-key"]

    account.refresh_from_db()
    assert account.credentials()["auth_token"] == TOKEN
    call_command("rotate_carrier_credentials", stdout=io.StringIO())
    settings.SECRET_KEY = "SECRET_KEY changed after the rotation"
    account.refresh_from_db()
    assert account.credentials()["auth_token"] == TOKEN


def test_the_rotation_names_accounts_no_key_reads_and_leaves_them(settings, org) -> None:
    lost = make_account(org, name="Lost key")
    settings.SECRET_KEY = "a secret key that never encrypted anything here"
    settings.CARRIER_CREDENTIALS_KEY = []
    before = CarrierAccount.objects.get(pk=lost.pk).credentials_encrypted

    with pytest.raises(CommandError, match=rf"{lost.pk} \(Lost key\)"):
        call_command("rotate_carrier_credentials", stdout=io.StringIO())

    lost.refresh_from_db()
    assert lost.credentials_encrypted == before
    assert lost.credentials_masked() is None
