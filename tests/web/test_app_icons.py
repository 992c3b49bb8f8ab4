"""The icon and the web app manifest: every page names them, /favicon.ico leads to the icon, and
the manifest's icons are there to fetch."""

from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _fetched(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_favicon_ico_leads_to_the_icon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert _fetched(client, response["Location"]).startswith(b"\x89PNG")


def test_the_manifest_names_icons_that_exist(client: Client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == "/inbox/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes  # what phones need to offer "Add to home screen"
    for icon in manifest["icons"]:
        assert _fetched(client, icon["src"])


def test_every_page_names_the_icon_and_the_manifest(client: Client, admin_client: Client) -> None:
    for page in (client.get("/login/"), admin_client.get("/inbox/")):
        html = page.content.decode()
        assert 'rel="icon"' in html and 'rel="manifest" href="/manifest.webmanifest"' in html
        assert 'rel="apple-touch-icon"' in html
