"""Brakes on guessing: failed logins, invitation links and API keys, counted per address.

Logins go through django-axes (settings: LOGIN_FAILURE_LIMIT and the rest), which refuses a
locked-out pair of e-mail and address before the password is even checked. Invitation links and
API keys are long random secrets nobody guesses, but a stream of wrong ones from one address is
still stopped (`Throttle`), so that no address can try them at the server's full speed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twoway.core.errors import TwowayError


class TooManyAttempts(TwowayError):
    """Refused until `retry_after` seconds have passed (sent as the Retry-After header)."""

    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def client_address(request: HttpRequest) -> str:
    """The address a request came from. uvicorn has already put the client's address here when
    a trusted proxy (FORWARDED_ALLOW_IPS) forwarded it; any other X-Forwarded-For is the
    client's own claim, so it is never read."""
    return str(request.META.get("REMOTE_ADDR", ""))


def minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def too_many_message(seconds: float) -> str:
    n = minutes(seconds)
    return f"Too many failed attempts. Try again in {n} minute{'s' if n != 1 else ''}."


# --- Logins (django-axes) ---------------------------------------------------------------------


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' check before the password is. Without a request (a management command, the test
    client's login) there is no address to count by and nobody at the door: nothing to check."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username, password, **kwargs)
        return None


class LoginAttempts(AxesDatabaseHandler):
    """Axes' database handler with a limit for each of its lockout parameters: the pair of e-mail
    and address (LOGIN_FAILURE_LIMIT) and the address alone (LOGIN_ADDRESS_FAILURE_LIMIT).

    Axes compares one number with one limit (AXES_FAILURE_LIMIT, the pair's). The address's
    failures are scaled to that limit, so the number reaches it exactly when the address reaches
    its own: `address * pair_limit // address_limit >= pair_limit` iff `address >= address_limit`.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        pair, address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        pair_limit = settings.LOGIN_FAILURE_LIMIT
        return max(pair, address * pair_limit // settings.LOGIN_ADDRESS_FAILURE_LIMIT)

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kw: Any,
    ) -> None:
        if request is None:  # see LoginThrottleBackend: nothing to count by
            return
        super().user_login_failed(sender, credentials, request, **kw)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any]
) -> HttpResponse:
    """The login page again, saying how long to wait. A refused attempt counts as a failure and
    starts the cool-off again (axes' default), so the wait is the whole cool-off."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get("next", ""),
        "lockout": too_many_message(settings.LOGIN_COOLOFF_MINUTES * 60),
    }
    response = render(request, "web/login.html", context, status=429)
    response["Retry-After"] = str(settings.LOGIN_COOLOFF_MINUTES * 60)
    return response


# --- Invitation links and API keys ------------------------------------------------------------


@dataclass(frozen=True)
class Throttle:
    """Failures per address in a fixed window that starts at the first one; once `limit` is
    reached the address is refused until the window ends.

    The count lives in the cache (settings.CACHES: files in the data dir, shared by the web
    server's processes). Reading and writing it are not one atomic step, so two processes failing
    at the same instant may count once: a brake, not an exact meter. A success costs one read.
    """

    name: str
    limit_setting: str

    @property
    def limit(self) -> int:
        return int(getattr(settings, self.limit_setting))

    def _key(self, address: str) -> str:
        return f"throttle:{self.name}:{address}"

    def wait(self, request: HttpRequest) -> float:
        """Seconds until this address may try again; 0 when it may now."""
        entry = cache.get(self._key(client_address(request)))
        if entry is None:
            return 0.0
        count, until = entry
        if count < self.limit:
            return 0.0
        return max(0.0, until - time.time())

    def check(self, request: HttpRequest) -> None:
        """Raise TooManyAttempts while the address is refused."""
        if seconds := self.wait(request):
            raise TooManyAttempts(too_many_message(seconds), retry_after=math.ceil(seconds))

    def failed(self, request: HttpRequest) -> None:
        key = self._key(client_address(request))
        now = time.time()
        count, until = cache.get(key) or (0, now + settings.THROTTLE_WINDOW_MINUTES * 60)
        cache.set(key, (count + 1, until), timeout=max(1, math.ceil(until - now)))


INVITATIONS = Throttle("invitation", "INVITATION_FAILURE_LIMIT")
API_KEYS = Throttle("api-key", "API_KEY_FAILURE_LIMIT")
