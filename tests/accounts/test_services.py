"""People and organization settings: invitations, roles, deactivation, teams, settings."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, make_member
from twoway.accounts.models import ApiKey, Invitation, Membership, Organization, Role, Team
from twoway.accounts.services import (
    INVITATION_VALID_FOR,
    InvalidFields,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_deactivate,
    membership_reactivate,
    membership_update,
    organization_settings_update,
    team_create,
    team_delete,
    team_update,
)
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """These tests create and log in many users; PBKDF2's deliberate slowness is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


NEW_PASSWORD = "plum-velvet-harbour-42"
BASE = "http://twoway.test:8000"


def _invite(
    admin: Membership, email: str = "new@acme.test", role: str = Role.STANDARD
) -> Invitation:
    return invitation_create(
        organization=admin.organization, email=email, role=role, invited_by=admin, base_url=BASE
    )


def _link(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://\S+/invite/[\w-]+/", str(message.body))
    assert found, message.body
    return found.group(0)


# --- Invitations ---------------------------------------------------------------------------


def test_invitation_is_emailed_with_an_absolute_link_and_expires_in_7_days(
    admin: Membership, django_capture_on_commit_callbacks
) -> None:
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = _invite(admin, email="  New.Person@Acme.TEST ", role=Role.LIMITED)
    assert invitation.email == "new.person@acme.test"
    assert invitation.role == Role.LIMITED
    assert invitation.invited_by == admin.user
    assert len(invitation.token) >= 40
    assert before + INVITATION_VALID_FOR <= invitation.expires_at
    assert invitation.expires_at <= timezone.now() + INVITATION_VALID_FOR
    assert datetime.timedelta(days=7) == INVITATION_VALID_FOR
    [message] = mail.outbox
    assert message.to == ["new.person@acme.test"]
    assert "Acme Dental" in message.subject
    assert _link(message) == f"{BASE}/invite/{invitation.token}/"
    assert "Limited" in message.body


def test_invitation_link_prefers_the_public_url(
    admin: Membership, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TWOWAY_PUBLIC_URL = "https://texts.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        invitation = _invite(admin)
    assert _link(mail.outbox[0]) == f"https://texts.example.com/invite/{invitation.token}/"


def test_tokens_are_unique_per_invitation(admin: Membership) -> None:
    first = _invite(admin, email="a@acme.test")
    second = _invite(admin, email="b@acme.test")
    assert first.token != second.token


def test_invitation_refuses_an_email_that_already_has_an_account(
    admin: Membership, standard: Membership, django_capture_on_commit_callbacks
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(InvalidInput, match="already has a Twoway account") as caught,
    ):
        _invite(admin, email="AGENT@acme.test")
    assert caught.value.code == "email_taken"
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_invitation_refuses_an_email_of_another_organizations_user(
    admin: Membership, other_org: Organization
) -> None:
    make_member(other_org, "someone@other.test")
    with pytest.raises(InvalidInput, match="already has a Twoway account"):
        _invite(admin, email="someone@other.test")


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("not-an-email", Role.STANDARD, "valid e-mail"),
        ("", Role.STANDARD, "valid e-mail"),
        ("x@acme.test", "owner", "Pick a role"),
    ],
)
def test_invitation_refuses_bad_input(
    admin: Membership, email: str, role: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        _invite(admin, email=email, role=role)
    assert not Invitation.objects.exists()


def test_only_admins_of_the_organization_invite(
    admin: Membership, standard: Membership, limited: Membership, other_org: Organization
) -> None:
    for member in (standard, limited):
        with pytest.raises(PermissionDenied):
            _invite(member)
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    with pytest.raises(NotFound):
        invitation_create(
            organization=admin.organization,
            email="x@acme.test",
            role=Role.STANDARD,
            invited_by=outsider,
            base_url=BASE,
        )
    assert not Invitation.objects.exists()


def test_a_deactivated_admin_can_do_nothing(org: Organization, admin: Membership) -> None:
    second = make_member(org, "second@acme.test", Role.ADMINISTRATIVE)
    membership_deactivate(actor=admin, membership=second)
    second.user.refresh_from_db()
    with pytest.raises(PermissionDenied, match="deactivated"):
        _invite(second)


def test_accepting_creates_the_user_with_the_invited_role(admin: Membership) -> None:
    invitation = _invite(admin, email="New@Acme.test", role=Role.LIMITED)
    membership = invitation_accept(
        token=invitation.token, password=NEW_PASSWORD, name="  Rosa Diaz "
    )
    user = membership.user
    assert (user.username, user.email) == ("new@acme.test", "new@acme.test")
    assert user.get_full_name() == "Rosa Diaz"
    assert user.check_password(NEW_PASSWORD) and user.is_active
    assert membership.organization == admin.organization
    assert membership.role == Role.LIMITED and membership.can_send_sms
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert Client().login(username="new@acme.test", password=NEW_PASSWORD)


def test_a_used_invitation_is_refused(admin: Membership) -> None:
    invitation = _invite(admin)
    invitation_accept(token=invitation.token, password=NEW_PASSWORD, name="Rosa")
    with pytest.raises(InvalidInput, match="used already") as caught:
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, name="Rosa")
    assert caught.value.code == "invitation_used"
    assert Membership.objects.filter(user__username="new@acme.test").count() == 1


def test_an_expired_invitation_is_refused(admin: Membership) -> None:
    invitation = _invite(admin)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(InvalidInput, match="expired") as caught:
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, name="Rosa")
    assert caught.value.code == "invitation_expired"
    assert not get_user_model().objects.filter(username="new@acme.test").exists()


@pytest.mark.parametrize("token", ["", "nope", "x" * 43])
def test_an_unknown_token_is_not_found(admin: Membership, token: str) -> None:
    _invite(admin)
    with pytest.raises(NotFound, match="not valid"):
        invitation_accept(token=token, password=NEW_PASSWORD, name="Rosa")


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "too short"), ("password123", "too common"), ("", "too short")],
)
def test_accepting_validates_the_password_and_keeps_the_invitation(
    admin: Membership, password: str, message: str
) -> None:
    invitation = _invite(admin)
    with pytest.raises(InvalidInput, match=message) as caught:
        invitation_accept(token=invitation.token, password=password, name="Rosa")
    assert caught.value.code == "invalid_password"
    assert not get_user_model().objects.filter(username="new@acme.test").exists()
    invitation_accept(token=invitation.token, password=NEW_PASSWORD, name="Rosa")


def test_accepting_needs_a_name(admin: Membership) -> None:
    invitation = _invite(admin)
    with pytest.raises(InvalidInput, match="your name"):
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, name="   ")
    with pytest.raises(InvalidInput, match="at most 150"):
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, name="x" * 151)


def test_accepting_refuses_an_email_that_got_an_account_since(
    admin: Membership, other_org: Organization
) -> None:
    invitation = _invite(admin)
    make_member(other_org, "new@acme.test")
    with pytest.raises(InvalidInput, match="already has a Twoway account"):
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, name="Rosa")
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_inviting_again_replaces_the_pending_link(admin: Membership) -> None:
    first = _invite(admin)
    second = _invite(admin, role=Role.LIMITED)
    with pytest.raises(InvalidInput, match="expired"):
        invitation_accept(token=first.token, password=NEW_PASSWORD, name="Rosa")
    membership = invitation_accept(token=second.token, password=NEW_PASSWORD, name="Rosa")
    assert membership.role == Role.LIMITED


def test_a_revoked_invitation_no_longer_works(
    admin: Membership, standard: Membership, other_org: Organization
) -> None:
    invitation = _invite(admin)
    with pytest.raises(PermissionDenied):
        invitation_revoke(actor=standard, invitation=invitation)
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    with pytest.raises(NotFound):
        invitation_revoke(actor=outsider, invitation=invitation)
    invitation_revoke(actor=admin, invitation=invitation)
    with pytest.raises(NotFound):
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, name="Rosa")


# --- Members -------------------------------------------------------------------------------


def _update(actor: Membership, member: Membership, role: str, **switches: bool) -> Membership:
    values = {"can_send_sms": True} | switches
    return membership_update(actor=actor, membership=member, role=role, **values)


def test_admin_changes_role_and_permissions(admin: Membership, standard: Membership) -> None:
    _update(admin, standard, Role.LIMITED, can_send_sms=False)
    standard.refresh_from_db()
    assert standard.role == Role.LIMITED and not standard.can_send_sms
    assert not standard.can_reply and not standard.can_initiate


def test_membership_update_refuses_an_unknown_role(admin: Membership, standard: Membership) -> None:
    with pytest.raises(InvalidInput, match="Pick a role"):
        _update(admin, standard, "superuser")
    standard.refresh_from_db()
    assert standard.role == Role.STANDARD


def test_non_admins_cannot_change_anyone(
    standard: Membership, limited: Membership, admin: Membership
) -> None:
    with pytest.raises(PermissionDenied):
        _update(standard, standard, Role.ADMINISTRATIVE)
    with pytest.raises(PermissionDenied):
        _update(limited, limited, Role.STANDARD)
    with pytest.raises(PermissionDenied):
        membership_deactivate(actor=standard, membership=admin)
    with pytest.raises(PermissionDenied):
        membership_reactivate(actor=standard, membership=limited)
    standard.refresh_from_db()
    assert standard.role == Role.STANDARD
    admin.user.refresh_from_db()
    assert admin.user.is_active


def test_admins_cannot_touch_another_organizations_people(
    admin: Membership, other_org: Organization
) -> None:
    outsider = make_member(other_org, "agent@other.test")
    with pytest.raises(NotFound):
        _update(admin, outsider, Role.ADMINISTRATIVE)
    with pytest.raises(NotFound):
        membership_deactivate(actor=admin, membership=outsider)
    with pytest.raises(NotFound):
        membership_reactivate(actor=admin, membership=outsider)
    outsider.refresh_from_db()
    outsider.user.refresh_from_db()
    assert outsider.role == Role.STANDARD and outsider.user.is_active


def test_the_last_active_admin_cannot_demote_themself(admin: Membership) -> None:
    for role in (Role.STANDARD, Role.LIMITED):
        with pytest.raises(InvalidInput, match="last active administrator") as caught:
            _update(admin, admin, role)
        assert caught.value.code == "last_admin"
    admin.refresh_from_db()
    assert admin.role == Role.ADMINISTRATIVE
    # Keeping the role while changing switches is fine.
    _update(admin, admin, Role.ADMINISTRATIVE, can_send_sms=False)
    admin.refresh_from_db()
    assert admin.role == Role.ADMINISTRATIVE and not admin.can_send_sms


def test_the_last_active_admin_cannot_deactivate_themself(admin: Membership) -> None:
    with pytest.raises(InvalidInput, match="last active administrator"):
        membership_deactivate(actor=admin, membership=admin)
    admin.user.refresh_from_db()
    assert admin.user.is_active


def test_a_deactivated_admin_does_not_count_as_another_admin(
    org: Organization, admin: Membership
) -> None:
    second = make_member(org, "second@acme.test", Role.ADMINISTRATIVE)
    membership_deactivate(actor=admin, membership=second)
    with pytest.raises(InvalidInput, match="last active administrator"):
        _update(admin, admin, Role.STANDARD)


def test_with_another_active_admin_an_admin_may_step_down(
    org: Organization, admin: Membership
) -> None:
    second = make_member(org, "second@acme.test", Role.ADMINISTRATIVE)
    _update(admin, admin, Role.STANDARD)
    admin.refresh_from_db()
    assert admin.role == Role.STANDARD
    # Now `second` is the last one.
    with pytest.raises(InvalidInput, match="last active administrator"):
        membership_deactivate(actor=second, membership=second)


def test_an_admin_may_demote_another_admin(org: Organization, admin: Membership) -> None:
    second = make_member(org, "second@acme.test", Role.ADMINISTRATIVE)
    _update(admin, second, Role.STANDARD)
    second.refresh_from_db()
    assert second.role == Role.STANDARD


def test_a_deactivated_user_cannot_log_in_until_reactivated(
    admin: Membership, standard: Membership
) -> None:
    session = Client()
    session.force_login(standard.user)
    assert session.get("/inbox/").status_code == 200
    membership_deactivate(actor=admin, membership=standard)
    standard.user.refresh_from_db()
    assert not standard.user.is_active
    assert not Client().login(username="agent@acme.test", password=PASSWORD)
    # An open session ends at its next request.
    response = session.get("/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    membership_reactivate(actor=admin, membership=standard)
    assert Client().login(username="agent@acme.test", password=PASSWORD)


def test_deactivating_a_user_ends_their_sessions_for_good(
    admin: Membership, standard: Membership
) -> None:
    # A real login through the form, and a second browser of theirs.
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        response = browser.post("/login/", {"username": "agent@acme.test", "password": PASSWORD})
        assert response.status_code == 302
        assert browser.get("/inbox/").status_code == 200
    others = Client()
    others.force_login(admin.user)
    membership_deactivate(actor=admin, membership=standard)
    membership_reactivate(actor=admin, membership=standard)
    # Reactivation does not bring the old cookies back to life.
    for browser in (laptop, phone):
        response = browser.get("/inbox/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    # Nobody else was logged out.
    assert others.get("/inbox/").status_code == 200


def test_a_deactivated_users_api_key_is_refused(
    admin: Membership, standard: Membership, number: object
) -> None:
    _key, raw = ApiKey.issue(owner=standard, name="CRM")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/numbers").status_code == 200
    membership_deactivate(actor=admin, membership=standard)
    response = api.get("/api/v1/numbers")
    assert response.status_code == 401
    membership_reactivate(actor=admin, membership=standard)
    assert api.get("/api/v1/numbers").status_code == 200


# --- Teams ---------------------------------------------------------------------------------


def test_team_create_rename_set_members_and_delete(
    org: Organization, admin: Membership, standard: Membership, limited: Membership
) -> None:
    team = team_create(actor=admin, organization=org, name=" Front desk ", members=[standard])
    assert team.name == "Front desk"
    assert list(team.members.all()) == [standard]
    team_update(actor=admin, team=team, name="Reception", members=[limited, admin])
    team.refresh_from_db()
    assert team.name == "Reception"
    assert set(team.members.all()) == {limited, admin}
    team_update(actor=admin, team=team, name="Reception", members=[])
    assert not team.members.exists()
    team_delete(actor=admin, team=team)
    assert not Team.objects.exists()
    assert Membership.objects.filter(pk=limited.pk).exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Give the team a name"), ("   ", "Give the team a name"), ("x" * 101, "at most 100")],
)
def test_team_needs_a_proper_name(
    org: Organization, admin: Membership, name: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        team_create(actor=admin, organization=org, name=name)
    assert not Team.objects.exists()


def test_team_names_are_unique_in_an_organization(
    org: Organization, other_org: Organization, admin: Membership
) -> None:
    team_create(actor=admin, organization=org, name="Front desk")
    other = team_create(actor=admin, organization=org, name="Billing")
    with pytest.raises(InvalidInput, match="already"):
        team_create(actor=admin, organization=org, name="front DESK")
    with pytest.raises(InvalidInput, match="already"):
        team_update(actor=admin, team=other, name="Front Desk", members=[])
    other.refresh_from_db()
    assert other.name == "Billing"
    # Renaming a team to its own name, or another organization using the name, is fine.
    team_update(actor=admin, team=other, name="billing", members=[])
    boss = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    team_create(actor=boss, organization=other_org, name="Front desk")


def test_teams_are_admin_only_and_stay_in_their_organization(
    org: Organization,
    other_org: Organization,
    admin: Membership,
    standard: Membership,
) -> None:
    with pytest.raises(PermissionDenied):
        team_create(actor=standard, organization=org, name="Mine")
    team = team_create(actor=admin, organization=org, name="Front desk")
    with pytest.raises(PermissionDenied):
        team_update(actor=standard, team=team, name="Mine", members=[standard])
    with pytest.raises(PermissionDenied):
        team_delete(actor=standard, team=team)
    outsider = make_member(other_org, "agent@other.test")
    boss = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    # A member of another organization cannot be put in a team...
    with pytest.raises(NotFound):
        team_update(actor=admin, team=team, name="Front desk", members=[outsider])
    with pytest.raises(NotFound):
        team_create(actor=admin, organization=org, name="Mixed", members=[outsider])
    # ...and another organization's admin cannot see, create in or delete the team.
    with pytest.raises(NotFound):
        team_create(actor=boss, organization=org, name="Intruders")
    with pytest.raises(NotFound):
        team_update(actor=boss, team=team, name="Ours", members=[boss])
    with pytest.raises(NotFound):
        team_delete(actor=boss, team=team)
    team.refresh_from_db()
    assert team.name == "Front desk" and not team.members.exists()
    assert Team.objects.count() == 1


# --- Organization settings -----------------------------------------------------------------


def test_settings_update_saves_every_field(org: Organization, admin: Membership) -> None:
    organization_settings_update(
        actor=admin,
        organization=org,
        name="  Acme Dental Clinic ",
        help_text="Acme: call 555-0100.",
        opt_out_confirmation="Bye.",
        opt_in_confirmation="Welcome back.",
        max_message_length=1600,
        allow_conversation_delete=False,
        consent_required=True,
        consent_message="Acme texts you. Reply STOP to opt out.",
        time_zone="America/Chicago",
        allowed_countries="us, gb",
    )
    org.refresh_from_db()
    assert org.name == "Acme Dental Clinic"
    assert (org.help_text, org.opt_out_confirmation, org.opt_in_confirmation) == (
        "Acme: call 555-0100.",
        "Bye.",
        "Welcome back.",
    )
    assert org.max_message_length == 1600
    assert not org.allow_conversation_delete and org.consent_required
    assert org.consent_message == "Acme texts you. Reply STOP to opt out."
    assert org.time_zone == "America/Chicago" and org.allowed_countries == "US,GB"


def test_settings_update_changes_only_the_fields_given(
    org: Organization, admin: Membership
) -> None:
    organization_settings_update(actor=admin, organization=org, max_message_length=1)
    org.refresh_from_db()
    assert org.max_message_length == 1
    assert org.name == "Acme Dental" and org.time_zone == "America/New_York"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"max_message_length": 0}, "max_message_length", "between 1 and 1600"),
        ({"max_message_length": 1601}, "max_message_length", "between 1 and 1600"),
        ({"max_message_length": None}, "max_message_length", "between 1 and 1600"),
        ({"name": "  "}, "name", "Give the organization a name"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"consent_required": True, "consent_message": " "}, "consent_message", "cannot be empty"),
        ({"consent_required": True, "help_text": ""}, "help_text", "cannot be empty"),
        ({"help_text": "x" * 481}, "help_text", "at most 480"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "not a time zone"),
        ({"time_zone": ""}, "time_zone", "not a time zone"),
    ],
)
def test_settings_update_refuses_bad_values_and_saves_nothing(
    org: Organization, admin: Membership, fields: dict[str, object], field: str, message: str
) -> None:
    valid_too = {"name": "Renamed", "allow_conversation_delete": False}
    with pytest.raises(InvalidFields) as caught:
        organization_settings_update(actor=admin, organization=org, **(valid_too | fields))
    assert field in caught.value.errors
    assert message in caught.value.errors[field]
    assert message in caught.value.message
    assert org.name == "Acme Dental"  # nor changed in memory
    org.refresh_from_db()
    assert org.name == "Acme Dental" and org.allow_conversation_delete
    assert org.max_message_length == 550 and org.time_zone == "America/New_York"


def test_settings_update_reports_every_bad_field_at_once(
    org: Organization, admin: Membership
) -> None:
    with pytest.raises(InvalidFields) as caught:
        organization_settings_update(
            actor=admin, organization=org, max_message_length=0, time_zone="Nowhere"
        )
    assert set(caught.value.errors) == {"max_message_length", "time_zone"}


def test_empty_help_text_is_allowed_without_required_consent(
    org: Organization, admin: Membership
) -> None:
    organization_settings_update(actor=admin, organization=org, help_text="")
    with pytest.raises(InvalidFields):
        organization_settings_update(actor=admin, organization=org, consent_required=True)
    org.refresh_from_db()
    assert org.help_text == "" and not org.consent_required


def test_settings_update_is_admin_only_and_for_their_own_organization(
    org: Organization, other_org: Organization, admin: Membership, standard: Membership
) -> None:
    with pytest.raises(PermissionDenied):
        organization_settings_update(actor=standard, organization=org, name="Mine")
    with pytest.raises(NotFound):
        organization_settings_update(actor=admin, organization=other_org, name="Mine")
    other_org.refresh_from_db()
    org.refresh_from_db()
    assert (org.name, other_org.name) == ("Acme Dental", "Other Org")


def test_settings_update_rejects_unknown_fields(org: Organization, admin: Membership) -> None:
    with pytest.raises(TypeError, match="country"):
        organization_settings_update(actor=admin, organization=org, country="FR")
    # The switches of features not built yet are not settings one can change.
    with pytest.raises(TypeError, match="blasts_enabled"):
        organization_settings_update(actor=admin, organization=org, blasts_enabled="1")
    org.refresh_from_db()
    assert org.blasts_enabled


def test_demoting_an_admin_takes_away_the_operators_django_admin(
    admin: Membership, org: Organization
) -> None:
    operator = make_member(org, "operator@acme.test", Role.ADMINISTRATIVE)
    type(operator.user).objects.filter(pk=operator.user_id).update(is_staff=True, is_superuser=True)
    membership_update(
        actor=admin,
        membership=operator,
        role=Role.STANDARD,
        can_send_sms=True,
    )
    operator.user.refresh_from_db()
    assert not operator.user.is_staff and not operator.user.is_superuser
