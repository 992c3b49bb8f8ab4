"""Media checked, stored and attached to messages: the one writer of MessageMedia."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from twoway.conversations.models import Message
from twoway.core.errors import InvalidInput
from twoway.media.models import MediaStatus, MessageMedia
from twoway.media.rules import MMS_MAX_BYTES, MMS_MAX_FILES, megabytes
from twoway.media.sniffing import ALLOWED_TYPES, EXTENSIONS, HEAD_LENGTH, image_size, sniffed_type

_ALLOWED_IN_WORDS = "JPEG, PNG, GIF or WebP pictures, MP4 or 3GP videos"


@dataclass(frozen=True)
class CheckedMedia:
    """A file an MMS may carry: its type read from its content, and its bytes."""

    filename: str
    content_type: str
    content: bytes
    width: int | None = None
    height: int | None = None


def media_check(files: Sequence[File]) -> list[CheckedMedia]:  # type: ignore[type-arg]
    """The files as an MMS carries them, or InvalidInput saying why they cannot go: more than
    MMS_MAX_FILES, more than MMS_MAX_BYTES together, or a file that is no allowed picture or
    video by its content (whatever its name says)."""
    if len(files) > MMS_MAX_FILES:
        raise InvalidInput(
            f"An MMS carries at most {MMS_MAX_FILES} pictures or videos; {len(files)} are "
            "attached.",
            code="too_many_media",
        )
    total = sum(file.size or 0 for file in files)
    if total > MMS_MAX_BYTES:
        raise InvalidInput(
            f"The attachments come to {megabytes(total)}; an MMS carries at most "
            f"{megabytes(MMS_MAX_BYTES)} in total.",
            code="media_too_large",
        )
    checked = []
    for file in files:
        name = PurePath(file.name or "attachment").name[:255]
        file.seek(0)
        content = file.read()
        content_type = sniffed_type(content[:HEAD_LENGTH])
        if content_type is None:
            raise InvalidInput(
                f"“{name}” is not a picture or video an MMS can carry ({_ALLOWED_IN_WORDS}).",
                code="media_type",
            )
        size = image_size(content_type, content[:HEAD_LENGTH])
        checked.append(
            CheckedMedia(
                filename=name,
                content_type=content_type,
                content=content,
                width=size[0] if size else None,
                height=size[1] if size else None,
            )
        )
    return checked


def _stored(organization_id: int, content_type: str, content: bytes) -> str:
    ext = EXTENSIONS.get(content_type, "")
    name = f"mms/{organization_id}/{uuid.uuid4().hex}{ext}"
    return default_storage.save(name, ContentFile(content))


def media_attach(*, message: Message, media: Sequence[CheckedMedia]) -> list[MessageMedia]:
    """Store the files and attach them to `message` (in the caller's transaction; a file whose
    rows are rolled back stays in the storage unreferenced, which is harmless)."""
    rows = [
        MessageMedia(
            organization_id=message.organization_id,
            message=message,
            position=position,
            status=MediaStatus.READY,
            content_type=item.content_type,
            size=len(item.content),
            storage_name=_stored(message.organization_id, item.content_type, item.content),
            original_filename=item.filename,
            width=item.width,
            height=item.height,
        )
        for position, item in enumerate(media)
    ]
    return MessageMedia.objects.bulk_create(rows)


def media_expect(
    *, message: Message, urls: Sequence[str], carrier: str, carrier_account_id: int | None
) -> None:
    """An inbound MMS: its media are at the carrier; rows wait for them and a job each, queued
    once the message is committed, fetches them."""
    rows = MessageMedia.objects.bulk_create(
        MessageMedia(
            organization_id=message.organization_id,
            message=message,
            position=position,
            status=MediaStatus.FETCHING,
            source_url=url,
            carrier=carrier,
            carrier_account_id=carrier_account_id,
        )
        for position, url in enumerate(urls)
    )
    from twoway.media.tasks import media_fetch_job

    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: [media_fetch_job.enqueue(media_id) for media_id in ids])


def media_fetched(media: MessageMedia, content: bytes, claimed_type: str) -> None:
    """Keep what the carrier handed over. Its type is read from the content where it is one we
    know; else the carrier's word is kept (it is only ever offered as a download)."""
    content_type = sniffed_type(content[:HEAD_LENGTH]) or (claimed_type or "")[:100]
    if content_type not in ALLOWED_TYPES:
        content_type = "application/octet-stream"
    size = image_size(content_type, content[:HEAD_LENGTH])
    media.storage_name = _stored(media.organization_id, content_type, content)
    media.content_type = content_type
    media.size = len(content)
    media.width, media.height = size if size else (None, None)
    media.status = MediaStatus.READY
    media.fetch_error = ""
    media.save()


def media_fetch_failed(media: MessageMedia, reason: str) -> None:
    media.status = MediaStatus.FAILED
    media.fetch_error = reason[:300]
    media.save(update_fields=["status", "fetch_error", "fetch_attempts"])


def media_file_forget(sender: object, instance: MessageMedia, **kwargs: object) -> None:
    """Once a deleted media row is committed, its file leaves the storage too."""
    name = instance.storage_name
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))
