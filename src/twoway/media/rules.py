"""The limits of an MMS, the same for the composer, the API and the client-side preview."""

from __future__ import annotations

MB = 1024 * 1024
MMS_MAX_FILES = 10
# Above this in total some carriers shrink the pictures or refuse the message: the composer warns.
MMS_WARN_BYTES = 3 * MB // 2
# Above this in total no carrier Twoway talks to takes the message: it is refused.
MMS_MAX_BYTES = 5 * MB
# An MMS counts and is billed as one message, however long its text.
MMS_ENCODING = "MMS"
MMS_SEGMENTS = 1
# The largest file a carrier's inbound media may be: a larger answer is not a picture.
INBOUND_MAX_BYTES = 20 * MB

WARNING_TEXT = "Some carriers shrink or refuse MMS above 1.5 MB."


def megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"
