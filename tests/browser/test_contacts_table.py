"""The contacts table as a person uses it: a client found by e-mail in New conversation and
picked by keyboard, then Chat from the table (Enter sends, Shift-Enter a new line, the close
button closes, another chat opened after it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.test_two_way_loop import TIMEOUT

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT)

EMAIL, PASSWORD = "owner@egret.test", "egret-correct-horse-battery"
CONTACTS = [
    {
        "first_name": "Dana",
        "last_name": "Whitfield",
        "email": "dana@egret.test",
        "client_id": "C-1042",
        "client_type": "Member",
        "phones": [
            {"number": "415-555-0181", "label": "mobile", "primary": True},
            {"number": "312-555-0182", "label": "work"},
        ],
    },
    {
        "first_name": "Lee",
        "last_name": "Ortiz",
        "client_type": "Guest",
        "phones": [{"number": "415-555-0183", "label": "mobile"}],
    },
    {"first_name": "Sam", "last_name": "Nophone", "email": "sam@egret.test"},
]


def _add_contacts(page: Page, server: TwowayServer, key: str) -> None:
    for contact in CONTACTS:
        response = page.request.post(
            f"{server.url}/api/v1/contacts",
            data=contact,
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status == 201, response.text()


def test_find_a_client_and_chat_from_the_table(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    screenshots_dir: Path,
) -> None:
    twoway_cli("createadmin", "--email", EMAIL, "--password", PASSWORD, "--organization", "Egret")
    key = twoway_cli("createapikey", "--email", EMAIL).strip().splitlines()[0]
    _add_contacts(page, twoway_server, key)
    page.set_viewport_size({"width": 1280, "height": 860})
    pages.log_in(page, twoway_server, EMAIL, PASSWORD)

    # New conversation: the client found by e-mail, the work number picked with the keyboard.
    page.goto(f"{twoway_server.url}/inbox/new/")
    page.get_by_label("From").select_option(index=0)
    to = page.get_by_role("combobox", name=re.compile("^To"))
    to.press_sequentially("dana@egr")
    listbox = page.get_by_role("listbox", name="Clients")
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(to).to_have_attribute("aria-expanded", "true")
    to.press("ArrowDown")
    to.press("ArrowDown")
    expect(listbox.get_by_role("option", selected=True)).to_contain_text("(312) 555-0182")
    to.press("Enter")
    expect(to).to_have_value("+13125550182")
    expect(listbox).to_be_hidden()
    expect(page.locator("#to-picked")).to_have_text("To Dana Whitfield, (312) 555-0182 (work)")
    page.get_by_label("Message", exact=True).fill("Your work number, as asked.")
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    expect(page.locator("#thread")).to_contain_text("Your work number, as asked.")

    # The table: a contact without a phone says why it cannot be texted.
    page.goto(f"{twoway_server.url}/contacts/")
    rows = page.locator("#contact-rows tr[data-contact]")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="Sam Nophone")).to_contain_text("No phone number")
    expect(rows.filter(has_text="Sam Nophone").get_by_role("button")).to_have_count(0)
    page.get_by_label("Client type").select_option("Guest")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"client_type=Guest"))
    page.get_by_label("Client type").select_option("")
    page.get_by_role("searchbox").fill("")
    expect(rows).to_have_count(3)
    page.screenshot(path=str(screenshots_dir / "contacts-table.png"))

    # Chat with Lee, who has no conversation yet: the first Send starts it.
    lee = page.get_by_role("button", name="Chat with Lee Ortiz")
    lee.click()
    chat = page.get_by_role("dialog", name="Chat with Lee Ortiz")
    expect(chat).to_be_visible()
    box = chat.get_by_role("textbox", name="Message")
    expect(box).to_be_focused()
    box.press_sequentially("Hello Lee")
    box.press("Shift+Enter")
    box.press_sequentially("your class moved to 6.")
    expect(box).to_have_value("Hello Lee\nyour class moved to 6.")
    box.press("Enter")
    bubble = chat.locator("li.message.outbound .bubble").first
    expect(bubble).to_have_text(re.compile(r"Hello Lee\s*your class moved to 6\."))
    # Now a conversation: the next text goes the inbox composer's way, and lives.
    box = chat.get_by_role("textbox", name="Message")
    expect(box).to_have_value("")
    box.press_sequentially("See you then!")
    box.press("Enter")
    expect(chat.locator("li.message.outbound")).to_have_count(2)
    expect(chat.locator("li.message.outbound").last).to_contain_text("See you then!")
    expect(chat.locator("li.message.outbound").last).to_contain_text("Delivered")
    page.screenshot(path=str(screenshots_dir / "contact-chat.png"))

    # The close button closes it, and focus goes back to the row's Chat.
    chat.get_by_role("button", name="Close the chat with Lee Ortiz").click()
    expect(chat).to_have_count(0)
    expect(lee).to_be_focused()

    # Another chat, then another in its place, without leaving the table.
    page.get_by_role("button", name="Chat with Dana Whitfield").click()
    dana = page.get_by_role("dialog", name="Chat with Dana Whitfield")
    expect(dana).to_contain_text("Your work number, as asked.")
    lee.click()
    expect(page.get_by_role("dialog", name="Chat with Lee Ortiz")).to_contain_text("See you then!")
    expect(page.get_by_role("dialog")).to_have_count(1)
    expect(page.get_by_role("dialog").get_by_role("textbox", name="Message")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
