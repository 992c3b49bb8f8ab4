"""Merging two contacts on the card: the other found by its number, both side by side with a
choice for what differs, and the survivor's card with both histories."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.test_search import start_conversation
from tests.browser.test_two_way_loop import TIMEOUT

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT)

EMAIL, PASSWORD = "owner@ibis.test", "ibis-correct-horse-battery"


def _name_contact(page: Page, server: TwowayServer, number: str, **fields: str) -> str:
    """Open the (unnamed) contact of `number` from the table, fill `fields`, save; its URL."""
    page.goto(f"{server.url}/contacts/?q={number}")
    page.get_by_role("link", name="(no name)").click()
    expect(page).to_have_url(re.compile(r"/contacts/\d+/$"))
    for label, value in fields.items():
        page.get_by_label(label.replace("_", " "), exact=True).fill(value)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    return page.url


def test_merge_two_contacts_and_find_both_histories(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    screenshots_dir: Path,
) -> None:
    twoway_cli("createadmin", "--email", EMAIL, "--password", PASSWORD, "--organization", "Ibis")
    page.set_viewport_size({"width": 1280, "height": 1000})
    pages.log_in(page, twoway_server, EMAIL, PASSWORD)
    start_conversation(page, twoway_server, "415-555-0166", "Your cleaning is on Friday at 9.")
    start_conversation(page, twoway_server, "415-555-0199", "Welcome back! Same time next week?")
    survivor = _name_contact(
        page,
        twoway_server,
        "0166",
        First_name="Dana",
        Last_name="Whitfield",
        **{"E-mail": "dana@example.com"},
    )
    merged = _name_contact(
        page,
        twoway_server,
        "0199",
        First_name="Dana",
        Last_name="W.",
        **{"E-mail": "dana@example.com", "Client ID": "C-1042"},
    )

    page.goto(survivor)
    # The card suggests the contact with the same e-mail address.
    expect(page.locator("#merge-duplicates")).to_contain_text("Dana W.")
    page.get_by_role("link", name="Merge with another contact…").click()
    page.get_by_label("Find the other contact").fill("555 0199")
    page.locator("#merge-found").get_by_role(
        "link", name="Merge Dana W. into Dana Whitfield"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge Dana W. into Dana Whitfield")
    last_name = page.locator("tr[data-field=last_name]")
    expect(last_name.get_by_label("Whitfield")).to_be_checked()
    # The client ID only the other has survives unless someone says otherwise.
    expect(page.locator("tr[data-field=client_id]").get_by_label("C-1042")).to_be_checked()
    expect(page.locator("tr[data-field=email]")).to_have_count(0)
    page.wait_for_load_state("load")  # the styles, before the picture
    page.screenshot(path=str(screenshots_dir / "contact-merge.png"), full_page=True)
    page.get_by_role("button", name="Merge", exact=True).click()

    expect(page).to_have_url(survivor)
    expect(page.get_by_role("status")).to_contain_text("Merged Dana W. into this contact")
    expect(page.get_by_label("Client ID")).to_have_value("C-1042")
    expect(page.locator("table.contact-phones tr[data-phone]")).to_have_count(2)
    history = page.locator("h2:text('Conversations') + ul")
    expect(history.get_by_role("link")).to_have_count(2)
    history.get_by_role("link", name=re.compile(r"555-0199")).click()
    expect(page.locator("#thread")).to_contain_text("Welcome back! Same time next week?")
    page.go_back()
    page.locator("h2:text('Conversations') + ul").get_by_role(
        "link", name=re.compile(r"555-0166")
    ).click()
    expect(page.locator("#thread")).to_contain_text("Your cleaning is on Friday at 9.")
    # The merged contact's card leads to the survivor.
    page.goto(merged)
    expect(page).to_have_url(survivor)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dana Whitfield")
