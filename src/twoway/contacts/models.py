from __future__ import annotations

from django.db import models

from twoway.accounts.models import Organization


class OptInStatus(models.TextChoices):
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"


class ConsentStatus(models.TextChoices):
    NOT_SENT = "not_sent", "Consent message not sent"
    SENT = "sent", "Consent message sent"


class CreatedFrom(models.TextChoices):
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Import"
    API = "api", "API"
    INBOUND = "inbound", "Inbound lead"


class Contact(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    external_uid = models.CharField(max_length=100, blank=True)
    client_id = models.CharField(max_length=100, blank=True)
    opt_in_status = models.CharField(
        max_length=16, choices=OptInStatus.choices, default=OptInStatus.OPTED_IN
    )
    consent_status = models.CharField(
        max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.NOT_SENT
    )
    created_from = models.CharField(
        max_length=16, choices=CreatedFrom.choices, default=CreatedFrom.MANUAL
    )
    # The business number a lead first texted, so leads can be attributed.
    source_number = models.ForeignKey(
        "numbers.PhoneNumber", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name or f"Contact {self.pk}"

    @property
    def is_opted_out(self) -> bool:
        return self.opt_in_status == OptInStatus.OPTED_OUT


class ContactPhone(models.Model):
    """One of a contact's phone numbers (E.164); a number belongs to one contact per org."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="contact_phone_unique")
        ]

    def __str__(self) -> str:
        return self.number
