"""Bulk actions in the inbox list: tick rows, a new text redraws the list live and the ticks
stay, Archive moves the ticked conversations out; All ticks every row.

In an organization of its own ("November Dental"), created on the running server with the
`twoway` command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "november-correct-horse-battery"
BOSS = "boss@november.test"
CLIENTS = ("+12025550154", "+12025550155", "+12025550156")


@pytest.fixture(scope="module")
def november(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "November Dental"
    )
    assert "Its texting number is" in out, out


def text_in(page: Page, server: TwowayServer, handset: str, body: str) -> None:
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{handset}/")
    phone.get_by_label("Text message").fill(body)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()


def test_tick_rows_keep_them_ticked_live_and_archive_them(
    page: Page, twoway_server: TwowayServer, november: None
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    for handset, body in zip(CLIENTS, ("Invoice question", "Parking?", "Thanks!"), strict=True):
        text_in(page, server, handset, body)
    page.goto(f"{server.url}/inbox/")
    rows = page.locator("#conversation-list li.conversation-item")
    expect(pages.inbox_item(page, server, "Thanks!")).to_be_visible()
    expect(rows).to_have_count(3)

    def box(text: str) -> Locator:
        return rows.filter(has_text=text).get_by_role("checkbox")

    box("Parking?").check()
    box("Thanks!").check()
    # A new text redraws the list: the ticks stay where they were.
    text_in(page, server, CLIENTS[0], "Also, do you open Saturdays?")
    expect(rows.first).to_contain_text("open Saturdays")
    expect(box("Parking?")).to_be_checked()
    expect(box("Thanks!")).to_be_checked()
    expect(box("open Saturdays")).not_to_be_checked()

    page.get_by_role("button", name="Archive selected").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("open Saturdays")
    page.get_by_role("link", name="Archived").click()
    expect(rows).to_have_count(2)
    page.get_by_label("All").check()
    expect(box("Parking?")).to_be_checked()
    page.get_by_role("button", name="Unarchive selected").click()
    expect(rows).to_have_count(0)
