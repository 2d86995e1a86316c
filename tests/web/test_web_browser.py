"""A real browser: a requester asks, an agent answers from the queue, the requester reads it.

Drives Debian's Chromium through Playwright against pytest-django's live
server, so htmx, the CSRF header, static files and the CSP are all exercised.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.factories import make_agent, make_requester

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made by the test itself (factories) would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct horse battery"  # the factories' password

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _signed_in_page(browser: Any, base_url: str, email: str, problems: list[str]) -> Any:
    """A fresh browser context (its own cookies) signed in as ``email``."""
    context = browser.new_context(locale="en-GB")
    # A loaded 2-core CI machine runs the server, two browsers and the other suite worker.
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
    return page


def test_a_request_is_answered_and_the_requester_reads_the_answer(
    live_server: Any, browser: Any
) -> None:
    requester = make_requester(name="Rita Requester")
    agent = make_agent(name="Adam Agent")
    problems: list[str] = []

    # The requester submits a request in the portal.
    asking = _signed_in_page(browser, live_server.url, requester.email, problems)
    assert asking.url.endswith("/portal/")
    assert asking.evaluate("typeof window.htmx") == "object"  # the pinned copy loaded
    asking.click("text=New request")
    asking.fill("input[name=subject]", "Cannot reach the intranet")
    asking.fill("textarea[name=description]", "The page times out since this morning.")
    asking.select_option("select[name=urgency]", "2")
    asking.set_input_files(
        "input[name=attachments]",
        files=[{"name": "error.txt", "mimeType": "text/plain", "buffer": b"ERR_TIMED_OUT"}],
    )
    asking.click("#request-form button[type=submit]")
    asking.wait_for_url(re.compile(r".*/portal/requests/\d+$"))
    assert "Cannot reach the intranet" in asking.inner_text("h1")
    assert "error.txt" in asking.inner_text(".conversation")

    # An agent, in another browser context, finds it in the queue and answers.
    answering = _signed_in_page(browser, live_server.url, agent.email, problems)
    answering.click("text=Unassigned")
    answering.click("text=Cannot reach the intranet")
    answering.wait_for_url(re.compile(r".*/tickets/\d+$"))
    answering.fill("#reply-form textarea[name=body]", "Please clear your browser cache and retry.")
    answering.click("#reply-form button[type=submit]")
    answering.wait_for_selector("#messages >> text=Reply sent.")
    assert "Please clear your browser cache" in answering.inner_text(".conversation")

    # The requester sees the answer on their request.
    asking.reload()
    assert "Please clear your browser cache and retry." in asking.inner_text(".conversation")
    assert problems == []
