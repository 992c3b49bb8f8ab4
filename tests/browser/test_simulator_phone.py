"""The simulated phone's To picker: the business number picked stays picked after each text sent,
and the phone, opened again, offers the number it texted last.

In an organization of its own ("Picker Dental"), created on the running server with the `twoway`
command; its phone lists its own number, then the shared system number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "picker-correct-horse-battery"
BOSS = "boss@picker.test"
HANDSET = "+12025550144"


@pytest.fixture(scope="module")
def picker_org(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Picker Dental"
    )
    assert "Its texting number is" in out, out


def test_the_phone_keeps_the_business_number_picked_across_sends(
    page: Page, twoway_server: TwowayServer, picker_org: None
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    page.goto(f"{server.url}/simulator/{HANDSET}/")
    to = page.get_by_label("To", exact=True)
    options = to.locator("option")
    expect(options).to_have_count(2)
    first, second = options.nth(0).get_attribute("value"), options.nth(1).get_attribute("value")
    assert first and second and first != second
    expect(to).to_have_value(first)  # nothing texted yet: the organization's own number

    to.select_option(second)
    body = page.get_by_label("Text message")
    for text in ("Hello there", "Are you open today?"):
        body.fill(text)
        page.get_by_role("button", name="Send", exact=True).click()
        expect(body).to_have_value("")  # sent: what was typed empties ...
        expect(to).to_have_value(second)  # ... and the number picked stays
    expect(page.locator("#screen .bubble").filter(has_text="Are you open today?")).to_have_count(1)

    page.reload()
    expect(page.get_by_label("To", exact=True)).to_have_value(second)
