"""MMS both ways on the simulated network: the phone keeps its own copy of what it receives and
shows it; a picture sent from the phone reaches the thread through the fetch job, as a
carrier's would."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import logged_in
from tests.media.conftest import EXE, GIF, png, upload
from tests.messaging import send_steps
from twoway.accounts.models import Membership, Organization
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.conversations.models import Message, Status
from twoway.jobs.runner import JobRunner
from twoway.jobs.schedule import Schedule
from twoway.media.models import MediaStatus, MessageMedia
from twoway.media.services import media_check
from twoway.messaging import claiming
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.simulator.models import SimMessage

pytestmark = pytest.mark.django_db

HANDSET = "+12025550176"


def test_an_mms_reaches_the_phone_which_keeps_and_shows_its_copy(
    number: PhoneNumber, standard: Membership
) -> None:
    message = message_send(
        phone_number=number,
        to=HANDSET,
        body="Your frames",
        media=media_check([upload("frames.png", png(6, 6))]),
    )
    [claim] = claiming.claim_due(limit=10)
    send_steps.send_claimed(claim)
    assert Message.objects.get(pk=message.pk).status == Status.SENT

    on_phone = SimMessage.objects.get(direction=SimMessage.MT)
    assert [item["content_type"] for item in on_phone.media] == ["image/png"]
    screen = logged_in(standard).get(f"/simulator/{HANDSET}/screen/").content.decode()
    link = f"/simulator/{HANDSET}/media/{on_phone.sid}/0/"
    assert f'src="{link}"' in screen
    served = logged_in(standard).get(link)
    assert b"".join(served.streaming_content) == png(6, 6)  # type: ignore[attr-defined]


def test_a_picture_from_the_phone_arrives_in_the_thread(
    org: Organization,
    number: PhoneNumber,
    standard: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    response = logged_in(standard).post(
        f"/simulator/{HANDSET}/send/",
        {"to": number.number, "body": "", "media": [upload("cat.gif", GIF)]},
    )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        carrier_events_process_pending()
    message = Message.objects.get(organization=org, from_number=HANDSET)
    assert message.encoding == "MMS"
    assert JobRunner(schedule=Schedule([])).run_until_idle() == 1
    media = MessageMedia.objects.get(message=message)
    assert (media.status, media.content_type) == (MediaStatus.READY, "image/gif")
    thread = logged_in(standard).get(f"/inbox/c/{message.conversation_id}/").content.decode()
    assert f'src="/media/{media.pk}/"' in thread


def test_the_phone_refuses_what_is_no_picture(number: PhoneNumber, standard: Membership) -> None:
    response = logged_in(standard).post(
        f"/simulator/{HANDSET}/send/",
        {"to": number.number, "body": "x", "media": [upload("cat.jpg", EXE)]},
    )
    assert response.status_code == 400
    assert "is not a picture or video" in response.content.decode()
    assert not SimMessage.objects.exists()
