"""The two-way loop as a person does it: an agent texts a client, the client's (simulated) phone
answers, STOP/START/HELP work, and the inbox follows along live without a reload."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms: the most any single expectation waits
CLIENT_TYPED = "202-555-0172"
CLIENT = "+12025550172"
FIRST_TEXT = "Hi Dana, this is Acme Dental: your cleaning is booked for Tuesday. Does 3pm suit you?"
REPLY = "Is 3pm ok?"

expect.set_options(timeout=TIMEOUT)


def log_in(page: Page, server: TwowayServer) -> None:
    pages.log_in(page, server, server.admin_email, server.admin_password)


def folder_count(page: Page, folder: str) -> Locator:
    return page.get_by_role("navigation", name="Folders").locator(f'[data-count="{folder}"]')


def thread(page: Page) -> Locator:
    return page.locator("#thread")


def thread_message(page: Page, text: str) -> Locator:
    return thread(page).locator("li.message").filter(has_text=text)


def phone_bubbles(phone: Page, text: str) -> Locator:
    return phone.locator("#screen .bubble").filter(has_text=text)


def phone_send(phone: Page, text: str) -> None:
    phone.get_by_label("Text message").fill(text)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")  # the form resets once sent


def mark_no_reload(page: Page) -> None:
    """A flag that only survives as long as the page is never reloaded or left."""
    page.evaluate("window.__twowayNoReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__twowayNoReload === true"), "the agent's page was reloaded"


def test_two_way_loop(
    page: Page, context: BrowserContext, twoway_server: TwowayServer, screenshots_dir: Path
) -> None:
    server = twoway_server
    page.set_viewport_size({"width": 1280, "height": 1000})

    # a. Log in; the inbox is empty.
    log_in(page, server)
    expect(page.get_by_text("No conversations here.")).to_be_visible()

    # b. Start a conversation; the counter counts as you type.
    page.get_by_role("link", name="New conversation").click()
    expect(page.get_by_role("heading", name="New conversation")).to_be_visible()
    from_select = page.get_by_label("From")
    from_select.select_option(index=0)
    expect(from_select).to_have_value(re.compile(r"^\d+$"))
    page.get_by_label("To (phone number)").fill(CLIENT_TYPED)
    body = page.get_by_label("Message", exact=True)
    counter = page.locator("p.counter")

    body.fill("x" * 161)
    expect(counter).to_contain_text("2 segments")
    expect(counter).to_contain_text("GSM-7")
    body.fill("See you soon 😀")
    expect(counter).to_contain_text("UCS-2")
    expect(counter).to_contain_text("1 segment")
    body.fill("")
    body.press_sequentially(FIRST_TEXT)
    expect(counter).to_contain_text(f"{160 - len(FIRST_TEXT)} characters left")
    expect(counter).to_contain_text("1 segment · GSM-7")

    with page.expect_response(
        lambda r: re.search(r"/inbox/c/\d+/", r.url) is not None and r.request.method == "GET"
    ) as thread_page:
        page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    # As the server first drew the thread: not delivered yet.
    first_status = re.search(r'class="status status-(\w+)"', thread_page.value.text())
    assert first_status is not None
    assert first_status.group(1) in {"queued", "sending", "sent"}
    mark_no_reload(page)
    sent = thread_message(page, FIRST_TEXT)
    expect(sent).to_have_count(1)
    expect(sent.locator(".status")).to_have_text(re.compile(r"Queued|Sending|Sent|Delivered"))
    # The thread follows the delivery report live (SSE), no reload.
    expect(sent.locator(".status")).to_have_text("Delivered")
    assert_not_reloaded(page)
    # We wrote last: it is listed under "Participating", and nothing needs attention.
    expect(page.locator(".tab.active")).to_contain_text("Participating")
    expect(page.locator("li.conversation-item.open")).to_contain_text("(202) 555-0172")
    expect(folder_count(page, "participating")).to_have_text("1")
    expect(folder_count(page, "needs_attention")).to_have_text("0")
    conversation_url = page.url

    # c. The client's phone, in a second tab, got the text.
    phone = context.new_page()
    phone.set_default_timeout(TIMEOUT)
    phone.set_viewport_size({"width": 1280, "height": 800})
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    expect(phone_bubbles(phone, FIRST_TEXT)).to_have_count(1)

    # d. The client answers; the open thread shows it and the folders move, live.
    phone_send(phone, REPLY)
    expect(phone_bubbles(phone, REPLY)).to_have_count(1)
    reply = thread_message(page, REPLY)
    expect(reply).to_have_count(1)
    expect(reply).to_have_class(re.compile(r"\binbound\b"))
    expect(folder_count(page, "needs_attention")).to_have_text("1")
    expect(folder_count(page, "participating")).to_have_text("0")
    assert_not_reloaded(page)
    # It is listed under "Needs attention".
    page.get_by_role("link", name=re.compile(r"^Needs attention")).click()
    expect(page).to_have_url(re.compile(r"folder=needs_attention"))
    listed = page.locator("li.conversation-item").filter(has_text=REPLY)
    expect(listed).to_have_count(1)
    listed.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    assert page.url.split("?")[0] == conversation_url.split("?")[0]
    mark_no_reload(page)

    # e. STOP: one confirmation on the phone; the agent is warned and must confirm to send.
    phone_send(phone, "STOP")
    confirmations = phone_bubbles(phone, "unsubscribed")
    expect(confirmations).to_have_count(1)
    warning = page.get_by_role("status").filter(has_text="opted out")
    expect(warning).to_be_visible()
    send_anyway = page.get_by_label(re.compile("Send anyway"))
    expect(send_anyway).to_be_visible()  # the composer follows the opt-out live too
    assert_not_reloaded(page)
    confirmation_in_thread = thread_message(page, "unsubscribed")
    expect(confirmation_in_thread.locator(".status")).to_have_text("Delivered")
    # A retried or doubled keyword would show up as a second confirmation by now.
    phone.wait_for_timeout(1500)
    expect(confirmations).to_have_count(1)
    expect(confirmation_in_thread).to_have_count(1)

    opted_out_text = "Your appointment is moved to 4pm."
    page.get_by_label("Message", exact=True).fill(opted_out_text)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("opted out")
    expect(thread_message(page, opted_out_text)).to_have_count(0)
    expect(send_anyway).not_to_be_checked()
    expect(page.get_by_label("Message", exact=True)).to_have_value(opted_out_text)  # nothing lost
    send_anyway.check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(thread_message(page, opted_out_text)).to_have_count(1)
    expect(phone_bubbles(phone, opted_out_text)).to_have_count(1)
    assert_not_reloaded(page)

    # f. START subscribes again; HELP answers with the help text.
    phone_send(phone, "START")
    expect(phone_bubbles(phone, "subscribed again")).to_have_count(1)
    expect(warning).to_have_count(0)
    expect(send_anyway).to_be_hidden()
    phone_send(phone, "HELP")
    help_text = phone_bubbles(phone, "you are texting our team").filter(
        has_text="Reply STOP to unsubscribe"
    )
    expect(help_text).to_have_count(1)
    expect(help_text).to_be_in_viewport()  # the phone keeps its newest text in view
    expect(thread_message(page, "you are texting our team")).to_have_count(1)
    expect(confirmations).to_have_count(1)
    # START and HELP were answered by Twoway itself: nothing is left for an agent, so the
    # conversation stays out of Needs attention, with nothing unread.
    expect(folder_count(page, "needs_attention")).to_have_text("0")
    expect(page.locator("li.conversation-item.open")).to_have_count(0)
    assert_not_reloaded(page)

    # The pictures the README shows.
    expect(thread_message(page, "you are texting our team").locator(".status")).to_have_text(
        "Delivered"
    )
    # The inbox as an agent finds it: the conversation listed under Participating, open.
    page.locator('#conversation-list a[data-folder="participating"]').click()
    item = page.locator("li.conversation-item").filter(has_text="(202) 555-0172")
    item.get_by_role("link").click()
    expect(item).to_have_class(re.compile(r"\bopen\b"))
    expect(page.locator("#thread")).to_contain_text("you are texting our team")
    page.screenshot(path=str(screenshots_dir / "inbox.png"))
    phone.screenshot(path=str(screenshots_dir / "phone.png"))


def test_new_conversation_validation(page: Page, twoway_server: TwowayServer) -> None:
    log_in(page, twoway_server)
    tabs = page.get_by_role("navigation", name="Folders")
    counts_before = tabs.inner_text()
    items_before = page.locator("li.conversation-item").count()

    page.get_by_role("link", name="New conversation").click()
    to = page.get_by_label("To (phone number)")
    body = page.get_by_label("Message", exact=True)

    # A number that is not one.
    to.fill("12345")
    body.fill("Hello there")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("'12345' is not a valid phone number")
    expect(to).to_have_value("12345")  # what was typed stays, to be corrected
    expect(body).to_have_value("Hello there")

    # An empty message: the browser itself refuses to send it...
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    to.fill(CLIENT_TYPED)
    body.fill("")
    page.get_by_role("button", name="Send").click()
    assert body.evaluate("el => el.validity.valueMissing")
    # ...and the server refuses one of only spaces.
    body.fill("   ")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_have_text("Type a message first.")
    expect(page).to_have_url(re.compile(r"/inbox/new/$"))
    expect(page.get_by_label("To (phone number)")).to_have_value(CLIENT_TYPED)
    new_posts = [url for url in posts if url.endswith("/inbox/new/")]
    assert len(new_posts) == 1, f"the empty message was posted: {posts}"

    # Nothing was created.
    page.get_by_role("link", name="Inbox", exact=True).click()
    expect(tabs).to_have_text(counts_before)
    expect(page.locator("li.conversation-item")).to_have_count(items_before)
