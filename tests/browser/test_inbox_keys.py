"""The inbox by keyboard: j moves down the list, Enter opens, r goes to the message box, Escape
leaves it, e archives; `?` lists the keys and Escape closes the list; keys typed in a box stay
in it. On a phone (390 px) the conversation's actions are a "⋯ Actions" menu; at 1024 px they
are buttons, none cut off.

In an organization of its own ("Keys Dental"), created on the running server with the `twoway`
command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "keys-correct-horse-battery"
BOSS = "boss@keys-dental.test"
CLIENTS = ("+12025550128", "+12025550129")


@pytest.fixture(scope="module")
def keys_dental(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Keys Dental"
    )
    assert "Its texting number is" in out, out


def text_in(page: Page, server: TwowayServer, handset: str, body: str) -> None:
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{handset}/")
    phone.get_by_label("Text message").fill(body)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()


def test_walk_the_inbox_by_keyboard(
    page: Page, twoway_server: TwowayServer, keys_dental: None
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    text_in(page, server, CLIENTS[0], "Is parking free?")
    text_in(page, server, CLIENTS[1], "Running late, sorry")
    pages.inbox_item(page, server, "Is parking free?")
    expect(pages.inbox_item(page, server, "Running late")).to_be_visible()
    rows = page.locator("#conversation-list li.conversation-item")
    expect(rows).to_have_count(2)

    # `/` goes to the search box, where j is typed, not a move.
    page.keyboard.press("/")
    search = page.get_by_label("Search messages and contacts")
    expect(search).to_be_focused()
    page.keyboard.press("j")
    expect(search).to_have_value("j")
    search.fill("")
    search.blur()

    page.keyboard.press("j")  # the first row (the newest)
    expect(rows.nth(0).get_by_role("link")).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1).get_by_role("link")).to_be_focused()
    page.keyboard.press("k")
    expect(rows.nth(0).get_by_role("link")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1).get_by_role("link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#thread")).to_contain_text("Is parking free?")
    expect(page.locator("#thread-heading")).to_be_focused()  # opened: keyboard users land here

    page.keyboard.press("r")
    box = page.get_by_label("Message", exact=True)
    expect(box).to_be_focused()
    expect(box).to_have_value("")  # the r went to no box
    box.press_sequentially("Yes, it is free")
    page.keyboard.press("Enter")
    expect(page.locator("#thread")).to_contain_text("Yes, it is free")
    expect(box).to_be_focused()
    page.keyboard.press("e")  # typed in the box: no archive
    expect(box).to_have_value("e")
    box.fill("")
    page.keyboard.press("Escape")
    expect(box).not_to_be_focused()
    page.keyboard.press("e")
    header = page.locator("#thread-header")
    expect(header.locator("[data-folder-state]")).to_have_text("Archived")
    expect(header.get_by_role("button", name="Unarchive")).to_be_visible()

    # `?` lists the keys; Escape closes the list.
    # The archived conversation stays open with its message box focused: Escape leaves it.
    # (The live redraws the archiving set off may land after it and hand focus back to the
    # box; a person presses Escape again then, and so does this test, at most twice more.)
    expect(box).to_be_focused()
    for _ in range(3):
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
        if not box.evaluate("b => b === document.activeElement"):
            break
    expect(box).not_to_be_focused()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Archive the open conversation")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # a goes to the assign control.
    page.keyboard.press("a")
    expect(page.get_by_label("Assign to")).to_be_focused()


def test_the_actions_are_a_menu_on_a_phone_and_buttons_at_1024(
    browser: Browser, twoway_server: TwowayServer, keys_dental: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    pages.log_in(page, server, BOSS, PASSWORD)
    text_in(page, server, CLIENTS[1], "One more question")
    pages.inbox_item(page, server, "One more question").get_by_role("link").click()
    expect(page.locator("#thread")).to_contain_text("One more question")
    archive = page.get_by_role("button", name="Archive", exact=True)
    expect(archive).to_be_hidden()
    menu = page.get_by_role("button", name="⋯ Actions")
    menu.click()
    expect(archive).to_be_visible()
    expect(page.get_by_role("button", name="Mute")).to_be_visible()
    expect(page.get_by_role("link", name="Export")).to_be_visible()
    for control in (archive, page.get_by_role("button", name="Assign", exact=True)):
        box = control.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.screenshot(path=str(screenshots_dir / "phone-actions.png"))
    page.keyboard.press("Escape")
    expect(archive).to_be_hidden()
    menu.click()
    archive.click()
    expect(page.locator("#thread-header [data-folder-state]")).to_have_text("Archived")
    context.close()

    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    pages.log_in(page, server, BOSS, PASSWORD)
    text_in(page, server, CLIENTS[0], "And the address?")  # back from the archive
    pages.inbox_item(page, server, "And the address?").get_by_role("link").click()
    expect(page.get_by_role("button", name="⋯ Actions")).to_be_hidden()
    # The panel is redrawn as the conversation opens: measure the one that stays.
    expect(page.locator("#thread li.message").filter(has_text="And the address?")).to_be_visible()
    panel = page.locator("#conversation-panel").bounding_box()
    assert panel is not None
    for name in ("Mark as unread", "Mute", "Assign"):
        box = page.get_by_role("button", name=name, exact=True).bounding_box()
        assert box is not None and box["x"] + box["width"] <= panel["x"] + panel["width"], name
    context.close()
