"""Possible duplicates from the contacts table: two contacts with the same e-mail address
listed as a pair, and Merge opening the merge page with both."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.test_contact_merge import _name_contact
from tests.browser.test_search import start_conversation
from tests.browser.test_two_way_loop import TIMEOUT

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT)

EMAIL, PASSWORD = "owner@duplicate-dental.test", "heron-correct-horse-battery"


def test_possible_duplicates_lead_to_the_merge_page(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    screenshots_dir: Path,
) -> None:
    twoway_cli(
        "createadmin",
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
        "--organization",
        "Duplicate Dental",
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    pages.log_in(page, twoway_server, EMAIL, PASSWORD)
    start_conversation(page, twoway_server, "202-555-0141", "Your cleaning is on Friday at 9.")
    start_conversation(page, twoway_server, "202-555-0142", "Welcome back! Same time next week?")
    _name_contact(
        page,
        twoway_server,
        "0141",
        First_name="Robin",
        Last_name="Ellis",
        **{"E-mail": "robin@example.com"},
    )
    _name_contact(page, twoway_server, "0142", First_name="Rob", **{"E-mail": "Robin@Example.com"})

    page.goto(f"{twoway_server.url}/contacts/")
    page.get_by_role("link", name="Possible duplicates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Possible duplicates")
    pairs = page.locator("#duplicate-pairs li")
    expect(pairs).to_have_count(1)
    expect(pairs).to_contain_text("Robin Ellis")
    expect(pairs).to_contain_text("Rob")
    expect(pairs).to_contain_text("Same e-mail")
    page.wait_for_load_state("load")  # the styles, before the picture
    page.screenshot(path=str(screenshots_dir / "contact-duplicates.png"), full_page=True)
    pairs.get_by_role("link", name="Merge Rob into Robin Ellis").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Merge Rob into Robin Ellis")
    expect(page.locator("tr[data-field=first_name]").get_by_label("Robin")).to_be_checked()
    expect(
        page.locator("tr[data-field=first_name]").get_by_label("Rob", exact=True)
    ).to_be_visible()
    expect(page.get_by_role("button", name="Merge", exact=True)).to_be_visible()
