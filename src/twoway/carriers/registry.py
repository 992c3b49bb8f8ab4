"""Finds carrier adapters by slug, as listed in settings.TWOWAY_CARRIERS."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from twoway.carriers.base import Carrier


class UnknownCarrier(LookupError):
    pass


@cache
def get_carrier(slug: str) -> Carrier:
    """The configured adapter for `slug`, built once per process."""
    path = settings.TWOWAY_CARRIERS.get(slug)
    if path is None:
        raise UnknownCarrier(f"No carrier called {slug!r} is configured")
    cls = import_string(path)
    config = settings.TWOWAY_CARRIER_CONFIG.get(slug, {})
    return cls(**config)


def carrier_slugs() -> list[str]:
    return list(settings.TWOWAY_CARRIERS)
