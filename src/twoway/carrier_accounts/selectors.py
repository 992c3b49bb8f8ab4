"""Reads on carrier accounts: an organization's for its settings, and the ones a webhook URL or
a send names, with their adapters (`carriers.registry.carrier_for_account`)."""

from __future__ import annotations

import hashlib
import logging
import threading

from django.conf import settings
from django.db.models import QuerySet

from twoway.accounts.models import Organization
from twoway.carrier_accounts.crypto import CredentialsUnreadable, credentials_decrypt
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carriers.base import Carrier
from twoway.carriers.registry import (
    AccountConfig,
    UnknownCarrierAccount,
    carrier_account_forget,
    carrier_class,
    carrier_for_account,
    carrier_for_account_cached,
    carrier_slugs,
)

log = logging.getLogger(__name__)

# Webhook keys and ids of the accounts looked up so far. Neither ever changes, so an entry stays
# right for as long as its account exists; a deleted account's is dropped when its adapter is
# looked up and found gone.
_by_webhook_key: dict[tuple[str, str], int] = {}
_webhook_keys: dict[int, str] = {}
_lock = threading.Lock()


def carrier_accounts_for_settings(organization: Organization) -> QuerySet[CarrierAccount]:
    """The organization's accounts with the numbers each holds, by name."""
    return CarrierAccount.objects.filter(organization=organization).prefetch_related(
        "phone_numbers"
    )


def carriers_with_accounts() -> list[type[Carrier]]:
    """The configured carriers an account can be added for (those with credentials), in settings
    order."""
    classes = [carrier_class(slug) for slug in carrier_slugs()]
    return [cls for cls in classes if cls.credential_fields]


def carrier_account_config(account_id: int) -> AccountConfig | None:
    """The registry's loader (registered by the app): the account's carrier and decrypted
    credentials. Credentials no configured key decrypts are logged and left empty, so the
    account's sends fail as unconfigured and its webhooks are refused, rather than crash."""
    row = (
        CarrierAccount.objects.filter(pk=account_id)
        .values_list("carrier", "credentials_encrypted")
        .first()
    )
    if row is None:
        return None
    slug, encrypted = row
    try:
        credentials = credentials_decrypt(encrypted)
    except CredentialsUnreadable as exc:
        log.error("Carrier account %s: %s It acts as unconfigured.", account_id, exc)
        credentials = {}
    version = hashlib.sha256(encrypted.encode()).hexdigest()
    return AccountConfig(slug=slug, version=version, credentials=credentials)


def carrier_account_for_webhook(slug: str, webhook_key: str) -> tuple[int, Carrier] | None:
    """The account whose webhook URL is /webhooks/<slug>/<webhook_key>/ and its adapter; None
    when there is no such account. Reads the database unless both were looked up lately."""
    account_id = _by_webhook_key.get((slug, webhook_key))
    if account_id is None:
        account_id = (
            CarrierAccount.objects.filter(carrier=slug, webhook_key=webhook_key)
            .values_list("pk", flat=True)
            .first()
        )
        if account_id is None:
            return None
        with _lock:
            _by_webhook_key[(slug, webhook_key)] = account_id
    try:
        return account_id, carrier_for_account(account_id, slug)
    except UnknownCarrierAccount:
        carrier_account_uncache(account_id)
        return None


def carrier_account_for_webhook_cached(slug: str, webhook_key: str) -> tuple[int, Carrier] | None:
    """`carrier_account_for_webhook` without the database: None when it would have to read it."""
    account_id = _by_webhook_key.get((slug, webhook_key))
    if account_id is None:
        return None
    carrier = carrier_for_account_cached(account_id, slug)
    return None if carrier is None else (account_id, carrier)


def carrier_webhook_url(carrier: str, carrier_account_id: int | None) -> str | None:
    """Where `carrier` should post about a number of that account (status reports, incoming
    texts): its account's webhook URL, the operator's (/webhooks/<carrier>/) for None; None when
    TWOWAY_PUBLIC_URL is not set, as Twoway does not know its public address then."""
    if not settings.TWOWAY_PUBLIC_URL:
        return None
    if carrier_account_id is None:
        return f"{settings.TWOWAY_PUBLIC_URL}/webhooks/{carrier}/"
    key = _webhook_keys.get(carrier_account_id)
    if key is None:
        key = (
            CarrierAccount.objects.filter(pk=carrier_account_id)
            .values_list("webhook_key", flat=True)
            .first()
        )
        if key is None:
            return None
        with _lock:
            _webhook_keys[carrier_account_id] = key
    return f"{settings.TWOWAY_PUBLIC_URL}/webhooks/{carrier}/{key}/"


def carrier_account_uncache(account_id: int | None = None) -> None:
    """Forget what is cached of one account (all when None), its adapter included."""
    with _lock:
        if account_id is None:
            _by_webhook_key.clear()
            _webhook_keys.clear()
        else:
            _webhook_keys.pop(account_id, None)
            for key in [key for key, found in _by_webhook_key.items() if found == account_id]:
                del _by_webhook_key[key]
    carrier_account_forget(account_id)
