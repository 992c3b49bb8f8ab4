"""Steps every browser test takes the same way."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

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
