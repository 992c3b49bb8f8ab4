"""Settings, Organization, Quiet hours: admins set the sending window and the daily cap."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from tests.conftest import logged_in
from tests.web.organization_form import organization_form
from twoway.accounts.models import Membership, Organization


def test_admins_see_the_default_window_and_change_it(admin: Membership, org: Organization) -> None:
    client = logged_in(admin)
    page = client.get(reverse("settings_organization")).content.decode()
    assert "Quiet hours" in page and 'value="08:00"' in page and 'value="21:00"' in page

    response = client.post(
        reverse("settings_organization"),
        organization_form(
            org, sending_window_start="09:30", sending_window_end="18:00", automated_daily_cap="2"
        ),
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.sending_window_start == dt.time(9, 30)
    assert org.sending_window_end == dt.time(18, 0)
    assert org.automated_daily_cap == 2


def test_a_window_ending_before_it_starts_is_refused_and_nothing_saved(
    admin: Membership, org: Organization
) -> None:
    response = logged_in(admin).post(
        reverse("settings_organization"),
        organization_form(
            org, name="Renamed", sending_window_start="21:00", sending_window_end="08:00"
        ),
    )

    assert response.status_code == 422
    assert "Automated texts must stop later in the day than they start" in response.content.decode()
    org.refresh_from_db()
    assert org.name == "Acme Dental" and org.sending_window_start == dt.time(8, 0)


def test_a_cap_out_of_range_is_refused(admin: Membership, org: Organization) -> None:
    response = logged_in(admin).post(
        reverse("settings_organization"), organization_form(org, automated_daily_cap="0")
    )

    assert response.status_code == 422
    assert "The cap must be between 1 and 100 texts" in response.content.decode()
    org.refresh_from_db()
    assert org.automated_daily_cap is None


def test_members_who_are_not_admins_cannot_change_quiet_hours(
    standard: Membership, org: Organization
) -> None:
    response = logged_in(standard).post(
        reverse("settings_organization"), organization_form(org, sending_window_start="06:00")
    )

    assert response.status_code == 403
    org.refresh_from_db()
    assert org.sending_window_start == dt.time(8, 0)
