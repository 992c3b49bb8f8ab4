from __future__ import annotations

import secrets

from django.db import models

from twoway.accounts.models import Organization
from twoway.carrier_accounts.crypto import CredentialsUnreadable, credentials_decrypt, masked
from twoway.carriers.registry import UnknownCarrier, carrier_class


def new_webhook_key() -> str:
    """The account's part of its webhook URL: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


class CarrierAccount(models.Model):
    """An account at a carrier (a Twilio account: its SID and auth token) that numbers are held
    in and that signs their webhooks. An organization's own, or the operator's (no organization:
    the system number's, or any number the operator puts on it).

    A number with no account uses the operator's settings for its carrier (TWILIO_* and the
    like). The credentials are stored encrypted (`crypto`) and shown back masked only.
    """

    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="carrier_accounts",
        help_text="Empty: the operator's account",
    )
    carrier = models.CharField(max_length=32)
    name = models.CharField(max_length=100)
    # A Fernet token of the JSON of the adapter's credential fields; read through `credentials`.
    credentials_encrypted = models.TextField(editable=False)
    # Names the account in its webhook URL: /webhooks/<carrier>/<webhook_key>/.
    webhook_key = models.CharField(
        max_length=32, unique=True, default=new_webhook_key, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.carrier_name})"

    @property
    def carrier_name(self) -> str:
        try:
            return carrier_class(self.carrier).name
        except UnknownCarrier:
            return self.carrier

    @property
    def webhook_path(self) -> str:
        return f"/webhooks/{self.carrier}/{self.webhook_key}/"

    def credentials(self) -> dict[str, str]:
        """The decrypted credentials (CredentialsUnreadable when no key reads them)."""
        return credentials_decrypt(self.credentials_encrypted)

    def credentials_masked(self) -> list[tuple[str, str]] | None:
        """(label, last 4 characters) of each credential, as pages show them; None when they
        cannot be decrypted with the configured keys."""
        try:
            values = self.credentials()
        except CredentialsUnreadable:
            return None
        try:
            fields = carrier_class(self.carrier).credential_fields
        except UnknownCarrier:
            return [(name, masked(value)) for name, value in values.items()]
        return [(field.label, masked(values.get(field.name, ""))) for field in fields]
