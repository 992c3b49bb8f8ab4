"""The composer's tools: plain look-alikes, and notes.

Curly quotes, long dashes and an ellipsis pasted from a word processor make a text Unicode (70
characters a segment): the composer offers plain ones, and one click puts them in the box, where
the counter counts the text again. Save as note keeps the text in the thread for the team and
never sends it.

In an organization of its own ("Tango Dental"), created on the running server with the `twoway`
command, so the other browser tests' organizations are left alone.
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

PASSWORD = "tango-correct-horse-battery"
BOSS = "boss@tango.test"
CURLY = "Your crown\u2019s ready \u2014 see you Friday\u2026 " * 3


@pytest.fixture(scope="module")
def tango(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Tango Dental"
    )
    assert "Its texting number is" in out, out


def test_one_click_replaces_look_alikes_and_the_counter_follows(
    page: Page, twoway_server: TwowayServer, tango: None, screenshots_dir: Path
) -> None:
    pages.log_in(page, twoway_server, BOSS, PASSWORD)
    page.goto(f"{twoway_server.url}/inbox/new/")
    box = page.get_by_label("Message", exact=True)
    box.fill(CURLY)
    counter = page.locator("p.counter")
    expect(counter).to_have_attribute("data-encoding", "UCS-2")
    expect(counter).to_have_attribute("data-segments", "2")
    page.screenshot(path=str(screenshots_dir / "composer_lookalikes.png"))
    page.get_by_role("button", name="Use plain quotes, dashes and spaces").click()
    expect(box).to_have_value("Your crown's ready - see you Friday... " * 3)
    expect(counter).to_have_attribute("data-encoding", "GSM-7")
    expect(counter).to_have_attribute("data-segments", "1")
    expect(page.get_by_role("button", name="Use plain quotes, dashes and spaces")).to_have_count(0)
    expect(box).to_be_focused()


def test_save_as_note_keeps_the_text_in_the_thread_and_sends_nothing(
    page: Page, twoway_server: TwowayServer, tango: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill("2025550152")
    page.get_by_label("Message", exact=True).fill("Your cleaning is booked for Friday.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#thread")).to_contain_text("booked for Friday")

    box = page.get_by_label("Message", exact=True)
    box.fill("Called, left a voicemail about the invoice")
    page.get_by_role("button", name="Save as note").click()
    note = page.locator("#thread li.message.note").filter(has_text="left a voicemail")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("note by boss@tango.test")
    expect(box).to_have_value("")
    page.screenshot(path=str(screenshots_dir / "composer_note.png"))
    # An empty note is refused in place, and nothing is added.
    page.get_by_role("button", name="Save as note").click()
    expect(page.get_by_role("alert")).to_contain_text("needs some text")
    expect(page.locator("#thread li.message.note")).to_have_count(1)

    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/+12025550152/")
    expect(phone.locator("body")).to_contain_text("booked for Friday")
    expect(phone.locator("body")).not_to_contain_text("voicemail")
    phone.close()
