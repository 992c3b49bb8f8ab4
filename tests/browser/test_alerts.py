"""Alerts for new texts while the inbox is open in a background tab: the tab's title counts the
conversations that need attention, a client's text shows a browser notification that opens its
conversation, and a muted conversation alerts nobody.

The page's Notification is a stand-in that records what would be shown, and the tab is made to
look hidden (Chromium's own notifications would need a desktop). In an organization of its own
("Oscar Dental"), created on the running server with the `twoway` command.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "oscar-correct-horse-battery"
BOSS = "boss@oscar.test"
CLIENT, QUIET_CLIENT = "+12025550157", "+12025550158"

_RECORDED_NOTIFICATIONS = """
window.__shown = [];
class RecordedNotification {
  constructor(title, options) {
    this.title = title;
    this.options = options;
    window.__shown.push(this);
  }
  close() {}
}
RecordedNotification.permission = "granted";
RecordedNotification.requestPermission = () => Promise.resolve("granted");
window.Notification = RecordedNotification;
Object.defineProperty(document, "hidden", { get: () => true });
"""


@pytest.fixture(scope="module")
def oscar(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Oscar Dental"
    )
    assert "Its texting number is" in out, out


def text_in(page: Page, server: TwowayServer, handset: str, body: str) -> None:
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{handset}/")
    phone.get_by_label("Text message").fill(body)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()


def test_a_new_text_alerts_unless_its_conversation_is_muted(
    browser: Browser, twoway_server: TwowayServer, oscar: None
) -> None:
    server = twoway_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(_RECORDED_NOTIFICATIONS)
    page = context.new_page()
    pages.log_in(page, server, BOSS, PASSWORD)
    page.goto(f"{server.url}/notifications/")
    page.get_by_label("Show a browser notification").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Show a browser notification")).to_be_checked()

    # The quiet client is muted first.
    text_in(page, server, QUIET_CLIENT, "First text")
    page.goto(f"{server.url}/inbox/")
    pages.inbox_item(page, server, "First text").get_by_role("link").click()
    page.get_by_role("button", name="Mute", exact=True).click()
    expect(page.get_by_role("button", name="Unmute")).to_be_visible()
    page.goto(f"{server.url}/inbox/")
    expect(page).to_have_title("(1) Inbox · Twoway")

    text_in(page, server, QUIET_CLIENT, "Muted, so nobody is alerted")
    text_in(page, server, CLIENT, "Is the clinic open today?")
    expect(page.locator("#conversation-list")).to_contain_text("clinic open today")
    expect(page).to_have_title("(2) Inbox · Twoway")
    # The list may already show the text, redrawn for the muted client's event, before this
    # text's own event (the one that alerts) reaches the page.
    # Polled from here: the page's Content-Security-Policy forbids the eval a waiting
    # function would need.
    deadline = time.monotonic() + 10
    while page.evaluate("window.__shown.length") == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    shown = page.evaluate("window.__shown.map(n => [n.title, n.options.body])")
    assert shown == [[CLIENT, "Is the clinic open today?"]], shown

    # Clicking the notification opens its conversation.
    page.evaluate("window.__shown[0].onclick()")
    expect(page.locator("#thread")).to_contain_text("clinic open today")
    context.close()
