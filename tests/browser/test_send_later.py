"""Send later: a text scheduled a few seconds ahead is listed as scheduled, then reaches the
simulated phone at its time; another is edited (a reply arriving meanwhile does not undo the
typing), then cancelled and never sent.

In an organization of its own ("Sendlater Dental"), created on the running server with the
`twoway` command, with handsets of its own.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "sendlater-correct-horse-battery"
BOSS = "boss@sendlater.test"
CLIENT = "+12025550119"
EASTERN = zoneinfo.ZoneInfo("America/New_York")  # a new organization's time zone


@pytest.fixture(scope="module")
def sendlater_org(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Sendlater Dental"
    )
    assert "Its texting number is" in out, out


def _picker_value(seconds: float) -> str:
    when = dt.datetime.now(EASTERN) + dt.timedelta(seconds=seconds)
    return when.replace(microsecond=0, tzinfo=None).isoformat()


def text_in(page: Page, server: TwowayServer, handset: str, body: str) -> None:
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{handset}/")
    phone.get_by_label("Text message").fill(body)
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()


def test_a_scheduled_text_is_sent_at_its_time_and_another_edited_and_cancelled(
    page: Page, twoway_server: TwowayServer, sendlater_org: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill(CLIENT)
    page.get_by_label("Message", exact=True).fill("Welcome to Sendlater Dental")
    page.get_by_role("button", name="Send", exact=True).click()
    thread = page.locator("#thread li.message")
    expect(thread.filter(has_text="Welcome").locator(".status")).to_have_text(
        "Delivered", timeout=20_000
    )

    box = page.get_by_label("Message", exact=True)
    box.fill("Your cleaning is in an hour")
    page.get_by_text("Send later", exact=True).click()
    expect(page.get_by_text("Times in America/New_York", exact=True)).to_be_visible()
    page.get_by_label("Send at").first.fill(_picker_value(8))
    page.get_by_role("button", name="Schedule", exact=True).click()
    soon = thread.filter(has_text="Your cleaning is in an hour")
    expect(soon.locator(".status")).to_have_text("Scheduled")
    expect(soon.locator("[data-scheduled-for]")).to_contain_text("for ")

    box.fill("Bring your insurance card")
    page.get_by_text("Send later", exact=True).click()
    page.get_by_label("Send at").first.fill(_picker_value(3600))
    page.get_by_role("button", name="Schedule", exact=True).click()
    later = thread.filter(has_text="Bring your insurance card")
    expect(later.locator(".status")).to_have_text("Scheduled")
    page.screenshot(path=str(screenshots_dir / "composer_send_later.png"))

    # The first one leaves at its time (its delivery redraws the thread), then the other is
    # edited and cancelled.
    expect(soon.locator(".status")).to_have_text("Delivered", timeout=30_000)
    later.get_by_text("Edit", exact=True).click()
    later.get_by_label("Scheduled text").fill("Bring your insurance card, please")

    # A reply while Edit is open does not throw the typing away; closing Edit shows the reply.
    text_in(page, server, CLIENT, "Will do, thanks")
    # The inbox list, redrawn live, counts the reply's conversation under Needs attention.
    expect(page.locator('#conversation-list [data-count="needs_attention"]')).to_have_text("1")
    expect(later.get_by_label("Scheduled text")).to_have_value("Bring your insurance card, please")
    expect(thread.filter(has_text="Will do, thanks")).to_have_count(0)
    later.get_by_text("Edit", exact=True).click()
    expect(thread.filter(has_text="Will do, thanks")).to_have_count(1)

    later.get_by_text("Edit", exact=True).click()
    later.get_by_label("Scheduled text").fill("Bring your insurance card and ID")
    later.get_by_role("button", name="Save", exact=True).click()
    edited = thread.filter(has_text="Bring your insurance card and ID")
    expect(edited.locator(".status")).to_have_text("Scheduled")
    edited.get_by_role("button", name="Cancel", exact=True).click()
    expect(edited.locator(".status")).to_have_text("Canceled")

    # The delivered one reached the phone; the cancelled one never does.
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    bubbles = phone.locator("#screen .bubble")
    expect(bubbles.filter(has_text="Your cleaning is in an hour")).to_have_count(1)
    expect(bubbles.filter(has_text="insurance card")).to_have_count(0)
    phone.close()
