"""A dedicated number's verification by the carriers, as the admins live it.

The simulated carrier console plays the carriers: an approval reaches Twoway as a carrier's
callback, which the worker applies; the admins then find an unread badge on the bell, the news
under /notifications/, the composer's "not guaranteed" warning gone and the number "Verified" in
Settings > Numbers. A rejection's reason shows on the number's settings page. An admin who heard
from the carrier by other means sets the state there with the Verification form.

Each test has an organization of its own, created with `twoway createadmin` on the running
server: two-way texting on, its dedicated number pending verification.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms
PASSWORD = "echo-correct-horse-battery"
CLIENT_TYPED = "202-555-0193"
REJECTION = "The business name does not match the tax ID on record"

expect.set_options(timeout=TIMEOUT)


@dataclass
class Admin:
    email: str
    number: str  # the dedicated number as displayed, e.g. "(415) 555-0102"


@pytest.fixture
def new_admin(twoway_cli: Callable[..., str]) -> Callable[[str, str], Admin]:
    """An organization with two-way texting on and its admin."""

    def create(email: str, organization: str) -> Admin:
        out = twoway_cli(
            "createadmin",
            "--email",
            email,
            "--password",
            PASSWORD,
            "--organization",
            organization,
        )
        found = re.search(r"Its texting number is (\(\d{3}\) \d{3}-\d{4})", out)
        assert found, out
        return Admin(email=email, number=found.group(1))

    return create


def log_in(page: Page, server: TwowayServer, email: str) -> None:
    pages.log_in(page, server, email, PASSWORD)


def top_bar_link(page: Page, name: str) -> Locator:
    return page.get_by_role("banner").get_by_role("link", name=name, exact=True)


def bell(page: Page) -> Locator:
    return page.get_by_role("banner").locator("a.bell")


def reload_until_visible(page: Page, locator: Locator, timeout_ms: int = TIMEOUT) -> None:
    """The worker applies a carrier's callback in the background: reload until its effect shows
    (the page does not follow it live), then let `expect` report what is there if it never did."""
    deadline = time.monotonic() + timeout_ms / 1000
    while locator.count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        page.reload()
    expect(locator.first).to_be_visible()


def start_conversation(page: Page, admin: Admin, text: str) -> str:
    """Text a client from the dedicated number; returns the conversation's URL."""
    top_bar_link(page, "New conversation").click()
    page.get_by_label("From").select_option(
        label=f"{admin.number} · Two-way · not verified: delivery not guaranteed"
    )
    page.get_by_label("To (phone number)").fill(CLIENT_TYPED)
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    return page.url


def open_carrier_console(page: Page) -> None:
    top_bar_link(page, "Simulated phones").click()
    page.get_by_role("link", name="simulated carrier console").click()
    expect(page.get_by_role("heading", name="Simulated carrier console")).to_be_visible()


def carrier_report(page: Page, admin: Admin, verdict: str, reason: str = "") -> None:
    page.get_by_label(f"Verdict on {admin.number}").select_option(label=verdict)
    row = page.locator("tr").filter(has=page.get_by_label(f"Verdict on {admin.number}"))
    row.get_by_label("Reason for a rejection").fill(reason)
    row.get_by_role("button", name="Report").click()


def numbers_row(page: Page, admin: Admin) -> Locator:
    return page.locator("table.numbers-table tbody tr").filter(has_text=admin.number)


def test_carrier_approval_notifies_the_admins(
    page: Page,
    twoway_server: TwowayServer,
    new_admin: Callable[[str, str], Admin],
    screenshots_dir: Path,
) -> None:
    server = twoway_server
    admin = new_admin("boss@echo.test", "Echo Clinic")
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, server, admin.email)

    # Before: nothing under the bell, and the composer warns that delivery is not guaranteed.
    expect(bell(page)).to_have_attribute("aria-label", "Notifications")
    expect(bell(page).locator(".badge")).to_have_count(0)
    conversation_url = start_conversation(page, admin, "Your check-up is on Monday at 9.")
    unverified = page.locator(".composer [data-unverified]")
    expect(unverified).to_contain_text("delivery of your texts is not guaranteed")

    # The carriers approve the number.
    open_carrier_console(page)
    row = page.locator("tbody tr").filter(has_text=admin.number)
    expect(row.locator("td.verification")).to_have_text("Pending")
    carrier_report(page, admin, "Approve")
    expect(page.get_by_role("status")).to_contain_text(
        f"“Approve” for {admin.number} is reported to Twoway"
    )
    reload_until_visible(page, row.locator("td.verification", has_text="Verified"))
    expect(row.locator("td.verification")).to_have_text("Verified")
    page.screenshot(path=str(screenshots_dir / "carrier-console.png"), full_page=True)

    # The bell has news (the worker applied the callback): a reload shows it.
    page.goto(conversation_url)
    reload_until_visible(page, bell(page).locator(".badge"))
    expect(bell(page).locator(".badge")).to_have_text("1")
    expect(bell(page)).to_have_attribute("aria-label", "Notifications: 1 new")
    # ...and the composer no longer warns.
    expect(page.locator(".composer [data-unverified]")).to_have_count(0)
    expect(page.get_by_label("Message", exact=True)).to_be_visible()

    bell(page).click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    news = page.locator("article.notification").filter(
        has_text=f"Your number {admin.number} is verified"
    )
    expect(news).to_have_count(1)
    expect(news).to_have_class(re.compile(r"\bunread\b"))
    expect(news).to_contain_text("The carriers approved it")
    expect(bell(page).locator(".badge")).to_have_count(0)
    page.screenshot(path=str(screenshots_dir / "verification-notification.png"), full_page=True)
    # Seen once, it is no longer new.
    page.reload()
    expect(news).not_to_have_class(re.compile(r"\bunread\b"))
    expect(bell(page).locator(".badge")).to_have_count(0)

    # Its link leads to Settings > Numbers, where the number is verified.
    news.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/settings/numbers/$"))
    expect(numbers_row(page, admin).locator("td.verification")).to_contain_text("Verified")
    top_bar_link(page, "New conversation").click()
    expect(page.get_by_label("From").locator("option")).to_have_text(
        [f"{admin.number} · Two-way"], use_inner_text=True
    )
    expect(page.locator("p[data-unverified]")).to_have_count(0)


def test_carrier_rejection_shows_its_reason(
    page: Page, twoway_server: TwowayServer, new_admin: Callable[[str, str], Admin]
) -> None:
    server = twoway_server
    admin = new_admin("boss@foxtrot.test", "Foxtrot Gym")
    log_in(page, server, admin.email)
    conversation_url = start_conversation(page, admin, "Your membership card is ready.")

    # Carriers always give a reason: the console refuses a rejection without one.
    open_carrier_console(page)
    carrier_report(page, admin, "Reject")
    expect(page.get_by_role("alert")).to_have_text(
        "Carriers always say why they reject a number: give a reason."
    )
    row = page.locator("tbody tr").filter(has_text=admin.number)
    expect(row.locator("td.verification")).to_have_text("Pending")
    carrier_report(page, admin, "Reject", REJECTION)
    reload_until_visible(page, row.locator("td.verification", has_text="Rejected"))
    expect(row.locator("td.verification")).to_have_text(f"Rejected: {REJECTION}")

    # The number's settings page gives the reason.
    top_bar_link(page, "Settings").click()
    page.get_by_role("link", name="Numbers", exact=True).click()
    expect(numbers_row(page, admin).locator("td.verification")).to_contain_text(
        f"Rejected: {REJECTION}"
    )
    page.get_by_role("link", name=f"Inbox settings of {admin.number}").click()
    state = page.locator("#verification + p")
    expect(state.locator("strong.verification")).to_have_text("Rejected")
    expect(state).to_contain_text(f"Rejected: {REJECTION}")
    expect(page.get_by_label("Reason, when rejected")).to_have_value(REJECTION)

    # The admins were told why; the composer warns with the reason too.
    expect(bell(page).locator(".badge")).to_have_text("1")
    bell(page).click()
    news = page.locator("article.notification").filter(
        has_text=f"Verification of {admin.number} was rejected"
    )
    expect(news).to_contain_text(f"The carriers gave this reason: {REJECTION}")
    page.goto(conversation_url)
    expect(page.locator(".composer [data-unverified]")).to_contain_text(
        f"(rejected: {REJECTION}): delivery of your texts is not guaranteed"
    )


def test_admin_sets_the_verification_state_on_the_numbers_page(
    page: Page, twoway_server: TwowayServer, new_admin: Callable[[str, str], Admin]
) -> None:
    server = twoway_server
    admin = new_admin("boss@golf.test", "Golf Florist")
    log_in(page, server, admin.email)
    top_bar_link(page, "Settings").click()
    page.get_by_role("link", name="Numbers", exact=True).click()
    page.get_by_role("link", name=f"Inbox settings of {admin.number}").click()
    expect(page).to_have_url(re.compile(r"/settings/numbers/\d+/$"))
    number_page = page.url
    state = page.locator("#verification + p strong.verification")
    expect(state).to_have_text("Pending")
    new_state = page.get_by_label("New state")
    save = page.get_by_role("button", name="Save the verification state")

    # The carrier said it is being reviewed: no news for anyone yet.
    new_state.select_option(label="In review")
    save.click()
    expect(page).to_have_url(number_page)
    expect(page.get_by_role("status")).to_contain_text(f"{admin.number} is now “In review”")
    expect(state).to_have_text("In review")
    expect(bell(page).locator(".badge")).to_have_count(0)

    # A rejection needs its reason.
    new_state.select_option(label="Rejected")
    save.click()
    expect(page.get_by_role("status")).to_contain_text(
        "Say why the carriers rejected the number, so the team knows what to fix."
    )
    expect(state).to_have_text("In review")

    # Verified: the state changes at once and the admins hear of it.
    new_state.select_option(label="Verified")
    save.click()
    expect(page.get_by_role("status")).to_contain_text(f"{admin.number} is now “Verified”")
    expect(state).to_have_text("Verified")
    expect(bell(page).locator(".badge")).to_have_text("1")
    top_bar_link(page, "Settings").click()
    page.get_by_role("link", name="Numbers", exact=True).click()
    expect(numbers_row(page, admin).locator("td.verification")).to_contain_text("Verified")
    bell(page).click()
    expect(
        page.locator("article.notification").filter(
            has_text=f"Your number {admin.number} is verified"
        )
    ).to_have_count(1)
