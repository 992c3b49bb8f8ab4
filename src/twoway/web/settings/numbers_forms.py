"""Forms of the Numbers settings: they parse and re-render; the rules live in numbers.services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from twoway.accounts.models import Membership, Organization, Team
from twoway.numbers.models import NumberType, PhoneNumber, RoutingMode
from twoway.numbers.selectors import members_for_access, teams_for_access

EVERYONE, SELECTED = "everyone", "selected"


def _plain(value: Decimal) -> str:
    """1.00 as "1", 0.50 as "0.5", 100 as "100" (never "1E+2")."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class NumberSearchForm(forms.Form):
    carrier = forms.ChoiceField(label="Carrier")
    area_code = forms.CharField(
        label="Area code",
        required=False,
        max_length=3,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "415", "size": 4}),
    )

    def __init__(self, *args: Any, sources: list[tuple[str, str]], **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = sources  # type: ignore[attr-defined]


class NumberAddForm(forms.Form):
    carrier = forms.ChoiceField(widget=forms.HiddenInput)
    number = forms.CharField(max_length=20, error_messages={"required": "Pick a number first."})
    label = forms.CharField(
        label="Label",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Front desk"}),
    )

    def __init__(self, *args: Any, sources: list[tuple[str, str]], **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = sources  # type: ignore[attr-defined]


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        member: Membership = obj
        name = member.user.get_full_name()
        who = f"{name} <{member.user.email}>" if name else member.user.email
        return f"{who} ({member.get_role_display()})"


class NumberSettingsForm(forms.Form):
    """A number's details and its inbox settings (who can use it, how it is routed)."""

    label = forms.CharField(label="Label", required=False, max_length=100)
    number_type = forms.ChoiceField(label="Type", choices=NumberType.choices)
    sms_enabled = forms.BooleanField(label="SMS", required=False)
    mms_enabled = forms.BooleanField(label="MMS (pictures)", required=False)
    mps_limit = forms.DecimalField(
        label="Throughput (messages per second)",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01"}),
    )
    access = forms.ChoiceField(
        label="Who can use this number",
        choices=[
            (EVERYONE, "Everyone in the organization"),
            (SELECTED, "Only the users and teams selected below"),
        ],
        widget=forms.RadioSelect,
    )
    access_users = MemberChoiceField(
        label="Users",
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    access_teams = forms.ModelMultipleChoiceField(
        label="Teams",
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    routing_mode = forms.ChoiceField(
        label="Conversations on this number are",
        choices=RoutingMode.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        users: Any = self.fields["access_users"]
        teams: Any = self.fields["access_teams"]
        users.queryset = members_for_access(organization)
        teams.queryset = teams_for_access(organization)

    @classmethod
    def initial_for(cls, number: PhoneNumber) -> dict[str, Any]:
        return {
            "label": number.label,
            "number_type": number.number_type,
            "sms_enabled": number.sms_enabled,
            "mms_enabled": number.mms_enabled,
            "mps_limit": _plain(number.mps_limit),
            "access": EVERYONE if number.access_everyone else SELECTED,
            "access_users": list(number.access_users.all()),
            "access_teams": list(number.access_teams.all()),
            "routing_mode": number.routing_mode,
        }
