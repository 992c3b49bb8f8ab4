"""An administrator answers a word with a canned response: a keyword rule HOURS, texted from
the simulated phone, sends the response back to the phone at once, and the thread shows it as
sent by the rule.

In an organization of its own ("Answering Dental"), created on the running server with the
`twoway` command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "answering-correct-horse-battery"
BOSS = "boss@answering-dental.test"
CLIENT = "+12025550210"
HOURS_TEXT = "We are open Monday to Friday, 9:00 to 17:00."
TIMEOUT = 20_000


@pytest.fixture(scope="module")
def answering_dental(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Answering Dental"
    )
    assert "Its texting number is" in out, out


def test_a_keyword_rule_answers_the_phone_and_shows_in_the_thread(
    page: Page, twoway_server: TwowayServer, answering_dental: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)

    # The answer is an organization canned response.
    page.goto(f"{server.url}/settings/canned-responses/")
    page.locator("#new-canned-organization-name").fill("Opening hours")
    page.locator("#new-canned-organization-body").fill(HOURS_TEXT)
    page.get_by_role("button", name="Add canned response").first.click()
    expect(page.locator("[data-canned-response]").first).to_be_visible()

    # A compliance keyword cannot be a rule; HOURS can.
    page.goto(f"{server.url}/settings/")
    page.get_by_role("link", name="Business hours and auto-answers").click()
    page.get_by_label("Keyword", exact=True).fill("help")
    page.get_by_label("Answer with").select_option(label="Opening hours")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("alert")).to_contain_text("HELP is a compliance keyword")
    page.get_by_label("Keyword", exact=True).fill("hours")
    page.get_by_role("button", name="Add rule").click()
    rules = page.locator("table.keyword-rules")
    expect(rules).to_contain_text("HOURS")
    expect(rules).to_contain_text("All numbers")
    expect(rules).to_contain_text("Opening hours")
    section = page.locator("section").filter(has=rules)
    section.screenshot(path=str(screenshots_dir / "keyword_rules.png"))

    # The client texts HOURS: the answer reaches the phone and shows in the thread.
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill(CLIENT)
    page.get_by_label("Message", exact=True).fill("Your check-up is due.")
    page.get_by_role("button", name="Send").click()
    sent = page.locator("#thread li.message").filter(has_text="Your check-up is due.")
    expect(sent.locator(".status")).to_have_text("Delivered", timeout=TIMEOUT)

    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    phone.get_by_label("Text message").fill("Hours?")
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator("#screen .bubble").filter(has_text=HOURS_TEXT)).to_have_count(
        1, timeout=TIMEOUT
    )
    phone.close()

    page.reload()
    answer = page.locator("#thread li.message").filter(has_text=HOURS_TEXT)
    expect(answer).to_contain_text("Keyword rule: HOURS", timeout=TIMEOUT)
    expect(answer.locator(".status")).to_have_text("Delivered", timeout=TIMEOUT)
