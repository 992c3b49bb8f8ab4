"""API-key authentication: `Authorization: Bearer <key>`; a key acts as the member who owns it."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from twoway.accounts.api_keys import api_key_mark_used
from twoway.accounts.models import ApiKey, Membership
from twoway.accounts.throttling import API_KEYS


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        # An address that sent too many wrong keys is refused (429) before its key is looked at,
        # so that a right guess among them would not show either.
        API_KEYS.check(request)
        key = ApiKey.find_active(token)
        if key is None:
            API_KEYS.failed(request)
            return None  # ninja answers 401 through our AuthenticationError handler
        api_key_mark_used(key)
        return key


def request_membership(request: HttpRequest) -> Membership:
    """The owner of the key that authenticated this request: every API call is checked with
    their role, number access and "Send SMS" permission through the domains' `access_*` checks."""
    key = getattr(request, "auth", None)
    assert isinstance(key, ApiKey), "API views run behind ApiKeyAuth"
    return key.owner
