"""Guessing is braked: failed logins by account and address, invitation links and API keys."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, make_member
from twoway.accounts import throttling
from twoway.accounts.models import ApiKey, Membership, Organization, Role
from twoway.accounts.services import invitation_create

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"
LOCKED = "Too many failed attempts. Try again in 15 minutes."


def _log_in(email: str, password: str, address: str = "127.0.0.1", **extra: str) -> object:
    client = Client(REMOTE_ADDR=address, **extra)
    return client.post("/login/", {"username": email, "password": password})


def test_ten_wrong_passwords_lock_that_account_from_that_address(standard: Membership) -> None:
    for _ in range(9):
        assert _log_in("agent@acme.test", WRONG).status_code == 200
    # Nine failures still leave the door open to the right password.
    assert _log_in("agent@acme.test", PASSWORD).status_code == 302
    assert _log_in("agent@acme.test", WRONG).status_code == 429  # the tenth
    response = _log_in("agent@acme.test", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    page = response.content.decode()
    assert LOCKED in page and 'name="password"' in page and "agent@acme.test" in page
    assert "_auth_user_id" not in response.client.session
    # The same account from elsewhere, and another account from here, are not locked.
    assert _log_in("agent@acme.test", PASSWORD, address="203.0.113.9").status_code == 302
    make_member(standard.organization, "other@acme.test")
    assert _log_in("other@acme.test", PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(standard: Membership) -> None:
    for _ in range(10):
        _log_in("agent@acme.test", WRONG)
    assert _log_in("agent@acme.test", PASSWORD).status_code == 429
    # Every refused attempt started the cool-off again: 16 minutes after the last one...
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _log_in("agent@acme.test", PASSWORD).status_code == 302


def test_an_address_trying_many_accounts_is_locked_out_of_all(org: Organization) -> None:
    make_member(org, "real@acme.test")
    for i in range(49):
        assert _log_in(f"guess{i}@acme.test", WRONG).status_code == 200
    assert _log_in("real@acme.test", PASSWORD).status_code == 302
    assert _log_in("guess-last@acme.test", WRONG).status_code == 429  # the fiftieth
    assert _log_in("real@acme.test", PASSWORD).status_code == 429
    assert _log_in("real@acme.test", PASSWORD, address="203.0.113.9").status_code == 302


def test_a_forwarded_for_header_from_the_client_does_not_change_its_address(
    standard: Membership,
) -> None:
    # uvicorn reads X-Forwarded-For only from trusted proxies and then sets REMOTE_ADDR; a header
    # the client sent itself is its own claim and must not give it fresh counts.
    for i in range(10):
        _log_in("agent@acme.test", WRONG, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    response = _log_in("agent@acme.test", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert response.status_code == 429


def test_the_admin_login_is_locked_too(admin: Membership) -> None:
    admin.user.is_staff = True
    admin.user.save()
    client = Client()
    for _ in range(10):
        client.post("/admin/login/", {"username": "admin@acme.test", "password": WRONG})
    response = client.post("/admin/login/", {"username": "admin@acme.test", "password": PASSWORD})
    assert response.status_code == 429 and LOCKED in response.content.decode()


# --- Invitation links -------------------------------------------------------------------------


def test_an_address_guessing_invitation_links_is_refused(admin: Membership) -> None:
    invitation = invitation_create(
        organization=admin.organization,
        email="new@acme.test",
        role=Role.STANDARD,
        invited_by=admin,
        base_url="http://testserver",
    )
    guesser = Client()
    for i in range(20):
        assert guesser.get(f"/invite/guess-{i}/").status_code == 404
    response = guesser.get(f"/invite/{invitation.token}/")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert 890 < int(response["Retry-After"]) <= 900
    assert guesser.post(f"/invite/{invitation.token}/").status_code == 429
    # The invited person, elsewhere, is not held up.
    assert Client(REMOTE_ADDR="203.0.113.9").get(f"/invite/{invitation.token}/").status_code == 200


def test_a_valid_invitation_link_is_not_counted(admin: Membership) -> None:
    invitation = invitation_create(
        organization=admin.organization,
        email="new@acme.test",
        role=Role.STANDARD,
        invited_by=admin,
        base_url="http://testserver",
    )
    client = Client()
    for _ in range(25):
        assert client.get(f"/invite/{invitation.token}/").status_code == 200


# --- API keys ---------------------------------------------------------------------------------


def test_an_address_sending_wrong_api_keys_gets_429(
    standard: Membership, number: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    _key, raw = ApiKey.issue(owner=standard, name="CRM")
    for i in range(30):
        wrong = Client(HTTP_AUTHORIZATION=f"Bearer tw_wrong{i}")
        assert wrong.get("/api/v1/numbers").status_code == 401
    refused = Client(HTTP_AUTHORIZATION="Bearer tw_wrong-again").get("/api/v1/numbers")
    assert refused.status_code == 429
    assert refused.json() == {"error": {"code": "too_many_attempts", "message": LOCKED}}
    assert 890 < int(refused["Retry-After"]) <= 900
    # Even the right key waits, so that a lucky guess would not show; elsewhere it works.
    right = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert right.get("/api/v1/numbers").status_code == 429
    elsewhere = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR="203.0.113.9")
    assert elsewhere.get("/api/v1/numbers").status_code == 200
    # The window ends 15 minutes after the first wrong key.
    later = time.time() + 15 * 60 + 1
    monkeypatch.setattr(throttling.time, "time", lambda: later)
    assert right.get("/api/v1/numbers").status_code == 200


def test_right_api_keys_are_not_counted(standard: Membership, number: object) -> None:
    _key, raw = ApiKey.issue(owner=standard, name="CRM")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for _ in range(40):
        assert api.get("/api/v1/numbers").status_code == 200
