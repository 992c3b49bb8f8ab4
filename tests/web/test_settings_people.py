"""The admin's people and organization pages, and the public invitation page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, logged_in, make_member
from tests.web.organization_form import organization_form
from twoway.accounts.models import Invitation, Membership, Organization, Role, Team
from twoway.accounts.services import invitation_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """These tests create and log in many users; PBKDF2's deliberate slowness is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


NEW_PASSWORD = "plum-velvet-harbour-42"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _member_post(member: Membership, role: str, *switches: str) -> dict[str, str]:
    data = {f"member-{member.pk}-role": role}
    for switch in switches:
        data[f"member-{member.pk}-{switch}"] = "on"
    return data


def test_settings_pages_render_for_admins(
    org: Organization, admin: Membership, standard: Membership
) -> None:
    Team.objects.create(organization=org, name="Front desk").members.add(standard)
    client = logged_in(admin)
    index = client.get("/settings/").content.decode()
    for url in ["/settings/users/", "/settings/teams/", "/settings/organization/"]:
        assert f'href="{url}"' in index
    users = client.get("/settings/users/")
    assert users.status_code == 200
    page = users.content.decode()
    assert "admin@acme.test" in page and "agent@acme.test" in page
    assert "Send SMS to clients" in page and "Invite someone" in page
    assert f'id="member-{standard.pk}"' in page
    assert f'for="id_member-{standard.pk}-role"' in page
    teams = client.get("/settings/teams/").content.decode()
    assert "Front desk" in teams and "agent@acme.test" in teams
    organization = client.get("/settings/organization/").content.decode()
    assert 'value="Acme Dental"' in organization
    assert 'for="id_max_message_length"' in organization
    assert 'value="America/New_York"' in organization


def _settings_urls(org: Organization, member: Membership) -> list[tuple[str, str]]:
    team = Team.objects.create(organization=org, name="Front desk")
    invitation = Invitation.objects.create(
        organization=org,
        email="x@acme.test",
        token="t" * 43,
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    return [
        ("get", "/settings/"),
        ("get", "/settings/users/"),
        ("get", "/settings/teams/"),
        ("get", "/settings/organization/"),
        ("post", "/settings/users/invite/"),
        ("post", f"/settings/users/{member.pk}/"),
        ("post", f"/settings/users/{member.pk}/deactivate/"),
        ("post", f"/settings/users/{member.pk}/reactivate/"),
        ("post", f"/settings/invitations/{invitation.pk}/cancel/"),
        ("post", "/settings/teams/"),
        ("post", f"/settings/teams/{team.pk}/"),
        ("post", f"/settings/teams/{team.pk}/delete/"),
        ("post", "/settings/organization/"),
    ]


@pytest.mark.parametrize("role", [Role.STANDARD, Role.LIMITED])
def test_non_admins_get_403_on_every_settings_url(org: Organization, role: str) -> None:
    member = make_member(org, f"{role}@acme.test", role)
    client = logged_in(member)
    for method, url in _settings_urls(org, member):
        data = {"name": "Hacked", "email": "evil@x.test", "role": "admin"}
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, url
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert member.role == role and member.user.is_active
    assert Team.objects.get().name == "Front desk"
    assert Invitation.objects.count() == 1
    org.refresh_from_db()
    assert org.name == "Acme Dental"


def test_pages_need_login(client: Client) -> None:
    response = client.get("/settings/users/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_other_organizations_ids_are_404(admin: Membership, other_org: Organization) -> None:
    boss = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    outsider = make_member(other_org, "agent@other.test")
    team = Team.objects.create(organization=other_org, name="Theirs")
    invitation = invitation_create(
        organization=other_org,
        email="x@other.test",
        role=Role.STANDARD,
        invited_by=boss,
        base_url="http://testserver",
    )
    client = logged_in(admin)
    urls = [
        f"/settings/users/{outsider.pk}/",
        f"/settings/users/{outsider.pk}/deactivate/",
        f"/settings/users/{outsider.pk}/reactivate/",
        f"/settings/invitations/{invitation.pk}/cancel/",
        f"/settings/teams/{team.pk}/",
        f"/settings/teams/{team.pk}/delete/",
    ]
    for url in urls:
        response = client.post(
            url, {f"team-{team.pk}-name": "Ours", **_member_post(outsider, "admin")}
        )
        assert response.status_code == 404, url
    outsider.refresh_from_db()
    outsider.user.refresh_from_db()
    assert outsider.role == Role.STANDARD and outsider.user.is_active
    assert Team.objects.filter(pk=team.pk, name="Theirs").exists()
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    # Another organization's people are not offered as team members either.
    response = client.post("/settings/teams/", {"new-name": "Mixed", "new-members": [outsider.pk]})
    assert response.status_code == 422
    assert not Team.objects.filter(name="Mixed").exists()


def _invite_link(message: mail.EmailMessage) -> str:
    found = re.search(r"http://testserver(/invite/[\w-]+/)", str(message.body))
    assert found, message.body
    return found.group(1)


def test_invite_email_accept_and_log_in_with_the_role(
    admin: Membership, number, django_capture_on_commit_callbacks
) -> None:
    client = logged_in(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/settings/users/invite/", {"email": "Rosa@Acme.test", "role": Role.LIMITED}
        )
    assert response.status_code == 302 and response["Location"] == "/settings/users/"
    page = client.get("/settings/users/").content.decode()
    assert "Invitation e-mailed to rosa@acme.test" in page
    [message] = mail.outbox
    assert message.to == ["rosa@acme.test"]
    link = _invite_link(message)
    assert f"http://testserver{link}" in page  # listed under Pending invitations

    guest = Client()
    invite_page = guest.get(link)
    assert invite_page.status_code == 200
    text = invite_page.content.decode()
    assert "Join Acme Dental" in text and "rosa@acme.test" in text and "Limited" in text
    response = guest.post(
        link, {"name": "Rosa Diaz", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert guest.get("/inbox/").status_code == 200  # logged in
    membership = Membership.objects.get(user__username="rosa@acme.test")
    assert membership.role == Role.LIMITED and membership.organization_id == admin.organization_id
    assert membership.user.get_full_name() == "Rosa Diaz"

    fresh = Client()
    assert fresh.login(username="rosa@acme.test", password=NEW_PASSWORD)
    assert fresh.get("/inbox/new/").status_code == 403  # Limited cannot start conversations
    assert fresh.get("/settings/").status_code == 403
    # The link works once.
    used = Client().get(link)
    assert used.status_code == 400 and "used already" in used.content.decode()


def test_invite_refuses_an_existing_users_email(
    admin: Membership, standard: Membership, django_capture_on_commit_callbacks
) -> None:
    client = logged_in(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/settings/users/invite/", {"email": "agent@acme.test", "role": Role.STANDARD}
        )
    assert response.status_code == 422
    assert "agent@acme.test already has a Twoway account" in response.content.decode()
    assert not Invitation.objects.exists() and mail.outbox == []
    response = client.post("/settings/users/invite/", {"email": "nope", "role": Role.STANDARD})
    assert response.status_code == 422 and "valid email" in response.content.decode().lower()


def test_cancel_an_invitation(admin: Membership) -> None:
    invitation = invitation_create(
        organization=admin.organization,
        email="rosa@acme.test",
        role=Role.STANDARD,
        invited_by=admin,
        base_url="http://testserver",
    )
    client = logged_in(admin)
    response = client.post(f"/settings/invitations/{invitation.pk}/cancel/")
    assert response.status_code == 302
    assert not Invitation.objects.exists()
    assert Client().get(f"/invite/{invitation.token}/").status_code == 404


def _pending(admin: Membership) -> Invitation:
    return invitation_create(
        organization=admin.organization,
        email="rosa@acme.test",
        role=Role.STANDARD,
        invited_by=admin,
        base_url="http://testserver",
    )


def test_accept_page_shows_form_errors_and_creates_nothing(admin: Membership) -> None:
    link = f"/invite/{_pending(admin).token}/"
    guest = Client()
    cases = [
        ({"name": "Rosa", "password": NEW_PASSWORD, "password_again": "other"}, "not the same"),
        ({"name": "Rosa", "password": "short", "password_again": "short"}, "too short"),
        ({"name": " ", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}, "your name"),
    ]
    for data, error in cases:
        response = guest.post(link, data)
        assert response.status_code == 422
        assert error in response.content.decode()
    assert not get_user_model().objects.filter(username="rosa@acme.test").exists()
    assert guest.get("/inbox/").status_code == 302  # still not logged in


def test_expired_and_unknown_invitation_pages(admin: Membership) -> None:
    invitation = _pending(admin)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = Client().get(f"/invite/{invitation.token}/")
    assert response.status_code == 400 and "expired" in response.content.decode()
    response = Client().post(
        f"/invite/{invitation.token}/",
        {"name": "Rosa", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="rosa@acme.test").exists()
    response = Client().get("/invite/not-a-token/")
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_update_a_member_with_htmx_returns_the_row(admin: Membership, standard: Membership) -> None:
    client = logged_in(admin)
    response = client.post(
        f"/settings/users/{standard.pk}/",
        _member_post(standard, Role.LIMITED),
        **HTMX,
    )
    assert response.status_code == 200
    row = response.content.decode()
    assert row.strip().startswith(f'<tr id="member-{standard.pk}"')
    assert "Saved agent@acme.test." in row
    standard.refresh_from_db()
    assert (standard.role, standard.can_send_sms) == (Role.LIMITED, False)


def test_update_a_member_without_htmx_redirects(admin: Membership, standard: Membership) -> None:
    client = logged_in(admin)
    response = client.post(
        f"/settings/users/{standard.pk}/", _member_post(standard, Role.STANDARD, "can_send_sms")
    )
    assert response.status_code == 302 and response["Location"] == "/settings/users/"
    response = client.post(f"/settings/users/{standard.pk}/", _member_post(standard, "owner"))
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_last_admin_cannot_demote_themself_from_the_page(admin: Membership) -> None:
    client = logged_in(admin)
    response = client.post(
        f"/settings/users/{admin.pk}/", _member_post(admin, Role.STANDARD, "can_send_sms"), **HTMX
    )
    assert response.status_code == 422
    assert "last active administrator" in response.content.decode()
    response = client.post(f"/settings/users/{admin.pk}/deactivate/", **HTMX)
    assert response.status_code == 422
    assert "last active administrator" in response.content.decode()
    admin.refresh_from_db()
    admin.user.refresh_from_db()
    assert admin.role == Role.ADMINISTRATIVE and admin.user.is_active
    # Without htmx, the whole page with the message.
    response = client.post(f"/settings/users/{admin.pk}/", _member_post(admin, Role.LIMITED))
    assert response.status_code == 422
    assert "last active administrator" in response.content.decode()
    assert "Invite someone" in response.content.decode()


def test_an_admin_who_steps_down_leaves_the_settings(org: Organization, admin: Membership) -> None:
    make_member(org, "second@acme.test", Role.ADMINISTRATIVE)
    client = logged_in(admin)
    response = client.post(
        f"/settings/users/{admin.pk}/", _member_post(admin, Role.STANDARD, "can_send_sms"), **HTMX
    )
    assert response.status_code == 204 and response["HX-Redirect"] == "/inbox/"
    assert client.get("/settings/users/").status_code == 403


def test_deactivate_from_the_page_stops_log_in_and_reactivate_restores_it(
    admin: Membership, standard: Membership
) -> None:
    session = logged_in(standard)
    client = logged_in(admin)
    response = client.post(f"/settings/users/{standard.pk}/deactivate/", **HTMX)
    assert response.status_code == 200
    row = response.content.decode()
    assert "Deactivated" in row and "Reactivate" in row
    assert not Client().login(username="agent@acme.test", password=PASSWORD)
    login = Client().post("/login/", {"username": "agent@acme.test", "password": PASSWORD})
    assert login.status_code == 200 and "do not match" in login.content.decode()
    assert session.get("/inbox/").status_code == 302  # the open session ended too
    assert "Deactivated" in client.get("/settings/users/").content.decode()

    response = client.post(f"/settings/users/{standard.pk}/reactivate/")
    assert response.status_code == 302
    assert Client().login(username="agent@acme.test", password=PASSWORD)


def test_teams_create_rename_members_and_delete(
    org: Organization, admin: Membership, standard: Membership, limited: Membership
) -> None:
    client = logged_in(admin)
    response = client.post(
        "/settings/teams/", {"new-name": "Front desk", "new-members": [standard.pk]}
    )
    team = Team.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#team-{team.pk}")
    assert list(team.members.all()) == [standard]
    assert "Team “Front desk” created." in client.get("/settings/teams/").content.decode()

    response = client.post(
        f"/settings/teams/{team.pk}/",
        {f"team-{team.pk}-name": "Reception", f"team-{team.pk}-members": [limited.pk, admin.pk]},
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Reception" and set(team.members.all()) == {limited, admin}

    response = client.post("/settings/teams/", {"new-name": "reception"})
    assert response.status_code == 422 and "already" in response.content.decode()
    response = client.post(f"/settings/teams/{team.pk}/", {f"team-{team.pk}-name": ""})
    assert response.status_code == 422 and "Give the team a name" in response.content.decode()
    team.refresh_from_db()
    assert team.name == "Reception" and team.members.count() == 2

    response = client.post(f"/settings/teams/{team.pk}/delete/")
    assert response.status_code == 302
    assert not Team.objects.exists()


def test_organization_settings_save(org: Organization, admin: Membership) -> None:
    client = logged_in(admin)
    response = client.post(
        "/settings/organization/",
        organization_form(
            org,
            name="Acme Dental Clinic",
            max_message_length="320",
            time_zone="America/Denver",
            consent_required="on",
            allow_conversation_delete=None,
        ),
    )
    assert response.status_code == 302 and response["Location"] == "/settings/organization/"
    org.refresh_from_db()
    assert org.name == "Acme Dental Clinic" and org.max_message_length == 320
    assert org.time_zone == "America/Denver"
    assert org.consent_required and not org.allow_conversation_delete
    page = client.get("/settings/organization/").content.decode()
    assert "Organization settings saved." in page and 'value="Acme Dental Clinic"' in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"max_message_length": "0"}, "between 1 and 1600"),
        ({"max_message_length": "1601"}, "between 1 and 1600"),
        ({"consent_required": "on", "consent_message": ""}, "cannot be empty"),
        ({"time_zone": "Mars/Olympus_Mons"}, "not a time zone"),
        ({"name": ""}, "Give the organization a name"),
    ],
)
def test_organization_settings_errors_are_shown_and_nothing_saved(
    org: Organization, admin: Membership, changes: dict[str, object], error: str
) -> None:
    client = logged_in(admin)
    response = client.post(
        "/settings/organization/",
        organization_form(
            org, **({"name": "Renamed", "allow_conversation_delete": None} | changes)
        ),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert error in page and "Nothing was saved" in page
    org.refresh_from_db()
    assert org.name == "Acme Dental" and org.allow_conversation_delete
    assert org.max_message_length == 550 and org.time_zone == "America/New_York"


# Words of features Twoway does not have yet: no page offers a switch for them. (Drip campaigns
# exist, and follow "Send SMS to clients": their stored switches are still offered nowhere.)
ABSENT_FEATURES = ("blast",)


def test_settings_pages_offer_no_switch_for_features_not_built(
    admin: Membership, standard: Membership
) -> None:
    client = logged_in(admin)
    for url in ["/settings/", "/settings/organization/", "/settings/users/"]:
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode().lower()
        for word in ABSENT_FEATURES:
            assert word not in page, (url, word)
        for field in ["blasts_enabled", "can_use_blasts"]:
            assert field not in page, (url, field)
        assert "business_hours" not in page and "business_days" not in page, url
    # Business hours and the away message are built, in their own page only.
    index = client.get("/settings/").content.decode()
    assert 'href="/settings/answering/"' in index
    for url in ["/settings/organization/", "/settings/users/"]:
        page = client.get(url).content.decode().lower()
        assert "away" not in page and "business hours" not in page, url
    organization = client.get("/settings/organization/").content.decode()
    assert 'name="time_zone"' in organization
    assert "Search's dates and conversation exports are in this zone." in organization


def test_posting_the_switches_of_features_not_built_changes_none_of_them(
    org: Organization, admin: Membership, standard: Membership
) -> None:
    Organization.objects.filter(pk=org.pk).update(blasts_enabled=True)
    Membership.objects.filter(pk=standard.pk).update(can_use_blasts=True)
    client = logged_in(admin)
    response = client.post(
        "/settings/organization/",
        organization_form(
            org, name="Acme Dental Clinic", blasts_enabled=None, business_hours_start="10"
        ),
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "Acme Dental Clinic"
    assert org.blasts_enabled  # not offered, so a form without it leaves it as it was
    response = client.post(
        f"/settings/users/{standard.pk}/",
        _member_post(standard, Role.LIMITED, "can_send_sms"),
        **HTMX,
    )
    assert response.status_code == 200 and "Saved agent@acme.test." in response.content.decode()
    standard.refresh_from_db()
    assert (standard.role, standard.can_send_sms) == (Role.LIMITED, True)
    assert standard.can_use_blasts


def test_the_drip_switches_of_the_organization_and_of_each_user(
    org: Organization, admin: Membership, standard: Membership
) -> None:
    client = logged_in(admin)
    assert 'name="drips_enabled"' in client.get("/settings/organization/").content.decode()
    users = client.get("/settings/users/").content.decode()
    assert f'name="member-{standard.pk}-can_use_drips"' in users
    response = client.post("/settings/organization/", organization_form(org, drips_enabled=None))
    assert response.status_code == 302
    org.refresh_from_db()
    assert not org.drips_enabled
    client.post("/settings/organization/", organization_form(org, drips_enabled="on"))
    org.refresh_from_db()
    assert org.drips_enabled
    response = client.post(
        f"/settings/users/{standard.pk}/",
        _member_post(standard, Role.STANDARD, "can_send_sms"),
        **HTMX,
    )
    assert response.status_code == 200
    standard.refresh_from_db()
    assert standard.can_send_sms and not standard.can_use_drips
