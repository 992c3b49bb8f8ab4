"""An MMS out: stored with its files before it moves, counted and billed as one MMS, and handed
to the carrier as signed links (Twilio's MediaUrl) that stop working when they expire."""

from __future__ import annotations

import time
from typing import Any

import pytest
from bench.fakes.twilio_api import FakeTwilioServer
from django.core import signing
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.carrier_accounts.conftest import SID, TOKEN, make_account
from tests.conftest import logged_in, make_conversation
from tests.media.conftest import EXE, JPEG, MP4, png, upload
from tests.messaging import send_steps
from twoway.accounts.models import Membership, Organization
from twoway.billing.models import SmsAccount
from twoway.billing.services import balance_grant
from twoway.conversations.models import Message, Status
from twoway.media.models import MessageMedia
from twoway.media.rules import MB
from twoway.media.services import media_check
from twoway.messaging import claiming
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

TO = "+14155550142"


def send_mms(number: PhoneNumber, body: str = "Your new glasses", files: Any = None) -> Message:
    files = files if files is not None else [upload("frames.png", png(4, 5)), upload("a.mp4", MP4)]
    return message_send(phone_number=number, to=TO, body=body, media=media_check(files))


def test_an_mms_is_stored_with_its_files_as_one_mms(org: Organization, number: PhoneNumber) -> None:
    message = send_mms(number, body="x" * 400)  # three segments as an SMS

    assert (message.status, message.encoding, message.segments) == (Status.QUEUED, "MMS", 1)
    picture, video = MessageMedia.objects.filter(message=message)
    assert (picture.content_type, picture.width, picture.height) == ("image/png", 4, 5)
    assert (video.content_type, video.position, video.organization_id) == ("video/mp4", 1, org.pk)
    assert default_storage.open(picture.storage_name).read() == png(4, 5)


def test_an_mms_costs_one_from_the_balance_however_long_its_text(
    org: Organization, number: PhoneNumber
) -> None:
    balance_grant(organization=org, amount=10)
    send_mms(number, body="y" * 500)
    assert SmsAccount.objects.get(organization=org).balance == 9


def test_an_mms_may_have_no_text(number: PhoneNumber) -> None:
    message = send_mms(number, body="  ")
    assert message.body == ""
    with pytest.raises(Exception, match="Type a message first"):
        message_send(phone_number=number, to=TO, body="  ")


@pytest.fixture
def twilio_account_number(fake: FakeTwilioServer, org: Organization) -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=org,
        number="+14155550123",
        carrier="twilio",
        carrier_account=make_account(org),
        mps_limit=100,
    )


def test_twilio_gets_signed_media_links_that_serve_the_files(
    fake: FakeTwilioServer, twilio_account_number: PhoneNumber
) -> None:
    message = send_mms(twilio_account_number)
    [claim] = claiming.claim_due(limit=10)
    send_steps.send_claimed(claim)

    [request] = fake.requests
    assert request.auth == (SID, TOKEN)
    links = request.form["MediaUrl"]
    assert len(links) == 2
    assert all(link.startswith("https://texts.example.com/media/") for link in links)
    assert request.form["Body"] == ["Your new glasses"]
    assert Message.objects.get(pk=message.pk).status == Status.SENT
    # The carrier fetches them without logging in.
    served = Client().get(links[0].removeprefix("https://texts.example.com"))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png(4, 5)  # type: ignore[attr-defined]


def test_a_plain_text_claims_with_no_media_read(number: PhoneNumber) -> None:
    message_send(phone_number=number, to=TO, body="Plain")
    with CaptureQueriesContext(connection) as captured:
        [claim] = claiming.claim_due(limit=10)
    assert claim.request.media_urls == ()
    assert captured.captured_queries
    assert not any("messagemedia" in query["sql"] for query in captured.captured_queries)


def test_a_media_link_stops_working_once_it_expires(
    number: PhoneNumber, settings: Any, monkeypatch: Any
) -> None:
    settings.MMS_URL_MAX_AGE_SECONDS = 3600
    send_mms(number)
    [claim] = claiming.claim_due(limit=10)
    path = claim.request.media_urls[0]
    assert Client().get(path).status_code == 200

    later = time.time() + 3601
    monkeypatch.setattr(signing.time, "time", lambda: later)
    expired = Client().get(path)
    assert expired.status_code == 404


def test_a_forged_or_altered_media_link_is_404(number: PhoneNumber) -> None:
    send_mms(number)
    media = MessageMedia.objects.first()
    assert media is not None
    assert Client().get(f"/media/{media.uid}/").status_code == 404
    forged = signing.TimestampSigner(salt="another.salt").sign(str(media.uid))
    assert Client().get(f"/media/{forged}/").status_code == 404
    [claim] = claiming.claim_due(limit=10)
    altered = claim.request.media_urls[0].rstrip("/") + "x/"
    assert Client().get(altered).status_code == 404


# --- The composer ---------------------------------------------------------------------------


def composer_post(member: Membership, conversation_id: int, *files: Any, body: str = "") -> Any:
    return logged_in(member).post(
        f"/inbox/c/{conversation_id}/send/",
        {"body": body, "media": list(files)},
        HTTP_HX_REQUEST="true",
    )


def test_the_composer_sends_an_mms_and_the_thread_shows_it(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    conversation = make_conversation(org, number, TO)
    response = composer_post(standard, conversation.pk, upload("a.jpg", JPEG), body="Look")

    assert response.status_code == 200
    message = Message.objects.get(conversation=conversation)
    assert (message.body, message.encoding) == ("Look", "MMS")
    media = MessageMedia.objects.get(message=message)
    html = response.content.decode()
    assert f'src="/media/{media.pk}/"' in html
    assert "· MMS" in html
    served = logged_in(standard).get(f"/media/{media.pk}/")
    assert b"".join(served.streaming_content) == JPEG  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("files", "complaint"),
    [
        ([("setup.jpg", EXE)], "“setup.jpg” is not a picture or video an MMS can carry"),
        ([("big.png", png(padding=6 * MB))], "an MMS carries at most 5.0 MB in total"),
        ([(f"{n}.jpg", JPEG) for n in range(11)], "at most 10 pictures or videos"),
    ],
)
def test_the_composer_refuses_what_an_mms_cannot_carry_and_stores_nothing(
    org: Organization,
    number: PhoneNumber,
    standard: Membership,
    files: list[tuple[str, bytes]],
    complaint: str,
) -> None:
    conversation = make_conversation(org, number, TO)
    response = composer_post(
        standard, conversation.pk, *[upload(n, c) for n, c in files], body="Hi"
    )
    assert response.status_code == 422
    assert complaint in response.content.decode()
    assert not Message.objects.exists()
    assert not MessageMedia.objects.exists()


def test_the_composer_partial_carries_the_servers_limits(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    from twoway.media.rules import MMS_MAX_BYTES, MMS_MAX_FILES, MMS_WARN_BYTES

    conversation = make_conversation(org, number, TO)
    html = logged_in(standard).get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert f'data-mms-warn-bytes="{MMS_WARN_BYTES}"' in html
    assert f'data-mms-max-bytes="{MMS_MAX_BYTES}"' in html
    assert f'data-mms-max-files="{MMS_MAX_FILES}"' in html
    assert 'aria-label="Attach pictures or video"' in html
