"""The API's messages list their media: an MMS's files with signed links, a plain text none."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.media.conftest import JPEG, upload
from twoway.accounts.models import ApiKey, Membership
from twoway.media.services import media_check
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

TO = "+14155550142"


def test_an_mms_lists_its_media_and_a_plain_text_none(
    admin: Membership, number: PhoneNumber
) -> None:
    api = Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=admin, name='CRM')[1]}")
    mms = message_send(
        phone_number=number, to=TO, body="Look", media=media_check([upload("a.jpg", JPEG)])
    )
    plain = message_send(phone_number=number, to=TO, body="Plain")

    [media] = api.get(f"/api/v1/messages/{mms.uid}").json()["media"]
    assert (media["content_type"], media["size"], media["status"]) == (
        "image/jpeg",
        len(JPEG),
        "ready",
    )
    served = Client().get(media["url"])
    assert b"".join(served.streaming_content) == JPEG  # type: ignore[attr-defined]
    assert api.get(f"/api/v1/messages/{plain.uid}").json()["media"] == []
