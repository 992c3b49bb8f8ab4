"""A text to an unreachable phone fails with the carrier's reason; once the phone is back,
Retry in the thread sends it again and it is delivered; the Failed list sends several again.

In an organization of its own ("Mike Dental"), created on the running server with the `twoway`
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

PASSWORD = "mike-correct-horse-battery"
BOSS = "boss@mike.test"
CLIENT = "+12025550153"


@pytest.fixture(scope="module")
def mike(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Mike Dental"
    )
    assert "Its texting number is" in out, out


def phone_behaves(page: Page, server: TwowayServer, label: str) -> None:
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    phone.get_by_label("This phone").select_option(label=label)
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_label("This phone").locator("option:checked")).to_have_text(label)
    phone.close()


def test_retry_sends_a_failed_text_again(
    page: Page, twoway_server: TwowayServer, mike: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill(CLIENT)
    page.get_by_label("Message", exact=True).fill("Hello from Mike Dental")
    page.get_by_role("button", name="Send").click()
    hello = page.locator("#thread li.message").filter(has_text="Hello from Mike Dental")
    # Delivered before the phone changes: the network decides a text's fate when it reports.
    expect(hello.locator(".status")).to_have_text("Delivered", timeout=20_000)
    phone_behaves(page, server, "Is unreachable (failed, 30003)")

    box = page.get_by_label("Message", exact=True)
    box.fill("Your crown is ready")
    page.get_by_role("button", name="Send").click()
    failed = page.locator("#thread li.message").filter(has_text="Your crown is ready")
    expect(failed.locator(".status")).to_have_text("Failed", timeout=20_000)
    expect(failed.locator(".error-detail")).to_contain_text("30003")
    page.screenshot(path=str(screenshots_dir / "failed-retry.png"))

    phone_behaves(page, server, "Delivers normally")
    failed.get_by_role("button", name="Retry").click()
    texts = page.locator("#thread li.message").filter(has_text="Your crown is ready")
    expect(texts).to_have_count(2)
    expect(texts.nth(1).locator(".status")).to_have_text("Delivered", timeout=20_000)
    expect(texts.first.get_by_role("button", name="Retry")).to_have_count(0)  # once

    # Two more fail; the Failed list sends both again at once.
    phone_behaves(page, server, "Is unreachable (failed, 30003)")
    for body in ("Reminder one", "Reminder two"):
        box.fill(body)
        page.get_by_role("button", name="Send").click()
        sent = page.locator("#thread li.message").filter(has_text=body)
        expect(sent.locator(".status")).to_have_text("Failed", timeout=20_000)
    phone_behaves(page, server, "Delivers normally")
    page.goto(f"{server.url}/inbox/failed/")
    expect(page.locator("table.failed tbody tr")).to_have_count(2)
    page.get_by_label("Select all").check()
    page.get_by_role("button", name="Send selected again").click()
    expect(page.get_by_role("status")).to_contain_text("2 texts sent again.")
    expect(page.get_by_text("No failed texts.")).to_be_visible()
