"""The Django admin shows the consent ledger to operators and changes none of it."""

from __future__ import annotations

import pytest
from django.test import Client

from twoway.accounts.models import Organization
from twoway.compliance.models import ConsentEvent
from twoway.contacts.models import Contact

pytestmark = pytest.mark.django_db


def test_operators_read_entries_but_cannot_add_change_or_delete_them(
    org: Organization, django_user_model: type
) -> None:
    contact = Contact.objects.create(organization=org, name="Ann Lee")
    entry = ConsentEvent.objects.create(
        organization=org, contact=contact, kind="opt_out", source="keyword", text="STOP"
    )
    operator = django_user_model.objects.create_superuser(  # type: ignore[attr-defined]
        "operator", "operator@example.test", "x"
    )
    client = Client()
    client.force_login(operator)
    base = "/admin/compliance/consentevent/"
    listing = client.get(base).content.decode()
    assert "STOP" in listing or "Ann Lee" in listing
    assert f'href="{base}add/"' not in listing
    page = client.get(f"{base}{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{entry.pk}/change/", {"text": "edited"}).status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    client.post(base, bulk)
    entry.refresh_from_db()
    assert entry.text == "STOP" and ConsentEvent.objects.count() == 1
