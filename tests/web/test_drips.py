"""Drip campaigns in the web UI: Settings > Drip campaigns (admins), the composer's droplet
(list with a preview, Apply), the steps in the thread, and Cancel the whole drip."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import logged_in, make_conversation
from twoway.accounts.models import Membership, Organization
from twoway.contacts.models import OptInStatus
from twoway.conversations.models import Category, Conversation, Status
from twoway.drips.models import DripCampaign
from twoway.drips.services import StepInput, drip_campaign_create
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

HANDSET = "+12025550180"


@pytest.fixture
def conversation(org: Organization, number: PhoneNumber) -> Conversation:
    convo = make_conversation(org, number, HANDSET, name="Dana Reyes")
    convo.contact.first_name = "Dana"
    convo.contact.save()
    return convo


def _campaign(admin: Membership, name: str = "Welcome") -> DripCampaign:
    return drip_campaign_create(
        actor=admin,
        name=name,
        steps=[
            StepInput(body="Hi {first_name}, welcome!", delay_days=1),
            StepInput(body="Any questions?", delay_days=3),
            StepInput(body="Book your visit", delay_days=5),
        ],
    )


def test_an_admin_adds_a_campaign_with_its_steps(admin: Membership) -> None:
    client = logged_in(admin)
    page = client.get(reverse("settings_drip_campaigns")).content.decode()
    assert "No drip campaigns yet." in page and "New drip campaign" in page
    assert "Drip campaigns" in client.get(reverse("settings")).content.decode()

    response = client.post(
        reverse("settings_drip_campaign_add"),
        {
            "name": "Welcome",
            "step-0-body": "Hi {first_name}",
            "step-0-days": "1",
            "step-1-body": "Still there?",
            "step-1-days": "3",
            "step-1-hours": "2",
            "step-2-body": "",  # an empty row is left out
        },
    )

    assert response.status_code == 302
    campaign = DripCampaign.objects.get(organization=admin.organization)
    steps = list(campaign.steps.values_list("position", "body", "delay_days", "delay_hours"))
    assert steps == [(1, "Hi {first_name}", 1, 0), (2, "Still there?", 3, 2)]
    page = client.get(reverse("settings_drip_campaigns")).content.decode()
    assert 'value="Welcome"' in page and "Still there?" in page


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"name": "", "step-0-body": "x", "step-0-days": "1"}, "Give the drip campaign a name."),
        ({"name": "A"}, "Give the drip campaign at least one step."),
        ({"name": "A", "step-0-body": "x"}, "Step 1: give a delay of at least one hour"),
        ({"name": "A", "step-0-body": "x", "step-0-days": "soon"}, "is not a whole number"),
        (
            {
                "name": "A",
                "step-0-body": "x",
                "step-0-days": "3",
                "step-1-body": "y",
                "step-1-days": "1",
            },
            "Step 2 must come later after applying than step 1",
        ),
        ({"name": "A", "step-0-body": "Hi {nickname}", "step-0-days": "1"}, "Step 1: {nickname}"),
    ],
)
def test_a_refused_campaign_keeps_what_was_typed_and_saves_nothing(
    admin: Membership, data: dict[str, str], reason: str
) -> None:
    response = logged_in(admin).post(reverse("settings_drip_campaign_add"), data)

    assert response.status_code == 422
    page = response.content.decode()
    assert reason in page
    assert not DripCampaign.objects.exists()


def test_an_admin_edits_and_deletes_a_campaign(admin: Membership) -> None:
    campaign = _campaign(admin)
    client = logged_in(admin)

    response = client.post(
        reverse("settings_drip_campaign_edit", args=[campaign.pk]),
        {"name": "Welcome back", "step-0-body": "Only one now", "step-0-hours": "4"},
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Welcome back"
    assert list(campaign.steps.values_list("body", "delay_hours")) == [("Only one now", 4)]

    response = client.post(reverse("settings_drip_campaign_delete", args=[campaign.pk]))
    assert response.status_code == 302
    assert not DripCampaign.objects.exists()


def test_only_admins_manage_campaigns(admin: Membership, standard: Membership) -> None:
    campaign = _campaign(admin)
    client = logged_in(standard)
    assert client.get(reverse("settings_drip_campaigns")).status_code == 403
    assert client.post(reverse("settings_drip_campaign_add"), {"name": "x"}).status_code == 403
    edit = client.post(reverse("settings_drip_campaign_edit", args=[campaign.pk]), {"name": "Mine"})
    assert edit.status_code == 403
    delete = client.post(reverse("settings_drip_campaign_delete", args=[campaign.pk]))
    assert delete.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Welcome"


def test_the_droplet_lists_campaigns_with_their_steps_and_applies_one(
    admin: Membership, standard: Membership, conversation: Conversation
) -> None:
    campaign = _campaign(admin)
    client = logged_in(standard)  # not an admin: whoever may text the conversation applies
    thread = client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert 'aria-label="Drip campaigns"' in thread

    listed = client.get(reverse("drip_picker", args=[conversation.pk])).content.decode()
    assert "Welcome" in listed and "1 day after applying" in listed
    assert "Hi {first_name}, welcome!" in listed and "5 days after applying" in listed

    response = client.post(
        reverse("conversation_drip_apply", args=[conversation.pk]), {"campaign_id": campaign.pk}
    )

    assert response.status_code == 200
    page = response.content.decode()
    for position in (1, 2, 3):
        assert f"Drip: Welcome, step {position} of 3" in page
    assert "Hi Dana, welcome!" in page and "Cancel the whole drip" in page
    steps = conversation.messages.filter(category=Category.DRIP, status=Status.SCHEDULED)
    assert steps.count() == 3


def test_cancel_the_whole_drip_from_the_thread(
    admin: Membership, conversation: Conversation
) -> None:
    campaign = _campaign(admin)
    client = logged_in(admin)
    client.post(
        reverse("conversation_drip_apply", args=[conversation.pk]), {"campaign_id": campaign.pk}
    )
    applied = conversation.applied_drips.get()

    response = client.post(reverse("conversation_drip_cancel", args=[conversation.pk, applied.pk]))

    assert response.status_code == 200
    statuses = set(conversation.messages.values_list("status", flat=True))
    assert statuses == {Status.CANCELED}
    assert "Cancel the whole drip" not in response.content.decode()


def test_an_opted_out_contact_is_refused_with_the_reason(
    admin: Membership, conversation: Conversation
) -> None:
    campaign = _campaign(admin)
    conversation.contact.opt_in_status = OptInStatus.OPTED_OUT
    conversation.contact.save()
    client = logged_in(admin)

    listed = client.get(reverse("drip_picker", args=[conversation.pk])).content.decode()
    assert "Dana Reyes has opted out of texts; drip campaigns are not applied to them." in listed
    assert "Apply campaign" not in listed

    response = client.post(
        reverse("conversation_drip_apply", args=[conversation.pk]), {"campaign_id": campaign.pk}
    )
    assert response.status_code == 422
    assert "drip campaigns are not applied to them" in response.content.decode()
    assert not conversation.messages.exists()


def test_a_campaign_of_another_organization_cannot_be_applied(
    other_org: Organization, conversation: Conversation, admin: Membership
) -> None:
    from tests.conftest import make_member

    theirs = _campaign(make_member(other_org, "boss@other.test", "admin"), name="Theirs")

    response = logged_in(admin).post(
        reverse("conversation_drip_apply", args=[conversation.pk]), {"campaign_id": theirs.pk}
    )

    assert response.status_code == 422
    assert "That drip campaign does not exist." in response.content.decode()
    assert not conversation.messages.exists()


def test_a_member_without_send_sms_gets_no_droplet_and_cannot_apply(
    admin: Membership, standard: Membership, conversation: Conversation
) -> None:
    campaign = _campaign(admin)
    standard.can_send_sms = False
    standard.save()
    client = logged_in(standard)

    thread = client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert 'aria-label="Drip campaigns"' not in thread
    response = client.post(
        reverse("conversation_drip_apply", args=[conversation.pk]), {"campaign_id": campaign.pk}
    )
    assert response.status_code == 403
    assert not conversation.messages.exists()


@pytest.mark.parametrize("switched_off", ["organization", "user"])
def test_with_a_drip_switch_off_there_is_no_droplet_and_applying_says_why(
    admin: Membership, standard: Membership, conversation: Conversation, switched_off: str
) -> None:
    campaign = _campaign(admin)
    if switched_off == "organization":
        Organization.objects.filter(pk=standard.organization_id).update(drips_enabled=False)
    else:
        Membership.objects.filter(pk=standard.pk).update(can_use_drips=False)
    client = logged_in(standard)

    thread = client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert 'aria-label="Drip campaigns"' not in thread
    assert "Send later" in thread  # the rest of the composer is there
    picker = client.get(reverse("drip_picker", args=[conversation.pk])).content.decode()
    assert "data-drip-refusal" in picker and "Apply campaign" not in picker
    response = client.post(
        reverse("conversation_drip_apply", args=[conversation.pk]), {"campaign_id": campaign.pk}
    )
    assert response.status_code == 422
    expected = (
        "switched off for this organization"
        if switched_off == "organization"
        else ("Your account may not apply drip campaigns")
    )
    assert expected in response.content.decode()
    assert not conversation.messages.exists()
