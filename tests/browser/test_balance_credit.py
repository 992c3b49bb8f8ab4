"""An administrator whose balance ran out adds credit on Settings, SMS balance and sends again."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "mend-credit-correct-horse"
expect.set_options(timeout=10_000)


def test_credit_added_on_the_balance_page_lets_texts_go_again(
    page: Page, twoway_server: TwowayServer, twoway_cli: Callable[..., str]
) -> None:
    email = "owner@mend-credit.test"
    out = twoway_cli(
        "createadmin", "--email", email, "--password", PASSWORD, "--organization", "Mend Credit"
    )
    number = re.search(r"Its texting number is (\(\d{3}\) \d{3}-\d{4})", out)
    assert number, out
    twoway_cli("balance", "--email", email, "--add", "1", "--note", "Trial")
    twoway_cli("balance", "--email", email, "--add", "-1", "--note", "Trial over")
    pages.log_in(page, twoway_server, email, PASSWORD)

    def send(text: str) -> None:
        page.goto(f"{twoway_server.url}/inbox/new/")
        page.get_by_label("From").select_option(
            label=f"{number.group(1)} · Two-way · not verified: delivery not guaranteed"
        )
        page.get_by_label("To (phone number)").fill("202-555-0131")
        page.get_by_label("Message", exact=True).fill(text)
        page.get_by_role("button", name="Send").click()

    send("Your appointment is tomorrow at 9.")
    expect(page.get_by_role("alert")).to_contain_text(
        "An administrator can add credit under Settings, SMS balance."
    )

    page.goto(f"{twoway_server.url}/settings/balance/")
    page.get_by_label("Segments to add").fill("5")
    page.get_by_label("Note for the ledger").fill("Monthly plan")
    page.get_by_role("button", name="Add credit").click()
    expect(page.get_by_role("status")).to_contain_text("Added 5 segments of credit.")
    expect(page.locator("[data-balance]")).to_have_text("5")
    expect(page.locator("table.ledger tbody tr").first).to_contain_text("Monthly plan")

    send("Your appointment is tomorrow at 9.")
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    expect(page.get_by_role("banner").get_by_role("link", name="4 segments left")).to_be_visible()
