"""An administrator adds a keyword of their own and a client's text of it opts them out; a
worded opt-out waits in the thread until an agent confirms it, live, and the Possible opt-outs
list shows it meanwhile.

In an organization of its own ("Keyword Dental"), created on the running server with the `twoway`
command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "oscar-correct-horse-battery"
BOSS = "boss@keyword-dental.test"
WORDY = "+12025550139"
SPANISH = "+12025550140"
TIMEOUT = 20_000


@pytest.fixture(scope="module")
def oscar(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Keyword Dental"
    )
    assert "Its texting number is" in out, out


def start_conversation(page: Page, server: TwowayServer, to: str, body: str) -> None:
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill(to)
    page.get_by_label("Message", exact=True).fill(body)
    page.get_by_role("button", name="Send").click()
    sent = page.locator("#thread li.message").filter(has_text=body)
    expect(sent.locator(".status")).to_have_text("Delivered", timeout=TIMEOUT)


def phone_texts(page: Page, server: TwowayServer, handset: str, body: str) -> Page:
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{handset}/")
    phone.get_by_label("Text message").fill(body)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    return phone


def test_own_keyword_and_a_worded_opt_out_confirmed_in_the_thread(
    page: Page, twoway_server: TwowayServer, oscar: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)

    # The administrator adds PARAR; a carrier keyword cannot be added again.
    page.goto(f"{server.url}/settings/keywords/")
    expect(page.locator("dl.keyword-defaults")).to_contain_text("ARRÊT")
    page.get_by_label("Word or phrase").fill("stop")
    page.get_by_role("button", name="Add keyword").click()
    expect(page.get_by_role("alert")).to_contain_text("carrier keyword")
    page.get_by_label("Word or phrase").fill("parar")
    page.get_by_label("Does").select_option(label="Opt out")
    page.get_by_role("button", name="Add keyword").click()
    expect(page.locator("table.keywords")).to_contain_text("PARAR")

    # A client texts it back: opted out, with the confirmation on their phone.
    start_conversation(page, server, SPANISH, "Su cita es el martes a las 10.")
    phone = phone_texts(page, server, SPANISH, "¡Parar!")
    expect(phone.locator("#screen .bubble").filter(has_text="unsubscribed")).to_have_count(
        1, timeout=TIMEOUT
    )
    phone.close()
    expect(page.get_by_role("status").filter(has_text="opted out")).to_be_visible(timeout=TIMEOUT)

    # Another client's worded opt-out shows in the open thread, live, with the two decisions.
    start_conversation(page, server, WORDY, "Your cleaning is due next month.")
    phone = phone_texts(page, server, WORDY, "I no longer want these texts")
    flagged = page.locator("[data-possible-opt-out]")
    expect(flagged).to_contain_text("I no longer want these texts", timeout=TIMEOUT)
    expect(page.get_by_role("status").filter(has_text="opted out")).to_have_count(0)
    page.screenshot(path=str(screenshots_dir / "possible-opt-out.png"))

    # The inbox lists it under Possible opt-outs until someone decides.
    listing = page.context.new_page()
    listing.goto(f"{server.url}/inbox/possible-opt-outs/")
    expect(listing.locator("tbody tr")).to_have_count(1)
    expect(listing.locator("tbody tr")).to_contain_text("I no longer want these texts")

    flagged.get_by_role("button", name="Confirm opt-out").click()
    expect(flagged).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="opted out")).to_be_visible()
    # Confirmed by a person: no keyword confirmation text goes to the phone.
    phone.wait_for_timeout(1000)
    expect(phone.locator("#screen .bubble").filter(has_text="unsubscribed")).to_have_count(0)

    listing.reload()
    expect(listing.get_by_text("No possible opt-outs wait for a decision.")).to_be_visible()
    expect(listing.get_by_role("heading", name=re.compile("Possible opt-outs"))).to_be_visible()
