"""When an organization is open, what it answers while it is closed, and the words that get a
canned response back at any hour."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from twoway.accounts.models import Organization
from twoway.canned.models import CannedResponse
from twoway.numbers.models import PhoneNumber

# The thread's "who" of a text sent while closed; also how the once-per-closed-period check
# finds the last one.
AWAY_LABEL = "Away message"
RULE_LABEL_PREFIX = "Keyword rule: "


def default_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 9:00 to 17:00; weekday "0" is Monday."""
    return {str(day): [["09:00", "17:00"]] if day < 5 else [] for day in range(7)}


class Answering(models.Model):
    """One per organization, made when an admin first saves: none means the defaults (open
    Monday to Friday 9 to 5, no away message)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="answering"
    )
    # Weekday ("0" Monday … "6" Sunday) to open ranges [["09:00", "12:00"], ...] in the
    # organization's time zone, sorted and not overlapping; an empty list is closed all day.
    hours = models.JSONField(default=default_hours)
    away_enabled = models.BooleanField(default=False)
    # An organization-wide response; deleting it switches the away message off.
    away_response = models.ForeignKey(
        CannedResponse, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Answering of {self.organization_id}"


class KeywordRule(models.Model):
    """A text that is `keyword` alone gets `response` back; one for a number beats the
    organization-wide one (`phone_number` None) of the same keyword."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="keyword_rules"
    )
    phone_number = models.ForeignKey(
        PhoneNumber, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    keyword = models.CharField(max_length=40)  # normalised as compliance keywords are
    response = models.ForeignKey(CannedResponse, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["keyword", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "keyword"],
                condition=Q(phone_number__isnull=True),
                name="keyword_rule_org_unique",
            ),
            models.UniqueConstraint(
                fields=["phone_number", "keyword"],
                condition=Q(phone_number__isnull=False),
                name="keyword_rule_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.keyword
