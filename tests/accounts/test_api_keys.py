"""Personal API keys: created and revoked on Settings, API keys, acting as their owner."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.conftest import logged_in
from twoway.accounts.api_keys import MAX_ACTIVE_KEYS_PER_MEMBER, api_key_owner_for_email
from twoway.accounts.models import ApiKey, Membership
from twoway.core.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db


def test_a_member_creates_a_key_shown_once(standard: Membership) -> None:
    client = logged_in(standard)
    response = client.post("/settings/api-keys/", {"name": "Booking system"})
    assert response.status_code == 201
    key = ApiKey.objects.get(owner=standard)
    page = response.content.decode()
    raw = page.split("data-new-key", 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]
    assert raw.startswith("tw_") and ApiKey.find_active(raw) == key
    assert response["Cache-Control"] == "no-store"
    assert raw not in client.get("/settings/api-keys/").content.decode()


def test_a_key_needs_a_name(standard: Membership) -> None:
    response = logged_in(standard).post("/settings/api-keys/", {"name": "  "})
    assert response.status_code == 422 and "Name the key" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_members_see_their_own_keys_admins_see_everyones(
    admin: Membership, standard: Membership, limited: Membership
) -> None:
    ApiKey.issue(owner=standard, name="Standard CRM")
    ApiKey.issue(owner=limited, name="Limited script")
    mine = logged_in(standard).get("/settings/api-keys/").content.decode()
    assert "Standard CRM" in mine and "Limited script" not in mine
    everyone = logged_in(admin).get("/settings/api-keys/").content.decode()
    assert "Standard CRM" in everyone and "Limited script" in everyone
    assert "limited@acme.test" in everyone


def test_revoking_a_key_stops_it_at_once(standard: Membership, number: object) -> None:
    from django.test import Client

    key, raw = ApiKey.issue(owner=standard, name="Old")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/numbers").status_code == 200
    response = logged_in(standard).post(f"/settings/api-keys/{key.pk}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api.get("/api/v1/numbers").status_code == 401


def test_there_is_a_limit_of_active_keys(standard: Membership) -> None:
    from twoway.accounts.api_keys import api_key_create

    for i in range(MAX_ACTIVE_KEYS_PER_MEMBER):
        api_key_create(owner=standard, name=f"k{i}")
    with pytest.raises(InvalidInput, match="revoke one"):
        api_key_create(owner=standard, name="one more")
    ApiKey.objects.filter(owner=standard).update(revoked_at=timezone.now())
    api_key_create(owner=standard, name="after revoking")


def test_the_cli_defaults_to_the_first_admin(admin: Membership, standard: Membership) -> None:
    assert api_key_owner_for_email(None) == admin
    assert api_key_owner_for_email("AGENT@acme.test") == standard
    with pytest.raises(NotFound):
        api_key_owner_for_email("nobody@acme.test")
    standard.user.is_active = False
    standard.user.save()
    with pytest.raises(InvalidInput, match="deactivated"):
        api_key_owner_for_email("agent@acme.test")


def test_non_admins_reach_their_keys_from_the_top_bar(standard: Membership) -> None:
    page = logged_in(standard).get("/inbox/").content.decode()
    assert 'href="/settings/api-keys/"' in page
    assert logged_in(standard).get("/settings/").status_code == 403
