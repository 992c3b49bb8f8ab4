"""What an MMS may carry: files read by their content, at most 10 of them, 5 MB in total."""

from __future__ import annotations

import pytest

from tests.media.conftest import EXE, GIF, JPEG, MP4, THREE_GP, WEBP, png, upload
from twoway.core.errors import InvalidInput
from twoway.media.rules import MB, MMS_MAX_BYTES
from twoway.media.services import media_check
from twoway.media.sniffing import sniffed_type


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (JPEG, "image/jpeg"),
        (png(), "image/png"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (MP4, "video/mp4"),
        (THREE_GP, "video/3gpp"),
        (EXE, None),
        (b"%PDF-1.7\n", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),  # RIFF, but audio
        (b"", None),
    ],
)
def test_types_are_read_from_the_first_bytes(content: bytes, expected: str | None) -> None:
    assert sniffed_type(content[:32]) == expected


def test_a_program_renamed_as_a_picture_is_refused_whatever_the_browser_claims() -> None:
    with pytest.raises(InvalidInput) as refused:
        media_check([upload("holiday.jpg", EXE, "image/jpeg")])
    assert refused.value.code == "media_type"
    assert "“holiday.jpg” is not a picture or video an MMS can carry" in refused.value.message


def test_a_picture_named_anything_is_taken_as_what_it_is() -> None:
    [checked] = media_check([upload("scan.exe", png(7, 9), "application/octet-stream")])
    assert (checked.content_type, checked.width, checked.height) == ("image/png", 7, 9)
    assert checked.filename == "scan.exe"


def test_a_path_in_the_name_is_dropped() -> None:
    [checked] = media_check([upload("../../etc/passwd.gif", GIF)])
    assert checked.filename == "passwd.gif"


def test_ten_files_go_and_eleven_are_refused() -> None:
    assert len(media_check([upload(f"{n}.jpg", JPEG) for n in range(10)])) == 10
    with pytest.raises(InvalidInput) as refused:
        media_check([upload(f"{n}.jpg", JPEG) for n in range(11)])
    assert refused.value.code == "too_many_media"
    assert "at most 10 pictures or videos; 11 are attached" in refused.value.message


def test_five_megabytes_in_total_go_and_more_is_refused() -> None:
    half = png(padding=MMS_MAX_BYTES // 2 - len(png()) - 12)
    assert len(media_check([upload("a.png", half), upload("b.png", half)])) == 2
    with pytest.raises(InvalidInput) as refused:
        media_check([upload("a.png", half), upload("b.png", half), upload("c.jpg", JPEG)])
    assert refused.value.code == "media_too_large"
    assert "an MMS carries at most 5.0 MB in total" in refused.value.message
    with pytest.raises(InvalidInput):
        media_check([upload("big.png", png(padding=6 * MB))])
