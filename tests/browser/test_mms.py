"""MMS in the browser: the composer warns above 1.5 MB and refuses above 5 MB; a picture sent
reaches the simulated phone, and one the phone sends shows inline in the thread.

In an organization of its own ("Mms Dental"), created on the running server with the `twoway`
command, and with handsets of its own (+1 202-555-0123 to 0126).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.media.conftest import png

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "mms-correct-horse-battery"
BOSS = "boss@mms.test"
CLIENT = "+12025550123"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def mms_dental(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Mms Dental"
    )
    assert "Its texting number is" in out, out


def picture(name: str, size: int) -> dict[str, Any]:
    content = png(8, 8, padding=max(size - len(png(8, 8)) - 12, 0))
    return {"name": name, "mimeType": "image/png", "buffer": content}


def attach(page: Page, *files: dict[str, Any]) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach pictures or video").click()
    chooser.value.set_files(list(files))  # type: ignore[arg-type]


def open_conversation(page: Page, server: TwowayServer) -> None:
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill(CLIENT)
    page.get_by_label("Message", exact=True).fill("Hello from Mms Dental")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#thread")).to_contain_text("Hello from Mms Dental")


def test_the_composer_warns_refuses_and_sends_an_mms_to_the_phone(
    page: Page, twoway_server: TwowayServer, mms_dental: None, screenshots_dir: Path
) -> None:
    server = twoway_server
    page.set_viewport_size({"width": 1280, "height": 900})
    pages.log_in(page, server, BOSS, PASSWORD)
    open_conversation(page, server)
    composer = page.locator("form.composer")
    previews = composer.locator("[data-mms-previews] li")
    warning = composer.get_by_text("Some carriers shrink or refuse MMS above 1.5 MB")

    # 2 MB: attached, with the warning; the counter says MMS.
    attach(page, picture("xray.png", 2 * MB))
    expect(previews).to_have_count(1)
    expect(warning).to_be_visible()
    expect(composer.get_by_text("MMS · billed as one message")).to_be_visible()
    page.get_by_label("Message", exact=True).fill("Your x-ray, as promised")
    expect(composer.locator("p.counter")).to_contain_text("137 characters left")
    expect(composer.get_by_text("1 segment", exact=True)).to_be_hidden()
    page.screenshot(path=str(screenshots_dir / "composer_mms.png"))
    composer.get_by_role("button", name="Remove xray.png").click()
    expect(previews).to_have_count(0)
    expect(warning).to_be_hidden()

    # 6 MB: refused, and nothing is attached.
    attach(page, picture("scan.png", 6 * MB))
    expect(composer.get_by_role("alert")).to_contain_text("an MMS carries at most 5.0 MB in total")
    expect(previews).to_have_count(0)

    # A small picture goes, and reaches the phone.
    attach(page, picture("smile.png", 20_000))
    expect(previews).to_have_count(1)
    expect(composer.get_by_role("alert")).to_be_hidden()
    page.get_by_role("button", name="Send", exact=True).click()
    sent = page.locator("#thread li.message").filter(has_text="Your x-ray, as promised")
    expect(sent.locator("img.mms-thumb")).to_be_visible()
    expect(sent).to_contain_text("MMS")
    expect(page.locator("form.composer [data-mms-previews] li")).to_have_count(0)

    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    bubble = phone.locator("#screen .bubble").filter(has_text="Your x-ray, as promised")
    expect(bubble.locator("img.mms")).to_be_visible(timeout=20_000)
    assert (
        phone.evaluate("document.querySelector('#screen img.mms').naturalWidth") == 8
    )  # the picture itself, not a broken link
    phone.close()


def test_a_picture_from_the_phone_shows_inline_in_the_thread(
    page: Page, twoway_server: TwowayServer, mms_dental: None
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    handset = "+12025550124"
    page.goto(f"{server.url}/inbox/new/")
    page.get_by_label("To").fill(handset)
    page.get_by_label("Message", exact=True).fill("Send us a picture of the box")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#thread")).to_contain_text("Send us a picture of the box")

    phone = page.context.new_page()
    phone.goto(f"{server.url}/simulator/{handset}/")
    phone.get_by_label("Text message").fill("Here is the box")
    phone.get_by_label("Attach a picture or video").set_input_files(picture("box.png", 30_000))
    phone.get_by_role("button", name="Send").click()
    bubble = phone.locator("#screen .bubble").filter(has_text="Here is the box")
    expect(bubble.locator("img.mms")).to_be_visible()
    phone.close()

    received = page.locator("#thread li.message").filter(has_text="Here is the box")
    expect(received.locator("img.mms-thumb")).to_be_visible(timeout=20_000)
    assert (
        page.evaluate("document.querySelector('#thread li.inbound img.mms-thumb').naturalWidth")
        == 8
    )
