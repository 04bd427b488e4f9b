"""A real browser (Debian chromium driven by Playwright) logs in, approves and lands on the callback with a code."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from .conftest import ALL_SCOPES, DEMO_CLIENT, Flow, query_of

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def test_browser_logs_in_approves_and_lands_on_the_callback_with_a_code(live_server, tmp_path):
    from playwright.sync_api import Route, sync_playwright

    # `make test` installs chromium (as root) or stops with the command to run: a missing browser is a failure
    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make test` as root, or apt-get install -y chromium"

    callback = "http://127.0.0.1:9/callback"  # nothing listens there: the request is intercepted below
    query = {"response_type": "code", "client_id": DEMO_CLIENT, "redirect_uri": callback, "scope": ALL_SCOPES,
             "state": "browser-state"}
    landed: list[str] = []

    def client_callback(route: Route) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>client callback</h1>")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("http://127.0.0.1:9/**", client_callback)
            page.goto(f"{live_server.url}/oauth/authorize?{urlencode(query)}")
            page.fill("#username", "mari")
            page.fill("#password", "mari")
            page.click("button[type=submit]")
            page.wait_for_selector("button[value=approve]")
            cookie = next(c for c in page.context.cookies() if c["name"] == "ekool_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
            screenshot = tmp_path / "consent.png"
            page.screenshot(path=str(screenshot), full_page=True)
            consent_text = page.inner_text("main")
            page.click("button[value=approve]")
            page.wait_for_selector("text=client callback")
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000 and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "eKool demo app" in consent_text and DEMO_CLIENT in consent_text
    for scope in ALL_SCOPES.split():
        assert scope in consent_text
    assert len(landed) == 1 and landed[0].startswith(f"{callback}?code=def50200")
    params = query_of(landed[0])
    assert params["state"] == "browser-state"
    with httpx.Client(base_url=live_server.url) as http:
        answer = Flow(http).exchange(params["code"], redirect_uri=callback)
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
