"""The pages work under their Content-Security-Policy: chromium reports no violation on any of
them (an inline style or script, code in an attribute, anything loaded from elsewhere)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, WebError, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

EMAIL = "csp@e2e.test"
PASSWORD = "csp-correct-horse-battery"
CLIENT = "+12025550188"
TEXT = "Your crown is ready: shall we book Thursday?"
REPLY = "Thursday works"

# What chromium reports, in the page, for every violation (also those of the console's messages).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


def record_violations(context: BrowserContext, seen: list[str]) -> None:
    """Note every CSP violation and script error of the context's pages in `seen`."""

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("Refused to"):
            seen.append(f"console: {text}")

    def on_error(web_error: WebError) -> None:
        seen.append(f"page error: {web_error.error}")

    context.add_init_script(RECORD_VIOLATIONS)
    context.on("console", on_console)
    context.on("weberror", on_error)


@pytest.fixture
def violations(page: Page) -> list[str]:
    """Every CSP violation and script error of the test's pages, in the order they happened."""
    seen: list[str] = []
    record_violations(page.context, seen)
    return seen


def visit(page: Page, url: str, seen: list[str]) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    collect(page, seen)


def collect(page: Page, seen: list[str]) -> None:
    page.wait_for_timeout(300)  # a violation is reported a moment after it happens
    for violation in page.evaluate("window.__cspViolations || []"):
        entry = f"{page.url}: {violation}"
        if entry not in seen:
            seen.append(entry)
    page.evaluate("window.__cspViolations = []")


def test_the_ui_works_under_its_content_security_policy(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    violations: list[str],
) -> None:
    server = twoway_server
    page.set_default_timeout(pages.TIMEOUT)
    expect.set_options(timeout=pages.TIMEOUT)
    # An organization of its own: the other tests expect the first admin's inbox as they left it.
    twoway_cli(
        "createadmin", "--email", EMAIL, "--password", PASSWORD, "--organization", "CSP Dental"
    )

    visit(page, f"{server.url}/login/", violations)
    pages.log_in(page, server, EMAIL, PASSWORD)
    collect(page, violations)

    # A conversation, started from the New conversation page (its counter is a script).
    visit(page, f"{server.url}/inbox/new/", violations)
    page.get_by_label("From").select_option(index=0)
    page.get_by_label("To (phone number)").fill(CLIENT)
    page.get_by_label("Message", exact=True).fill(TEXT)
    expect(page.locator("p.counter")).to_contain_text("1 segment")
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    conversation_url = page.url
    message = page.locator("#thread li.message").filter(has_text=TEXT)
    expect(message.locator(".status")).to_have_text("Delivered")  # live, over the event stream
    collect(page, violations)

    # The simulated phone: its screen redraws, and its form empties once sent.
    phone = page.context.new_page()
    phone.set_default_timeout(pages.TIMEOUT)
    visit(phone, f"{server.url}/simulator/{CLIENT}/", violations)
    expect(phone.locator("#screen .bubble").filter(has_text=TEXT)).to_have_count(1)
    phone.get_by_label("Text message").fill(REPLY)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    expect(phone.locator("#screen .bubble").filter(has_text=REPLY)).to_have_count(1)
    # The reply reaches the open conversation live.
    expect(page.locator("#thread li.message").filter(has_text=REPLY)).to_have_count(1)
    collect(phone, violations)
    collect(page, violations)
    phone.close()

    for path in (
        "/inbox/",
        conversation_url.removeprefix(server.url),
        "/contacts/",
        "/settings/",
        "/settings/users/",
        "/settings/numbers/",
        "/settings/organization/",
        "/settings/two-way/",
        "/settings/api-keys/",
        "/simulator/",
        "/notifications/",
    ):
        visit(page, f"{server.url}{path}", violations)

    # Django's admin: the operator's (the installation's first admin) login and list pages.
    admin = page.context.browser.new_context()  # type: ignore[union-attr]
    record_violations(admin, violations)
    admin_page = admin.new_page()
    admin_page.set_default_timeout(pages.TIMEOUT)
    visit(admin_page, f"{server.url}/admin/login/", violations)
    admin_page.get_by_label("Username").fill(server.admin_email)
    admin_page.get_by_label("Password").fill(server.admin_password)
    admin_page.get_by_role("button", name="Log in").click()
    expect(admin_page.get_by_role("heading", name="Site administration")).to_be_visible()
    collect(admin_page, violations)
    visit(admin_page, f"{server.url}/admin/accounts/organization/", violations)
    expect(admin_page.locator("#result_list")).to_be_visible()
    visit(admin_page, f"{server.url}/admin/conversations/message/", violations)
    admin.close()

    assert violations == []
