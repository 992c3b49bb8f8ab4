"""The SMS balance as an administrator lives it: the top bar counts down as texts go out, and
leads to the ledger of every change."""

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

PASSWORD = "foxtrot-correct-horse-battery"
expect.set_options(timeout=10_000)


def test_balance_counts_down_and_the_ledger_explains_it(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    screenshots_dir: Path,
) -> None:
    email = "owner@foxtrot.test"
    out = twoway_cli(
        "createadmin", "--email", email, "--password", PASSWORD, "--organization", "Foxtrot Vets"
    )
    number = re.search(r"Its texting number is (\(\d{3}\) \d{3}-\d{4})", out)
    assert number, out
    twoway_cli("balance", "--email", email, "--add", "20", "--note", "Starter plan")

    page.set_viewport_size({"width": 1280, "height": 800})
    pages.log_in(page, twoway_server, email, PASSWORD)
    banner = page.get_by_role("banner")
    expect(banner.get_by_role("link", name="20 segments left")).to_be_visible()

    # A two-segment text (over 160 GSM characters) costs two.
    banner.get_by_role("link", name="New conversation", exact=True).click()
    page.get_by_label("From").select_option(
        label=f"{number.group(1)} · Two-way · not verified: delivery not guaranteed"
    )
    page.get_by_label("To (phone number)").fill("202-555-0147")
    page.get_by_label("Message", exact=True).fill(
        "Rex is due for his booster. " * 6 + "See you soon!"
    )
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    expect(banner.get_by_role("link", name="18 segments left")).to_be_visible()

    banner.get_by_role("link", name="18 segments left").click()
    expect(page.get_by_role("heading", name="SMS balance")).to_be_visible()
    expect(page.locator("[data-balance]")).to_have_text("18")
    rows = page.locator("table.ledger tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("-2")
    expect(rows.nth(0)).to_contain_text("Message sent")
    expect(rows.nth(0)).to_contain_text("+12025550147")
    expect(rows.nth(1)).to_contain_text("+20")
    expect(rows.nth(1)).to_contain_text("Starter plan")
    page.screenshot(path=str(screenshots_dir / "balance.png"), full_page=True)

    rows.nth(0).get_by_role("link", name="conversation").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    expect(page.locator("ol.messages")).to_contain_text("See you soon")
