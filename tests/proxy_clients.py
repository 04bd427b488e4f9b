"""Real clients of both APIs, pointed at a base URL (the proxy): what an app and its end-to-end tests send, with
the few misuses such tests make on purpose (a code sent twice, a rotated refresh token sent again, a token
without the scope, a wrong PKCE verifier, a body of the wrong type). The reference refuses each misuse; a broken
implementation that accepts one is what the proxy must report."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from typing import Any

import httpx
import requests
from authlib.integrations.requests_client import OAuth2Session

from harness import authtoken
from harness.conformance import jwts
from harness.conformance.login import authorize_via_forms

CLIENT, SECRET = "ekooldemoclient00000000000000001", "ekooldemosecret0000000000000000000000001"
OTHER, OTHER_SECRET = "ekoolbasicclient0000000000000002", "ekoolbasicsecret000000000000000000000002"
REDIRECT = "http://localhost:3000/callback"
REALM = "/auth/realms/sunbird/protocol/openid-connect/token"
REGISTER = "/api/api-manager/{version}/consumer/mobile_device/credential/register"
# what a report must never contain in clear (the demo values the clients send)
SENT_SECRETS = [SECRET, OTHER_SECRET, "mobile_app_secret"]


def sunbird_app(base: str) -> list[str]:
    """A plain `requests` client of Sunbird; returns the secrets and tokens it saw (for redaction checks)."""
    seen: list[str] = []
    bearer = {"Authorization": f"Bearer {authtoken.generate('mobile_app_key', 'mobile_app_secret')}"}
    with requests.Session() as http:
        key = f"proxy-device-{uuid.uuid4().hex[:8]}"
        for _ in range(2):  # the same key twice: the same secret
            v1 = http.post(base + REGISTER.format(version="v1"), headers=bearer,
                           json={"params": {"msgid": str(uuid.uuid4())}, "request": {"key": key}})
            assert v1.status_code == 200, v1.text
            seen += [v1.json()["result"]["secret"], v1.json()["result"]["token"]]
        v2 = http.post(base + REGISTER.format(version="v2"), headers=bearer, json={"request": {"key": key}})
        device = v2.json()["result"]["token"]
        realm = http.post(base + REALM, data={"grant_type": "password", "client_id": "android", "username": "learner",
                                              "password": "learner", "scope": "offline_access"}).json()
        refreshed = http.post(base + "/api/auth/v1/refresh/token", data={"refresh_token": realm["refresh_token"]},
                              headers={"Authorization": f"Bearer {device}"})
        assert refreshed.status_code == 200, refreshed.text
        seen += [device, realm["refresh_token"], refreshed.json()["result"]["access_token"]]
        http.post(base + REGISTER.format(version="v1"), json={"request": {"key": key}})  # no bearer: 401
        signed = authtoken.generate("mobile_app_key", "mobile_app_secret")
        for wrong in (jwts.tampered(signed), jwts.standard_base64_signature(signed)):
            http.post(base + REGISTER.format(version="v1"), json={"request": {"key": key}},
                      headers={"Authorization": f"Bearer {wrong}"})  # a bad signature: 403; standard Base64: 200
        unsigned = jwts.unsigned({"iss": "mobile_app_key"})
        http.post(base + REGISTER.format(version="v1"), json={"request": {"key": key}},
                  headers={"Authorization": f"Bearer {unsigned}"})  # alg none: refused
        http.post(base + REGISTER.format(version="v1"), headers={**bearer, "Content-Type": "text/plain"},
                  data=b'{"request": {"key": "typed-wrong"}}')  # not JSON by its type: 415
        http.post(base + "/api/auth/v1/refresh/token", json={"refresh_token": realm["refresh_token"]},
                  headers={"Authorization": f"Bearer {device}"})  # JSON where a form is required
        http.post(base + "/api/auth/v1/refresh/token", data={"refresh_token": "garbage"},
                  headers={"Authorization": f"Bearer {device}"})
        http.post(base + "/api/auth/v1/refresh/token", data={"other": "x"},
                  headers={"Authorization": f"Bearer {device}"})  # no refresh_token
        http.post(base + REGISTER.format(version="v1"), headers=bearer, json={"request": {"key": "bad key"}})
    return seen


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _code(base: str, **params: str) -> str:
    query = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "state": "s-" + uuid.uuid4().hex,
             "scope": "users-basic users-roles users-schools users-children", **params}
    with httpx.Client(base_url=base) as browser:
        back = authorize_via_forms(browser, f"/oauth/authorize?{httpx.QueryParams(query)}", REDIRECT,
                                   "mari", "mari")
    return back.params["code"]


def ekool_app(base: str, monkeypatch: Any) -> list[str]:
    """authlib's PKCE flow with refresh and the resources, then the misuses; returns what it saw."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    oauth = OAuth2Session(CLIENT, SECRET, scope="users-basic users-roles", redirect_uri=REDIRECT,
                          code_challenge_method="S256", token_endpoint_auth_method="client_secret_post")
    verifier = secrets.token_urlsafe(48)
    url, state = oauth.create_authorization_url(f"{base}/oauth/authorize", code_verifier=verifier)
    with httpx.Client() as browser:
        back = authorize_via_forms(browser, url, REDIRECT, "mari", "mari")
    assert back.params.get("state") == state
    token = oauth.fetch_token(f"{base}/oauth/token", authorization_response=back.location, code_verifier=verifier)
    assert oauth.get(f"{base}/user/me/basic").status_code == 200
    old_refresh = token["refresh_token"]
    renewed = oauth.refresh_token(f"{base}/oauth/token")
    assert oauth.get(f"{base}/user/me/roles").status_code == 200
    seen = [back.params["code"], token["access_token"], old_refresh, renewed["access_token"], renewed["refresh_token"]]
    with requests.Session() as http:
        exchange = {"grant_type": "authorization_code", "client_id": CLIENT, "client_secret": SECRET,
                    "redirect_uri": REDIRECT}
        http.post(f"{base}/oauth/token", data={**exchange, "code": back.params["code"], "code_verifier": verifier})
        http.post(f"{base}/oauth/token", data={"grant_type": "refresh_token", "client_id": CLIENT,
                                               "client_secret": SECRET, "refresh_token": old_refresh})  # rotated
        basic = http.post(f"{base}/oauth/token", data={**exchange, "code": _code(base, scope="users-basic")})
        basic.raise_for_status()
        seen += [basic.json()["access_token"], basic.json()["refresh_token"]]
        http.get(f"{base}/user/me/roles", headers={"Authorization": f"Bearer {basic.json()['access_token']}"})
        http.get(f"{base}/user/me/children")  # no token
        http.post(f"{base}/oauth/token", data={"grant_type": "refresh_token", "client_id": CLIENT,
                                               "client_secret": SECRET, "scope": "users-basic users-roles",
                                               "refresh_token": basic.json()["refresh_token"]})  # wider
        http.post(f"{base}/oauth/token", data={**exchange, "code": _code(base), "client_secret": "not-the-secret"})
        http.get(f"{base}/oauth/authorize", params={"response_type": "code", "client_id": CLIENT,
                                                    "redirect_uri": "https://attacker.invalid/callback"},
                 allow_redirects=False)  # an unregistered URI: refused, never redirected to
        http.get(f"{base}/oauth/authorize", params={"response_type": "code", "client_id": CLIENT,
                                                    "redirect_uri": REDIRECT, "scope": "users-everything"},
                 allow_redirects=False)  # the error redirect goes to the app: not followed
        http.post(f"{base}/oauth/token", data={"grant_type": "refresh_token", "client_id": OTHER,
                                               "client_secret": OTHER_SECRET,
                                               "refresh_token": basic.json()["refresh_token"]})  # another client's
        wrong, challenge = _pkce()
        pkce_code = _code(base, code_challenge=challenge, code_challenge_method="S256")
        http.post(f"{base}/oauth/token", data={**exchange, "code": pkce_code, "code_verifier": wrong + "x"})
        http.post(f"{base}/oauth/token", data={**exchange, "code": _code(base), "client_id": OTHER,
                                               "client_secret": OTHER_SECRET})  # another client's code
        http.post(f"{base}/oauth/token", data={**exchange, "code": _code(base),
                                               "redirect_uri": "http://127.0.0.1:9/callback"})  # another URI
    return seen
