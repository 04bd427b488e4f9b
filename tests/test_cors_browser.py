"""A browser app on another origin calls both APIs (issue 14): Debian chromium, driven by Playwright, loads a page
from a static server on another port; its `fetch` calls go to `harness serve`'s port, with preflights where a
browser sends them (JSON bodies, Bearer headers), and the page reads every body and the headers a client needs.
With `--cors off` the same page reads nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from harness import authtoken
from harness.apis.ekool import demo as ekool_demo
from harness.apis.sunbird import demo as sunbird_demo
from harness.testing.ekool import EkoolTokens
from harness.testing.live import ThreadedServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser

# The app's calls; each step records status, body and the headers an app reads. `H` is the harness' base URL.
APP_SCRIPT = """
async function call(name, url, init) {
  try {
    const answer = await fetch(url, init);
    const text = await answer.text();
    let body = text; try { body = JSON.parse(text); } catch (e) {}
    return {name, status: answer.status, body, www: answer.headers.get("www-authenticate"),
            cache: answer.headers.get("cache-control")};
  } catch (error) { return {name, error: String(error)}; }
}
async function run(H, bearer, code, client, redirect) {
  const results = [];
  const json = {"Content-Type": "application/json"};
  const register = await call("register", H + "/api/api-manager/v2/consumer/mobile_device/credential/register",
    {method: "POST", headers: {...json, Authorization: "Bearer " + bearer},
     body: JSON.stringify({id: "ekstep.genie.device.register", ver: "1.0", request: {key: "browser-device-1"}})});
  results.push(register);
  const realm = await call("realm", H + "/auth/realms/sunbird/protocol/openid-connect/token",
    {method: "POST", body: new URLSearchParams({grant_type: "password", client_id: "android",
     username: "learner", password: "learner", scope: "offline_access"})});
  results.push(realm);
  const device = register.body && register.body.result ? register.body.result.token : "";
  const refresh = realm.body ? realm.body.refresh_token : "";
  results.push(await call("refresh", H + "/api/auth/v1/refresh/token",
    {method: "POST", headers: {Authorization: "Bearer " + device},
     body: new URLSearchParams({refresh_token: refresh})}));
  const token = await call("token", H + "/oauth/token", {method: "POST", headers: json, body: JSON.stringify(
    {grant_type: "authorization_code", client_id: client[0], client_secret: client[1], redirect_uri: redirect,
     code: code})});
  results.push(token);
  const access = token.body ? token.body.access_token : "";
  results.push(await call("basic", H + "/user/me/basic", {headers: {Authorization: "Bearer " + access}}));
  results.push(await call("guest", H + "/user/me/basic", {headers: {Authorization: "Bearer nope"}}));
  results.push(await call("scope", H + "/user/me/roles", {headers: {Authorization: "Bearer " + access}}));
  const rows = results.map(r => "<tr><td>" + r.name + "</td><td>" + (r.status || r.error) + "</td><td>" +
    String(JSON.stringify(r.body)).slice(0, 110).replace(/</g, "&lt;") + "</td></tr>").join("");
  const head = "<tr><th>call</th><th>status</th><th>body read by the page</th></tr>";
  document.getElementById("out").innerHTML = head + rows;
  return results;
}
"""
PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>A team's app</title>
<style>body {{ font: 14px sans-serif; margin: 2em; width: 60em; }} td, th {{ border: 1px solid #ccc; padding: .3em;
text-align: left; font-family: monospace; word-break: break-all; }} table {{ border-collapse: collapse; }}</style>
</head><body><h1>A browser app on another origin</h1><table id="out"></table>
<script>{APP_SCRIPT}</script></body></html>"""


def _static_site() -> Starlette:
    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse(PAGE)

    async def health(request: Any) -> HTMLResponse:  # what ThreadedServer waits for
        return HTMLResponse("ok")

    return Starlette(routes=[Route("/", page), Route("/__harness/health", health)])


def _run_the_app(harness_url: str, code: str, screenshot: Path | None = None) -> dict[str, dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make test` as root, or apt-get install -y chromium"
    consumer = next(c for c in sunbird_demo.consumers() if c.name == "mobile_app")
    key, secret = consumer.credentials[0]
    client = ekool_demo.load_demo()[0][0]
    args = [harness_url, authtoken.generate(key, secret), code, [client["id"], client["secret"]],
            client["redirect_uris"][0]]
    with ThreadedServer(_static_site()) as site, sync_playwright() as playwright:
        assert site.url.rsplit(":", 1)[1] != harness_url.rsplit(":", 1)[1], "another origin"
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(site.url + "/")
            results = page.evaluate("args => run(...args)", args)
            if screenshot is not None:
                screenshot.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return {result["name"]: result for result in results}


def _code(harness_url: str) -> str:
    """A code for `users-basic` only, as the app's user would get it through the login and consent pages."""
    with httpx.Client(base_url=harness_url) as http:
        return EkoolTokens(http).code(scopes=["users-basic"])


def test_a_page_on_another_origin_calls_both_apis_and_reads_every_answer(live_server, tmp_path):
    screenshot = tmp_path / "cors-browser-app.png"  # a copy checked by eye: docs/cors-browser-app.png
    results = _run_the_app(live_server.url, _code(live_server.url), screenshot)
    assert all("error" not in r for r in results.values()), json.dumps(results, indent=1)
    register = results["register"]
    assert register["status"] == 200 and register["body"]["params"]["status"] == "successful"
    assert register["body"]["result"]["token"].count(".") == 2
    assert results["realm"]["status"] == 200 and results["realm"]["body"]["refresh_token"]
    refresh = results["refresh"]
    assert refresh["status"] == 200 and refresh["body"]["id"] == "api.refresh.token"
    token = results["token"]
    assert token["status"] == 200 and token["body"]["token_type"] == "Bearer" and token["cache"] == "no-store"
    basic = results["basic"]
    assert basic["status"] == 200 and basic["body"]["data"]["first_name"] == "Mari"
    guest = results["guest"]
    assert guest["status"] == 401 and guest["body"]["error"] == "access_denied"
    scope = results["scope"]
    assert scope["status"] == 403 and "insufficient_scope" in scope["www"], "the app reads WWW-Authenticate"
    assert screenshot.stat().st_size > 10_000


def test_with_cors_off_the_page_reads_nothing(make_app):
    with ThreadedServer(make_app(cors=False)) as server:
        results = _run_the_app(server.url, _code(server.url))
    assert set(results) == {"register", "realm", "refresh", "token", "basic", "guest", "scope"}
    assert all("Failed to fetch" in r.get("error", "") for r in results.values()), json.dumps(results, indent=1)
