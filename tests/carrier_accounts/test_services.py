"""Writing carrier accounts: who may, what shape credentials have, what a blank field keeps, and
when an account may be deleted. No refusal repeats a credential."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.conftest import make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.carrier_accounts.access import access_carrier_account
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.services import (
    InvalidAccountField,
    carrier_account_create,
    carrier_account_delete,
    carrier_account_update,
)
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied
from twoway.numbers.models import PhoneNumber

from .conftest import OTHER_SID, OTHER_TOKEN, SID, TOKEN, make_account

pytestmark = pytest.mark.django_db


def create(actor: Membership | None, organization: Organization | None, **credentials: str):
    values = {"account_sid": SID, "auth_token": TOKEN, **credentials}
    return carrier_account_create(
        actor=actor,
        organization=organization,
        carrier="twilio",
        name="Main Twilio",
        credentials=values,
    )


def test_an_admin_adds_an_account_to_their_organization(admin: Membership) -> None:
    account = create(admin, admin.organization)

    assert (account.organization, account.carrier, account.name) == (
        admin.organization,
        "twilio",
        "Main Twilio",
    )
    assert account.credentials() == {"account_sid": SID, "auth_token": TOKEN}
    # An unguessable key names it in its webhook URL, different for each account.
    assert len(account.webhook_key) >= 20
    assert account.webhook_path == f"/webhooks/twilio/{account.webhook_key}/"
    assert create(admin, admin.organization).webhook_key != account.webhook_key


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account_sid", "AC123"),
        ("account_sid", "SK" + "0" * 32),
        ("account_sid", "AC" + "G" * 32),
        ("auth_token", "0" * 31),
        ("auth_token", "secret-token-that-is-not-hex-000"),
        ("auth_token", ""),
        ("account_sid", " "),
    ],
)
def test_credentials_of_the_wrong_shape_are_refused_without_being_repeated(
    admin: Membership, field: str, value: str
) -> None:
    with pytest.raises(InvalidAccountField) as refused:
        create(admin, admin.organization, **{field: value})

    assert refused.value.field == field
    if value.strip():
        assert value not in refused.value.message
    assert not CarrierAccount.objects.exists()


def test_surrounding_spaces_are_dropped(admin: Membership) -> None:
    account = create(admin, admin.organization, auth_token=f"  {TOKEN}\n")

    assert account.credentials()["auth_token"] == TOKEN


def test_unknown_credentials_and_carriers_without_accounts_are_refused(admin: Membership) -> None:
    with pytest.raises(InvalidAccountField):
        create(admin, admin.organization, api_base_url="http://169.254.169.254/")
    with pytest.raises(InvalidAccountField, match="no accounts"):
        carrier_account_create(
            actor=admin,
            organization=admin.organization,
            carrier="simulator",
            name="Sim",
            credentials={},
        )
    with pytest.raises(InvalidAccountField):
        carrier_account_create(
            actor=admin, organization=admin.organization, carrier="nope", name="x", credentials={}
        )
    with pytest.raises(InvalidAccountField, match="name"):
        carrier_account_create(
            actor=admin,
            organization=admin.organization,
            carrier="twilio",
            name="  ",
            credentials={"account_sid": SID, "auth_token": TOKEN},
        )


def test_only_the_organizations_admins_write_its_accounts(
    org: Organization, other_org: Organization, standard: Membership, admin: Membership
) -> None:
    with pytest.raises(PermissionDenied):
        create(standard, org)
    with pytest.raises(NotFound):
        create(admin, other_org)
    with pytest.raises(PermissionDenied):
        create(admin, None)  # the operator's accounts are the operator's
    account = create(admin, org)
    outsider = make_member(other_org, "admin@other.test", Role.ADMINISTRATIVE)
    with pytest.raises(NotFound):
        carrier_account_update(actor=outsider, account=account, name="Mine now")
    with pytest.raises(NotFound):
        carrier_account_delete(actor=outsider, account=account)
    admin.user.is_active = False
    admin.user.save()
    with pytest.raises(PermissionDenied):
        carrier_account_update(actor=admin, account=account, name="Renamed")
    assert CarrierAccount.objects.get().name == "Main Twilio"


def test_a_blank_credential_keeps_the_stored_one(admin: Membership, account) -> None:
    before = account.credentials_encrypted

    carrier_account_update(
        actor=admin,
        account=account,
        name="Renamed",
        credentials={"account_sid": "", "auth_token": ""},
    )

    account.refresh_from_db()
    assert account.name == "Renamed"
    assert account.credentials_encrypted == before  # not even encrypted again

    carrier_account_update(actor=admin, account=account, credentials={"auth_token": OTHER_TOKEN})

    account.refresh_from_db()
    assert account.credentials() == {"account_sid": SID, "auth_token": OTHER_TOKEN}


def test_a_new_credential_of_the_wrong_shape_changes_nothing(admin: Membership, account) -> None:
    with pytest.raises(InvalidAccountField):
        carrier_account_update(
            actor=admin, account=account, name="Renamed", credentials={"account_sid": "AC1"}
        )

    account.refresh_from_db()
    assert account.name == "Main Twilio"
    assert account.credentials()["account_sid"] == SID


def test_credentials_no_key_reads_must_all_be_entered_again(settings, admin, account) -> None:
    settings.SECRET_KEY = "a secret key that never encrypted these credentials"

    with pytest.raises(InvalidAccountField, match="no longer be decrypted"):
        carrier_account_update(actor=admin, account=account, credentials={"auth_token": TOKEN})

    carrier_account_update(
        actor=admin, account=account, credentials={"account_sid": OTHER_SID, "auth_token": TOKEN}
    )
    account.refresh_from_db()
    assert account.credentials() == {"account_sid": OTHER_SID, "auth_token": TOKEN}


def test_an_account_holding_a_number_cannot_be_deleted(
    admin: Membership, account: CarrierAccount, org: Organization
) -> None:
    number = PhoneNumber.objects.create(
        organization=org, number="+14155550177", carrier="twilio", carrier_account=account
    )

    with pytest.raises(InvalidInput, match="holds 1 number"):
        carrier_account_delete(actor=admin, account=account)
    assert CarrierAccount.objects.filter(pk=account.pk).exists()

    # A released number's row is kept for its history only: it no longer holds the account.
    number.released_at = timezone.now()
    number.save()
    carrier_account_delete(actor=admin, account=account)

    assert not CarrierAccount.objects.exists()
    number.refresh_from_db()
    assert number.carrier_account is None


def test_a_number_is_held_only_in_an_account_of_its_carrier_and_organization(
    org: Organization, account: CarrierAccount, other_account: CarrierAccount
) -> None:
    operators = make_account(None, name="Operator's Twilio")
    number = PhoneNumber(organization=org, number="+14155550178", carrier="twilio")

    for allowed in (account, operators):
        number.carrier_account = allowed
        number.full_clean()
    number.carrier_account = other_account
    with pytest.raises(ValidationError, match="another organization"):
        number.full_clean()
    number.carrier, number.carrier_account = "simulator", account
    with pytest.raises(ValidationError, match="Twilio account"):
        number.full_clean()


def test_access_is_the_organizations_admins_only(
    admin: Membership,
    standard: Membership,
    account: CarrierAccount,
    other_account: CarrierAccount,
) -> None:
    operators = make_account(None, name="Operator's Twilio")

    assert access_carrier_account(admin, account.pk) == account
    with pytest.raises(PermissionDenied):
        access_carrier_account(standard, account.pk)
    for hidden in (other_account.pk, operators.pk, 999_999):
        with pytest.raises(NotFound):
            access_carrier_account(admin, hidden)
