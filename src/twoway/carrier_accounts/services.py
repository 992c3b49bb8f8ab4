"""Writes on carrier accounts: adding one, renaming it or replacing its credentials, deleting it,
and re-encrypting every account's credentials with the newest key.

An organization's accounts are changed by its administrators (`actor`). The operator's accounts
(no organization) are the operator's, from the Django admin, which passes no actor. Refusals never
repeat a credential: a message may be shown, logged or kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.db import transaction
from django.db.models import ProtectedError

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership, Organization
from twoway.carrier_accounts.crypto import (
    CredentialsUnreadable,
    credentials_encrypt,
    credentials_reencrypt,
)
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.selectors import carrier_account_uncache
from twoway.carriers.base import Carrier
from twoway.carriers.registry import UnknownCarrier, carrier_class
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied

NAME_MAX_LENGTH = 100  # CarrierAccount.name's max_length
CREDENTIAL_MAX_LENGTH = 200


class InvalidAccountField(InvalidInput):
    """One input is wrong; `field` names it so a form can show the message beside it."""

    def __init__(self, field: str | None, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code or f"invalid_{field or 'account'}")
        self.field = field


def _require_admin_of(actor: Membership | None, organization_id: int | None) -> None:
    """`actor` is an active admin of that organization; None is the operator, who may do
    anything. Another organization's accounts, and the operator's, look missing."""
    if actor is None:
        return
    if not actor.user.is_active:
        raise PermissionDenied("Your account is deactivated.", code="inactive")
    require_admin(actor)
    if organization_id is None or actor.organization_id != organization_id:
        raise NotFound("That carrier account does not exist.")


def _carrier_with_accounts(slug: str) -> type[Carrier]:
    try:
        cls = carrier_class(slug)
    except UnknownCarrier:
        raise InvalidAccountField("carrier", f"There is no carrier called {slug!r}.") from None
    if not cls.credential_fields:
        raise InvalidAccountField(
            "carrier", f"{cls.name} has no accounts to connect.", code="no_accounts"
        )
    return cls


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidAccountField("name", "Give the account a name, such as “Main Twilio”.")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidAccountField("name", "Keep the name to 100 characters or fewer.")
    if "\x00" in name:
        raise InvalidAccountField("name", "The name contains a NUL character.")
    return name


def _unknown_refused(cls: type[Carrier], values: Mapping[str, str]) -> None:
    names = {field.name for field in cls.credential_fields}
    for name in values:
        if name not in names:
            raise InvalidAccountField(None, f"{cls.name} accounts have no setting called {name!r}.")


def _clean_credentials(
    cls: type[Carrier], values: Mapping[str, str], *, old: Mapping[str, str] | None
) -> dict[str, str]:
    """The credentials to store: each value given, checked against its field's shape; a blank
    one keeps the `old` value. Unknown names are refused."""
    _unknown_refused(cls, values)
    cleaned: dict[str, str] = {}
    for field in cls.credential_fields:
        value = (values.get(field.name) or "").strip()
        if not value:
            if old is not None and old.get(field.name):
                cleaned[field.name] = old[field.name]
                continue
            raise InvalidAccountField(field.name, f"Enter the account's {field.label.lower()}.")
        if len(value) > CREDENTIAL_MAX_LENGTH or "\x00" in value:
            raise InvalidAccountField(field.name, f"That is not a {cls.name} {field.label}.")
        if field.pattern and not re.fullmatch(field.pattern, value):
            raise InvalidAccountField(
                field.name, f"That is not a {cls.name} {field.label}: it is {field.shape}."
            )
        cleaned[field.name] = value
    return cleaned


def carrier_account_check(
    *,
    carrier: str,
    name: str,
    credentials: Mapping[str, str],
    account: CarrierAccount | None = None,
) -> None:
    """What `carrier_account_create` (no `account`) or `carrier_account_update` would refuse of
    these values, raised without writing anything: for forms that validate before saving."""
    _clean_name(name)
    if account is None:
        _clean_credentials(_carrier_with_accounts(carrier), credentials, old=None)
    else:
        _credentials_replacing(account, credentials)


def _credentials_replacing(
    account: CarrierAccount, credentials: Mapping[str, str]
) -> dict[str, str] | None:
    """The account's credentials with the values given replacing the stored ones (a blank one
    keeps its stored value); None when nothing changes."""
    cls = _carrier_with_accounts(account.carrier)
    if not any((value or "").strip() for value in credentials.values()):
        _unknown_refused(cls, credentials)
        return None
    try:
        old: dict[str, str] | None = account.credentials()
    except CredentialsUnreadable:
        old = None
    blank = [f.name for f in cls.credential_fields if not (credentials.get(f.name) or "").strip()]
    if old is None and blank:
        raise InvalidAccountField(
            blank[0],
            "The stored credentials can no longer be decrypted (the key changed): enter every "
            "one of them again.",
            code="credentials_unreadable",
        )
    cleaned = _clean_credentials(cls, credentials, old=old)
    return None if cleaned == old else cleaned


def _forget_on_commit(account_id: int) -> None:
    """Every lookup after the commit reads the account again (this process: at once; others
    within carriers.registry.ACCOUNT_RECHECK_SECONDS)."""
    transaction.on_commit(lambda: carrier_account_uncache(account_id))


@transaction.atomic
def carrier_account_create(
    *,
    actor: Membership | None,
    organization: Organization | None,
    carrier: str,
    name: str,
    credentials: Mapping[str, str],
) -> CarrierAccount:
    """A new account of `carrier` for `organization` (None: the operator's, by the operator)."""
    if actor is not None and organization is None:
        raise PermissionDenied("Only the operator adds accounts of the installation.")
    _require_admin_of(actor, organization.pk if organization is not None else None)
    cls = _carrier_with_accounts(carrier)
    account = CarrierAccount(
        organization=organization,
        carrier=carrier,
        name=_clean_name(name),
        credentials_encrypted=credentials_encrypt(_clean_credentials(cls, credentials, old=None)),
    )
    account.save()
    return account


@transaction.atomic
def carrier_account_update(
    *,
    actor: Membership | None,
    account: CarrierAccount,
    name: str | None = None,
    credentials: Mapping[str, str] | None = None,
) -> CarrierAccount:
    """Rename the account and/or replace credentials; a blank (or missing) credential keeps the
    stored one. Its numbers send and are verified with the new ones from the commit on."""
    _require_admin_of(actor, account.organization_id)
    fields: list[str] = []
    new_name = _clean_name(name) if name is not None else account.name
    if new_name != account.name:
        fields.append("name")
    encrypted = account.credentials_encrypted
    cleaned = _credentials_replacing(account, credentials or {})
    if cleaned is not None:
        encrypted = credentials_encrypt(cleaned)
        fields.append("credentials_encrypted")
    if not fields:
        return account
    account.name = new_name
    account.credentials_encrypted = encrypted
    account.save(update_fields=[*fields, "updated_at"])
    _forget_on_commit(account.pk)
    return account


@transaction.atomic
def carrier_account_delete(*, actor: Membership | None, account: CarrierAccount) -> None:
    """Delete an account no number holds. A number in it would lose the credentials it sends
    with, so it is refused while one does (released numbers do not count: their rows are kept
    for their conversations' history only, and lose the account)."""
    _require_admin_of(actor, account.organization_id)
    numbers = account.phone_numbers  # the numbers held now (PhoneNumber's default manager)
    count = numbers.count()
    if count:
        raise InvalidInput(
            f"{account.name} holds {count} number{'s' if count != 1 else ''}, so it cannot be "
            "deleted: their texts are sent with its credentials.",
            code="account_in_use",
        )
    numbers.model._base_manager.filter(carrier_account=account).update(carrier_account=None)
    account_id = account.pk
    try:
        account.delete()
    except ProtectedError:  # a number was put in it meanwhile
        raise InvalidInput(
            f"{account.name} holds a number now, so it cannot be deleted.", code="account_in_use"
        ) from None
    _forget_on_commit(account_id)


@transaction.atomic
def carrier_credentials_rotate() -> tuple[int, list[CarrierAccount]]:
    """Encrypt every account's credentials again with the newest key (the first of
    CARRIER_CREDENTIALS_KEY): how many were, and the accounts no configured key decrypts, which
    are left as they are. Once it reports none of those, older keys can be dropped."""
    rotated, unreadable = 0, []
    for account in CarrierAccount.objects.select_for_update().order_by("pk"):
        try:
            encrypted = credentials_reencrypt(account.credentials_encrypted)
        except CredentialsUnreadable:
            unreadable.append(account)
            continue
        account.credentials_encrypted = encrypted
        account.save(update_fields=["credentials_encrypted"])
        _forget_on_commit(account.pk)
        rotated += 1
    return rotated, unreadable
