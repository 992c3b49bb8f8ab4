"""Settings > SMS balance: the balance and the ledger of every change, for administrators."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import logged_in
from twoway.accounts.models import Membership, Organization
from twoway.billing.models import BalanceEntry
from twoway.billing.services import balance_grant, balance_refund
from twoway.conversations.models import Message, Status
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.web.settings.balance import ENTRIES_PER_PAGE

pytestmark = pytest.mark.django_db


def test_the_ledger_shows_grants_sends_and_refunds(
    admin: Membership, org: Organization, number: PhoneNumber
) -> None:
    balance_grant(organization=org, amount=10, note="Starter plan", actor=admin.user)
    sent = message_send(phone_number=number, to="+12025550172", body="A" * 161, membership=admin)
    failed = message_send(phone_number=number, to="+12025550173", body="Hi", membership=admin)
    Message.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    balance_refund(message=failed)

    page = logged_in(admin).get("/settings/balance/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<strong data-balance>8</strong> segments left" in html
    rows = [BalanceEntry.objects.get(pk=pk) for pk in _entry_ids(html)]
    assert [(row.delta, row.balance_after) for row in rows] == [(1, 8), (-1, 7), (-2, 8), (10, 10)]
    assert "Starter plan" in html and "by admin@acme.test" in html
    assert f'href="{reverse("conversation", args=[sent.conversation_id])}"' in html


def test_without_a_plan_the_page_says_sending_is_unlimited(admin: Membership) -> None:
    html = logged_in(admin).get("/settings/balance/").content.decode()
    assert "sends without limit" in html
    assert "No changes yet." in html


def test_only_administrators_see_it(standard: Membership, org: Organization) -> None:
    balance_grant(organization=org, amount=10)
    response = logged_in(standard).get("/settings/balance/")
    assert response.status_code == 403
    assert "data-entry" not in response.content.decode()


def test_another_organizations_ledger_never_shows(
    admin: Membership, org: Organization, other_org: Organization
) -> None:
    balance_grant(organization=other_org, amount=99, note="Their plan")
    html = logged_in(admin).get("/settings/balance/").content.decode()
    assert "Their plan" not in html and "data-entry" not in html
    assert "sends without limit" in html


def test_the_ledger_is_paged_newest_first(admin: Membership, org: Organization) -> None:
    for n in range(ENTRIES_PER_PAGE + 3):
        balance_grant(organization=org, amount=1, note=f"grant {n}")
    client = logged_in(admin)
    first = client.get("/settings/balance/").content.decode()
    assert len(_entry_ids(first)) == ENTRIES_PER_PAGE
    assert f"grant {ENTRIES_PER_PAGE + 2}" in first and "grant 0<" not in first
    second = client.get("/settings/balance/?page=2").content.decode()
    assert len(_entry_ids(second)) == 3 and "grant 0" in second


def test_the_top_bar_balance_leads_administrators_to_the_ledger(
    admin: Membership, standard: Membership, org: Organization
) -> None:
    balance_grant(organization=org, amount=10)
    assert 'href="/settings/balance/"' in logged_in(admin).get("/inbox/").content.decode()
    standard_page = logged_in(standard).get("/inbox/").content.decode()
    assert "10 segments left" in standard_page
    assert 'href="/settings/balance/"' not in standard_page


def _entry_ids(html: str) -> list[int]:
    import re

    return [int(pk) for pk in re.findall(r'data-entry="(\d+)"', html)]


def test_an_administrator_adds_credit_recorded_in_the_ledger(
    admin: Membership, org: Organization
) -> None:
    balance_grant(organization=org, amount=1)
    client = logged_in(admin)
    response = client.post("/settings/balance/", {"amount": "250", "note": "Invoice 1042"})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Added 250 segments of credit." in html
    assert "<strong data-balance>251</strong> segments left" in html
    entry = BalanceEntry.objects.filter(organization=org).first()
    assert entry is not None
    assert (entry.delta, entry.balance_after, entry.note) == (250, 251, "Invoice 1042")
    assert entry.created_by_id == admin.user_id


@pytest.mark.parametrize(
    ("posted", "reason"),
    [
        ({"amount": ""}, "Give the number of segments to add."),
        ({"amount": "ten"}, "as a whole number"),
        ({"amount": "0"}, "Add at least 1 segment."),
        ({"amount": "-5"}, "Add at least 1 segment."),
        ({"amount": "2000000"}, "Add at most 1,000,000 segments at a time."),
        ({"amount": "5", "note": "x" * 201}, "Keep the note to 200 characters"),
    ],
)
def test_a_wrong_credit_is_refused_with_the_reason_and_adds_nothing(
    admin: Membership, org: Organization, posted: dict[str, str], reason: str
) -> None:
    response = logged_in(admin).post("/settings/balance/", posted)
    assert response.status_code == 422
    assert reason in response.content.decode()
    assert not BalanceEntry.objects.filter(organization=org).exists()


def test_only_administrators_add_credit_and_only_with_the_csrf_token(
    admin: Membership, standard: Membership, org: Organization
) -> None:
    response = logged_in(standard).post("/settings/balance/", {"amount": "100"})
    assert response.status_code == 403
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(admin.user)
    assert forged.post("/settings/balance/", {"amount": "100"}).status_code == 403
    assert not BalanceEntry.objects.filter(organization=org).exists()


def test_the_exhausted_balance_says_where_credit_is_added(
    admin: Membership, org: Organization, number: PhoneNumber
) -> None:
    from twoway.billing.services import BalanceExhausted

    balance_grant(organization=org, amount=1)
    balance_grant(organization=org, amount=-1)
    with pytest.raises(BalanceExhausted) as caught:
        message_send(phone_number=number, to="+12025550172", body="Hi", membership=admin)
    assert "An administrator can add credit under Settings, SMS balance." in caught.value.message
