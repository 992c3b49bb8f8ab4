"""The operator's view of carrier accounts: every organization's, and the installation's own (no
organization), which the operator adds here. Credentials are typed in, never shown back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.selectors import carriers_with_accounts
from twoway.carrier_accounts.services import (
    InvalidAccountField,
    carrier_account_check,
    carrier_account_create,
    carrier_account_delete,
    carrier_account_update,
)
from twoway.core.errors import TwowayError


def _credential_key(slug: str, name: str) -> str:
    return f"{slug}__{name}"


class CarrierAccountAdminForm(forms.ModelForm):
    """Name, organization and carrier, and a field for each carrier's credentials (the chosen
    carrier's count); on an existing account a blank credential keeps the stored one. The
    credential fields are declared per page (`_form_for`), so that the admin lays them out."""

    class Meta:
        model = CarrierAccount
        fields = ["organization", "carrier", "name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "carrier" in self.fields:
            self.fields["carrier"] = forms.ChoiceField(
                choices=[(cls.slug, cls.name) for cls in carriers_with_accounts()]
            )

    def credentials(self) -> dict[str, str]:
        slug = self.instance.carrier if self.instance.pk else self.cleaned_data.get("carrier", "")
        prefix = f"{slug}__"
        return {
            key[len(prefix) :]: value
            for key, value in self.cleaned_data.items()
            if key.startswith(prefix) and value
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        account = self.instance if self.instance.pk else None
        try:
            carrier_account_check(
                carrier=data.get("carrier", ""),
                name=data.get("name", ""),
                credentials=self.credentials(),
                account=account,
            )
        except InvalidAccountField as exc:
            slug = account.carrier if account else data.get("carrier", "")
            key = _credential_key(slug, exc.field) if exc.field else None
            if key not in self.fields:
                key = exc.field if exc.field in self.fields else None
            raise ValidationError({key: exc.message} if key else exc.message) from None
        return data


def _form_for(account: CarrierAccount | None) -> type[CarrierAccountAdminForm]:
    """The form with a field for each credential: of every carrier with accounts when adding
    one, of its own carrier when editing one."""
    declared: dict[str, forms.Field] = {}
    for cls in carriers_with_accounts():
        if account is not None and cls.slug != account.carrier:
            continue
        for field in cls.credential_fields:
            declared[_credential_key(cls.slug, field.name)] = forms.CharField(
                label=f"{cls.name} {field.label}",
                required=False,
                max_length=200,
                widget=forms.PasswordInput(render_value=False)
                if field.secret
                else forms.TextInput(attrs={"autocomplete": "off"}),
                help_text="Blank keeps the stored value." if account is not None else field.shape,
            )
    return type("CarrierAccountAdminForm", (CarrierAccountAdminForm,), declared)


@admin.register(CarrierAccount)
class CarrierAccountAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "carrier",
        "credentials_shown",
        "webhook_path",
        "numbers_held",
        "created_at",
    )
    list_filter = ("carrier",)
    search_fields = ("name", "organization__name")
    readonly_fields = ("credentials_shown", "webhook_path", "created_at", "updated_at")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = _form_for(obj)
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # An account's carrier and owner stay what they were: its numbers depend on both.
        fixed = ("organization", "carrier") if obj is not None else ()
        return (*fixed, *self.readonly_fields)

    @admin.display(description="Credentials")
    def credentials_shown(self, account: CarrierAccount) -> str:
        if account.pk is None:
            return "—"
        shown = account.credentials_masked()
        if shown is None:
            return "Cannot be decrypted with the configured keys: enter them again."
        return ", ".join(f"{label} {mask}" for label, mask in shown)

    @admin.display(description="Numbers")
    def numbers_held(self, account: CarrierAccount) -> int:
        return account.phone_numbers.count()

    def save_model(
        self, request: HttpRequest, obj: CarrierAccount, form: Any, change: bool
    ) -> None:
        if change:
            stored = CarrierAccount.objects.get(pk=obj.pk)
            carrier_account_update(
                actor=None,
                account=stored,
                name=form.cleaned_data["name"],
                credentials=form.credentials(),
            )
            return
        created = carrier_account_create(
            actor=None,
            organization=form.cleaned_data.get("organization"),
            carrier=form.cleaned_data["carrier"],
            name=form.cleaned_data["name"],
            credentials=form.credentials(),
        )
        # The admin goes on with the object it built (its log entry, the redirect).
        obj.pk, obj.webhook_key = created.pk, created.webhook_key
        obj.credentials_encrypted = created.credentials_encrypted

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Not while a number is held in it (carrier_account_delete says why).
        in_use = obj is not None and obj.phone_numbers.exists()
        return not in_use and super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: CarrierAccount) -> None:
        try:
            carrier_account_delete(actor=None, account=obj)
        except TwowayError as exc:
            self.message_user(request, exc.message, level="error")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CarrierAccount]) -> None:
        for account in queryset:
            self.delete_model(request, account)
