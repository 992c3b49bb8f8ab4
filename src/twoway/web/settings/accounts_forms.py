"""Forms of the people and organization settings pages: they parse and redisplay input only;
the rules (last admin, message length, ...) live in `twoway.accounts.services`."""

from __future__ import annotations

from typing import Any

from django import forms

from twoway.accounts.models import Membership, Organization, Role, Team
from twoway.accounts.selectors import organization_members
from twoway.accounts.services import InvalidFields
from twoway.compliance.replies import rendered_too_long
from twoway.core.errors import TwowayError


def add_service_error(form: forms.BaseForm, exc: TwowayError, by_code: dict[str, str]) -> None:
    """Show a service's refusal next to the field it is about (or above the form)."""
    if isinstance(exc, InvalidFields):
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
        return
    form.add_error(by_code.get(exc.code), exc.message)


class MemberForm(forms.ModelForm):
    """One row of the users table; its inputs point at the row's <form> by the `form` attribute."""

    class Meta:
        model = Membership
        fields = ["role", "can_send_sms", "can_use_drips"]
        labels = {"can_send_sms": "Send SMS to clients", "can_use_drips": "Apply drip campaigns"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["form"] = f"{self.prefix}-form"


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.STANDARD)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        user = obj.user
        name = user.get_full_name()
        label = f"{name} ({user.email})" if name else user.email
        return label if user.is_active else f"{label}, deactivated"


class TeamForm(forms.Form):
    # Not required here: the service says what is wrong with a name, in one place.
    name = forms.CharField(label="Team name", required=False, max_length=100)
    members = MemberChoiceField(
        label="Members",
        queryset=Membership.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(
        self, *args: Any, organization_id: int, team: Team | None = None, **kw: Any
    ) -> None:
        kw.setdefault("label_suffix", "")
        if team is not None and "data" not in kw and not args:
            kw["initial"] = {"name": team.name, "members": list(team.members.all())}
        super().__init__(*args, **kw)
        self.fields["members"].queryset = organization_members(organization_id)  # type: ignore[attr-defined]


class OrganizationSettingsForm(forms.ModelForm):
    # Declared here so that the service, not the model field, judges the range.
    max_message_length = forms.IntegerField(
        label="Maximum message length",
        help_text="Characters in one text, 1 to 1,600 (a segment holds 160 GSM-7 characters).",
        widget=forms.NumberInput(attrs={"min": 1, "max": 1600}),
    )

    class Meta:
        model = Organization
        fields = [
            "name",
            "max_message_length",
            "allowed_countries",
            "allow_conversation_delete",
            "help_text",
            "opt_out_confirmation",
            "opt_in_confirmation",
            "consent_required",
            "consent_message",
            "time_zone",
            "sending_window_start",
            "sending_window_end",
            "automated_daily_cap",
            "drips_enabled",
        ]
        labels = {
            "name": "Organization name",
            "allowed_countries": "Countries texts may go to",
            "allow_conversation_delete": "Let users delete conversations",
            "help_text": "Reply to HELP and INFO",
            "opt_out_confirmation": "Opt-out confirmation (reply to STOP)",
            "opt_in_confirmation": "Opt-in confirmation (reply to START)",
            "consent_required": "Send the consent message before the first text to a contact",
            "consent_message": "Consent message",
            "time_zone": "Time zone",
            "sending_window_start": "Automated texts go from",
            "sending_window_end": "Until",
            "automated_daily_cap": "At most this many automated texts per contact in 24 hours",
            "drips_enabled": "Drip campaigns",
        }
        help_texts = {
            "allowed_countries": "Two-letter codes, such as US, CA. A text to a number of another "
            "country is refused; replies to STOP and HELP go wherever the sender is.",
            "help_text": "“{org}” becomes your organization's name. Leave empty to send no reply.",
            "opt_out_confirmation": "Leave empty to send none, if your carrier confirms for you.",
            "opt_in_confirmation": "Leave empty to send none.",
            "consent_required": "",
            "consent_message": "Says who you are and how to opt out.",
            "time_zone": "A name such as America/New_York. Search's dates and conversation "
            "exports are in this zone.",
            "sending_window_start": "In each contact's own time: their time zone when it is set, "
            "else their number's area code's, else this organization's. Automated texts due "
            "outside these hours wait for the next opening; a person's own texts are never held.",
            "sending_window_end": "",
            "automated_daily_cap": "Leave empty for no cap. A text over the cap waits until it "
            "fits.",
            "drips_enabled": "Off: nobody here can apply a drip campaign (each user also has "
            "their own switch, under Users). Drips already applied keep their steps; cancel "
            "them in their threads.",
        }
        widgets = {
            "help_text": forms.Textarea(attrs={"rows": 2}),
            "opt_out_confirmation": forms.Textarea(attrs={"rows": 2}),
            "opt_in_confirmation": forms.Textarea(attrs={"rows": 2}),
            "consent_message": forms.Textarea(attrs={"rows": 2}),
            "time_zone": forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
            "sending_window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "sending_window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "automated_daily_cap": forms.NumberInput(attrs={"min": 1, "max": 100}),
        }

    # The replies whose rendering (name in place of "{org}") is checked, with their labels.
    RENDERED_REPLIES = {
        "help_text": "The HELP reply",
        "opt_out_confirmation": "The opt-out confirmation",
        "opt_in_confirmation": "The opt-in confirmation",
        "consent_message": "The consent message",
    }

    def __init__(self, *args: Any, organization: Organization | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # The organization being edited, for the texts this form does not show.
        self.organization = organization or (self.instance if self.instance.pk else None)
        if self.instance.pk and not self.is_bound:
            self.initial["allowed_countries"] = self.instance.allowed_countries.replace(",", ", ")
        for name in ("name", "help_text", "opt_out_confirmation", "opt_in_confirmation"):
            self.fields[name].required = False
        for name in ("consent_message", "time_zone", "automated_daily_cap"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        """Refuse a reply that the name would make longer than carriers accept: it would be
        sent cut short."""
        super().clean()
        cleaned = self.cleaned_data
        name = cleaned.get("name") or (self.organization.name if self.organization else "")
        for field, label in self.RENDERED_REPLIES.items():
            if problem := rendered_too_long(label, cleaned.get(field) or "", name):
                self.add_error(field, problem)
        if self.organization is not None and "name" not in self.errors:
            label = "With this name, the do-not-reply message"
            if problem := rendered_too_long(label, self.organization.do_not_reply_text, name):
                self.add_error("name", problem)
        return cleaned


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords are not the same.")
        return data
