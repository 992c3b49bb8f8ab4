from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.db import models

DEFAULT_CONSENT_MESSAGE = (
    "{org} will text you here about your appointments and account. Reply STOP to opt out, HELP "
    "for help."
)
DEFAULT_DO_NOT_REPLY_TEXT = (
    "{org}: this number does not receive replies. Please contact us another way. Reply STOP to "
    "opt out."
)
DEFAULT_HELP_TEXT = (
    "{org}: you are texting our team. Reply STOP to unsubscribe, START to resubscribe. "
    "Msg&data rates may apply."
)


# The longest concatenated SMS carriers accept, in characters: a rendered reply is cut there.
RENDERED_MAX_LENGTH = 1600


class OffReply(models.TextChoices):
    """What a text to the organization gets while two-way texting is off."""

    DO_NOT_REPLY = "do_not_reply", "Do-not-reply auto message"
    NO_AUTO_REPLY = "no_auto_reply", "No auto reply"


class Organization(models.Model):
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, default="US", help_text="ISO 3166 country code")
    # Where its texts may go: ISO 3166 codes, comma-separated. A compliance reply to a handset
    # that texted in goes wherever it is.
    allowed_countries = models.CharField(
        max_length=200,
        default="US,CA",
        help_text="ISO 3166 codes of the countries texts may be sent to, comma-separated",
    )
    # Replies to HELP/INFO; "{org}" becomes the organization's name.
    help_text = models.CharField(max_length=480, default=DEFAULT_HELP_TEXT)
    opt_out_confirmation = models.CharField(
        max_length=320,
        default="{org}: you are unsubscribed and will receive no more messages. Reply START to "
        "resubscribe.",
    )
    opt_in_confirmation = models.CharField(
        max_length=320,
        default="{org}: you are subscribed again. Reply STOP to unsubscribe, HELP for help.",
    )
    max_message_length = models.PositiveIntegerField(default=550)
    # Admins can take conversation delete away from everyone.
    allow_conversation_delete = models.BooleanField(default=True)
    consent_required = models.BooleanField(
        default=False, help_text="Send the consent message before the first text to a contact"
    )
    consent_message = models.CharField(max_length=320, default=DEFAULT_CONSENT_MESSAGE)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    # "Drip campaigns": off, nobody of the organization applies one (`drips.applying`).
    drips_enabled = models.BooleanField(default=True)
    # Quiet hours (`compliance.quiet_hours`): automated texts reach a contact only between these
    # times of the contact's own day, and at most `automated_daily_cap` of them (when set)
    # within 24 hours.
    sending_window_start = models.TimeField(default=datetime.time(8, 0))
    sending_window_end = models.TimeField(default=datetime.time(21, 0))
    automated_daily_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    # Business info: the dedicated number gets this phone's area code where the carrier has one.
    business_phone = models.CharField(max_length=20, blank=True)
    # Two-way texting: on, the organization has a dedicated number and an inbox; off,
    # replies to its texts get `off_reply` instead of reaching anyone.
    two_way_enabled = models.BooleanField(default=False)
    off_reply = models.CharField(
        max_length=16, choices=OffReply.choices, default=OffReply.NO_AUTO_REPLY
    )
    do_not_reply_text = models.CharField(max_length=320, default=DEFAULT_DO_NOT_REPLY_TEXT)
    blasts_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def allowed_country_codes(self) -> frozenset[str]:
        return frozenset(code for code in self.allowed_countries.split(",") if code)

    def render(self, template: str) -> str:
        """`template` with "{org}" as the name, cut at the longest text carriers accept (a long
        name many times over must not make a compliance reply unsendable)."""
        return template.replace("{org}", self.name)[:RENDERED_MAX_LENGTH]


class Role(models.TextChoices):
    ADMINISTRATIVE = "admin", "Administrative"
    STANDARD = "standard", "Standard"
    LIMITED = "limited", "Limited"


class Membership(models.Model):
    """A user's place in an organization: one organization per user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STANDARD)
    # "Send SMS to clients": without it a user can read the inbox but send nothing.
    can_send_sms = models.BooleanField(default=True)
    # Feature switches per user; the organization's own switches apply on top. "Apply drip
    # campaigns" (`drips.applying`); blasts are not built, so theirs is offered nowhere.
    can_use_drips = models.BooleanField(default=True)
    can_use_blasts = models.BooleanField(default=True)
    # This person's alerts for new texts while an inbox of theirs is open: a browser
    # notification (the browser asks them once), and a short sound.
    alert_desktop = models.BooleanField(default=False)
    alert_sound = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.organization}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMINISTRATIVE

    @property
    def can_initiate(self) -> bool:
        return self.can_send_sms and self.role in (Role.ADMINISTRATIVE, Role.STANDARD)

    @property
    def can_reply(self) -> bool:
        return self.can_send_sms

    @property
    def can_apply_drips(self) -> bool:
        """May text and apply drip campaigns: their own switch and the organization's."""
        return self.can_send_sms and self.can_use_drips and self.organization.drips_enabled


class Team(models.Model):
    """A group of agents, given access to numbers and assigned conversations as one."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Membership, related_name="teams", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """An e-mailed invitation to join an organization with a role; the link holds the token."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STANDARD)
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A member's personal API key: it acts as its owner, with exactly their role, number
    access and "Send SMS" permission, and stops working when they are deactivated. Only its
    hash is stored; the key is shown once."""

    # Always the owner's organization; kept on the key so keys are listed and scoped per
    # organization without a join.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    owner = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(cls, *, owner: Membership, name: str) -> tuple[ApiKey, str]:
        raw = "tw_" + secrets.token_urlsafe(32)
        key = cls.objects.create(
            organization_id=owner.organization_id,
            owner=owner,
            name=name,
            prefix=raw[:10],
            key_hash=_hash_key(raw),
        )
        return key, raw

    @classmethod
    def find_active(cls, raw: str) -> ApiKey | None:
        """The unrevoked key whose owner may still log in; None otherwise."""
        return cls.find_active_many([raw]).get(raw)

    @classmethod
    def find_active_many(cls, raws: Iterable[str]) -> dict[str, ApiKey]:
        """`find_active` for several keys with one query: the raw keys found, with their key."""
        by_hash = {_hash_key(raw): raw for raw in raws}
        found = cls.objects.select_related(
            "owner__organization", "owner__user", "organization"
        ).filter(key_hash__in=by_hash, revoked_at__isnull=True, owner__user__is_active=True)
        return {by_hash[key.key_hash]: key for key in found}
