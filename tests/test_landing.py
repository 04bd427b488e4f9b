"""The landing page guides (issue 17): every value it shows works when used as shown. The curl commands run as
written (real curl against the live server), the Bearers register, the authorize URLs log in, the codes they
give exchange, the links answer; config-file secrets stay off the page; the Swagger UI client's redirect page
is registered for every address the server is reached at, and only those."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import subprocess
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from harness import authtoken
from harness.apis.ekool.clients import redirect_uri_registered
from harness.apis.ekool.demo import own_redirect_uris
from harness.apis.ekool.landing import ui_client
from harness.conformance.login import authorize_via_forms
from harness.settings import Settings

ROW = re.compile(r"<tr><td class='label'>(?P<label>.*?)</td><td>(?:<a href=\"[^\"]*\">)?<code class='value' "
                 r"id='(?P<key>[^']+)' data-key='[^']+'>(?P<value>.*?)</code>.*?<td class='note'>(?P<note>.*?)</td>"
                 r"</tr>", re.S)


def shown(page: str) -> dict[str, tuple[str, str]]:
    """data-key -> (value, note), unescaped, of every value with a copy button."""
    return {m["key"]: (html.unescape(m["value"]), html.unescape(m["note"])) for m in ROW.finditer(page)}


def curl(command: str, **placeholders: str) -> Any:
    """Run a curl command from the page as a user pastes it (placeholders replaced); its JSON answer."""
    assert shutil.which("curl"), "curl is missing: make test installs it (SYSTEM_TOOLS)"
    for name, value in placeholders.items():
        assert name in command
        command = command.replace(name, value)
    done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


@pytest.fixture
def page(live_server: Any) -> tuple[str, dict[str, tuple[str, str]]]:
    text = httpx.get(live_server.url + "/", timeout=10).text
    return text, shown(text)


def test_every_sunbird_value_works_as_shown(live_server, page):
    _text, values = page
    bearers = {key.removeprefix("sunbird-bearer-"): value for key, value in values.items()
               if key.startswith("sunbird-bearer-")}
    assert set(bearers) == {"mobile_admin_key", "mobile_app_key", "desktop_app_key", "portal_key"}
    for key, (bearer, note) in bearers.items():
        assert bearer == authtoken.generate(values[f"sunbird-key-{key}"][0], values[f"sunbird-secret-{key}"][0])
        consumer = re.search(r"registers \(v2\) (\w+)", note)[1]
        answer = httpx.post(f"{values['sunbird-base-0'][0]}/api-manager/v2/consumer/{consumer}/credential/register",
                            json={"request": {"key": f"landing-{key}"}}, headers={"Authorization": f"Bearer {bearer}"})
        assert answer.status_code == 200, (key, consumer, answer.text)
        assert answer.json()["result"]["token"].count(".") == 2
    realm = curl(values["sunbird-curl-realm"][0])
    assert realm["token_type"] == "Bearer" and realm["refresh_token"]
    registered = curl(values["sunbird-curl-register"][0])
    assert registered["params"]["status"] == "successful"
    refreshed = curl(values["sunbird-curl-refresh"][0], DEVICE_TOKEN=registered["result"]["token"],
                     REFRESH_TOKEN=realm["refresh_token"])
    assert refreshed["params"]["status"] == "successful" and refreshed["result"]["access_token"].count(".") == 2
    assert values["sunbird-base-0"][0] == live_server.url + "/api"
    assert values["sunbird-base-1"][0] == live_server.url


def test_every_ekool_value_works_as_shown(live_server, page):
    _text, values = page
    logins = {key.removeprefix("ekool-authorize-"): value for key, (value, _) in values.items()
              if key.startswith("ekool-authorize-")}
    assert len(logins) == 3, "each demo client, the Swagger UI's included"
    users = [key.removeprefix("ekool-user-") for key in values if key.startswith("ekool-user-")]
    assert users == ["mari", "juhan"]
    for client_id, url in logins.items():
        assert url.startswith(live_server.url + "/oauth/authorize?"), "whole, on the address reached"
        query = {name: items[0] for name, items in parse_qs(urlsplit(url).query).items()}
        assert query["client_id"] == values[f"ekool-client-{client_id}"][0]
        for user in users:
            with httpx.Client(timeout=10) as http:  # a browser of its own: no other user's session
                redirect = authorize_via_forms(http, url, query["redirect_uri"], user, values[f"ekool-user-{user}"][0])
                assert redirect.params.get("state") == "demo" and "code" in redirect.params, redirect.location
                tokens = curl(values[f"ekool-token-{client_id}"][0], CODE=redirect.params["code"])
                assert tokens["token_type"] == "Bearer" and tokens["refresh_token"], tokens
                basic = http.get(values["ekool-base-0"][0] + "/user/me/basic",
                                 headers={"Authorization": f"Bearer {tokens['access_token']}"})
                assert basic.status_code == 200 and basic.json()["data"]["first_name"].lower() == user
    assert "code_challenge" in logins["ekoolswaggeruiclient000000000003"], "a public client's URL carries PKCE"


def test_every_link_on_the_landing_page_answers(live_server, page):
    text, _ = page
    hrefs = set(html.unescape(href) for href in re.findall(r'href="([^"#]+)"', text))
    hrefs |= set(html.unescape(href) for href in re.findall(r"href='([^'#]+)'", text))
    assert {"/api/ui/", "/ekool/ui/", "/api/openapi.json", "/ekool/openapi.yaml", "/.well-known/jwks.json",
            "/__harness/ui/", "/__harness/requests"} <= hrefs
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        for href in hrefs:
            answer = http.get(href, follow_redirects=False)
            if "/oauth/authorize" in href:
                assert answer.status_code == 302 and answer.headers["location"] == "/login", href
            else:
                assert answer.status_code == 200, href


def test_the_page_reads_without_javascript_and_shows_what_to_try_first(client):
    text = client.get("/").text
    assert text.count("<h3>Try first</h3>") == 2
    for step in ("Open Swagger UI and Authorize", "Run the login flow as a demo user", "Point an app at the base URL"):
        assert text.count(step) == 2, step
    assert "<button type='button' class='copy' data-for='sunbird-bearer-mobile_app_key' hidden>Copy</button>" in text
    assert "…" not in re.sub(r"\?code=…", "", text), "nothing cut short"


def test_a_config_files_secrets_stay_off_the_page(configured_app):
    from starlette.testclient import TestClient

    app = configured_app("""
[[sunbird.credentials]]
key = "team_key"
secret = "team-secret-never-shown"
consumer = "mobile_admin"

[[ekool.clients]]
id = "teamclient000000000000000000001"
secret = "teamsecret00000000000000000000000000001"
redirect_uris = ["http://localhost:5173/callback"]
""")
    with TestClient(app) as http:
        text = http.get("/").text
    values = shown(text)
    assert "team-secret-never-shown" not in text and "teamsecret0000" not in text
    assert values["sunbird-secret-team_key"][0] == "(in the config file)"
    assert "sunbird-bearer-team_key" not in values, "a Bearer would stand for the secret"
    assert values["ekool-client-teamclient000000000000000000001"][0] == "teamclient000000000000000000001"
    assert "ekool-token-teamclient000000000000000000001" not in values


def test_the_ui_client_is_registered_for_each_address_of_this_server_and_no_other():
    uris = ["http://127.0.0.1/ekool/ui/oauth2-redirect.html", "{server}/ekool/ui/oauth2-redirect.html"]
    local = own_redirect_uris(uris, Settings(port=18080))
    assert local == ("http://127.0.0.1/ekool/ui/oauth2-redirect.html",
                     "http://localhost:18080/ekool/ui/oauth2-redirect.html",
                     "http://127.0.0.1:18080/ekool/ui/oauth2-redirect.html")
    behind = own_redirect_uris(uris, Settings(port=18080, host="0.0.0.0", public_url="https://mock.example/"))
    assert "https://mock.example/ekool/ui/oauth2-redirect.html" in behind

    class Ctx:
        settings = Settings(port=18080, public_url="https://mock.example")

    client = ui_client(Ctx(), "https://mock.example")
    assert client is not None and client.public and client.id == "ekoolswaggeruiclient000000000003"
    assert redirect_uri_registered("http://127.0.0.1:5555/ekool/ui/oauth2-redirect.html", client), "any loopback port"
    for other in ("https://evil.example/ekool/ui/oauth2-redirect.html", "http://localhost:5555/ekool/ui/oauth2-redirect.html",
                  "https://mock.example/ekool/ui/oauth2-redirect.html?x=1"):
        assert not redirect_uri_registered(other, client), other
    assert ui_client(Ctx(), "https://evil.example") is None


def test_swagger_ui_at_an_unregistered_address_says_why_authorize_cannot_work(client):
    page = client.get("/ekool/ui/", headers={"host": "mock.test:9999"}).text
    assert "no client has http://mock.test:9999/ekool/ui/oauth2-redirect.html as a redirect URI" in page
    assert "--public-url http://mock.test:9999" in page
    setup = json.loads(re.search(r"const setup = (\{.*?\});\n", page)[1])
    assert setup["initOAuth"] is None


def test_a_public_url_makes_authorize_work_behind_a_proxy(make_app):
    from starlette.testclient import TestClient

    with TestClient(make_app(public_url="https://mock.test")) as http:
        page = http.get("/ekool/ui/", headers={"x-forwarded-proto": "https", "x-forwarded-host": "mock.test"}).text
        setup = json.loads(re.search(r"const setup = (\{.*?\});\n", page)[1])
        assert setup["initOAuth"]["clientId"] == "ekoolswaggeruiclient000000000003"
        assert setup["initOAuth"]["usePkceWithAuthorizationCodeGrant"] is True
        assert setup["redirectPath"] == "/ekool/ui/oauth2-redirect.html"
        login = http.get("/oauth/authorize", params={
            "response_type": "code", "client_id": "ekoolswaggeruiclient000000000003",
            "redirect_uri": "https://mock.test/ekool/ui/oauth2-redirect.html", "scope": "users-basic",
            "code_challenge": "x" * 43, "code_challenge_method": "S256"}, follow_redirects=False)
        assert login.status_code == 302 and login.headers["location"] == "/login"


def test_the_sunbird_ui_offers_every_demo_bearer_first_the_one_try_it_out_needs(client):
    page = client.get("/api/ui/").text
    setup = json.loads(re.search(r"const setup = (\{.*?\});\n", page)[1])
    labels = [label for label, _, _ in setup["bearers"]]
    assert labels[0] == "mobile_app_key (mobileAdmin)", "mobileAdmin may register mobile_device, the example"
    assert {scheme for _, scheme, _ in setup["bearers"]} == {"bearerAuth"}
    assert len(labels) == 4 and page.count("data-bearer=") == 4
