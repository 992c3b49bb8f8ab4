"""The simulated network is shared by the organizations of one Twoway: a phone one organization
texts is played by its members only. A member of another organization who opens it sees why,
not a send form or a behaviour switch that would be refused, and none of the texts.

In two organizations of their own ("Kilo Clinic", "Lima Dental"), created on the running server
with the `twoway` command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms
PASSWORD = "kilo-lima-correct-horse-battery"
KILO, LIMA = "boss@kilo.test", "boss@lima.test"
CLIENT = "+12025550164"
CLIENT_SHOWN = "(202) 555-0164"
QUESTION = "Is my crown ready to be fitted?"

expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def organizations(twoway_cli: Callable[..., str]) -> None:
    for email, name in ((KILO, "Kilo Clinic"), (LIMA, "Lima Dental")):
        out = twoway_cli(
            "createadmin", "--email", email, "--password", PASSWORD, "--organization", name
        )
        assert "Its texting number is" in out, out


def test_another_organizations_phone_explains_instead_of_offering_to_text(
    page: Page,
    browser: Browser,
    twoway_server: TwowayServer,
    organizations: None,
    screenshots_dir: Path,
) -> None:
    server = twoway_server
    pages.log_in(page, server, KILO, PASSWORD)

    # Kilo's client writes in from a phone nobody has used yet: Kilo's member plays it.
    page.goto(f"{server.url}/simulator/{CLIENT}/")
    page.get_by_label("Text message").fill(QUESTION)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_label("Text message")).to_have_value("")
    expect(page.locator("#screen .bubble").filter(has_text=QUESTION)).to_have_count(1)
    pages.inbox_item(page, server, QUESTION)

    # Lima's admin opens the same phone: a sentence says why it cannot be used from here, and
    # no control that would be refused is shown; Kilo's text is not either.
    lima = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    pages.log_in(lima, server, LIMA, PASSWORD)
    lima.goto(f"{server.url}/simulator/")
    expect(lima.locator("ul.phones")).not_to_contain_text(CLIENT_SHOWN)
    lima.get_by_label("Open the phone of").fill("202-555-0164")
    lima.get_by_role("button", name="Open phone").click()
    expect(lima).to_have_url(re.compile(re.escape(f"/simulator/{CLIENT}/") + "$"))
    refusal = lima.locator(".handset-refusal")
    expect(refusal).to_contain_text("Another organization on this Twoway installation")
    expect(refusal).to_contain_text("open a number nobody has texted yet")
    expect(lima.get_by_label("Text message")).to_have_count(0)
    expect(lima.get_by_role("button", name="Send")).to_have_count(0)
    expect(lima.get_by_label("This phone")).to_have_count(0)
    expect(lima.locator("#screen")).to_contain_text("No messages yet.")
    expect(lima.locator("#screen")).not_to_contain_text(QUESTION)
    lima.screenshot(path=str(screenshots_dir / "phone-of-another-organization.png"))

    # Kilo's member still has the whole phone.
    page.goto(f"{server.url}/simulator/{CLIENT}/")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_label("This phone")).to_be_visible()
    expect(page.locator(".handset-refusal")).to_have_count(0)
    lima.context.close()
