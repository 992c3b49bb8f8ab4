"""Whoever may not start a conversation is told the real reason: the "Send SMS to clients"
permission they lack and who can give it, or their role."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in
from twoway.accounts.models import Membership
from twoway.core.errors import PermissionDenied
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

PERMISSION = "You do not have the “Send SMS to clients” permission"
WHO_GRANTS = "an administrator of your organization can give it to you under Settings, Users"


def test_new_conversation_names_the_missing_permission_not_the_role(
    standard: Membership, number: PhoneNumber
) -> None:
    Membership.objects.filter(pk=standard.pk).update(can_send_sms=False)
    response = logged_in(standard).get("/inbox/new/")
    page = response.content.decode()
    assert response.status_code == 403
    assert PERMISSION in page and WHO_GRANTS in page
    assert "Your role" not in page


def test_a_limited_user_is_told_it_is_their_role(limited: Membership, number: PhoneNumber) -> None:
    page = logged_in(limited).get("/inbox/new/").content.decode()
    assert "Your role can answer existing conversations but not start new ones." in page


def test_sending_says_who_can_grant_the_permission(
    standard: Membership, number: PhoneNumber
) -> None:
    Membership.objects.filter(pk=standard.pk).update(can_send_sms=False)
    standard.refresh_from_db()
    with pytest.raises(PermissionDenied) as caught:
        message_send(phone_number=number, to="2025550172", body="Hi", membership=standard)
    assert caught.value.code == "no_sms_permission"
    assert WHO_GRANTS in caught.value.message
