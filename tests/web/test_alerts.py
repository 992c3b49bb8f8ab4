"""A person's alerts for new texts: set on the notifications page, each member their own, and
handed to the inbox page for its script."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import logged_in
from twoway.accounts.models import Membership

pytestmark = pytest.mark.django_db


def test_each_member_sets_their_own_alerts(admin: Membership, standard: Membership) -> None:
    client: Client = logged_in(standard)
    page = client.get("/notifications/").content.decode()
    assert 'name="alert_desktop"' in page and 'name="alert_sound"' in page
    assert (
        'data-alert-desktop="off" data-alert-sound="off"' in client.get("/inbox/").content.decode()
    )
    response = client.post("/notifications/alerts/", {"alert_desktop": "on", "alert_sound": "on"})
    assert response.status_code == 302
    standard.refresh_from_db()
    admin.refresh_from_db()
    assert (standard.alert_desktop, standard.alert_sound) == (True, True)
    assert (admin.alert_desktop, admin.alert_sound) == (False, False)  # nobody else's
    assert 'data-alert-desktop="on" data-alert-sound="on"' in client.get("/inbox/").content.decode()
    assert (
        'name="alert_desktop" data-ask-notifications checked'
        in client.get("/notifications/").content.decode()
    )
    client.post("/notifications/alerts/", {"alert_sound": "on"})
    standard.refresh_from_db()
    assert (standard.alert_desktop, standard.alert_sound) == (False, True)


def test_alerts_need_a_login(client: Client) -> None:
    assert client.post("/notifications/alerts/", {"alert_sound": "on"}).status_code == 302
