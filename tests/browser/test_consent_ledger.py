"""A client texts STOP from the simulated phone; the opt-out is in the contact's Consent history
and in Settings, Consent ledger, where the administrator filters it and downloads the CSV.

In an organization of its own ("Ledger Dental"), created on the running server with the `twoway`
command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

import csv
import datetime
import io
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

PASSWORD = "ledger-correct-horse-battery"
BOSS = "boss@ledger-dental.test"
CLIENT = "+12025550200"
OTHER_CLIENT = "+12025550201"
TIMEOUT = 20_000


@pytest.fixture(scope="module")
def ledger_dental(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Ledger Dental"
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


def test_a_stop_is_read_in_the_history_and_the_ledger_and_downloaded(
    page: Page, twoway_server: TwowayServer, ledger_dental: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    # Two clients: one texts STOP, the other is opted out by hand from their card.
    start_conversation(page, server, OTHER_CLIENT, "Your whitening is on Friday.")
    start_conversation(page, server, CLIENT, "Your cleaning is on Tuesday at 10.")
    phone = phone_texts(page, server, CLIENT, "Stop")
    expect(phone.locator("#screen .bubble").filter(has_text="unsubscribed")).to_have_count(
        1, timeout=TIMEOUT
    )
    phone.close()

    # The organization-wide ledger has it, and leads to the contact.
    page.goto(f"{server.url}/settings/")
    page.get_by_role("link", name="Consent ledger").click()
    expect(page.get_by_role("heading", name="Consent ledger")).to_be_visible()
    stop_row = page.locator("#ledger-entries tbody tr").filter(has_text="Stop")
    expect(stop_row).to_have_count(1)
    expect(stop_row).to_contain_text("Opted out")
    expect(stop_row).to_contain_text("Keyword text")
    expect(stop_row).to_contain_text("The contact, from (202) 555-0200")
    stop_row.get_by_role("link").click()

    # The contact's card: the opt-out in its Consent history.
    history = page.locator("#consent-history")
    expect(page.get_by_role("heading", name="Consent history")).to_be_visible()
    expect(history.locator("tbody tr").filter(has_text="Stop")).to_contain_text("Opted out")

    # The other client opted out by hand: an entry with the administrator's name.
    page.goto(f"{server.url}/contacts/?q=0201")
    page.locator("#contact-rows tr[data-contact] td:first-child a").click()
    page.get_by_label("Opted out").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#consent-history tbody tr").first).to_contain_text(BOSS)

    # Filtered to keyword opt-outs of today (the organization's day) by the client's number.
    today = datetime.datetime.now(zoneinfo.ZoneInfo("America/New_York")).date().isoformat()
    page.goto(f"{server.url}/settings/consent-ledger/")
    expect(page.locator("#ledger-entries tbody tr")).to_have_count(2)
    page.get_by_label("Kind", exact=True).select_option(label="Opted out")
    page.get_by_label("Source", exact=True).select_option(label="Keyword text")
    page.get_by_label("From", exact=True).fill(today)
    page.get_by_label("To", exact=True).fill(today)
    page.get_by_label("Contact", exact=True).fill("202-555-0200")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#ledger-entries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Stop")
    expect(page.locator(".consent-ledger [role=status]")).to_contain_text("1 entry.")
    page.screenshot(path=str(screenshots_dir / "consent_ledger.png"), full_page=True)

    # The CSV holds what the page shows.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("consent-ledger-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:4] == ["When", "Kind", "Source", "Who"], table
    assert len(table) == 2, table
    assert table[1][1:4] == ["Opted out", "Keyword text", "The contact, from (202) 555-0200"]
    assert table[1][5:7] == ["'+12025550200", "Stop"]
    assert table[1][0].startswith(today)
