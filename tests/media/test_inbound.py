"""An MMS in: its files fetched from the carrier in the background with the carrier account's
credentials, retried, and shown in the thread (a placeholder until then, or why not)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from bench.fakes.twilio_api import FakeTwilioServer
from django.core.files.storage import default_storage
from django.test import Client
from twilio.request_validator import RequestValidator

from tests.carrier_accounts.conftest import SID, TOKEN, make_account
from tests.conftest import logged_in
from tests.media.conftest import JPEG, png
from tests.messaging.test_inbound import record
from twoway.accounts.models import Membership, Organization
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carriers.base import CarrierError, InboundMessage
from twoway.conversations.models import Message
from twoway.jobs.runner import JobRunner
from twoway.jobs.schedule import Schedule
from twoway.media.models import MediaStatus, MessageMedia
from twoway.media.tasks import FETCH_ATTEMPTS, media_fetch_job
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

HANDSET = "+12025550172"
FIXTURE = "tests/fixtures/twilio/inbound_mms.txt"


@pytest.fixture
def held(fake: FakeTwilioServer, org: Organization) -> PhoneNumber:
    """The number the recorded MMS went to, held in the organization's Twilio account."""
    return PhoneNumber.objects.create(
        organization=org,
        number="+14155550123",
        carrier="twilio",
        carrier_account=make_account(org),
        mps_limit=100,
    )


def webhook(number: PhoneNumber, media_urls: list[str]) -> Any:
    """Twilio posts the recorded MMS, with `media_urls` as its media, to the account's URL."""
    with open(FIXTURE) as recorded:
        form = dict(parse_qsl(recorded.read().strip(), keep_blank_values=True))
    for index in range(10):
        form.pop(f"MediaUrl{index}", None)
        form.pop(f"MediaContentType{index}", None)
    form["NumMedia"] = str(len(media_urls))
    for index, url in enumerate(media_urls):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = "image/jpeg"
    path = number.carrier_account.webhook_path  # type: ignore[union-attr]
    signature = RequestValidator(TOKEN).compute_signature(f"https://texts.example.com{path}", form)
    return Client().post(
        path,
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def thread_html(member: Membership, message: Message) -> str:
    return logged_in(member).get(f"/inbox/c/{message.conversation_id}/").content.decode()


def test_twilio_media_are_fetched_with_the_accounts_credentials_and_shown(
    fake: FakeTwilioServer,
    held: PhoneNumber,
    standard: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = fake.add_media(SID, JPEG, "image/jpeg")
    assert webhook(held, [url]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        carrier_events_process_pending()

    message = Message.objects.get(carrier="twilio")
    assert (message.encoding, message.body) == ("MMS", "Here is the damaged box and the receipt")
    media = MessageMedia.objects.get(message=message)
    assert (media.status, media.source_url) == (MediaStatus.FETCHING, url)
    assert "Fetching the picture" in thread_html(standard, message)
    assert not fake.requests  # not fetched while the text was received

    assert JobRunner(schedule=Schedule([])).run_until_idle() == 1

    [fetch] = fake.requests
    assert (fetch.method, fetch.auth) == ("GET", (SID, TOKEN))
    media.refresh_from_db()
    assert (media.status, media.content_type, media.size) == ("ready", "image/jpeg", len(JPEG))
    assert default_storage.open(media.storage_name).read() == JPEG
    html = thread_html(standard, message)
    assert f'<a href="/media/{media.pk}/"' in html and "Fetching the picture" not in html


def test_a_failing_fetch_is_retried_then_shown_as_not_fetched(
    fake: FakeTwilioServer, held: PhoneNumber, standard: Membership
) -> None:
    url = fake.add_media(SID, png(), "image/png", failures=FETCH_ATTEMPTS)
    webhook(held, [url])
    carrier_events_process_pending()
    media = MessageMedia.objects.get()

    for _ in range(FETCH_ATTEMPTS - 1):
        with pytest.raises(CarrierError):
            media_fetch_job.call(media.pk)
        media.refresh_from_db()
        assert media.status == MediaStatus.FETCHING
    media_fetch_job.call(media.pk)

    media.refresh_from_db()
    assert (media.status, media.fetch_attempts) == (MediaStatus.FAILED, FETCH_ATTEMPTS)
    assert "HTTP 500" in media.fetch_error
    assert "Picture could not be fetched" in thread_html(standard, media.message)


def test_a_fetch_that_comes_back_after_a_failure_keeps_the_picture(
    fake: FakeTwilioServer, held: PhoneNumber
) -> None:
    url = fake.add_media(SID, png(3, 3), "image/png", failures=1)
    webhook(held, [url])
    carrier_events_process_pending()
    media = MessageMedia.objects.get()
    with pytest.raises(CarrierError):
        media_fetch_job.call(media.pk)
    assert media_fetch_job.call(media.pk) == MediaStatus.READY
    media.refresh_from_db()
    assert (media.width, media.height) == (3, 3)


def test_media_the_carrier_no_longer_has_fail_at_once(
    fake: FakeTwilioServer, held: PhoneNumber
) -> None:
    webhook(held, [fake.url + f"/2010-04-01/Accounts/{SID}/Messages/MM00/Media/ME00"])
    carrier_events_process_pending()
    media = MessageMedia.objects.get()
    assert media_fetch_job.call(media.pk) == MediaStatus.FAILED


def test_plain_texts_in_a_batch_take_no_media_and_an_mms_among_them_gets_its_own(
    org: Organization, number: PhoneNumber
) -> None:
    first = record(number, "Hello there", frm="+12025550101")
    record(number, "And hello again", frm="+12025550102")
    from twoway.carrier_events.store import carrier_event_record

    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id="SIMmms1",
            from_number="+12025550103",
            to_number=number.number,
            body="",
            media_urls=("https://example.invalid/a.jpg",),
        ),
    )
    record(number, "A third text", frm="+12025550104")
    carrier_events_process_pending()

    assert Message.objects.filter(organization=org).count() == 4
    mms = Message.objects.get(carrier_message_id="SIMmms1")
    assert MessageMedia.objects.get().message_id == mms.pk
    assert Message.objects.get(carrier_message_id=first).encoding != "MMS"
