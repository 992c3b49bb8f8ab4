"""Writes on people and organization settings: invitations, roles, teams, settings.

Every function takes the acting admin (`actor`) and checks they administer the organization of
the rows they touch: a non-admin gets PermissionDenied, another organization's row NotFound.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import secrets
import zoneinfo
from collections.abc import Iterable
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import CharField, Q
from django.urls import reverse
from django.utils import timezone

from twoway.accounts.access import require_admin
from twoway.accounts.models import Invitation, Membership, Organization, Role, Team
from twoway.accounts.names import person_name
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied
from twoway.core.phones import is_country_code

logger = logging.getLogger(__name__)

INVITATION_VALID_FOR = datetime.timedelta(days=7)
MAX_MESSAGE_LENGTH_LIMIT = 1600  # 10 GSM-7 segments; carriers refuse longer concatenations.


class InvalidFields(InvalidInput):
    """Several inputs are wrong at once; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()), code="invalid_fields")
        self.errors = errors


def _require_admin_of(actor: Membership, organization_id: int) -> None:
    """The actor is an active admin of that organization; other organizations look missing."""
    if not actor.user.is_active:
        raise PermissionDenied("Your account is deactivated.", code="inactive")
    require_admin(actor)
    if actor.organization_id != organization_id:
        raise NotFound("That does not exist.")


def _normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid e-mail address.", code="invalid_email") from None
    return email


def _email_taken(email: str) -> bool:
    return (
        get_user_model().objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists()
    )


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise InvalidInput("Pick a role: Administrative, Standard or Limited.", code="invalid_role")


# --- Invitations ---------------------------------------------------------------------------


def invitation_link(invitation: Invitation, *, base_url: str = "") -> str:
    """The absolute accept link: TWOWAY_PUBLIC_URL when set, else the host the admin used."""
    base = (settings.TWOWAY_PUBLIC_URL or base_url).rstrip("/")
    if not base:
        raise ValueError("An invitation link needs TWOWAY_PUBLIC_URL or the request's base URL.")
    return base + reverse("invitation_accept", args=[invitation.token])


def _invitation_email_send(invitation: Invitation, link: str, inviter: str) -> None:
    organization = invitation.organization
    expires = timezone.localtime(invitation.expires_at)
    body = (
        f"{inviter} invited you to join {organization.name} on Twoway, its shared texting inbox, "
        f"as a {invitation.get_role_display()} user.\n\n"
        f"Choose your name and password here:\n{link}\n\n"
        f"The link works once, until {expires:%B} {expires.day}, {expires.year}. "
        "If you did not expect this e-mail, ignore it.\n"
    )
    try:
        mail.send_mail(
            subject=f"Join {organization.name} on Twoway",
            message=body,
            from_email=None,
            recipient_list=[invitation.email],
        )
    except Exception:
        # The invitation stands: the admin sees the link on the page and can pass it on.
        logger.exception("Could not e-mail the invitation %s", invitation.pk)


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: str,
    invited_by: Membership,
    base_url: str = "",
) -> Invitation:
    """Invite someone by e-mail with a role; the e-mail (sent after commit) holds the link.

    `invited_by` is the acting admin; `base_url` (scheme and host of the admin's request) builds
    the link when TWOWAY_PUBLIC_URL is not set. Inviting the same address again replaces its
    pending invitation, so only the newest link works.
    """
    _require_admin_of(invited_by, organization.pk)
    email = _normalize_email(email)
    _check_role(role)
    if _email_taken(email):
        raise InvalidInput(
            f"{email} already has a Twoway account, so it cannot be invited.", code="email_taken"
        )
    now = timezone.now()
    Invitation.objects.filter(
        organization=organization, email=email, accepted_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token=secrets.token_urlsafe(32),
        invited_by=invited_by.user,
        expires_at=now + INVITATION_VALID_FOR,
    )
    link = invitation_link(invitation, base_url=base_url)
    inviter = person_name(invited_by.user) or "An administrator"
    transaction.on_commit(lambda: _invitation_email_send(invitation, link, inviter))
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    """The link stops working at once; an accepted invitation stays as a record."""
    _require_admin_of(actor, invitation.organization_id)
    if invitation.accepted_at is None:
        Invitation.objects.filter(pk=invitation.pk).delete()


def invitation_for_token(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation behind a link, if it can still be accepted; else a readable error."""
    invitations = Invitation.objects.select_related("organization")
    if for_update:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token=token).first() if token else None
    if invitation is None:
        raise NotFound(
            "This invitation link is not valid. Check that you copied all of it, or ask your "
            "administrator for a new invitation.",
            code="invitation_unknown",
        )
    if invitation.accepted_at is not None:
        raise InvalidInput(
            "This invitation has been used already. Log in with your e-mail and password.",
            code="invitation_used",
        )
    if invitation.expires_at <= timezone.now():
        raise InvalidInput(
            "This invitation has expired. Ask your administrator to invite you again.",
            code="invitation_expired",
        )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, name: str) -> Membership:
    """Create the invited user (their e-mail is their login) with the invited role."""
    invitation = invitation_for_token(token, for_update=True)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Tell us your name.", code="name_required")
    # The whole name in first_name: get_full_name() shows it, and no name is split wrongly.
    if len(name) > 150:
        raise InvalidInput("Your name can be at most 150 characters.", code="name_too_long")
    email = invitation.email.lower()
    if _email_taken(email):
        raise InvalidInput(
            f"{email} already has a Twoway account. Log in with it instead.", code="email_taken"
        )
    user_model = get_user_model()
    user = user_model(username=email, email=email, first_name=name)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="invalid_password") from None
    user.set_password(password)
    user.save()
    membership = Membership.objects.create(
        user=user, organization=invitation.organization, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


# --- Members -------------------------------------------------------------------------------


def _keep_an_active_admin(membership: Membership, *, stays_active_admin: bool) -> None:
    """Refuse a change that would leave the organization with no active administrator."""
    if stays_active_admin or not (membership.is_admin and membership.user.is_active):
        return
    # Lock every active admin of the organization, in one order, so two admins demoting
    # themselves at once are serialised and the second sees the first's change.
    admins = list(
        Membership.objects.select_for_update(of=("self",))
        .filter(
            organization_id=membership.organization_id,
            role=Role.ADMINISTRATIVE,
            user__is_active=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not set(admins) - {membership.pk}:
        raise InvalidInput(
            "You are the last active administrator: make someone else an administrator first, "
            "or the organization would have nobody to manage it.",
            code="last_admin",
        )


@transaction.atomic
def membership_update(
    *,
    actor: Membership,
    membership: Membership,
    role: str,
    can_send_sms: bool,
    can_use_drips: bool | None = None,
) -> Membership:
    """Change a member's role, their "Send SMS to clients" permission and, when given, their
    "Apply drip campaigns" one."""
    _require_admin_of(actor, membership.organization_id)
    _check_role(role)
    _keep_an_active_admin(membership, stays_active_admin=role == Role.ADMINISTRATIVE)
    membership.role = role
    membership.can_send_sms = bool(can_send_sms)
    changed = ["role", "can_send_sms"]
    if can_use_drips is not None:
        membership.can_use_drips = bool(can_use_drips)
        changed.append("can_use_drips")
    membership.save(update_fields=changed)
    if role != Role.ADMINISTRATIVE:
        # The operator's Django admin sees every organization: nobody keeps it past a demotion.
        type(membership.user).objects.filter(pk=membership.user_id).update(
            is_staff=False, is_superuser=False
        )
    return membership


def _set_active(membership: Membership, active: bool) -> None:
    user = membership.user
    user.is_active = active
    user.save(update_fields=["is_active"])


def _end_sessions(user_id: int) -> int:
    """Delete the user's sessions (the database session backend's); how many there were.

    Sessions are not indexed by user, so each unexpired one is decoded: a pass over every
    session, which is fine for an admin's occasional action. Without it an inactive user's
    cookie is only refused while they stay inactive, and works again once they are reactivated.
    """
    mine = str(user_id)
    doomed = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == mine
    ]
    Session.objects.filter(pk__in=doomed).delete()
    return len(doomed)


@transaction.atomic
def membership_deactivate(*, actor: Membership, membership: Membership) -> Membership:
    """The person can no longer log in, and every session of theirs ends now. Their API keys
    stop working while they are inactive (`ApiKey.find_active`)."""
    _require_admin_of(actor, membership.organization_id)
    _keep_an_active_admin(membership, stays_active_admin=False)
    _set_active(membership, False)
    _end_sessions(membership.user_id)
    return membership


@transaction.atomic
def membership_reactivate(*, actor: Membership, membership: Membership) -> Membership:
    _require_admin_of(actor, membership.organization_id)
    _set_active(membership, True)
    return membership


# --- Teams ---------------------------------------------------------------------------------


def _clean_team_name(organization_id: int, name: str, *, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the team a name.", code="name_required")
    if len(name) > 100:
        raise InvalidInput("A team name can be at most 100 characters.", code="name_too_long")
    clash = Team.objects.filter(organization_id=organization_id, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise InvalidInput(f"There is a team called “{name}” already.", code="name_taken")
    return name


def _team_members(organization_id: int, members: Iterable[Membership]) -> list[Membership]:
    members = list(members)
    if any(m.organization_id != organization_id for m in members):
        raise NotFound("That user does not exist.")
    return members


@transaction.atomic
def team_create(
    *,
    actor: Membership,
    organization: Organization,
    name: str,
    members: Iterable[Membership] = (),
) -> Team:
    _require_admin_of(actor, organization.pk)
    team = Team.objects.create(
        organization=organization, name=_clean_team_name(organization.pk, name)
    )
    team.members.set(_team_members(organization.pk, members))
    return team


@transaction.atomic
def team_update(*, actor: Membership, team: Team, name: str, members: Iterable[Membership]) -> Team:
    """Rename the team and set its members to exactly `members`."""
    _require_admin_of(actor, team.organization_id)
    members = _team_members(team.organization_id, members)
    team.name = _clean_team_name(team.organization_id, name, exclude_pk=team.pk)
    team.save(update_fields=["name"])
    team.members.set(members)
    return team


@transaction.atomic
def team_delete(*, actor: Membership, team: Team) -> None:
    """The team goes, and with it the number access it gave; its members stay."""
    _require_admin_of(actor, team.organization_id)
    team.delete()


# --- Organization settings -----------------------------------------------------------------

_TEXT_FIELDS = {
    "name": "The organization's name",
    "help_text": "The HELP reply",
    "opt_out_confirmation": "The opt-out confirmation",
    "opt_in_confirmation": "The opt-in confirmation",
    "consent_message": "The consent message",
    "time_zone": "The time zone",
}
_BOOLEAN_FIELDS = {
    "allow_conversation_delete",
    "consent_required",
    "drips_enabled",
}
# Quiet hours: the sending window of automated texts, and their cap per contact per 24 hours.
_QUIET_HOURS_FIELDS = {"sending_window_start", "sending_window_end", "automated_daily_cap"}
AUTOMATED_DAILY_CAP_LIMIT = 100
SETTINGS_FIELDS = frozenset(
    {*_TEXT_FIELDS, *_BOOLEAN_FIELDS, "max_message_length"}
    | {"allowed_countries"}
    | _QUIET_HOURS_FIELDS
)


def country_list(value: str | Iterable[str]) -> str:
    """Country codes as stored: "us, ca" (or ["us", "ca"]) is "US,CA", each once, in order."""
    parts = re.split(r"[\s,;]+", value) if isinstance(value, str) else list(value)
    codes: list[str] = []
    for part in parts:
        code = part.strip().upper()
        if code and code not in codes:
            codes.append(code)
    return ",".join(codes)


@functools.cache
def time_zone_names() -> frozenset[str]:
    """Every IANA time zone name this machine knows (the names zoneinfo accepts)."""
    return frozenset(zoneinfo.available_timezones())


def _settings_errors(values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with the settings as they would be after the update, field by field."""
    errors: dict[str, str] = {}
    for field, label in _TEXT_FIELDS.items():
        limit = cast("CharField[str, str]", Organization._meta.get_field(field)).max_length or 0
        if len(values[field]) > limit:
            errors[field] = f"{label} can be at most {limit} characters."
    if not values["name"]:
        errors["name"] = "Give the organization a name."
    length = values["max_message_length"]
    if type(length) is not int or not 1 <= length <= MAX_MESSAGE_LENGTH_LIMIT:
        errors["max_message_length"] = (
            f"The maximum message length must be between 1 and {MAX_MESSAGE_LENGTH_LIMIT} "
            "characters."
        )
    if values["consent_required"]:
        for field in ("consent_message", "help_text"):
            if not values[field]:
                errors[field] = (
                    f"{_TEXT_FIELDS[field]} cannot be empty while the consent message is required."
                )
    errors.update(_quiet_hours_errors(values))
    countries = [code for code in values["allowed_countries"].split(",") if code]
    unknown = [code for code in countries if not is_country_code(code)]
    if unknown:
        errors["allowed_countries"] = (
            f"Not a country code: {', '.join(unknown)}. Use two-letter ISO codes such as US, CA "
            "or GB."
        )
    elif not countries:
        errors["allowed_countries"] = "Allow texts to at least one country."
    elif len(values["allowed_countries"]) > 200:
        errors["allowed_countries"] = "List at most 60 countries."
    if values["time_zone"] not in time_zone_names():
        errors["time_zone"] = (
            f"“{values['time_zone']}” is not a time zone we know; use a name such as "
            "America/New_York."
        )
    return errors


@transaction.atomic
def _quiet_hours_errors(values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    start, end = values["sending_window_start"], values["sending_window_end"]
    if not isinstance(start, datetime.time):
        errors["sending_window_start"] = "Give the time automated texts may start, such as 08:00."
    if not isinstance(end, datetime.time):
        errors["sending_window_end"] = "Give the time automated texts must stop, such as 21:00."
    if not errors and not start < end:
        errors["sending_window_end"] = (
            "Automated texts must stop later in the day than they start (such as 08:00 to 21:00)."
        )
    cap = values["automated_daily_cap"]
    if cap is not None and (type(cap) is not int or not 1 <= cap <= AUTOMATED_DAILY_CAP_LIMIT):
        errors["automated_daily_cap"] = (
            f"The cap must be between 1 and {AUTOMATED_DAILY_CAP_LIMIT} texts, or empty for none."
        )
    return errors


def organization_settings_update(
    *, actor: Membership, organization: Organization, **fields: Any
) -> Organization:
    """Change the organization's settings; nothing is saved unless every value is valid.

    Raises InvalidFields naming each wrong field. Unknown field names are a programming error.
    """
    _require_admin_of(actor, organization.pk)
    unknown = set(fields) - SETTINGS_FIELDS
    if unknown:
        raise TypeError(f"Not an organization setting: {', '.join(sorted(unknown))}")
    for field in _TEXT_FIELDS:
        if field in fields:
            fields[field] = (fields[field] or "").strip()
    for field in _BOOLEAN_FIELDS:
        if field in fields:
            fields[field] = bool(fields[field])
    if "allowed_countries" in fields:
        fields["allowed_countries"] = country_list(fields["allowed_countries"] or "")
    values = {field: getattr(organization, field) for field in SETTINGS_FIELDS} | fields
    if errors := _settings_errors(values):
        raise InvalidFields(errors)
    for field, value in fields.items():
        setattr(organization, field, value)
    organization.save(update_fields=sorted(fields))
    return organization


def membership_alerts_set(*, membership: Membership, desktop: bool, sound: bool) -> Membership:
    """A person's own alerts for new texts (each member sets theirs, nobody else's)."""
    membership.alert_desktop, membership.alert_sound = desktop, sound
    membership.save(update_fields=["alert_desktop", "alert_sound"])
    return membership
