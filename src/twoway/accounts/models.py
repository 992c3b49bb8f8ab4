from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

DEFAULT_HELP_TEXT = (
    "{org}: you are texting our team. Reply STOP to unsubscribe, START to resubscribe. "
    "Msg&data rates may apply."
)


class Organization(models.Model):
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, default="US", help_text="ISO 3166 country code")
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
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def render(self, template: str) -> str:
        return template.replace("{org}", self.name)


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

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.organization}"

    @property
    def can_initiate(self) -> bool:
        return self.can_send_sms and self.role in (Role.ADMINISTRATIVE, Role.STANDARD)

    @property
    def can_reply(self) -> bool:
        return self.can_send_sms


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A per-organization API key. Only its hash is stored; the key is shown once."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, organization: Organization, name: str) -> tuple[ApiKey, str]:
        raw = "tw_" + secrets.token_urlsafe(32)
        key = cls.objects.create(
            organization=organization, name=name, prefix=raw[:10], key_hash=_hash_key(raw)
        )
        return key, raw

    @classmethod
    def find_active(cls, raw: str) -> ApiKey | None:
        return (
            cls.objects.select_related("organization")
            .filter(key_hash=_hash_key(raw), revoked_at__isnull=True)
            .first()
        )
