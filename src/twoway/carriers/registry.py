"""Finds carrier adapters by slug, as listed in settings.TWOWAY_CARRIERS, and by carrier account.

`get_carrier(slug)` is the operator's adapter, configured by settings (TWOWAY_CARRIER_CONFIG:
TWILIO_* and the like). `carrier_for_account(account_id, slug)` is the adapter of one carrier
account, configured by that account's credentials; accounts are rows of a higher layer's app,
which hands them over through the loader it registers (`account_loader_set`), so this module
stays free of the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from twoway.carriers.base import Carrier


class UnknownCarrier(LookupError):
    pass


class UnknownCarrierAccount(UnknownCarrier):
    """No carrier account has that id, or it is another carrier's."""


def carrier_class(slug: str) -> type[Carrier]:
    path = settings.TWOWAY_CARRIERS.get(slug)
    if path is None:
        raise UnknownCarrier(f"No carrier called {slug!r} is configured")
    cls: type[Carrier] = import_string(path)
    return cls


@cache
def get_carrier(slug: str) -> Carrier:
    """The configured adapter for `slug`, built once per process."""
    cls = carrier_class(slug)
    config = settings.TWOWAY_CARRIER_CONFIG.get(slug, {})
    return cls(**config)


def carrier_slugs() -> list[str]:
    return list(settings.TWOWAY_CARRIERS)


# --- Carrier accounts ------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountConfig:
    """A carrier account as its loader hands it over."""

    slug: str
    version: str  # changes whenever `credentials` do
    credentials: Mapping[str, str]  # the adapter's credential_fields, by name


AccountLoader = Callable[[int], AccountConfig | None]

# How long an account's adapter is used before the account is read again. A change made in
# this process takes effect at once (`carrier_account_forget`); one made in another process
# (the web server's settings page, for a worker) within this many seconds.
ACCOUNT_RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class _Cached:
    slug: str
    version: str
    carrier: Carrier
    recheck_at: float  # time.monotonic()


_loader: AccountLoader | None = None
_accounts: dict[int, _Cached] = {}
_accounts_lock = threading.Lock()


def account_loader_set(loader: AccountLoader | None) -> None:
    """Where accounts come from: `loader(account_id)` reads one, None when there is none."""
    global _loader
    _loader = loader
    carrier_account_forget()


def carrier_for_account(account_id: int | None, slug: str) -> Carrier:
    """The adapter of carrier account `account_id`, built from its credentials and reused until
    the account changes; None is the operator's adapter (`get_carrier(slug)`). Raises
    UnknownCarrierAccount when there is no such account of carrier `slug`.

    Reads the account at most every ACCOUNT_RECHECK_SECONDS (one row by its key), so it may be
    called for every send; `carrier_for_account_cached` never reads it.
    """
    if account_id is None:
        return get_carrier(slug)
    cached = _accounts.get(account_id)
    now = time.monotonic()
    if cached is not None:
        if cached.slug != slug:  # an account's carrier never changes
            raise UnknownCarrierAccount(f"Carrier account {account_id} is not a {slug} account")
        if now < cached.recheck_at:
            return cached.carrier
    loaded = _loader(account_id) if _loader is not None else None
    if loaded is None or loaded.slug != slug:
        carrier_account_forget(account_id)
        raise UnknownCarrierAccount(f"No {slug} carrier account has id {account_id}")
    if cached is not None and cached.version == loaded.version:
        carrier = cached.carrier
    else:
        # An adapter replaced here is left to the garbage collector rather than closed: a send
        # on another thread may still be using it.
        carrier = _account_carrier(slug, loaded.credentials)
    with _accounts_lock:
        _accounts[account_id] = _Cached(
            slug, loaded.version, carrier, now + ACCOUNT_RECHECK_SECONDS
        )
    return carrier


def carrier_for_account_cached(account_id: int, slug: str) -> Carrier | None:
    """`carrier_for_account` without reading anything: the adapter when the account was read
    within ACCOUNT_RECHECK_SECONDS, else None (for an event loop, which must not wait on the
    database)."""
    cached = _accounts.get(account_id)
    if cached is None or cached.slug != slug or time.monotonic() >= cached.recheck_at:
        return None
    return cached.carrier


def carrier_account_forget(account_id: int | None = None) -> None:
    """Drop the adapter of one account (all of them when None): the next lookup reads it."""
    with _accounts_lock:
        if account_id is None:
            _accounts.clear()
        else:
            _accounts.pop(account_id, None)


def _account_carrier(slug: str, credentials: Mapping[str, str]) -> Carrier:
    """The adapter with the operator's configuration of its carrier (API address, timeout),
    the credentials replaced by the account's. A credential the account lacks is empty, never
    the operator's: an organization's account must not act with the operator's token."""
    cls = carrier_class(slug)
    names = {field.name for field in cls.credential_fields}
    config: dict[str, Any] = {
        key: value
        for key, value in settings.TWOWAY_CARRIER_CONFIG.get(slug, {}).items()
        if key not in names
    }
    config.update({name: credentials.get(name, "") for name in names})
    return cls(**config)
