"""Drip campaigns applied to a contact: every step scheduled at once inside quiet hours, a reply
deleting the unsent steps on both inbound paths, opted-out contacts refused, and the worker
sending a due step (or cancelling it when the contact opted out meanwhile)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest
from django.utils import timezone

from tests.conftest import make_conversation
from twoway.accounts.models import Membership, Organization
from twoway.canned.models import CannedResponse
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.contacts.models import ContactPhone, OptInStatus
from twoway.conversations.models import Category, Conversation, Message, Status
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.drips.applying import drip_apply, drip_cancel
from twoway.drips.models import AppliedDripStep, DripCampaign
from twoway.drips.services import StepInput, drip_campaign_create
from twoway.messaging import inbound, scheduling
from twoway.messaging.services import OptedOutError
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

# A Washington, DC number: its area code puts the contact in America/New_York.
HANDSET = "+12025550172"
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def conversation(org: Organization, number: PhoneNumber) -> Conversation:
    convo = make_conversation(org, number, HANDSET, name="Dana Reyes")
    contact = convo.contact
    contact.first_name = "Dana"
    contact.save()
    ContactPhone.objects.create(organization=org, contact=contact, number=HANDSET)
    return convo


def _campaign(admin: Membership, *days: int, name: str = "Welcome") -> DripCampaign:
    return drip_campaign_create(
        actor=admin,
        name=name,
        steps=[StepInput(body=f"Hi {{first_name}}, day {d}", delay_days=d) for d in days],
    )


def _steps(conversation: Conversation) -> list[Message]:
    return list(
        conversation.messages.filter(category=Category.DRIP, status=Status.SCHEDULED).order_by(
            "send_at"
        )
    )


def _at(hour: int, minute: int = 0, day: int = 5) -> dt.datetime:
    return dt.datetime(2027, 1, day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    # A fixed "now" for applying, and for the scheduling checks it passes through.
    now = _at(10, 0)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def test_applying_schedules_every_step_with_merge_fields_and_its_label(
    admin: Membership, conversation: Conversation, frozen_now: dt.datetime
) -> None:
    campaign = _campaign(admin, 1, 3, 5)

    applied = drip_apply(membership=admin, conversation=conversation, campaign=campaign)

    steps = _steps(conversation)
    assert [m.body for m in steps] == ["Hi Dana, day 1", "Hi Dana, day 3", "Hi Dana, day 5"]
    assert [m.send_at for m in steps] == [frozen_now + dt.timedelta(days=d) for d in (1, 3, 5)]
    assert [m.sent_by_label for m in steps] == [
        "Drip: Welcome, step 1 of 3",
        "Drip: Welcome, step 2 of 3",
        "Drip: Welcome, step 3 of 3",
    ]
    assert {m.sent_by_id for m in steps} == {None}
    assert list(applied.steps.values_list("position", flat=True)) == [1, 2, 3]


def test_a_step_due_in_the_contacts_night_is_moved_to_the_next_morning_there(
    admin: Membership,
    org: Organization,
    number: PhoneNumber,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Applied at 20:30 in New York: a step 2 hours later would land at 22:30 for a New York
    # contact; for a Los Angeles number (310) it is 19:30 there, inside the window.
    now = _at(20, 30)
    monkeypatch.setattr(timezone, "now", lambda: now)
    campaign = drip_campaign_create(
        actor=admin, name="Evening", steps=[StepInput(body="Hello", delay_hours=2)]
    )
    east = make_conversation(org, number, HANDSET)
    west = make_conversation(org, number, "+13105550172")

    drip_apply(membership=admin, conversation=east, campaign=campaign)
    drip_apply(membership=admin, conversation=west, campaign=campaign)

    assert _steps(east)[0].send_at == _at(8, 0, day=6)
    assert _steps(west)[0].send_at == now + dt.timedelta(hours=2)


def test_the_contacts_own_time_zone_wins_over_the_area_code(
    admin: Membership, conversation: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = _at(6, 0)  # 06:00 in New York is 11:00 in London
    monkeypatch.setattr(timezone, "now", lambda: now)
    conversation.contact.time_zone = "Europe/London"
    conversation.contact.save()
    campaign = drip_campaign_create(
        actor=admin, name="Soon", steps=[StepInput(body="Hello", delay_hours=1)]
    )

    drip_apply(membership=admin, conversation=conversation, campaign=campaign)

    assert _steps(conversation)[0].send_at == now + dt.timedelta(hours=1)


def test_the_daily_cap_spreads_steps_out(
    admin: Membership, org: Organization, conversation: Conversation, frozen_now: dt.datetime
) -> None:
    org.automated_daily_cap = 1
    org.save()
    campaign = drip_campaign_create(
        actor=admin,
        name="Busy",
        steps=[StepInput(body="One", delay_hours=1), StepInput(body="Two", delay_hours=2)],
    )

    drip_apply(membership=admin, conversation=conversation, campaign=campaign)

    first, second = _steps(conversation)
    assert first.send_at == frozen_now + dt.timedelta(hours=1)
    assert second.send_at == first.send_at + dt.timedelta(hours=24)


@pytest.mark.parametrize("flagged", [False, True])
def test_a_drip_is_refused_to_an_opted_out_contact_or_one_with_a_possible_opt_out(
    admin: Membership, conversation: Conversation, flagged: bool
) -> None:
    contact = conversation.contact
    if flagged:
        contact.opt_out_flagged_at = timezone.now()
    else:
        contact.opt_in_status = OptInStatus.OPTED_OUT
    contact.save()
    campaign = _campaign(admin, 1, 2)

    with pytest.raises(OptedOutError) as refused:
        drip_apply(membership=admin, conversation=conversation, campaign=campaign)

    expected = "possible opt-out waits for a decision" if flagged else "has opted out of texts"
    assert expected in refused.value.message
    assert not conversation.messages.exists()
    assert not conversation.applied_drips.exists()


@pytest.mark.parametrize("switched_off", ["organization", "user"])
def test_a_drip_is_refused_while_the_organizations_or_the_users_switch_is_off(
    admin: Membership, conversation: Conversation, switched_off: str
) -> None:
    campaign = _campaign(admin, 1, 2)
    if switched_off == "organization":
        Organization.objects.filter(pk=admin.organization_id).update(drips_enabled=False)
    else:
        Membership.objects.filter(pk=admin.pk).update(can_use_drips=False)
    admin = Membership.objects.select_related("organization").get(pk=admin.pk)
    assert not admin.can_apply_drips

    with pytest.raises(PermissionDenied) as refused:
        drip_apply(membership=admin, conversation=conversation, campaign=campaign)

    expected = (
        "switched off for this organization"
        if switched_off == "organization"
        else ("Your account may not apply drip campaigns")
    )
    assert expected in refused.value.message
    assert refused.value.code == "drips_not_allowed"
    assert not conversation.messages.exists()
    assert not conversation.applied_drips.exists()


def test_a_step_with_a_merge_field_the_contact_lacks_schedules_nothing(
    admin: Membership, conversation: Conversation, frozen_now: dt.datetime
) -> None:
    campaign = drip_campaign_create(
        actor=admin,
        name="Named",
        steps=[
            StepInput(body="Hello", delay_days=1),
            StepInput(body="Bye {last_name}", delay_days=2),
        ],
    )

    with pytest.raises(InvalidInput, match=r"Step 2 uses \{last_name\}"):
        drip_apply(membership=admin, conversation=conversation, campaign=campaign)

    assert not conversation.messages.exists() and not conversation.applied_drips.exists()


def test_a_canned_response_step_sends_the_responses_words(
    admin: Membership, org: Organization, conversation: Conversation, frozen_now: dt.datetime
) -> None:
    canned = CannedResponse.objects.create(
        organization=org, name="Reminder", body="{first_name}, time for a check-up"
    )
    campaign = drip_campaign_create(
        actor=admin,
        name="Check-up",
        steps=[StepInput(canned_response_id=canned.pk, delay_days=1)],
    )

    drip_apply(membership=admin, conversation=conversation, campaign=campaign)

    assert _steps(conversation)[0].body == "Dana, time for a check-up"


def _reply_one_by_one(number: PhoneNumber, body: str) -> None:
    inbound.inbound_message_receive(
        "simulator",
        InboundMessage(
            carrier_message_id=f"SIM{uuid.uuid4().hex}",
            from_number=HANDSET,
            to_number=number.number,
            body=body,
        ),
    )


def _reply_in_a_batch(number: PhoneNumber, body: str) -> None:
    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id=f"SIM{uuid.uuid4().hex}",
            from_number=HANDSET,
            to_number=number.number,
            body=body,
        ),
    )
    carrier_events_process_pending()


@pytest.mark.parametrize("reply", [_reply_one_by_one, _reply_in_a_batch])
def test_any_reply_deletes_the_unsent_steps_on_both_inbound_paths(
    admin: Membership,
    conversation: Conversation,
    number: PhoneNumber,
    frozen_now: dt.datetime,
    reply: object,
) -> None:
    campaign = _campaign(admin, 1, 3, 5)
    applied = drip_apply(membership=admin, conversation=conversation, campaign=campaign)
    # The first step went already; only the two waiting ones go.
    first = _steps(conversation)[0]
    Message.objects.filter(pk=first.pk).update(status=Status.SENT)
    other = make_conversation(conversation.organization, number, "+12025550199")
    other.contact.first_name = "Ari"
    other.contact.save()
    drip_apply(membership=admin, conversation=other, campaign=campaign)

    reply(number, "Thanks, see you soon")  # type: ignore[operator]

    assert _steps(conversation) == []
    assert list(conversation.messages.filter(category=Category.DRIP)) == [first]
    assert list(AppliedDripStep.objects.filter(applied=applied)) == [first.drip_step]
    assert len(_steps(other)) == 3  # another contact's drip goes on


def test_cancelling_an_applied_drip_cancels_its_waiting_steps(
    admin: Membership, conversation: Conversation, frozen_now: dt.datetime
) -> None:
    applied = drip_apply(
        membership=admin, conversation=conversation, campaign=_campaign(admin, 1, 2)
    )

    assert drip_cancel(membership=admin, applied=applied) == 2

    statuses = conversation.messages.values_list("status", flat=True)
    assert list(statuses) == [Status.CANCELED, Status.CANCELED]


def test_the_worker_promotes_a_due_step_and_cancels_one_whose_contact_opted_out(
    admin: Membership, conversation: Conversation, frozen_now: dt.datetime
) -> None:
    drip_apply(membership=admin, conversation=conversation, campaign=_campaign(admin, 1, 2))
    first, second = _steps(conversation)

    assert scheduling.scheduled_promote(frozen_now + dt.timedelta(days=1, minutes=1)) == 1
    first.refresh_from_db()
    assert first.status == Status.QUEUED

    contact = conversation.contact
    contact.opt_in_status = OptInStatus.OPTED_OUT
    contact.save()
    assert scheduling.scheduled_promote(frozen_now + dt.timedelta(days=2, minutes=1)) == 1
    second.refresh_from_db()
    assert second.status == Status.CANCELED
    assert second.error_message == scheduling.DRIP_OPTED_OUT


def test_a_step_due_while_a_possible_opt_out_waits_is_cancelled_with_the_reason(
    admin: Membership, conversation: Conversation, frozen_now: dt.datetime
) -> None:
    drip_apply(membership=admin, conversation=conversation, campaign=_campaign(admin, 1))
    [step] = _steps(conversation)
    contact = conversation.contact
    contact.opt_out_flagged_at = timezone.now()
    contact.save()

    scheduling.scheduled_promote(frozen_now + dt.timedelta(days=1, minutes=1))

    step.refresh_from_db()
    assert (step.status, step.error_message) == (
        Status.CANCELED,
        scheduling.DRIP_OPT_OUT_FLAGGED,
    )


def test_a_step_promoted_late_into_the_contacts_night_waits_for_the_morning(
    admin: Membership, conversation: Conversation, frozen_now: dt.datetime
) -> None:
    drip_apply(membership=admin, conversation=conversation, campaign=_campaign(admin, 1))
    [step] = _steps(conversation)
    # The worker was down: it promotes the step at 23:30 in the contact's New York.
    late = _at(23, 30, day=6)

    assert scheduling.scheduled_promote(late) == 1

    step.refresh_from_db()
    assert (step.status, step.send_at, step.next_attempt_at) == (
        Status.SCHEDULED,
        _at(8, 0, day=7),
        None,
    )
    assert scheduling.scheduled_promote(_at(8, 1, day=7)) == 1
    step.refresh_from_db()
    assert step.status == Status.QUEUED
