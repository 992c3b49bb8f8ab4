"""The migration that brought first and last names split the names contacts had."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps

from twoway.accounts.models import Organization
from twoway.contacts.models import Contact, CreatedFrom

pytestmark = pytest.mark.django_db

migration = import_module("twoway.contacts.migrations.0002_contact_fields")


def test_existing_names_are_split_at_the_last_word(org: Organization) -> None:
    names = ["Dana Whitfield", "Mary Ann  Smith", "Cher", "", "x" * 150 + " " + "y" * 30]
    made = [Contact.objects.create(organization=org, name=name) for name in names]
    lead = Contact.objects.create(organization=org, created_from=CreatedFrom.INBOUND)
    migration.split_names(apps, None)
    split = [
        Contact.objects.values_list("first_name", "last_name", "name").get(pk=c.pk) for c in made
    ]
    assert split[:4] == [
        ("Dana", "Whitfield", "Dana Whitfield"),
        ("Mary Ann", "Smith", "Mary Ann Smith"),
        ("Cher", "", "Cher"),
        ("", "", ""),
    ]
    # Too long to split by words: cut in two, the name kept whole.
    assert split[4] == ("x" * 100, "x" * 50 + " " + "y" * 30, names[4])
    lead.refresh_from_db()
    assert lead.lead_texted_at == lead.created_at
