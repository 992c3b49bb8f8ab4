"""Canned responses in the composer: an organization-wide response with merge fields, picked by
its keyboard shortcut, fills the box for the open conversation's contact, names the field that
contact has no value for, is counted as it stands, and sends nothing.

In an organization of its own ("Canned Clinic"), created on the running server with the `twoway`
command, texting its own simulated handset (+1 202-555-0115).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from twoway.core.segments import segment_info

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "owner@canned-clinic.test", "canned-correct-horse-battery"
HANDSET = "202-555-0115"
FIRST_TEXT = "Hello from Canned Clinic."
FILLED = "Hi Dana, your {membership_level} plan renews soon."


def test_a_canned_response_fills_the_composer_and_sends_nothing(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    screenshots_dir: Path,
) -> None:
    server = twoway_server
    twoway_cli(
        "createadmin", "--email", EMAIL, "--password", PASSWORD, "--organization", "Canned Clinic"
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    pages.log_in(page, server, EMAIL, PASSWORD)

    page.goto(f"{server.url}/settings/contact-fields/")
    page.get_by_label("Name", exact=True).last.fill("Membership level")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("status")).to_contain_text("Field “Membership level” added.")

    page.goto(f"{server.url}/settings/")
    page.get_by_role("link", name="Canned responses").first.click()
    # An unknown field is refused when saved.
    page.locator("#new-canned-organization-name").fill("Renewal")
    page.locator("#new-canned-organization-body").fill("Hi {first_name}, your {plan} renews.")
    page.get_by_role("button", name="Add canned response").first.click()
    expect(page.get_by_role("alert")).to_contain_text("{plan} is not a merge field.")
    page.locator("#new-canned-organization-body").fill(
        "Hi {first_name}, your {membership_level} plan renews soon."
    )
    page.get_by_role("button", name="Add canned response").first.click()
    expect(page.get_by_role("status")).to_contain_text("Canned response “Renewal” added.")

    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("From").select_option(index=0)
    page.get_by_label("To (phone number)").fill(HANDSET)
    page.get_by_label("Message", exact=True).fill(FIRST_TEXT)
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    conversation_url = page.url
    page.goto(f"{server.url}/contacts/")
    page.get_by_role("link", name="(no name)").click()
    page.get_by_label("First name").fill("Dana")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")

    page.goto(conversation_url)
    thread = page.locator("#thread li.message")
    expect(thread).to_have_count(1)
    box = page.get_by_label("Message", exact=True)
    expect(page.get_by_role("button", name="Canned responses")).to_have_attribute(
        "title", re.compile(r"Ctrl\+/")
    )
    box.press("Control+/")
    search = page.get_by_label("Find a canned response")
    expect(search).to_be_focused()
    option = page.get_by_role("option", name=re.compile("Renewal"))
    expect(option).to_have_attribute("aria-selected", "true")
    search.fill("renew")
    search.press("ArrowDown")  # the only one: it stays chosen
    expect(option).to_have_attribute("aria-selected", "true")
    search.press("Enter")

    expect(box).to_have_value(FILLED)
    expect(box).to_be_focused()
    expect(search).to_be_hidden()
    warning = page.locator("[data-canned-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("This contact has no value for {membership_level}.")
    counter = page.locator("p.counter")
    expected = segment_info(FILLED)
    expect(counter).to_contain_text(f"{expected.remaining} characters left")
    expect(counter).to_have_attribute("data-segments", str(expected.segments))
    page.screenshot(path=str(screenshots_dir / "composer_canned.png"))

    # Nothing was sent: the thread still holds the first text only, and so does the phone.
    page.wait_for_timeout(500)
    expect(thread).to_have_count(1)
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/+1{HANDSET.replace('-', '')}/")
    expect(phone.locator("body")).to_contain_text(FIRST_TEXT)
    expect(phone.locator("body")).not_to_contain_text("renews soon")
    phone.close()

    # Filling the field in by hand takes the warning away.
    box.fill(FILLED.replace("{membership_level}", "Gold"))
    expect(warning).to_be_hidden()
