"""GET /oauth/authorize, the login and consent pages, the session cookie and --auto-login
(reference/ekool-oauth2.md § GET /oauth/authorize; issue 4)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from harness.apis.ekool.clients import redirect_uri_registered
from harness.apis.ekool.demo import Client
from harness.apis.ekool.sessions import COOKIE

from .conftest import (
    ALL_SCOPES,
    BASIC_CLIENT,
    DEMO_CLIENT,
    LOCALHOST_REDIRECT,
    MARI_ID,
    REDIRECT,
    Flow,
    jwt_parts,
    query_of,
    read_form,
)

INVALID_REQUEST = ("The request is missing a required parameter, includes an invalid parameter value, includes a "
                   "parameter more than once, or is otherwise malformed.")
UNSUPPORTED = {
    "error": "unsupported_grant_type",
    "error_description": "The authorization grant type is not supported by the authorization server.",
    "hint": "Check that all required parameters have been provided",
    "message": "The authorization grant type is not supported by the authorization server.",
}
INVALID_CLIENT = {"error": "invalid_client", "error_description": "Client authentication failed",
                  "message": "Client authentication failed"}


def assert_json_error(response, status: int, body: dict[str, str]) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert "location" not in response.headers
    assert list(response.json().items()) == list(body.items()), "same keys, same order"


@pytest.mark.parametrize("params", [
    {"response_type": None}, {"response_type": "token"}, {"response_type": "CODE"}, {"client_id": None},
    {"response_type": "token", "client_id": "unknown-client"},
])
def test_bad_response_type_or_missing_client_is_400_unsupported_grant_type(flow, params):
    assert_json_error(flow.authorize(**params), 400, UNSUPPORTED)


def test_unknown_client_is_401_json_invalid_client(flow):
    response = flow.authorize(client_id="oaD43fvd3aCdf45dDsc428hMuY6T6trG")
    assert_json_error(response, 401, INVALID_CLIENT)
    assert "www-authenticate" not in response.headers


def test_invalid_client_challenges_basic_only_when_an_authorization_header_was_sent(client):
    response = client.get("/oauth/authorize", params={"response_type": "code", "client_id": "nope"},
                          headers={"Authorization": "Basic bm9wZTp4"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == 'Basic realm="OAuth"'


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/callback", "http://127.0.0.1:5173/other", "https://127.0.0.1/callback",
    "http://localhost:3001/callback", "http://localhost/callback", "http://127.0.0.1:5173/callback/",
    "http://127.0.0.1.evil.example/callback", "http://user@127.0.0.1/callback?x=1",
])
def test_unregistered_redirect_uri_is_401_json_and_never_a_redirect(flow, redirect_uri):
    assert_json_error(flow.authorize(redirect_uri=redirect_uri, scope="no-such-scope"), 401, INVALID_CLIENT)


def test_omitted_redirect_uri_with_two_registered_is_401(flow):
    assert_json_error(flow.authorize(redirect_uri=None), 401, INVALID_CLIENT)


def test_omitted_redirect_uri_with_one_registered_uses_it(flow, with_client):
    with_client("singleuriclient00000000000000003", "s" * 40, ["https://app.example/cb"], ["users-basic"])
    response = flow.authorize(client_id="singleuriclient00000000000000003", redirect_uri=None, scope="nope")
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://app.example/cb?error=invalid_scope&")


@pytest.mark.parametrize(("uri", "registered"), [
    ("http://127.0.0.1/callback", True), ("http://127.0.0.1:1/callback", True),
    ("http://127.0.0.1:65535/callback", True), ("http://[::1]:8080/callback", True),
    ("http://localhost:3000/callback", True), ("http://localhost:3001/callback", False),
    ("https://127.0.0.1:443/callback", False), ("http://127.0.0.1:80/callback?x", False),
    ("http://[::1]:8080/other", False), ("not a uri", False), ("http://[::1/callback", False),
])
def test_redirect_uri_matching_is_exact_except_loopback_ports(uri, registered):
    client = Client("c", "n", "h", ("http://127.0.0.1/callback", "http://[::1]/callback",
                                    "http://localhost:3000/callback"), ())
    assert redirect_uri_registered(uri, client) is registered


def test_unknown_scope_redirects_with_form_encoded_league_error(flow):
    response = flow.authorize(scope="users-basic  no-such-scope", state="s1")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location == (
        f"{REDIRECT}?error=invalid_scope&error_description=The+requested+scope+is+invalid%2C+unknown%2C+or+malformed"
        "&hint=Check+the+%60no-such-scope%60+scope"
        "&message=The+requested+scope+is+invalid%2C+unknown%2C+or+malformed"
    )


def test_scope_hint_is_html_escaped_like_league(flow):
    location = flow.authorize(scope="<b>'x'").headers["location"]
    assert query_of(location)["hint"] == "Check the `&lt;b&gt;&#039;x&#039;` scope"


def test_scope_outside_the_clients_grant_is_invalid_scope(flow):
    location = flow.authorize(client_id=BASIC_CLIENT, scope="users-basic users-roles").headers["location"]
    assert query_of(location)["error"] == "invalid_scope"
    assert query_of(location)["hint"] == "Check the `users-roles` scope"


def test_redirect_keeps_an_existing_query_string(flow, with_client):
    with_client("queryuriclient000000000000000004", "q" * 40, ["https://app.example/cb?tenant=7"], ["users-basic"])
    location = flow.authorize(client_id="queryuriclient000000000000000004", redirect_uri="https://app.example/cb?tenant=7",
                              scope="bad").headers["location"]
    assert location.startswith("https://app.example/cb?tenant=7&error=invalid_scope&")


@pytest.mark.parametrize(("params", "hint"), [
    ({"code_challenge": "a" * 43, "code_challenge_method": "S512"},
     "Code challenge method must be one of `S256`, `plain`"),
    ({"code_challenge": "a" * 42}, "Code challenge must follow the specifications of RFC-7636."),
    ({"code_challenge": "a" * 129, "code_challenge_method": "S256"},
     "Code challenge must follow the specifications of RFC-7636."),
    ({"code_challenge": "a" * 42 + "!"}, "Code challenge must follow the specifications of RFC-7636."),
])
def test_bad_pkce_parameters_are_400_invalid_request(flow, params, hint):
    body = {"error": "invalid_request", "error_description": INVALID_REQUEST, "hint": hint, "message": INVALID_REQUEST}
    assert_json_error(flow.authorize(**params), 400, body)


def test_checks_run_in_league_order(flow):
    """The client is checked before the scope, and the scope before PKCE, whatever the schema rejects first."""
    assert flow.authorize(client_id="nope", code_challenge="short").status_code == 401
    assert flow.authorize(redirect_uri="https://evil.example/", code_challenge="short").status_code == 401
    assert flow.authorize(scope="bad", code_challenge="short").status_code == 302
    assert flow.is_sent_to_log_in(code_challenge_method="S256"), "a method without a challenge is ignored"


def test_a_guest_is_sent_to_the_login_page_and_back(flow):
    """Passport: a guest gets 302 to `/login`, the URL kept in the session; after login, 302 back to the
    authorization request (reference/ekool-oauth2.md, "Measured against the genuine library")."""
    sent = flow.authorize(state="xyz")
    assert sent.status_code == 302 and sent.headers["location"] == "/login"
    page = flow.http.get(sent.headers["location"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    form = read_form(page.text)
    assert form.action == "/login" and set(form.fields) == {"username", "password", "_token"}
    assert "eKool demo app" in page.text
    back = flow.login(page, "mari")
    assert back.status_code == 302 and back.headers["location"].startswith("/oauth/authorize?")
    assert query_of(back.headers["location"])["state"] == "xyz"
    assert query_of(back.headers["location"])["redirect_uri"] == REDIRECT


def test_session_cookie_is_signed_httponly_and_samesite_lax(flow):
    cookie = flow.authorize().headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
    value = cookie.split(";")[0].split("=", 1)[1]
    assert re.fullmatch(r"\.?[\w-]+\.[\w-]+\.[\w-]+", value), "itsdangerous [.]payload.timestamp.signature"


def test_wrong_password_shows_the_login_page_again_without_a_session(flow):
    page = flow.login_page()
    again = flow.login(page, "mari", "wrong")
    assert again.status_code == 200 and "These credentials do not match our records." in again.text
    assert 'value="mari"' in again.text and 'name="password"' in again.text
    assert flow.is_sent_to_log_in(), "still logged out"


def test_login_then_consent_page_shows_client_user_and_scopes(flow):
    back = flow.login(flow.login_page(state="st"), "mari")
    assert back.status_code == 302
    location = back.headers["location"]
    assert location.startswith("/oauth/authorize?") and query_of(location)["state"] == "st"
    page = flow.http.get(location)
    assert page.status_code == 200
    assert "eKool demo app" in page.text and DEMO_CLIENT in page.text and "Mari Tamm" in page.text
    for scope in ALL_SCOPES.split():
        assert f'data-scope="{scope}"' in page.text
    assert "Your children" in page.text
    form = read_form(page.text)
    assert form.action == "/oauth/consent" and form.buttons == [("decision", "approve"), ("decision", "deny")]


def test_login_needs_the_csrf_token_of_its_session(flow, client):
    form = read_form(flow.login_page().text)
    credentials = {"username": "mari", "password": "mari"}
    missing = client.post("/login", data=credentials, follow_redirects=False)
    assert missing.status_code == 400 and missing.json()["hint"] == "Check the `_token` parameter"
    wrong = client.post("/login", data={**credentials, "_token": "guessed"}, follow_redirects=False)
    assert wrong.status_code == 419 and "Page Expired" in wrong.text
    with TestClient(client.app, base_url="http://127.0.0.1:8000") as stranger:
        cross_site = stranger.post("/login", data={**credentials, "_token": form.fields["_token"]},
                                   follow_redirects=False)
    assert cross_site.status_code == 419, "a token without its session cookie is refused"


def test_approve_redirects_with_code_and_state(flow):
    answer = flow.decide(flow.consent_page(state="abc 123"), "approve")
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(f"{REDIRECT}?code=def50200")
    assert list(query_of(location)) == ["code", "state"] and query_of(location)["state"] == "abc 123"
    assert re.fullmatch(r"def50200[0-9a-f]{256}", query_of(location)["code"])


def test_approve_without_state_sends_only_the_code(flow):
    location = flow.decide(flow.consent_page(), "approve").headers["location"]
    assert list(query_of(location)) == ["code"]


def test_deny_redirects_with_access_denied(flow):
    answer = flow.decide(flow.consent_page(state="s 1"), "deny")
    assert answer.status_code == 302
    description = "The+resource+owner+or+authorization+server+denied+the+request."
    assert answer.headers["location"] == (
        f"{REDIRECT}?state=s+1&error=access_denied&error_description={description}"
        f"&hint=The+user+denied+the+request&message={description}"
    )


def test_decision_needs_a_logged_in_session_and_its_csrf_token(flow, client):
    page = flow.consent_page()
    form = read_form(page.text)
    forged = client.post(form.action, data={**form.fields, "_token": "forged", "decision": "approve"},
                         follow_redirects=False)
    assert forged.status_code == 419
    with TestClient(client.app, base_url="http://127.0.0.1:8000") as stranger:
        cross_site = stranger.post(form.action, data={**form.fields, "decision": "approve"},
                                   follow_redirects=False)
    assert cross_site.status_code == 419, "the token alone, without the session cookie, is refused"


def test_decision_rechecks_the_request(flow):
    """A tampered hidden redirect_uri is refused like at GET: never a redirect to it."""
    page = flow.consent_page()
    form = read_form(page.text)
    tampered = {**form.fields, "redirect_uri": "https://evil.example/cb", "decision": "approve"}
    response = flow.http.post(form.action, data=tampered, follow_redirects=False)
    assert_json_error(response, 401, INVALID_CLIENT)


def test_a_forged_session_cookie_counts_as_no_session(flow, client):
    page = flow.consent_page()
    assert page.status_code == 200
    client.cookies.set(COOKIE, client.cookies[COOKIE][:-3] + "AAA")
    assert flow.is_sent_to_log_in()


def test_logged_in_user_goes_straight_to_consent(flow):
    flow.consent_page()
    again = flow.authorize(state="second")
    assert again.status_code == 200 and 'value="approve"' in again.text


def test_consent_is_skipped_for_a_returning_user_with_a_valid_token(flow):
    """Passport's hasValidToken: same client, exactly the same scopes → straight back with a code; other scopes,
    a revoked token or `prompt=consent` → the page (reference/ekool-oauth2.md, "Measured")."""
    pair = flow.tokens("mari")
    skipped = flow.authorize(state="again")
    assert skipped.status_code == 302 and skipped.headers["location"].startswith(f"{REDIRECT}?code=")
    assert query_of(skipped.headers["location"])["state"] == "again"
    assert flow.exchange(query_of(skipped.headers["location"])["code"]).status_code == 200
    assert flow.authorize(scope="users-basic").status_code == 200, "other scopes: asked again"
    assert flow.authorize(prompt="consent").status_code == 200, "prompt=consent always asks"
    flow.refresh(pair["refresh_token"])  # rotation revokes that pair; the exchange above left a valid one
    assert flow.authorize().status_code == 302


def test_prompt_none_never_shows_a_page(flow):
    """Passport 12: a guest → access_denied with hint `Unauthenticated`, `state` kept; a user who would be asked
    → the user's denial (reference/ekool-oauth2.md, "Measured")."""
    guest = flow.authorize(prompt="none", state="s1")
    assert guest.status_code == 302
    query = query_of(guest.headers["location"])
    assert guest.headers["location"].startswith(f"{REDIRECT}?state=s1&error=access_denied")
    assert query["hint"] == "Unauthenticated"
    flow.consent_page()  # now logged in, no token yet
    asked = flow.authorize(prompt="none", state="s2")
    assert asked.status_code == 302 and query_of(asked.headers["location"])["error"] == "access_denied"
    assert query_of(asked.headers["location"])["state"] == "s2"


def test_prompt_login_asks_for_a_new_login_once(flow):
    flow.consent_page()
    first = flow.authorize(prompt="login")
    assert first.status_code == 302 and first.headers["location"].endswith("/login"), "logged out, sent to log in"
    back = flow.login(flow.http.get(first.headers["location"]), "juhan")
    again = flow.http.get(back.headers["location"], follow_redirects=False)  # still prompt=login: not again
    assert again.status_code == 200 and 'value="approve"' in again.text and "Juhan" in again.text


def test_auto_login_answers_with_a_code_at_once(make_app):
    with TestClient(make_app(auto_login="juhan"), base_url="http://127.0.0.1:8000") as http:
        flow = Flow(http)
        response = flow.authorize(state="q", redirect_uri=LOCALHOST_REDIRECT)
        assert response.status_code == 302
        query = query_of(response.headers["location"])
        assert urlsplit(response.headers["location"]).netloc == "localhost:3000" and query["state"] == "q"
        tokens = flow.exchange(query["code"], redirect_uri=LOCALHOST_REDIRECT).json()
        assert jwt_parts(tokens["access_token"])[1]["sub"] == "100002"
        assert flow.authorize(scope="nope").headers["location"].split("?")[1].startswith("error=invalid_scope")


def test_auto_login_with_an_unknown_user_shows_the_login_page(make_app):
    with TestClient(make_app(auto_login="nobody"), base_url="http://127.0.0.1:8000") as http:
        assert Flow(http).is_sent_to_log_in()


def test_no_scope_means_an_empty_scope_list(flow):
    page = flow.consent_page(scope=None)
    assert "asks for no data scopes" in page.text
    code = query_of(flow.decide(page, "approve").headers["location"])["code"]
    tokens = flow.exchange(code).json()
    assert jwt_parts(tokens["access_token"])[1]["scopes"] == []
    assert jwt_parts(tokens["access_token"])[1]["sub"] == str(MARI_ID)
