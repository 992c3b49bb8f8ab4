"""An administrator subscribes a receiver to events; a client's text reaches it signed, shows
in the endpoint's delivery log with the receiver's 200, and Resend sends it a second time.

In an organization of its own ("Hook Dental"), created on the running server with the `twoway`
command; the receiver is a real HTTP server in this test's process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks.webhooks import Webhook

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "hook-correct-horse-battery"
BOSS = "boss@hook-dental.test"
CLIENT = "+12025550230"
TIMEOUT = 20_000


@pytest.fixture(scope="module")
def hook_dental(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Hook Dental"
    )
    assert "Its texting number is" in out, out


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], str]]]]:
    received: list[tuple[dict[str, str], str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/twoway-events", received
    server.shutdown()
    server.server_close()


def test_a_clients_text_is_delivered_signed_and_resent(
    page: Page,
    twoway_server: TwowayServer,
    hook_dental: None,
    receiver: tuple[str, list[tuple[dict[str, str], str]]],
    screenshots_dir: Path,
) -> None:
    server = twoway_server
    url, received = receiver
    pages.log_in(page, server, BOSS, PASSWORD)

    page.goto(f"{server.url}/settings/")
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("URL").fill(url)
    page.get_by_label("Description").fill("Hook Dental CRM")
    page.get_by_label("message.received").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_label("Secret").input_value()
    assert secret.startswith("whsec_")

    # The practice texts the client, who answers from the simulated phone.
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill(CLIENT)
    page.get_by_label("Message", exact=True).fill("Your cleaning is on Tuesday at 10.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#thread li.message .status")).to_have_text("Delivered", timeout=TIMEOUT)
    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    phone.get_by_label("Text message").fill("Can we make it 11?")
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()
    reply = page.locator("#thread li.message").filter(has_text="Can we make it 11?")
    expect(reply).to_be_visible(timeout=TIMEOUT)

    # The log shows the delivery and, once it is answered, the receiver's 200.
    page.goto(f"{server.url}/settings/webhooks/")
    page.get_by_role("link", name=url).click()
    row = page.locator("table.webhook-log tbody tr").filter(has_text="message.received")
    expect(row.locator("[data-response]")).to_contain_text("200", timeout=TIMEOUT)
    expect(row.locator("[data-attempts]")).to_have_text("1")
    headers, body = received[-1]
    event = Webhook(secret).verify(body, headers)
    assert event["type"] == "message.received"
    assert event["data"]["preview"] == "Can we make it 11?"

    row.get_by_role("button", name="Resend").click()
    row = page.locator("table.webhook-log tbody tr").filter(has_text="message.received")
    expect(row.locator("[data-attempts]")).to_have_text("2", timeout=TIMEOUT)
    assert len(received) == 2
    assert received[1][1] == body and received[1][0]["webhook-id"] == headers["webhook-id"]
    row.locator("summary").click()
    expect(row.locator("ol.webhook-attempts li")).to_have_count(2)
    page.screenshot(path=str(screenshots_dir / "webhooks.png"), full_page=True)
