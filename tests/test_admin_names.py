"""The Django admin names every model of ours in good English: plurals as people write them,
abbreviations in capitals."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.test import Client

pytestmark = pytest.mark.django_db

# A plural made by adding "s" to a word ending in consonant + y ("entrys").
_BAD_PLURAL = re.compile(r"[^aeiou]ys\b")
_ABBREVIATIONS = re.compile(r"\b(api|sms|mms|csv|uid)\b")


def _ours() -> list[type]:
    return [m for m in admin.site._registry if m.__module__.startswith("twoway.")]


@pytest.mark.parametrize("model", _ours(), ids=lambda m: m.__name__)
def test_every_model_is_named_as_people_write_it(model: type) -> None:
    meta = model._meta  # type: ignore[attr-defined]
    for name in (str(meta.verbose_name), str(meta.verbose_name_plural)):
        assert not _BAD_PLURAL.search(name), name
        assert not _ABBREVIATIONS.search(name), name


def test_the_admin_index_lists_balance_entries(django_user_model: type) -> None:
    operator = django_user_model.objects.create_superuser(  # type: ignore[attr-defined]
        "operator", "operator@example.test", "x"
    )
    client = Client()
    client.force_login(operator)
    page = client.get("/admin/").content.decode()
    assert "Balance entries" in page and "Balance entrys" not in page
    assert "API keys" in page and "SMS accounts" in page


def test_no_switch_of_a_feature_not_built_is_offered(django_user_model: type) -> None:
    from twoway.accounts.models import Membership, Organization

    operator = django_user_model.objects.create_superuser(  # type: ignore[attr-defined]
        "operator", "operator@example.test", "x"
    )
    org = Organization.objects.create(name="Acme", country="US")
    member = Membership.objects.create(user=operator, organization=org)
    client = Client()
    client.force_login(operator)
    pages = [
        client.get(f"/admin/accounts/organization/{org.pk}/change/").content.decode(),
        client.get(f"/admin/accounts/membership/{member.pk}/change/").content.decode(),
        client.get("/settings/organization/").content.decode(),
        client.get("/settings/users/").content.decode(),
    ]
    for page in pages:
        for word in ("blast", "business_hours", "business_days", "away message"):
            assert word not in page.lower(), word
