"""Another organization never sees a message's media: not in the thread's file view, not on the
simulated phone, not through a guessed id; and an export lists an MMS's links."""

from __future__ import annotations

import zoneinfo

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from tests.conftest import logged_in, make_conversation, make_member
from tests.media.conftest import JPEG, upload
from tests.messaging import send_steps
from twoway.accounts.models import Membership, Organization
from twoway.conversations.export import conversation_export
from twoway.media.models import MessageMedia
from twoway.media.services import media_check
from twoway.messaging import claiming
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.simulator.models import SimMessage

pytestmark = pytest.mark.django_db

HANDSET = "+12025550177"


@pytest.fixture
def mms(org: Organization, number: PhoneNumber) -> MessageMedia:
    make_conversation(org, number, HANDSET)
    message_send(
        phone_number=number, to=HANDSET, body="Look", media=media_check([upload("a.jpg", JPEG)])
    )
    return MessageMedia.objects.get()


@pytest.fixture
def stranger(other_org: Organization) -> Membership:
    PhoneNumber.objects.create(organization=other_org, number="+14155550188", carrier="simulator")
    return make_member(other_org, "stranger@other.test")


def test_another_organization_gets_404_for_the_file(
    mms: MessageMedia, standard: Membership, stranger: Membership
) -> None:
    assert logged_in(standard).get(f"/media/{mms.pk}/").status_code == 200
    assert logged_in(stranger).get(f"/media/{mms.pk}/").status_code == 404


def test_a_member_who_cannot_see_the_number_gets_404(
    mms: MessageMedia, org: Organization, number: PhoneNumber
) -> None:
    number.access_everyone = False
    number.save()
    outsider = make_member(org, "outsider@acme.test")
    assert logged_in(outsider).get(f"/media/{mms.pk}/").status_code == 404


def test_logged_out_the_file_is_not_served(mms: MessageMedia) -> None:
    from django.test import Client

    response = Client().get(f"/media/{mms.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_organization_gets_404_for_the_phones_copy(
    mms: MessageMedia, standard: Membership, stranger: Membership
) -> None:
    [claim] = claiming.claim_due(limit=10)
    send_steps.send_claimed(claim)
    copy = SimMessage.objects.get()
    link = f"/simulator/{HANDSET}/media/{copy.sid}/0/"
    assert logged_in(standard).get(link).status_code == 200
    assert logged_in(stranger).get(link).status_code == 404


def test_an_export_lists_the_media_links(
    mms: MessageMedia, settings: object, org: Organization
) -> None:
    settings.TWOWAY_PUBLIC_URL = "https://texts.example.com"  # type: ignore[attr-defined]
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(org.time_zone)).date()
    conversation = mms.message.conversation
    assert conversation is not None
    exported = conversation_export(
        conversation=conversation, start=today, end=today, export_format="csv"
    ).content.decode()
    assert "media" in exported.splitlines()[0]
    assert f"https://texts.example.com/media/{mms.pk}/" in exported
    html = conversation_export(
        conversation=conversation, start=today, end=today, export_format="html"
    ).content.decode()
    assert f'href="https://texts.example.com/media/{mms.pk}/"' in html


def test_a_conversation_deleted_for_good_takes_its_files(
    mms: MessageMedia, django_capture_on_commit_callbacks: object
) -> None:
    from twoway.conversations.services import conversation_delete

    name = mms.storage_name
    assert default_storage.exists(name)
    conversation = mms.message.conversation
    assert conversation is not None
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        conversation_delete(conversation=conversation)
    assert not MessageMedia.objects.exists()
    assert not default_storage.exists(name)
