"""Drip campaigns end to end: an admin creates a three-step campaign in Settings, applies it
from the composer's droplet, sees the three steps scheduled in the thread, and a reply from the
simulated phone deletes them.

In an organization of its own ("Drip Dental"), created on the running server with the
`twoway` command, with a handset of its own.
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

PASSWORD = "drip-correct-horse-battery"
BOSS = "boss@dripdental.test"
CLIENT = "+12025550220"


@pytest.fixture(scope="module")
def drip_org(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Drip Dental"
    )
    assert "Its texting number is" in out, out


def test_a_drip_applied_from_the_droplet_is_scheduled_and_a_reply_deletes_its_steps(
    page: Page, twoway_server: TwowayServer, drip_org: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)

    page.goto(f"{server.url}/settings/drip-campaigns/")
    new = page.locator("[data-drip-new]")
    new.get_by_label("Name").fill("Recall")
    for i, (text, days) in enumerate(
        [
            ("{business_name}: time for your check-up!", "1"),
            ("A reminder: book your check-up", "3"),
            ("Last call for this season's check-ups", "5"),
        ],
        start=1,
    ):
        new.get_by_label(f"Step {i} text").fill(text)
        new.get_by_label(f"Step {i} days after applying").fill(days)
    new.get_by_role("button", name="Add campaign").click()
    expect(page.get_by_text("Drip campaign “Recall” added.")).to_be_visible()

    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill(CLIENT)
    page.get_by_label("Message", exact=True).fill("Welcome to Drip Dental")
    page.get_by_role("button", name="Send", exact=True).click()
    thread = page.locator("#thread li.message")
    expect(thread.filter(has_text="Welcome to Drip Dental").locator(".status")).to_have_text(
        "Delivered", timeout=20_000
    )

    page.locator("[data-drip-picker] summary").click()
    option = page.locator("[data-drip-option]").filter(has_text="Recall")
    expect(option).to_contain_text("1 day after applying")
    expect(option).to_contain_text("Last call for this season's check-ups")
    option.get_by_role("button", name="Apply campaign").click()

    steps = thread.filter(has_text="Drip: Recall")
    expect(steps).to_have_count(3)
    for position in (1, 2, 3):
        step = thread.filter(has_text=f"Drip: Recall, step {position} of 3")
        expect(step.locator(".status")).to_have_text("Scheduled")
    expect(thread.filter(has_text="Drip Dental: time for your check-up!")).to_have_count(1)
    # The droplet's list closes, leaving the scheduled steps in view.
    expect(page.locator("[data-drip-option]")).to_be_hidden()
    page.screenshot(path=str(screenshots_dir / "composer_drip.png"))

    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    phone.get_by_label("Text message").fill("Thanks, I'll call you")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()

    expect(thread.filter(has_text="Thanks, I'll call you")).to_have_count(1, timeout=20_000)
    expect(steps).to_have_count(0)
