"""The composer's emoji table (`/inbox/emoji-names/`): the names the server converts on send, each
with the emoji it becomes, so the picker and the as-you-type shortcodes show what is sent."""

from __future__ import annotations

import gzip
import json

import emoji
import pytest
from django.test import Client

from twoway.core.emoji_names import EMOJI_NAMES_VERSION
from twoway.core.text import emoji_from_shortcodes

pytestmark = pytest.mark.django_db


def _rows(client: Client) -> list[list[str]]:
    response = client.get("/inbox/emoji-names/", {"v": EMOJI_NAMES_VERSION})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_every_name_listed_is_one_the_server_sends_as_that_emoji(client: Client) -> None:
    rows = _rows(client)
    names = {name: row[0] for row in rows for name in row[1:]}
    for name, char in names.items():
        assert emoji_from_shortcodes(f":{name}:") == char, name
    # Every emoji is listed once, under every name that becomes it.
    assert len({row[0] for row in rows}) == len(rows)


def test_the_aliases_people_type_are_there(client: Client) -> None:
    by_emoji = {row[0]: row[1:] for row in _rows(client)}
    thumbs = by_emoji["\U0001f44d"]
    assert thumbs[0] == "thumbs_up"  # the English name first: the picker's label
    assert {"thumbsup", "+1"} <= set(thumbs[1:])
    assert "smile" in by_emoji["\U0001f604"]
    assert "heart" in by_emoji["\u2764\ufe0f"]


def test_no_name_the_server_converts_is_missing(client: Client) -> None:
    listed = {name for row in _rows(client) for name in row[1:]}
    fully_qualified = emoji.STATUS["fully_qualified"]
    for data in emoji.EMOJI_DATA.values():
        if data["status"] > fully_qualified:
            continue  # the server never sends those
        for name in (data["en"], *data.get("alias", ())):
            assert name.strip(":") in listed, name


def test_it_is_cached_for_a_year_under_the_package_version_and_compressed(client: Client) -> None:
    response = client.get(
        "/inbox/emoji-names/", {"v": EMOJI_NAMES_VERSION}, HTTP_ACCEPT_ENCODING="gzip"
    )
    assert "max-age=31536000" in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))[0][0]
    # Pages name it under the package's version, so a new package is fetched afresh.
    assert emoji.__version__ == EMOJI_NAMES_VERSION


def test_pages_load_it_under_the_package_version(admin_client: Client) -> None:
    html = admin_client.get("/inbox/").content.decode()
    assert f'data-emoji-names="/inbox/emoji-names/?v={EMOJI_NAMES_VERSION}"' in html


def test_only_get_is_answered(client: Client) -> None:
    assert client.post("/inbox/emoji-names/").status_code == 405
