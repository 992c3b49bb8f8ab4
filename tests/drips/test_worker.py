"""A real `twoway worker` sends a drip step when it falls due, to a fake Twilio, and leaves the
later steps waiting."""

from __future__ import annotations

import datetime as dt

import pytest
from bench.fakes.twilio_api import FakeTwilioServer
from django.utils import timezone

from tests.conftest import make_conversation
from tests.messaging import test_worker_process
from tests.messaging.test_worker_process import Workers, deliveries_for, statuses
from twoway.accounts.models import Membership
from twoway.conversations.models import Category, Message, Status
from twoway.drips.applying import drip_apply
from twoway.drips.services import StepInput, drip_campaign_create
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db(transaction=True)

fake = test_worker_process.fake
workers = test_worker_process.workers


def test_the_worker_sends_a_due_drip_step_and_leaves_the_later_ones_waiting(
    workers: Workers, fake: FakeTwilioServer, twilio_number: PhoneNumber, admin: Membership
) -> None:
    org = admin.organization
    # The whole day is allowed, so that the test does not depend on the hour it runs at.
    org.sending_window_start, org.sending_window_end = dt.time(0, 0), dt.time(23, 59, 59)
    org.save()
    conversation = make_conversation(org, twilio_number, "+14155550177")
    campaign = drip_campaign_create(
        actor=admin,
        name="Welcome",
        steps=[StepInput(body="Step one", delay_hours=1), StepInput(body="Step two", delay_days=2)],
    )
    drip_apply(membership=admin, conversation=conversation, campaign=campaign)
    first, second = conversation.messages.filter(category=Category.DRIP).order_by("send_at")
    # The first step's time comes now.
    Message.objects.filter(pk=first.pk).update(send_at=timezone.now() + dt.timedelta(seconds=2))

    workers.start()
    workers.wait_for(lambda: statuses([first]) == [Status.SENT], "the due step is sent")

    assert deliveries_for(fake, first) == 1
    assert statuses([second]) == [Status.SCHEDULED]
    assert len(fake.deliveries) == 1
