"""Search as a person uses it: the inbox's search box, live results, a result opened by keyboard."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.test_two_way_loop import TIMEOUT

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT)

TEXTS = [
    ("202-555-0181", "Your quokka cleaning is on Friday at 9. Reply <b>C</b> to confirm."),
    ("202-555-0182", "Thanks! The quokka plush is at the front desk whenever you pass by."),
]


def start_conversation(page: Page, server: TwowayServer, to: str, body: str) -> None:
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("From").select_option(index=0)
    page.get_by_label("To (phone number)").fill(to)
    page.get_by_label("Message", exact=True).fill(body)
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))


EMAIL, PASSWORD = "owner@quokka.test", "quokka-correct-horse-battery"


def test_search_from_the_inbox(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    screenshots_dir: Path,
) -> None:
    # An organization of its own: the other browser tests count the shared one's conversations.
    twoway_cli("createadmin", "--email", EMAIL, "--password", PASSWORD, "--organization", "Quokka")
    page.set_viewport_size({"width": 1280, "height": 800})
    pages.log_in(page, twoway_server, EMAIL, PASSWORD)
    for to, body in TEXTS:
        start_conversation(page, twoway_server, to, body)

    page.goto(f"{twoway_server.url}/inbox/")
    box = page.get_by_role("searchbox", name="Search messages and contacts")
    box.fill("quokka")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=quokka$"))
    results = page.locator("ol.messages-found > li")
    expect(results).to_have_count(2)
    # Newest first, the word marked, the markup in the text shown as text.
    expect(results.nth(0)).to_contain_text("quokka plush")
    expect(results.nth(1)).to_contain_text("Reply <b>C</b> to confirm")
    expect(results.nth(0).locator("mark")).to_have_text("quokka")

    # Typing narrows the results without a reload (htmx), and the address follows.
    query = page.get_by_label("Search messages, notes and contacts")
    query.fill("quokka fri")
    expect(results).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=quokka(%20|\+)fri"))
    expect(results.nth(0).locator("mark")).to_have_text(["quokka", "Friday"])
    query.fill("quokka")
    expect(results).to_have_count(2)
    page.screenshot(path=str(screenshots_dir / "search.png"))

    # The contact's digits, typed as people type them, find the conversation.
    query.fill("(202) 555-0182")
    expect(page.locator("ul.contacts-found > li")).to_have_count(1)

    # Keyboard: each result is a link; Enter opens its conversation.
    query.fill("quokka fri")
    expect(results).to_have_count(1)
    first = results.nth(0).get_by_role("link")
    first.focus()
    first.press("Enter")
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/\?around=[0-9a-f-]+#message-"))
    expect(page.locator("#thread li.message").filter(has_text="quokka cleaning")).to_have_count(1)
