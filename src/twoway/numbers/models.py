from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from twoway.accounts.models import Organization
from twoway.carrier_accounts.models import CarrierAccount


class NumberType(models.TextChoices):
    LOCAL = "local", "Local long code"
    TOLL_FREE = "toll_free", "Toll-free"
    SHORT_CODE = "short_code", "Short code"


# Carrier defaults for messages (segments) per second, by number type.
DEFAULT_MPS = {NumberType.LOCAL: 1, NumberType.TOLL_FREE: 3, NumberType.SHORT_CODE: 100}


class RoutingMode(models.TextChoices):
    AGENT = "agent", "Agent-backed"
    ASSISTANT = "assistant", "Virtual-assistant-backed"


class Verification(models.TextChoices):
    """A number's standing with the carriers. Toll-free numbers, and a dedicated number
    the carriers must register with the business's details, are filtered until verified."""

    NOT_REQUIRED = "not_required", "Not required"
    PENDING = "pending", "Pending"
    IN_REVIEW = "in_review", "In review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


# Verification states in which texts from the number reach handsets reliably.
TRUSTED = frozenset({Verification.NOT_REQUIRED, Verification.VERIFIED})


class CurrentNumbers(models.Manager["PhoneNumber"]):
    """Numbers Twoway holds now. A released number's row stays for its conversations' history,
    which reach it through the base manager; everything else looks it up through this one."""

    def get_queryset(self) -> models.QuerySet[PhoneNumber]:
        return super().get_queryset().filter(released_at__isnull=True)


def default_carrier() -> str:
    return settings.TWOWAY_DEFAULT_CARRIER


class PhoneNumber(models.Model):
    """A sender the organization texts from: a long code, toll-free number or short code.

    A *system* number belongs to no organization: every organization's transactional and
    marketing texts go from it until their own number is trusted."""

    # None only for system numbers.
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="phone_numbers",
    )
    # E.164 for long codes and toll-free numbers, digits for short codes. Unique among the
    # numbers held now: a released number may be bought again later.
    number = models.CharField(max_length=20, db_index=True)
    is_system = models.BooleanField(default=False)
    # The organization's two-way number, assigned when two-way texting is switched on.
    is_dedicated = models.BooleanField(default=False)
    # While two-way texting is off the dedicated number is kept for the organization until then.
    held_until = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    verification_status = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.NOT_REQUIRED
    )
    verification_reason = models.CharField(max_length=300, blank=True)
    verification_updated_at = models.DateTimeField(null=True, blank=True)
    label = models.CharField(max_length=100, blank=True)
    number_type = models.CharField(max_length=16, choices=NumberType.choices, default="local")
    carrier = models.CharField(max_length=32, default=default_carrier)
    # The account at that carrier the number is held in, whose credentials send its texts and
    # verify its webhooks; None: the operator's settings for the carrier (TWILIO_* and the like).
    carrier_account = models.ForeignKey(
        CarrierAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="phone_numbers",
        help_text="Empty: the installation's own settings for the carrier",
    )
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

    all_objects = models.Manager()
    objects = CurrentNumbers()

    class Meta:
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=models.Q(released_at__isnull=True),
                name="phone_number_held_once",
            ),
            models.CheckConstraint(
                condition=models.Q(is_system=True, organization__isnull=True)
                | models.Q(is_system=False, organization__isnull=False),
                name="phone_number_system_xor_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.number}".strip()

    def clean(self) -> None:
        account = self.carrier_account
        if account is None:
            return
        if account.carrier != self.carrier:
            raise ValidationError(
                {
                    "carrier_account": f"That is a {account.carrier_name} account; the number is "
                    f"on {self.carrier}."
                }
            )
        if account.organization_id is not None and account.organization_id != self.organization_id:
            raise ValidationError({"carrier_account": "That account is another organization's."})

    @property
    def display(self) -> str:
        from twoway.core.phones import format_for_display

        return format_for_display(self.number)

    @property
    def is_trusted(self) -> bool:
        """Carriers deliver its texts without filtering them as unverified traffic."""
        return self.verification_status in TRUSTED

    @property
    def is_held(self) -> bool:
        return self.held_until is not None
