"""Creating organizations with their first admin and texting number (the CLI and first start use
these)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from twoway.accounts.models import Membership, Organization, Role
from twoway.numbers.activation import TWO_WAY_COUNTRIES, two_way_activate
from twoway.numbers.models import PhoneNumber
from twoway.numbers.services import system_number_ensure_simulated


@dataclass
class AdminCreated:
    organization: Organization
    email: str
    password: str
    generated_password: bool
    number: PhoneNumber | None

    def describe(self) -> str:
        lines = [
            f"Organization “{self.organization.name}” created.",
            f"Log in at /login/ as {self.email}"
            + (f" with password {self.password}" if self.generated_password else "")
            + ".",
        ]
        if self.number:
            lines.append(f"Its texting number is {self.number.display} (simulator).")
        elif self.organization.country.upper() in TWO_WAY_COUNTRIES:
            lines.append("Two-way texting is off: turn it on in Settings > Two-way texting.")
        return "\n".join(lines)


@transaction.atomic
def admin_create(
    *,
    email: str,
    password: str | None,
    organization_name: str,
    country: str = "US",
    two_way: bool = True,
) -> AdminCreated:
    """On the simulator, a US or Canadian organization gets two-way texting switched on at once
    unless `two_way` is False (it can be switched on later in Settings > Two-way texting)."""
    email = email.strip().lower()
    if not email or "@" not in email:
        raise ValueError("Give an e-mail address to log in with.")
    user_model = get_user_model()
    if user_model.objects.filter(username=email).exists():
        raise ValueError(f"A user {email} exists already.")
    generated = not password
    password = password or secrets.token_urlsafe(9)
    organization = Organization.objects.create(name=organization_name, country=country.upper())
    # Django's admin shows every organization: only the installation's first admin, its
    # operator, gets it. Later organizations' admins manage theirs through Settings.
    operator = not user_model.objects.filter(is_superuser=True).exists()
    user = user_model.objects.create_user(
        username=email, email=email, password=password, is_staff=operator, is_superuser=operator
    )
    membership = Membership.objects.create(
        user=user, organization=organization, role=Role.ADMINISTRATIVE
    )
    number = None
    from django.conf import settings

    if settings.TWOWAY_DEFAULT_CARRIER == "simulator" and country.upper() in TWO_WAY_COUNTRIES:
        # Ready to text at once: the simulated network's system number, and two-way texting
        # switched on with a dedicated number (the simulator answers inside this transaction).
        system_number_ensure_simulated()
        if two_way:
            number = two_way_activate(actor=membership)
    return AdminCreated(organization, email, password, generated, number)


def first_run_setup() -> str:
    """On a database with nobody in it, create the first organization and admin."""
    if Membership.objects.exists():
        return ""
    result = admin_create(
        email=os.environ.get("TWOWAY_ADMIN_EMAIL", "admin@example.com"),
        password=os.environ.get("TWOWAY_ADMIN_PASSWORD") or None,
        organization_name=os.environ.get("TWOWAY_ORGANIZATION_NAME", "My business"),
    )
    return "First start: " + result.describe()
