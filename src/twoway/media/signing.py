"""Links carriers fetch outbound media from: signed, and valid for MMS_URL_MAX_AGE_SECONDS.

A carrier cannot log in, so the link itself is the permission; it names the file by its uid
(no guessable id) and stops working when the signature's time runs out.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from twoway.media.models import MediaStatus, MessageMedia

_SALT = "twoway.media.public"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT)


def media_token(media: MessageMedia) -> str:
    return _signer().sign(str(media.uid))


def media_public_url(media: MessageMedia) -> str:
    """The signed link, absolute under TWOWAY_PUBLIC_URL (what a carrier needs to reach it);
    without that setting only a path, which just the simulator can follow."""
    path = reverse("media_public", kwargs={"token": media_token(media)})
    return f"{settings.TWOWAY_PUBLIC_URL}{path}"


def media_by_token(token: str) -> MessageMedia | None:
    """The stored file a still-valid link names; None for a forged, altered or expired one."""
    try:
        uid = _signer().unsign(token, max_age=int(settings.MMS_URL_MAX_AGE_SECONDS))
    except signing.BadSignature:  # SignatureExpired is one
        return None
    try:
        return MessageMedia.objects.filter(uid=uid, status=MediaStatus.READY).first()
    except ValueError:
        return None
