"""The inbox on a phone (390 px wide): the list and the conversation are two screens, the
composer sits at the bottom of the thread, "← Inbox" leads back; and at 1024 px nothing of the
list's filters is cut off.

In an organization of its own ("Papa Dental"), created on the running server with the `twoway`
command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "papa-correct-horse-battery"
BOSS = "boss@papa.test"
CLIENT = "+12025550187"


@pytest.fixture(scope="module")
def papa(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Papa Dental"
    )
    assert "Its texting number is" in out, out


def text_in(page: Page, server: TwowayServer, body: str) -> None:
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    phone.get_by_label("Text message").fill(body)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()


def _within_width(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)


def test_list_and_thread_are_two_screens_on_a_phone(
    browser: Browser, twoway_server: TwowayServer, papa: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    pages.log_in(page, server, BOSS, PASSWORD)
    text_in(page, server, "Can I come in at 5?")
    page.goto(f"{server.url}/inbox/")
    row = pages.inbox_item(page, server, "come in at 5")
    expect(page.locator("#conversation-panel")).to_be_hidden()
    _within_width(page, ".topbar")
    page.screenshot(path=str(screenshots_dir / "phone-inbox.png"))

    row.get_by_role("link").click()
    expect(page.locator("#thread")).to_contain_text("come in at 5")
    expect(page.locator("aside.conversations")).to_be_hidden()
    box = page.get_by_label("Message", exact=True)
    expect(box).to_be_in_viewport()
    _within_width(page, "#conversation-panel")
    box.fill("Yes, see you at 5!")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#thread")).to_contain_text("see you at 5")
    expect(box).to_be_in_viewport()
    page.screenshot(path=str(screenshots_dir / "phone-thread.png"))

    page.get_by_role("link", name="← Inbox").click()
    expect(page.locator("aside.conversations")).to_be_visible()
    expect(page.locator("#conversation-panel")).to_be_hidden()
    context.close()


def test_nothing_of_the_filters_is_cut_off_at_1024(
    browser: Browser, twoway_server: TwowayServer, papa: None
) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    pages.log_in(page, twoway_server, BOSS, PASSWORD)
    aside = page.locator("aside.conversations").bounding_box()
    show = page.get_by_role("button", name="Show").bounding_box()
    assert aside is not None and show is not None
    assert show["x"] + show["width"] <= aside["x"] + aside["width"], (show, aside)
    context.close()
