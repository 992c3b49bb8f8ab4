"""Steps every browser test takes the same way."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:
    from tests.browser.conftest import TwowayServer

TIMEOUT = 10_000  # ms


def log_in(page: Page, server: TwowayServer, email: str, password: str) -> None:
    """Log in on the login page and land in the inbox."""
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{server.url}/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))


def inbox_item(page: Page, server: TwowayServer, text: str) -> Locator:
    """The inbox's row holding `text`, once the worker has taken the text in: the inbox is
    reloaded until it shows (a fresh page, whatever the live updates did), then returned."""
    item = page.locator("li.conversation-item").filter(has_text=text)
    deadline = time.monotonic() + TIMEOUT / 1000
    page.goto(f"{server.url}/inbox/")
    while item.count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(300)
        page.goto(f"{server.url}/inbox/")
    expect(item).to_have_count(1)
    return item
