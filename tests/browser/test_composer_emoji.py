"""The composer's emoji: `:+1:` becomes 👍 as its closing colon is typed (and the counter then
says UCS-2), and the smiley button's picker finds an emoji by name and is used by keyboard
alone: arrows, Enter to put it at the caret, Escape to close, focus back in the message box;
what was picked comes first the next time.

In an organization of its own ("Emoji Dental"), created on the running server with the `twoway`
command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "emoji-correct-horse-battery"
BOSS = "boss@emoji-dental.test"
CLIENT = "+12025550127"
THUMBS_UP = "\U0001f44d"


@pytest.fixture(scope="module")
def emoji_dental(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Emoji Dental"
    )
    assert "Its texting number is" in out, out


def test_a_shortcode_becomes_its_emoji_as_it_is_typed(
    page: Page, twoway_server: TwowayServer, emoji_dental: None
) -> None:
    pages.log_in(page, twoway_server, BOSS, PASSWORD)
    page.goto(f"{twoway_server.url}/inbox/new/")
    box = page.get_by_label("Message", exact=True)
    counter = page.locator("p.counter")
    box.press_sequentially("Great :+1")
    expect(box).to_have_value("Great :+1")  # not yet: the name is not closed
    box.press_sequentially(": see you")
    expect(box).to_have_value(f"Great {THUMBS_UP} see you")
    expect(counter).to_have_attribute("data-encoding", "UCS-2")
    # The caret stayed where typing goes on: after the emoji and what followed it.
    assert (
        box.evaluate("b => b.selectionStart")
        == len(f"Great {THUMBS_UP} see you".encode("utf-16-le")) // 2
    )
    # Undo brings back the name as typed.
    box.press_sequentially(" :smile:")
    expect(box).to_have_value(f"Great {THUMBS_UP} see you \U0001f604")
    box.press("Control+z")
    expect(box).to_have_value(f"Great {THUMBS_UP} see you :smile:")
    # A name the server does not convert, or a time, stays as typed.
    box.fill("")
    box.press_sequentially("At 10:30: bring :not_an_emoji: please")
    expect(box).to_have_value("At 10:30: bring :not_an_emoji: please")
    expect(counter).to_have_attribute("data-encoding", "GSM-7")


def test_a_name_typed_before_the_names_arrive_is_still_turned(
    page: Page, twoway_server: TwowayServer, emoji_dental: None
) -> None:
    # A slow network: the table of names comes a second and a half after it is asked for,
    # while typing goes on past the closing colon.
    def slowly(route: Route) -> None:
        time.sleep(1.5)
        route.continue_()

    pages.log_in(page, twoway_server, BOSS, PASSWORD)
    page.route("**/inbox/emoji-names/**", slowly)
    page.goto(f"{twoway_server.url}/inbox/new/")
    box = page.get_by_label("Message", exact=True)
    box.press_sequentially("Great :+1: see you")
    expect(box).to_have_value(f"Great {THUMBS_UP} see you", timeout=10_000)
    # The caret is still at the end, where typing goes on.
    assert box.evaluate("b => b.selectionStart") == box.evaluate("b => b.value.length")
    box.press_sequentially("!")
    expect(box).to_have_value(f"Great {THUMBS_UP} see you!")


def test_the_picker_is_searched_and_used_by_keyboard(
    page: Page, twoway_server: TwowayServer, emoji_dental: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill(CLIENT)
    box = page.get_by_label("Message", exact=True)
    box.fill("See you Friday")
    box.press("Home")  # the emoji goes at the caret, here the start
    toggle = page.get_by_role("button", name="Emoji", exact=True)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    search = page.get_by_role("combobox", name="Search emoji")
    expect(search).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    search.press_sequentially("thumbs")
    grid = page.get_by_role("listbox", name="Emoji")
    expect(grid.get_by_role("option", name="thumbs up", exact=True)).to_be_visible()
    expect(grid.get_by_role("option", name="thumbs down", exact=True)).to_be_visible()
    expect(grid.get_by_role("option", name="grinning face", exact=True)).to_have_count(0)
    # The first found is active; the arrows move through the grid.
    first = grid.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(first).to_have_accessible_name("thumbs up")  # code point order: 👍 U+1F44D, 👎 U+1F44E
    active = grid.locator('[aria-selected="true"]')
    search.press("ArrowRight")
    expect(active).to_have_accessible_name("thumbs down")
    search.press("ArrowDown")  # a row down, past the last: stays on the last found
    search.press("ArrowLeft")
    search.press("ArrowUp")  # a row up, before the first: the first
    expect(active).to_have_accessible_name("thumbs up")
    expect(active).to_have_count(1)
    expect(search).to_have_attribute("aria-activedescendant", active.get_attribute("id") or "")
    page.screenshot(path=str(screenshots_dir / "composer_emoji.png"))
    search.press("Enter")
    expect(box).to_have_value(f"{THUMBS_UP}See you Friday")
    expect(box).to_be_focused()
    expect(page.locator("[data-emoji-panel]")).to_be_hidden()
    expect(page.locator("p.counter")).to_have_attribute("data-encoding", "UCS-2")

    # Escape closes it without a pick and gives focus back to the box; the grid opens with the
    # emoji just used first.
    toggle.click()
    expect(search).to_be_focused()
    expect(grid.get_by_role("option").first).to_have_accessible_name("thumbs up")
    search.press("Escape")
    expect(page.locator("[data-emoji-panel]")).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value(f"{THUMBS_UP}See you Friday")

    # A name found by an alias only ("+1" is not in "thumbs up"); nothing found says so.
    toggle.click()
    search.press_sequentially("+1")
    expect(grid.get_by_role("option").first).to_have_accessible_name("thumbs up")
    search.fill("")
    search.press_sequentially("zzzz")
    expect(grid.get_by_role("option")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="No emoji by that name")).to_be_visible()
    search.press("Escape")

    page.get_by_role("button", name="Send").click()
    expect(page.locator("#thread")).to_contain_text(f"{THUMBS_UP}See you Friday")
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    expect(phone.locator("body")).to_contain_text(f"{THUMBS_UP}See you Friday")
    phone.close()
