"""The API's drips: apply a campaign to a conversation's contact, cancel what was applied."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import make_conversation, make_member
from twoway.accounts.models import ApiKey, Membership, Organization, Role
from twoway.contacts.models import OptInStatus
from twoway.conversations.models import Conversation
from twoway.drips.models import DripCampaign
from twoway.drips.services import StepInput, drip_campaign_create
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=admin, name='CRM')[1]}")


@pytest.fixture
def conversation(admin: Membership, number: PhoneNumber) -> Conversation:
    return make_conversation(admin.organization, number, "+12025550181", name="Lee")


@pytest.fixture
def campaign(admin: Membership) -> DripCampaign:
    return drip_campaign_create(
        actor=admin,
        name="Welcome",
        steps=[StepInput(body="Hello", delay_days=1), StepInput(body="Still there?", delay_days=3)],
    )


def test_applying_answers_with_the_scheduled_steps_and_cancel_cancels_them(
    api: Client, conversation: Conversation, campaign: DripCampaign
) -> None:
    url = f"/api/v1/conversations/{conversation.pk}/drips"
    response = api.post(url, {"campaign_id": campaign.pk}, content_type="application/json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["campaign_name"] == "Welcome" and data["conversation_id"] == conversation.pk
    assert [s["body"] for s in data["steps"]] == ["Hello", "Still there?"]
    assert {s["status"] for s in data["steps"]} == {"scheduled"}
    assert {s["category"] for s in data["steps"]} == {"drip"}

    cancelled = api.post(f"{url}/{data['id']}/cancel")
    assert cancelled.status_code == 200
    assert {s["status"] for s in cancelled.json()["steps"]} == {"canceled"}


def test_an_opted_out_contact_is_refused(
    api: Client, conversation: Conversation, campaign: DripCampaign
) -> None:
    conversation.contact.opt_in_status = OptInStatus.OPTED_OUT
    conversation.contact.save()

    response = api.post(
        f"/api/v1/conversations/{conversation.pk}/drips",
        {"campaign_id": campaign.pk},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "opted_out"
    assert "drip campaigns are not applied" in response.json()["error"]["message"]
    assert not conversation.messages.exists()


def test_an_unknown_campaign_is_404_and_a_bad_body_422(
    api: Client, conversation: Conversation
) -> None:
    url = f"/api/v1/conversations/{conversation.pk}/drips"
    missing = api.post(url, {"campaign_id": 999999}, content_type="application/json")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "That drip campaign does not exist."
    assert api.post(url, {"campaign": 1}, content_type="application/json").status_code == 422
    assert not conversation.messages.exists()


def test_the_organizations_campaigns_are_listed_with_their_steps(
    api: Client, campaign: DripCampaign, other_org: Organization
) -> None:
    theirs = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    drip_campaign_create(
        actor=theirs, name="Secret", steps=[StepInput(body="Not yours", delay_days=1)]
    )

    response = api.get("/api/v1/drip-campaigns")

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    [listed] = data["items"]
    assert listed["id"] == campaign.pk and listed["name"] == "Welcome"
    assert [(s["position"], s["body"], s["delay_days"]) for s in listed["steps"]] == [
        (1, "Hello", 1),
        (2, "Still there?", 3),
    ]


def test_a_key_whose_owner_may_not_apply_drips_is_refused_with_the_reason(
    api: Client, admin: Membership, conversation: Conversation, campaign: DripCampaign
) -> None:
    Membership.objects.filter(pk=admin.pk).update(can_use_drips=False)
    url = f"/api/v1/conversations/{conversation.pk}/drips"
    response = api.post(url, {"campaign_id": campaign.pk}, content_type="application/json")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "drips_not_allowed"
    assert "may not apply drip campaigns" in error["message"]
    assert not conversation.messages.exists()
