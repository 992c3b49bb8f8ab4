"""API-key authentication: `Authorization: Bearer <key>`; a key acts as the member who owns it."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from twoway.accounts.models import ApiKey, Membership
from twoway.accounts.throttling import API_KEYS

# `last_used_at` is for people judging whether a key is still in use: minute precision is
# plenty, and it spares a busy integration a write (a SQLite write lock) on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        # An address that sent too many wrong keys is refused (429) before its key is looked at,
        # so that a right guess among them would not show either.
        API_KEYS.check(request)
        key = ApiKey.find_active(token)
        if key is None:
            API_KEYS.failed(request)
            return None  # ninja answers 401 through our AuthenticationError handler
        _touch(key)
        return key


def _touch(key: ApiKey) -> None:
    now = timezone.now()
    stale = now - LAST_USED_PRECISION
    if key.last_used_at is not None and key.last_used_at > stale:
        return
    # Conditional, so concurrent requests of the same minute write once between them.
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    key.last_used_at = now


def request_membership(request: HttpRequest) -> Membership:
    """The owner of the key that authenticated this request: every API call is checked with
    their role, number access and "Send SMS" permission through `accounts.access`."""
    key = getattr(request, "auth", None)
    assert isinstance(key, ApiKey), "API views run behind ApiKeyAuth"
    return key.owner
