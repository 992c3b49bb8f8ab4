"""Two-way texting switched on and off as an admin does it in Settings > Two-way texting.

Switching it on gives a dedicated number at once, in the area code of the business phone typed,
pending verification by the carriers; the number is then in Settings > Numbers and in the From
picker, marked unverified, and the composer warns that delivery is not guaranteed. Switching it
off with the do-not-reply auto message keeps the number for about 90 days: a client texting it
gets the auto message and nothing reaches the inbox; switching on again gives the same number.
A business outside the United States and Canada is told plainly why it cannot have it.

Each test has an organization of its own, created with `twoway createadmin` on the running
server (`--no-two-way`: the first start switches two-way texting on for its organization).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms
PASSWORD = "charlie-correct-horse-battery"
ADMIN = "boss@charlie.test"
ABROAD_ADMIN = "boss@dover.test"
BUSINESS_PHONE_TYPED = "212-555-0147"
CLIENT = "+12025550191"
CLIENT_TYPED = "202-555-0191"
FIRST_TEXT = "Hi, this is Charlie Bakery: your cake is ready for pickup."
HOLD_DAYS = 90  # TWO_WAY_HOLD_DAYS, the server's default

expect.set_options(timeout=TIMEOUT)


def log_in(page: Page, server: TwowayServer, email: str) -> None:
    pages.log_in(page, server, email, PASSWORD)


def top_bar_link(page: Page, name: str) -> Locator:
    return page.get_by_role("banner").get_by_role("link", name=name, exact=True)


def open_two_way_settings(page: Page) -> None:
    top_bar_link(page, "Settings").click()
    page.get_by_role("link", name="Two-way texting").click()
    expect(page.get_by_role("heading", name="Two-way texting")).to_be_visible()


def two_way_state(page: Page) -> Locator:
    return page.locator("[data-two-way]")


def e164(display: str) -> str:
    """ "(212) 555-0100" → "+12125550100"."""
    return "+1" + re.sub(r"\D", "", display)


def kept_until_dates() -> list[str]:
    """How the page can spell the end of the hold: a date in the organization's time zone
    (New York), for a test that may run across its midnight."""
    today = dt.datetime.now(zoneinfo.ZoneInfo("America/New_York")).date()
    days = [today + dt.timedelta(days=HOLD_DAYS + delta) for delta in (0, 1)]
    return [f"{day:%B} {day.day}, {day.year}" for day in days]


@pytest.fixture(scope="module")
def charlie(twoway_cli: Callable[..., str]) -> str:
    """A US organization whose two-way texting is off: no dedicated number yet."""
    out = twoway_cli(
        "createadmin",
        "--email",
        ADMIN,
        "--password",
        PASSWORD,
        "--organization",
        "Charlie Bakery",
        "--no-two-way",
    )
    assert "Its texting number" not in out, out
    return ADMIN


def test_activation_gives_a_dedicated_number_kept_while_off(
    page: Page, twoway_server: TwowayServer, charlie: str, screenshots_dir: Path
) -> None:
    server = twoway_server
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, server, charlie)

    # Off: a new conversation cannot be started, and the settings offer to switch it on.
    top_bar_link(page, "New conversation").click()
    expect(page.locator("[data-two-way-off]")).to_contain_text("Two-way texting is off")
    open_two_way_settings(page)
    expect(two_way_state(page)).to_have_attribute("data-two-way", "off")
    expect(page.locator("dd.dedicated-number")).to_have_count(0)

    # On: the dedicated number at once, in the business phone's area code, pending.
    page.get_by_label("Your business phone").fill(BUSINESS_PHONE_TYPED)
    page.get_by_role("button", name="Get two-way texting").click()
    expect(page).to_have_url(re.compile(r"/settings/two-way/$"))
    expect(two_way_state(page)).to_have_attribute("data-two-way", "on")
    dedicated = page.locator("dd.dedicated-number")
    expect(dedicated).to_have_text(re.compile(r"^\(212\) 555-\d{4}$"))
    shown = dedicated.inner_text().strip()
    expect(page.get_by_role("status")).to_contain_text(
        f"Two-way texting is on. Your texting number is {shown}."
    )
    expect(page.locator("dd.verification")).to_have_text("Pending")
    expect(page.locator("p.warning")).to_contain_text("delivery of your direct texts is not")
    page.screenshot(path=str(screenshots_dir / "two-way-settings.png"), full_page=True)

    # Settings > Numbers lists it, pending, as the two-way number.
    top_bar_link(page, "Settings").click()
    page.get_by_role("link", name="Numbers", exact=True).click()
    row = page.locator("table.numbers-table tbody tr").filter(has_text=shown)
    expect(row).to_have_count(1)
    expect(row.locator("td.verification")).to_contain_text("Pending")
    expect(row.locator("td.verification")).to_contain_text("Two-way number")

    # The From picker offers it, marked unverified.
    top_bar_link(page, "New conversation").click()
    expect(page.locator("[data-two-way-off]")).to_have_count(0)
    options = page.get_by_label("From").locator("option")
    expect(options).to_have_text(
        [f"{shown} · Two-way · not verified: delivery not guaranteed"], use_inner_text=True
    )
    expect(page.locator("p[data-unverified]")).to_contain_text(
        f"{shown} is not verified by the carriers yet (pending)"
    )

    # A conversation from it: its composer warns that delivery is not guaranteed.
    page.get_by_label("To (phone number)").fill(CLIENT_TYPED)
    page.get_by_label("Message").fill(FIRST_TEXT)
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    conversation_url = page.url
    expect(page.locator(".thread-header")).to_contain_text(f"via {shown}")
    warning = page.locator(".composer [data-unverified]")
    expect(warning).to_contain_text("delivery of your texts is not guaranteed")
    expect(warning).to_contain_text(f"{shown} is not verified by the carriers yet (pending)")
    sent = page.locator("#thread li.message.outbound").filter(has_text=FIRST_TEXT)
    expect(sent.locator(".status")).to_have_text("Delivered")

    # Off, with the do-not-reply auto message: the number is kept for about three months.
    open_two_way_settings(page)
    page.get_by_label("Do-not-reply auto message", exact=True).check()
    page.get_by_role("button", name="Turn off two-way texting").click()
    expect(two_way_state(page)).to_have_attribute("data-two-way", "off")
    expect(two_way_state(page)).to_contain_text("Off.")
    expect(two_way_state(page)).to_contain_text("do-not-reply auto message")
    kept = re.compile("|".join(re.escape(date) for date in kept_until_dates()))
    expect(page.get_by_role("status")).to_have_text("Two-way texting is off.")
    held = page.locator("#held-number")
    expect(held).to_contain_text(f"Your number {shown} is kept for you until")
    expect(held).to_contain_text(kept)
    expect(page.get_by_role("button", name="Get two-way texting")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "two-way-off.png"), full_page=True)

    # The client texts the number: their phone gets the do-not-reply message, no inbox the text.
    phone = page.context.new_page()
    phone.set_default_timeout(TIMEOUT)
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    phone.get_by_label("To", exact=True).select_option(e164(shown))
    question = "Can I pick it up on Sunday instead?"
    phone.get_by_label("Text message").fill(question)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    screen = phone.locator("#screen .bubble")
    expect(screen.filter(has_text=question)).to_have_count(1)
    auto = screen.filter(has_text="Charlie Bakery: this number does not receive replies")
    expect(auto).to_have_count(1)
    # By now the worker has taken the text in: it reached neither the thread nor any folder.
    page.goto(conversation_url)
    expect(page.locator("#thread li.message").filter(has_text=FIRST_TEXT)).to_have_count(1)
    expect(page.locator("#thread li.message").filter(has_text=question)).to_have_count(0)
    expect(page.locator(".composer [data-two-way-off]")).to_contain_text("Two-way texting is off")
    for folder in ("needs_attention", "participating", "archived"):
        page.goto(f"{server.url}/inbox/?folder={folder}")
        expect(page.locator("li.conversation-item").filter(has_text=question)).to_have_count(0)
    phone.close()

    # On again: the same number comes back, and no second one was bought.
    open_two_way_settings(page)
    expect(page.get_by_label("Your business phone")).to_have_value("(212) 555-0147")
    page.get_by_role("button", name="Get two-way texting").click()
    expect(two_way_state(page)).to_have_attribute("data-two-way", "on")
    expect(page.locator("dd.dedicated-number")).to_have_text(shown)
    expect(page.get_by_role("status")).to_contain_text(f"Your texting number is {shown}.")
    page.goto(f"{server.url}/settings/numbers/")
    rows = page.locator("table.numbers-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.verification")).not_to_contain_text("kept until")


def test_two_way_refused_outside_the_united_states_and_canada(
    page: Page, twoway_server: TwowayServer, twoway_cli: Callable[..., str]
) -> None:
    server = twoway_server
    twoway_cli(
        "createadmin",
        "--email",
        ABROAD_ADMIN,
        "--password",
        PASSWORD,
        "--organization",
        "Dover Tea Rooms",
        "--country",
        "GB",
    )
    log_in(page, server, ABROAD_ADMIN)
    open_two_way_settings(page)
    expect(two_way_state(page)).to_have_attribute("data-two-way", "off")
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(
        "Two-way texting is available only to businesses in the United States and Canada, "
        "because of carrier rules for business texting."
    )
    expect(refusal).to_contain_text("Your organization's country is GB.")
    expect(page.get_by_role("button", name="Get two-way texting")).to_have_count(0)

    # A forged request to switch it on is refused the same way, and nothing changes.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = page.request.post(
        f"{server.url}/settings/two-way/on/",
        form={"business_phone": "+442079460000"},
        headers={"X-CSRFToken": token},
        max_redirects=0,
    )
    assert forged.status == 422, forged.status
    assert "available only to businesses in the United States and Canada" in forged.text()
    page.reload()
    expect(two_way_state(page)).to_have_attribute("data-two-way", "off")
    page.goto(f"{server.url}/settings/numbers/")
    expect(page.locator("table.numbers-table")).to_have_count(0)
