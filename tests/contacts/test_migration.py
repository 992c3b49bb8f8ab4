"""The migration that brought first and last names split the names contacts had."""

from __future__ import annotations

import datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from twoway.accounts.models import Organization
from twoway.contacts.models import Contact, CreatedFrom
from twoway.conversations.models import Conversation
from twoway.numbers.models import PhoneNumber

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


def test_last_activity_is_filled_from_the_conversations(
    org: Organization, number: PhoneNumber
) -> None:
    from django.db import connection

    last_activity = import_module("twoway.contacts.migrations.0007_contact_last_activity")
    texted = Contact.objects.create(organization=org, name="Texted")
    quiet = Contact.objects.create(organization=org, name="Never texted")
    at = timezone.now()
    for hours, handset in [(1, "+12025550101"), (3, "+12025550102")]:
        Conversation.objects.create(
            organization=org,
            contact=texted,
            phone_number=number,
            contact_number=handset,
            last_message_at=at - datetime.timedelta(hours=hours),
        )
    Conversation.objects.create(
        organization=org, contact=quiet, phone_number=number, contact_number="+12025550103"
    )
    Contact.objects.update(last_activity_at=None)
    with connection.cursor() as cursor:
        cursor.execute(last_activity.BACKFILL)
    texted.refresh_from_db()
    quiet.refresh_from_db()
    assert texted.last_activity_at == at - datetime.timedelta(hours=1)
    assert quiet.last_activity_at is None
