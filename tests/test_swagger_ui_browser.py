"""Both APIs explored from a browser (issue 17), in Debian chromium driven by Playwright against a live server on
a free port: eKool's Authorize runs the authorization code flow with PKCE through the mock's login and consent
pages and Try it out answers with the user's data; Sunbird's Authorize holds a demo Bearer and register answers
200; Try it out on `/oauth/token` reaches the port the server runs on; the landing page's copy buttons copy the
whole value, and without JavaScript the page still shows every value."""

from __future__ import annotations

from typing import Any

import pytest
from test_cors_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

REGISTER_V2 = "/api-manager/v2/consumer/{consumer}/credential/register"


@pytest.fixture
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make test` as root, or apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _operation(page: Any, path: str) -> Any:
    return page.locator(".opblock", has=page.locator(f".opblock-summary-path[data-path='{path}']"))


def _try_it_out(block: Any, fill: dict[str, str] | None = None) -> dict[str, str]:
    """Open the operation, Try it out (fields filled by placeholder), Execute: what the UI shows of the answer."""
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    for placeholder, value in (fill or {}).items():
        block.locator(f"[placeholder='{placeholder}']").fill(value)
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status")
    status.wait_for()
    return {"status": status.inner_text().strip(), "url": block.locator(".request-url pre").inner_text().strip(),
            "curl": block.locator(".curl-command").inner_text(),
            "body": block.locator(".live-responses-table tbody .response-col_description").inner_text()}


def test_ekool_authorize_logs_in_as_mari_and_try_it_out_reads_her_data(live_server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/ekool/ui/")
    page.locator("button.authorize").first.click()
    dialog = page.locator(".modal-ux")
    oauth = dialog.locator(".auth-container").first
    assert oauth.locator("input#client_id").input_value() == "ekoolswaggeruiclient000000000003", "initOAuth"
    assert oauth.locator("input[type=checkbox]:checked").count() == 4, "every scope ticked"
    with context.expect_page() as opened:
        dialog.locator(".auth-container").first.locator("button.authorize").click()
    login = opened.value
    login.wait_for_load_state()
    assert login.url.startswith(live_server.url + "/login")
    assert login.locator("#client-name").inner_text() == "Swagger UI of this server"
    login.fill("#username", "mari")
    login.fill("#password", "mari")
    login.click("button[type=submit]")
    login.click("button[value=approve]")  # the consent page; its redirect to oauth2-redirect.html closes the popup
    dialog.get_by_text("Authorized").first.wait_for()
    page.screenshot(path=str(tmp_path / "ekool-authorized.png"))
    dialog.locator("button.btn-done").first.click()
    answer = _try_it_out(_operation(page, "/user/me/basic"))
    assert answer["status"] == "200", answer
    assert answer["url"] == live_server.url + "/user/me/basic"
    assert '"first_name": "Mari"' in answer["body"] and "Authorization: Bearer ey" in answer["curl"]


def test_sunbird_register_answers_200_with_the_bearer_the_ui_offers(live_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/api/ui/")
    first = page.locator("#harness-bar button[data-bearer='0']")
    assert first.inner_text() == "mobile_app_key (mobileAdmin)"
    page.locator(".opblock").first.wait_for()
    page.wait_for_function("() => document.querySelector('button[data-bearer=\"0\"]').classList.contains('done')")
    offered = page.evaluate("() => setup.bearers[0][2]")
    answer = _try_it_out(_operation(page, REGISTER_V2))
    assert answer["status"] == "200", answer
    assert answer["url"] == live_server.url + "/api/api-manager/v2/consumer/mobile_device/credential/register"
    assert f"Authorization: Bearer {offered}" in answer["curl"]
    assert '"status": "successful"' in answer["body"]
    page.locator("#harness-bar button[data-bearer='3']").click()  # portal: its group may not register mobile_device
    refused = _try_it_out_again(page)
    assert refused["status"] == "403" and "You cannot consume this service" in refused["body"]


def _try_it_out_again(page: Any) -> dict[str, str]:
    block = _operation(page, REGISTER_V2)
    block.locator("button.execute").click()
    page.wait_for_timeout(200)
    status = block.locator(".live-responses-table tbody .response-col_status")
    page.wait_for_function("() => !!document.querySelector('.live-responses-table tbody .response-col_status')")
    return {"status": status.inner_text().strip(),
            "body": block.locator(".live-responses-table tbody .response-col_description").inner_text()}


def test_try_it_out_on_the_token_endpoint_reaches_this_servers_port(live_server, browser, app):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/ekool/ui/")
    servers = page.locator(".servers select").first
    servers.wait_for()
    options = servers.locator("option").all_inner_texts()
    assert options[0].startswith(live_server.url) and all(option.strip() for option in options)
    assert not [option for option in options if ":8000" in option], "no fixed port"
    answer = _try_it_out(_operation(page, "/oauth/token"))
    assert answer["url"] == live_server.url + "/oauth/token"
    assert answer["status"] == "400" and '"error": "invalid_request"' in answer["body"], answer
    journal = app.ctx.journal.read(None, None, None, 5)
    assert journal[0]["operation"] == "issueToken" and journal[0]["status"] == 400, "answered here"


def test_the_landing_page_copies_whole_values_and_reads_without_javascript(live_server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(live_server.url + "/")
    login = page.locator("code[data-key='ekool-authorize-ekooldemoclient00000000000000001']")
    page.locator("button[data-for='ekool-authorize-ekooldemoclient00000000000000001']").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == login.inner_text() and copied.startswith(live_server.url + "/oauth/authorize?")
    assert copied.endswith("state=demo"), "the whole URL"
    page.screenshot(path=str(tmp_path / "landing-page.png"), full_page=True)  # a copy checked by eye: docs/
    assert (tmp_path / "landing-page.png").stat().st_size > 50_000
    plain = browser.new_context(java_script_enabled=False).new_page()
    plain.goto(live_server.url + "/")
    assert plain.locator("button.copy:visible").count() == 0, "no dead buttons without JavaScript"
    bearer = plain.locator("code[data-key='sunbird-bearer-mobile_app_key']")
    assert bearer.is_visible() and bearer.inner_text().count(".") == 2
    assert plain.get_by_role("link", name="Open Swagger UI and Authorize").count() == 2
