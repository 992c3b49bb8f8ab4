"""A contact's card as a person edits it: the organization's groups and custom fields defined
under Settings, then names, phones, groups and fields saved, a bad number refused."""

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

EMAIL, PASSWORD = "owner@otter.test", "otter-correct-horse-battery"


def test_edit_a_contacts_fields_and_phones_on_the_card(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    screenshots_dir: Path,
) -> None:
    twoway_cli("createadmin", "--email", EMAIL, "--password", PASSWORD, "--organization", "Otter")
    page.set_viewport_size({"width": 1280, "height": 1300})
    pages.log_in(page, twoway_server, EMAIL, PASSWORD)

    page.goto(f"{twoway_server.url}/settings/")
    page.get_by_role("link", name="Contact fields").click()
    page.get_by_label("New group").fill("VIP")
    page.get_by_role("button", name="Add group").click()
    expect(page.get_by_role("status")).to_contain_text("Group “VIP” added.")
    page.get_by_label("Name", exact=True).last.fill("Membership")
    page.get_by_label("Type").select_option("choice")
    page.get_by_label("Choices, one per line (choice fields only)").fill("Gold\nSilver")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("status")).to_contain_text("Field “Membership” added.")

    start_conversation(page, twoway_server, "415-555-0166", "Your cleaning is on Friday at 9.")
    page.goto(f"{twoway_server.url}/contacts/")
    page.get_by_role("link", name="(no name)").click()
    expect(page).to_have_url(re.compile(r"/contacts/\d+/$"))

    page.get_by_label("First name").fill("Dana")
    page.get_by_label("Last name").fill("Whitfield")
    page.get_by_label("E-mail").fill("dana@example.com")
    page.get_by_label("Client ID").fill("C-1042")
    page.get_by_label("Client type").fill("Member")
    page.get_by_label("Home location").fill("Uptown studio")
    page.get_by_label("Time zone").fill("America/Chicago")
    page.get_by_label("Label of number 1").fill("mobile")
    page.get_by_label("VIP").check()
    page.get_by_label("Membership").select_option("Gold")
    # A number that is no number: refused, with the reason, and nothing saved.
    page.get_by_label("Add a number").fill("555")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Phone number:")
    expect(page.get_by_role("heading", level=1)).to_have_text("(no name)")
    expect(page.get_by_label("First name")).to_have_value("Dana")

    page.get_by_label("Add a number").fill("202-555-0177")
    page.get_by_label("Label of the new number").fill("work")
    page.get_by_label("The new number is the primary").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dana Whitfield")
    rows = page.locator("table.contact-phones tr[data-phone]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("input[name=phone_number]")).to_have_value("+12025550177")
    expect(rows.nth(0).locator("input[name=primary]")).to_be_checked()
    expect(rows.nth(1).locator("input[name=phone_label]")).to_have_value("mobile")
    expect(page.get_by_label("VIP")).to_be_checked()
    expect(page.get_by_label("Membership")).to_have_value("Gold")
    expect(page.get_by_label("Time zone")).to_have_value("America/Chicago")
    page.screenshot(path=str(screenshots_dir / "contact-card.png"), full_page=True)

    # The first number goes; the new one stays the primary.
    page.get_by_label("Remove number 2").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(rows).to_have_count(1)
    expect(rows.nth(0).locator("input[name=phone_number]")).to_have_value("+12025550177")
