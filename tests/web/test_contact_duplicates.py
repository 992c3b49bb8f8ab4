"""The Possible duplicates page: linked from the contacts table, each pair with Merge on the
merge page, the organization's contacts alone, not for Limited members."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in
from twoway.accounts.models import Membership, Organization
from twoway.contacts.duplicates import PAIRS_SHOWN
from twoway.contacts.models import Contact

pytestmark = pytest.mark.django_db


def test_the_table_links_to_the_pairs_each_with_merge(
    org: Organization, standard: Membership, other_org: Organization
) -> None:
    dana = Contact.objects.create(organization=org, name="Dana Whitfield", email="d@example.com")
    lead = Contact.objects.create(organization=org, name="", email="D@EXAMPLE.COM")
    stranger = Contact.objects.create(
        organization=other_org, name="Dana Whitfield", email="d@example.com"
    )
    client = logged_in(standard)

    assert 'href="/contacts/duplicates/"' in client.get("/contacts/").content.decode()
    page = client.get("/contacts/duplicates/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-pair="{dana.pk}-{lead.pk}"' in html
    assert f'href="/contacts/{dana.pk}/merge/{lead.pk}/"' in html
    assert "Same e-mail" in html
    assert f"/contacts/{stranger.pk}/" not in html
    assert "duplicates-capped" not in html
    assert client.get(f"/contacts/{dana.pk}/merge/{lead.pk}/").status_code == 200


def test_no_pairs_and_a_capped_list_say_so(org: Organization, admin: Membership) -> None:
    client = logged_in(admin)
    assert "No possible duplicates" in client.get("/contacts/duplicates/").content.decode()

    Contact.objects.bulk_create(
        Contact(organization=org, name=f"Client {n}", email="same@example.com")
        for n in range(16)  # 120 pairs
    )
    html = client.get("/contacts/duplicates/").content.decode()
    assert html.count("data-pair=") == PAIRS_SHOWN
    assert f"The first {PAIRS_SHOWN} pairs are shown" in html


def test_limited_members_may_not_see_it(limited: Membership) -> None:
    assert logged_in(limited).get("/contacts/duplicates/").status_code == 403
