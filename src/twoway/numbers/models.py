from __future__ import annotations

from django.conf import settings
from django.db import models

from twoway.accounts.models import Organization


class NumberType(models.TextChoices):
    LOCAL = "local", "Local long code"
    TOLL_FREE = "toll_free", "Toll-free"
    SHORT_CODE = "short_code", "Short code"


# Carrier defaults for messages (segments) per second, by number type.
DEFAULT_MPS = {NumberType.LOCAL: 1, NumberType.TOLL_FREE: 3, NumberType.SHORT_CODE: 100}


class RoutingMode(models.TextChoices):
    AGENT = "agent", "Agent-backed"
    ASSISTANT = "assistant", "Virtual-assistant-backed"


def default_carrier() -> str:
    return settings.TWOWAY_DEFAULT_CARRIER


class PhoneNumber(models.Model):
    """A sender the organization texts from: a long code, toll-free number or short code."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="phone_numbers"
    )
    # E.164 for long codes and toll-free numbers, digits for short codes.
    number = models.CharField(max_length=20, unique=True)
    label = models.CharField(max_length=100, blank=True)
    number_type = models.CharField(max_length=16, choices=NumberType.choices, default="local")
    carrier = models.CharField(max_length=32, default=default_carrier)
    sms_enabled = models.BooleanField(default=True)
    mms_enabled = models.BooleanField(default=False)
    mps_limit = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        default=1,
        help_text="Segments per second this sender may send",
    )
    # Inbox settings: who may send from this number and see its conversations. Admins always may.
    access_everyone = models.BooleanField(
        default=True, help_text="Every member may use it; otherwise only the users and teams listed"
    )
    access_users = models.ManyToManyField("accounts.Membership", blank=True, related_name="numbers")
    access_teams = models.ManyToManyField("accounts.Team", blank=True, related_name="numbers")
    routing_mode = models.CharField(
        max_length=12, choices=RoutingMode.choices, default=RoutingMode.AGENT
    )
    # The rate limiter's state: the earliest time the next segment may leave. Kept in the row so
    # every worker on every machine sees the same limit.
    next_send_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.label} {self.number}".strip()

    @property
    def display(self) -> str:
        from twoway.core.phones import format_for_display

        return format_for_display(self.number)
