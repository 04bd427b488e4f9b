"""The resource API: bearer validation with league's hints, no leeway, revocation, per-operation scopes (403),
and data for the token's user (reference/ekool-oauth2.md § Resource API)."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.apis.ekool.tokens import ACCESS_KID

from .conftest import BASIC_CLIENT, BASIC_SECRET, DEMO_CLIENT, JUHAN_ID, MARI_ID

ENDPOINTS = {"/generaldata": "users-basic", "/user/me/basic": "users-basic", "/user/me/roles": "users-roles",
             "/user/me/schools": "users-schools", "/user/me/children": "users-children"}
DENIED = "The resource owner or authorization server denied the request."


def denied(response, hint: str) -> None:
    assert response.status_code == 401, response.text
    assert list(response.json().items()) == [("error", "access_denied"), ("error_description", DENIED),
                                             ("hint", hint), ("message", DENIED)]


def signed(app, key: Any = None, store: bool = True, **overrides: Any) -> str:
    """An access token like ours, with claims overridden; stored as issued unless `store` is False."""
    now = int(time.time())
    claims = {"aud": DEMO_CLIENT, "jti": secrets.token_hex(40), "iat": now, "nbf": now, "exp": now + 60,
              "sub": str(MARI_ID), "scopes": list(ENDPOINTS.values())}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    if store:
        app.ctx.store.execute(
            "INSERT INTO ekool_access_tokens (jti, client_id, user_id, scopes, expires_at) VALUES (?, ?, ?, ?, ?)",
            (claims["jti"], DEMO_CLIENT, MARI_ID, "[]", now + 60))
    return jwt.encode(claims, key if key is not None else app.ctx.keys.private(ACCESS_KID), algorithm="RS256",
                      headers={"kid": ACCESS_KID})


@pytest.fixture
def mari(flow) -> str:
    return flow.tokens("mari")["access_token"]


def test_mari_sees_her_own_data_everywhere(flow, mari):
    general = flow.get("/generaldata", mari).json()
    assert general["username"] == "mari" and general["id"] == MARI_ID
    assert (general["firstName"], general["lastName"], general["idCode"]) == ("Mari", "Tamm", "48403150218")
    assert general["authorities"] == [{"authority": "ROLE_USER"}] and general["idIssuedBy"]["isoCode"] == "EST"
    basic = flow.get("/user/me/basic", mari).json()
    assert basic == {"status": True, "meta": [], "data": {
        "id": str(MARI_ID), "first_name": "Mari", "last_name": "Tamm", "email": "mari.tamm@example.ee",
        "id_code": "48403150218"}}
    roles = flow.get("/user/me/roles", mari).json()["data"]
    assert {r["role_name"] for r in roles} == {"Lapsevanem"} and len(roles) == 2
    schools = flow.get("/user/me/schools", mari).json()["data"]
    assert [s["name"] for s in schools] == ["Tallinna Kadrioru Põhikool", "Tartu Tähtvere Gümnaasium"]
    children = flow.get("/user/me/children", mari).json()["data"]
    assert [(c["first_name"], c["id_code"]) for c in children] == [("Mia", "61205200312"), ("Oskar", "51511030466")]
    assert {c["school_id"] for c in children} == {s["id"] for s in schools}


def test_juhan_the_teacher_sees_his_data(flow):
    token = flow.tokens("juhan")["access_token"]
    assert flow.get("/generaldata", token).json()["id"] == JUHAN_ID
    assert flow.get("/user/me/basic", token).json()["data"]["first_name"] == "Juhan"
    assert {r["role_name"] for r in flow.get("/user/me/roles", token).json()["data"]} == {"Õpetaja", "Klassijuhataja"}
    assert flow.get("/user/me/children", token).json() == {"status": True, "meta": [], "data": []}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_missing_authorization_header(flow, path):
    denied(flow.get(path), 'Missing "Authorization" header')


@pytest.mark.parametrize(("authorization", "hint"), [
    ("Bearer abc", "The JWT string must have two dots"),
    ("Bearer", "The JWT string must have two dots"),
    ("Basic bWFyaTptYXJp", "The JWT string must have two dots"),
    ("Bearer a.b.c.d", "The JWT string must have two dots"),
    ("Bearer !!.e30.sig", "Error while decoding from Base64Url, invalid base64 characters detected"),
    # lcobucci/jwt 5 (libsodium, strict URL-safe unpadded): reference/ekool-oauth2.md, "Measured" (`a.b.c`)
    ("Bearer a.b.c", "Error while decoding from Base64Url, invalid base64 characters detected"),
    ("Bearer e30=.e30.sig", "Error while decoding from Base64Url, invalid base64 characters detected"),
    ("Bearer e31.e30.sig", "Error while decoding from Base64Url, invalid base64 characters detected"),
    ("Bearer e30.e30.a", "Error while decoding from Base64Url, invalid base64 characters detected"),
    ("Bearer bm90IGpzb24.e30.sig", "Error while decoding from JSON"),
    ("Bearer MQ.e30.sig", "headers must be an array"),
    ("Bearer e30.MQ.sig", "claims must be an array"),
    ("Bearer eyJlbmMiOiJBMTI4R0NNIn0.e30.sig", "Encryption is not supported yet"),
    ("Bearer e30.eyJleHAiOiJzb29uIn0.sig", "Value is not in the allowed date format: soon"),
    ("Bearer e30.e30.sig", "Access token could not be verified"),
])
def test_unparseable_tokens_get_the_parsers_message(flow, authorization, hint):
    denied(flow.get("/generaldata", Authorization=authorization), hint)


def test_the_header_is_read_like_league_reads_it(flow, mari):
    """league strips an optional, case-sensitive `Bearer ` and parses the rest (connexion alone would differ)."""
    assert flow.get("/generaldata", Authorization=mari).status_code == 200
    assert flow.get("/generaldata", Authorization=f"  Bearer   {mari} ").status_code == 200
    denied(flow.get("/generaldata", Authorization=f"bearer {mari}"),
           "Error while decoding from Base64Url, invalid base64 characters detected")
    denied(flow.get("/generaldata", Authorization=""), "The JWT string must have two dots")


def test_signature_by_another_key_is_refused(flow, app):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    denied(flow.get("/generaldata", signed(app, key=other)), "Access token could not be verified")


def test_algorithm_confusion_and_none_are_refused(flow, app):
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = signed(app).split(".")[1]
    for alg in ("HS256", "none"):
        head = b64(json.dumps({"typ": "JWT", "alg": alg}).encode())
        # HS256 "signed" with our public key, the classic RS256/HS256 confusion.
        mac = hmac.new(app.ctx.keys.public_pem(ACCESS_KID).encode(), f"{head}.{claims}".encode(), "sha256")
        token = f"{head}.{claims}.{b64(mac.digest()) if alg == 'HS256' else ''}"
        denied(flow.get("/generaldata", token), "Access token could not be verified")


@pytest.mark.parametrize("claims", [
    {"exp": 0}, {"nbf": 10}, {"iat": 10}, {"exp": None}, {"nbf": None}, {"iat": None},
])
def test_time_claims_are_checked_without_leeway(flow, app, claims):
    now = int(time.time())
    values = {k: (None if v is None else now + v) for k, v in claims.items()}
    denied(flow.get("/generaldata", signed(app, **values)), "Access token could not be verified")


def test_a_token_valid_for_one_more_second_is_accepted(flow, app):
    assert flow.get("/generaldata", signed(app, exp=int(time.time()) + 2)).status_code == 200


def test_revoked_or_unknown_jti_is_refused(flow, app, mari):
    denied(flow.get("/generaldata", signed(app, store=False)), "Access token has been revoked")
    jti = json.loads(base64.urlsafe_b64decode(mari.split(".")[1] + "==="))["jti"]
    app.ctx.store.execute("UPDATE ekool_access_tokens SET revoked = 1 WHERE jti = ?", (jti,))
    denied(flow.get("/user/me/basic", mari), "Access token has been revoked")


def test_reset_revokes_every_token(flow, client, mari):
    assert client.post("/__harness/reset").status_code == 200
    denied(flow.get("/generaldata", mari), "Access token has been revoked")


@pytest.mark.parametrize(("path", "scope"), list(ENDPOINTS.items()))
def test_missing_scope_is_403_insufficient_scope(flow, app, path, scope):
    others = [s for s in ENDPOINTS.values() if s != scope]
    response = flow.get(path, signed(app, scopes=others))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == f'Bearer error="insufficient_scope", scope="{scope}"'
    body = response.json()
    assert list(body) == ["error", "error_description", "hint", "message"]
    assert body["error"] == "insufficient_scope" and body["hint"] == f"Check the `{scope}` scope"
    assert flow.get(path, signed(app, scopes=[scope])).status_code == 200, "its own scope is enough"


def test_basic_client_token_reaches_only_basic_data(flow):
    token = flow.tokens(scope="users-basic", client_id=BASIC_CLIENT, secret=BASIC_SECRET)["access_token"]
    assert flow.get("/generaldata", token).status_code == 200
    assert flow.get("/user/me/basic", token).status_code == 200
    for path in ("/user/me/roles", "/user/me/schools", "/user/me/children"):
        assert flow.get(path, token).status_code == 403


def test_non_list_scopes_claim_grants_nothing(flow, app):
    assert flow.get("/generaldata", signed(app, scopes="users-basic")).status_code == 403


def test_unknown_resource_path_and_method(client):
    missing = client.get("/user/me/grades")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = client.post("/generaldata")
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]
