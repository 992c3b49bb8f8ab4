"""Compliance replies whatever their length: an opt-out is applied even when its confirmation is
long or cannot be queued, the organization's length limit for agents does not bind them, a
rendered reply is capped, and the settings forms refuse a reply that would be too long."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.conftest import logged_in
from tests.web.organization_form import organization_form
from twoway.accounts.models import RENDERED_MAX_LENGTH, Membership, OffReply, Organization
from twoway.carrier_events.models import CarrierEvent
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.contacts.models import ContactPhone, OptInStatus
from twoway.conversations.models import Category, Direction, Message
from twoway.numbers.models import PhoneNumber

HANDSET = "+12025550172"


def texted(number: PhoneNumber, body: str) -> CarrierEvent:
    sid = f"SIM{uuid.uuid4().hex}"
    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id=sid, from_number=HANDSET, to_number=number.number, body=body
        ),
    )
    carrier_events_process_pending()
    return CarrierEvent.objects.get(dedupe_key=sid)


def opt_in_status(org: Organization) -> str:
    return ContactPhone.objects.get(organization=org, number=HANDSET).contact.opt_in_status


def replies() -> list[Message]:
    return list(
        Message.objects.filter(direction=Direction.OUTBOUND, category=Category.AUTO_REPLY).order_by(
            "id"
        )
    )


def test_stop_opts_out_and_is_confirmed_when_the_limit_for_agents_is_shorter(
    org: Organization, number: PhoneNumber
) -> None:
    org.max_message_length = 40
    org.save(update_fields=["max_message_length"])

    event = texted(number, "STOP")

    assert opt_in_status(org) == OptInStatus.OPTED_OUT
    (reply,) = replies()
    assert reply.body == org.render(org.opt_out_confirmation)
    assert len(reply.body) > 40
    assert event.processed_at is not None and event.error == ""


def test_help_with_a_long_name_and_many_placeholders_is_answered_capped(
    org: Organization, number: PhoneNumber
) -> None:
    Organization.objects.filter(pk=org.pk).update(
        name="A" * 200, help_text="{org} " * 80, max_message_length=160
    )

    event = texted(number, "HELP")

    (reply,) = replies()
    assert len(reply.body) == RENDERED_MAX_LENGTH
    assert event.processed_at is not None and event.error == ""


def test_an_opt_out_stays_applied_when_its_confirmation_cannot_be_queued(
    org: Organization, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twoway.messaging import auto_replies

    def refuse(**kwargs: object) -> Message:
        raise RuntimeError("the sender is gone")

    monkeypatch.setattr(auto_replies, "message_send", refuse)

    event = texted(number, "STOP")

    assert opt_in_status(org) == OptInStatus.OPTED_OUT
    assert ConsentEvent.objects.filter(kind=ConsentEventKind.OPT_OUT).count() == 1
    assert not replies()
    # Processed, not retried (a retry would find the contact opted out and confirm nothing),
    # and the lost confirmation is said on the event.
    assert event.processed_at is not None
    assert "confirmation" in event.error and "the sender is gone" in event.error
    assert Message.objects.filter(direction=Direction.INBOUND, body="STOP").count() == 1


def test_the_do_not_reply_answer_is_not_bound_by_the_limit_for_agents(
    org: Organization, number: PhoneNumber
) -> None:
    Organization.objects.filter(pk=org.pk).update(
        two_way_enabled=False, off_reply=OffReply.DO_NOT_REPLY, max_message_length=20
    )

    event = texted(number, "Are you open today?")

    (reply,) = replies()
    assert reply.body.startswith("Acme Dental: this number does not receive replies.")
    assert event.processed_at is not None and event.error == ""


def test_render_caps_the_text(org: Organization) -> None:
    org.name = "B" * 200
    assert len(org.render("{org}" * 20)) == RENDERED_MAX_LENGTH
    assert org.render("Hi {org}") == "Hi " + "B" * 200


# --- The settings forms ------------------------------------------------------------------------


def test_the_organization_form_refuses_a_help_text_that_renders_too_long(
    org: Organization, admin: Membership
) -> None:
    client = logged_in(admin)
    data = organization_form(org, name="N" * 200, help_text="{org}" * 10)

    response = client.post(reverse("settings_organization"), data)

    assert response.status_code == 422
    assert b"The HELP reply would be 2,000 characters long" in response.content
    org.refresh_from_db()
    assert org.name == "Acme Dental" and org.help_text != "{org}" * 10


def test_the_organization_form_refuses_a_name_that_makes_a_reply_too_long(
    org: Organization, admin: Membership
) -> None:
    Organization.objects.filter(pk=org.pk).update(do_not_reply_text="{org} " * 50)
    org.refresh_from_db()
    client = logged_in(admin)

    response = client.post(reverse("settings_organization"), organization_form(org, name="N" * 40))

    assert response.status_code == 422
    assert b"With this name, the do-not-reply message would be" in response.content
    org.refresh_from_db()
    assert org.name == "Acme Dental"


def test_the_organization_form_still_saves_replies_that_fit(
    org: Organization, admin: Membership
) -> None:
    client = logged_in(admin)
    response = client.post(
        reverse("settings_organization"), organization_form(org, help_text="{org}: call us.")
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.help_text == "{org}: call us."


def test_the_two_way_form_refuses_a_do_not_reply_text_that_renders_too_long(
    org: Organization, admin: Membership
) -> None:
    Organization.objects.filter(pk=org.pk).update(name="N" * 200)
    client = logged_in(admin)

    response = client.post(
        reverse("settings_two_way_off"),
        {"off_reply": OffReply.DO_NOT_REPLY, "do_not_reply_text": "{org} " * 20},
    )

    assert response.status_code == 422
    assert b"The do-not-reply message would be" in response.content
    org.refresh_from_db()
    assert org.two_way_enabled
    assert org.do_not_reply_text != "{org} " * 20
