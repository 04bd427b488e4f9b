"""The request as league sees it: oversized forms get the answer for the value (never a 500), and the
Authorization header is read the way league reads it."""

from __future__ import annotations

from urllib.parse import urlencode

from harness.apis.ekool.wire import MAX_FIELD_BYTES, MAX_FIELDS, fit_form, league_jwt

from .conftest import DEMO_CLIENT, DEMO_SECRET, read_form

MEGABYTE = "A" * (1024 * 1024)


def test_fit_form_cuts_long_fields_and_drops_extra_ones():
    assert fit_form(b"a=1&b=2") == b"a=1&b=2"
    cut = fit_form(b"a=" + b"x" * MAX_FIELD_BYTES + b"&b=2")
    assert cut.split(b"&")[0] == (b"a=" + b"x" * MAX_FIELD_BYTES)[:MAX_FIELD_BYTES] and cut.endswith(b"&b=2")
    assert fit_form(b"&".join(b"f%d=1" % i for i in range(MAX_FIELDS + 5))).count(b"&") == MAX_FIELDS - 1


def test_megabyte_code_cannot_be_decrypted(flow):
    response = flow.exchange(MEGABYTE)
    assert response.status_code == 400 and response.json()["hint"] == "Cannot decrypt the authorization code"


def test_megabyte_refresh_token_cannot_be_decrypted(flow):
    response = flow.refresh(MEGABYTE)
    assert response.status_code == 401 and response.json()["hint"] == "Cannot decrypt the refresh token"


def test_megabyte_client_secret_is_invalid_client(flow):
    assert flow.exchange("x", client_secret=DEMO_SECRET + MEGABYTE).json()["error"] == "invalid_client"


def test_too_many_fields_are_dropped_like_php_max_input_vars(client):
    fields = [("grant_type", "refresh_token"), ("client_id", DEMO_CLIENT), ("client_secret", DEMO_SECRET)]
    fields += [(f"x{i}", "1") for i in range(MAX_FIELDS)] + [("refresh_token", "def50200")]
    response = client.post("/oauth/token", content=urlencode(fields),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and response.json()["hint"] == "Check the `refresh_token` parameter"


def test_megabyte_password_is_a_failed_login(flow):
    form = read_form(flow.login_page().text)
    page = flow.http.post("/login", data={**form.fields, "username": "mari", "password": MEGABYTE})
    assert page.status_code == 200 and "These credentials do not match our records." in page.text


def test_league_jwt_strips_one_case_sensitive_bearer_prefix():
    assert league_jwt("Bearer a.b.c") == "a.b.c"
    assert league_jwt(" \tBearer  a.b.c ") == "a.b.c"
    assert league_jwt("a.b.c") == "a.b.c"
    assert league_jwt("bearer a.b.c") == "bearer a.b.c"
    assert league_jwt("BearerX a.b.c") == "BearerX a.b.c"
