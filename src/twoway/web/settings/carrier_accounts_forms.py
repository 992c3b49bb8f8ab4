"""Forms of the Carrier accounts settings: they parse and re-render; the rules (the shape of each
credential) live in carrier_accounts.services."""

from __future__ import annotations

from typing import Any

from django import forms

from twoway.carrier_accounts.models import CarrierAccount
from twoway.carriers.base import Carrier


class CarrierAccountForm(forms.Form):
    """A name and the carrier's credentials (Twilio: account SID, auth token). Editing, every
    credential may be left blank to keep the stored one; they are never put back in the page."""

    name = forms.CharField(
        label="Name",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Main Twilio account"}),
    )

    def __init__(
        self,
        *args: Any,
        carrier: type[Carrier],
        account: CarrierAccount | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.carrier = carrier
        stored = dict(account.credentials_masked() or []) if account is not None else {}
        for field in carrier.credential_fields:
            attrs = {"autocomplete": "off", "spellcheck": "false"}
            help_text = f"{field.shape[:1].upper()}{field.shape[1:]}." if field.shape else ""
            if account is not None:
                shown = stored.get(field.label)
                kept = f"Stored: {shown}. " if shown else ""
                help_text = f"{kept}Leave it blank to keep it, or enter a new one to replace it."
            self.fields[field.name] = forms.CharField(
                label=field.label,
                required=account is None,
                max_length=200,
                help_text=help_text,
                widget=forms.PasswordInput(attrs={**attrs, "autocomplete": "new-password"})
                if field.secret
                else forms.TextInput(attrs=attrs),
            )

    def credential_fields(self) -> list[forms.BoundField]:
        return [self[field.name] for field in self.carrier.credential_fields]

    def credentials(self) -> dict[str, str]:
        return {
            field.name: self.cleaned_data.get(field.name) or ""
            for field in self.carrier.credential_fields
        }
