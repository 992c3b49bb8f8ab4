"""The SMS balance page's form: parses what an administrator adds; `billing.services` writes it."""

from __future__ import annotations

from typing import Any

from django import forms

# A top-up that large is a typing slip rather than a plan.
CREDIT_MAX = 1_000_000


class CreditForm(forms.Form):
    amount = forms.IntegerField(
        label="Segments to add",
        min_value=1,
        max_value=CREDIT_MAX,
        error_messages={
            "required": "Give the number of segments to add.",
            "invalid": "Give the number of segments to add as a whole number, such as 500.",
            "min_value": "Add at least 1 segment.",
            "max_value": f"Add at most {CREDIT_MAX:,} segments at a time.",
        },
        widget=forms.NumberInput(attrs={"min": 1, "max": CREDIT_MAX}),
    )
    note = forms.CharField(
        label="Note for the ledger",
        required=False,
        max_length=200,
        error_messages={"max_length": "Keep the note to 200 characters (it has %(show_value)d)."},
        help_text="Why, such as the plan or invoice (optional).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
