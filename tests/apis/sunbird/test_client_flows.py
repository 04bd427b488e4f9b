"""Real clients' flows (reference/sunbird-api-manager.md, "Real clients") and the token generator (seeds/003)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from typer.testing import CliRunner

from harness import authtoken
from harness.cli import app as cli
from harness.crypto.tokens import b64url_encode


def test_mobile_sdk_v2_then_refresh(client, prefix, sb):
    """api-token-handler.ts: v2 mobile_device with its body, reads result.token, refreshes with it."""
    body = {"id": "ekstep.genie.device.register", "ver": "1.0", "ts": "2024-01-02T03:04:05.678Z",
            "request": {"key": "org.sunbird.app-5e1f0c2a9b"}}
    response = client.post(f"{prefix}/api-manager/v2/consumer/mobile_device/credential/register", json=body,
                           headers=sb.auth(sb.demo_bearer("mobile_app")))
    assert response.status_code == 200 and response.json()["params"]["status"] == "successful"
    device = response.json()["result"]["token"]
    offline = sb.realm_tokens(client)["refresh_token"]
    refreshed = client.post(f"{prefix}/auth/v1/refresh/token", data={"refresh_token": offline},
                            headers=sb.auth(device))
    assert refreshed.status_code == 200
    assert refreshed.json()["result"]["access_token"] and refreshed.json()["result"]["refresh_token"] == offline


def test_mobile_sdk_v1_fallback_signs_with_the_secret(client, prefix, sb):
    """The SDK's fallback: v1, then sign {iss: key} with result.secret and use that as the device bearer."""
    body = {"id": "ekstep.genie.device.register", "ver": "1.0", "ts": "2024-01-02T03:04:05.678Z",
            "request": {"key": "org.sunbird.app-fallback"}}
    result = client.post(f"{prefix}/api-manager/v1/consumer/mobile_device/credential/register", json=body,
                         headers=sb.auth(sb.demo_bearer("mobile_app"))).json()["result"]
    bearer = authtoken.generate(result["key"], result["secret"])
    refreshed = client.post(f"{prefix}/auth/v1/refresh/token",
                            data={"refresh_token": sb.realm_tokens(client)["refresh_token"]}, headers=sb.auth(bearer))
    assert refreshed.status_code == 200
    stale = client.post(f"{prefix}/auth/v1/refresh/token", data={"refresh_token": "expired"},
                        headers=sb.auth(bearer))
    assert stale.status_code == 400  # "log in again"


def test_desktop_device_register(client, prefix, sb):
    """DeviceSDK.ts: v2 desktop_device with ts in milliseconds."""
    body = {"id": "api.device.register", "ver": "1.0", "ts": int(time.time() * 1000),
            "request": {"key": "9f86d081884c7d659a2feaa0c55ad015"}}
    response = client.post(f"{prefix}/api-manager/v2/consumer/desktop_device/credential/register", json=body,
                           headers=sb.auth(sb.demo_bearer("desktop_app")))
    assert response.status_code == 200 and response.json()["result"]["token"].count(".") == 2


@pytest.mark.parametrize("consumer", ["portal_anonymous", "portal_loggedin"])
def test_portal_kong_token_helper(client, prefix, sb, consumer):
    """kongTokenHelper.js: needs 200 and params.status == "successful"."""
    response = client.post(f"{prefix}/api-manager/v2/consumer/{consumer}/credential/register",
                           json={"request": {"key": "s%3Ax8YtQ9.session"}}, headers=sb.auth(sb.demo_bearer("portal")))
    assert response.status_code == 200 and response.json()["params"]["status"] == "successful"


def test_registration_script_with_standard_base64_signature(client, prefix, sb):
    """A bash-style script: header and payload base64url, signature `openssl base64` (+ / =)."""
    for iat in range(int(time.time()), int(time.time()) + 50):
        header = b64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url_encode(json.dumps({"iss": "mobile_admin_key", "iat": iat}).encode())
        digest = hmac.new(b"mobile_admin_secret", f"{header}.{payload}".encode(), hashlib.sha256).digest()
        signature = base64.b64encode(digest).decode()
        if any(c in signature for c in "+/"):
            break
    response = client.post(f"{prefix}/api-manager/v1/consumer/mobile_app/credential/register",
                           json={"request": {"key": "new-mobile-app"}},
                           headers=sb.auth(f"{header}.{payload}.{signature}"))
    assert response.status_code == 200


# Tokens the real library (`AuthTokenGenerate.generate` in Sunbird's telemetry SDK, jsrsasign) made for these
# inputs, run under Node.js (reference/sunbird-api-manager.md, "Measured against the real clients").
REAL_GENERATOR = [
    ("mobile_app_key", "mobile_app_secret", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJtb2JpbGVfYXBwX2tleSIsImlh"
     "dCI6bnVsbCwiZXhwIjpudWxsLCJhdWQiOiIiLCJzdWIiOiIifQ.JtMpMs3tdSKQWAt1_N47VyoJpoPTsjS4v0YBU7G56tc"),
    ("k-\u00fc", "s\u00ebcret\"x", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJrLcO8IiwiaWF0IjpudWxsLCJleHAiOm51"
     "bGwsImF1ZCI6IiIsInN1YiI6IiJ9.PAj9Zbdle3hfk1mte8gbo65oM_MdUACcBGAQ8Mf5C3c"),
    ("a", "b", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhIiwiaWF0IjpudWxsLCJleHAiOm51bGwsImF1ZCI6IiIsInN1YiI6"
     "IiJ9.3ONThch98S15CNBXAFjNo1m-tLZC4vcqJCCmj3N-qxU"),
]


@pytest.mark.parametrize(("key", "secret", "real"), REAL_GENERATOR)
def test_authtoken_generate_is_byte_compatible_with_the_real_library(key, secret, real):
    assert authtoken.generate(key, secret) == real


def test_authtoken_generate_is_an_accepted_bearer(client, sb):
    token = authtoken.generate("mobile_app_key", "mobile_app_secret")
    assert authtoken.decode(token)["payload"]["iss"] == "mobile_app_key"
    assert sb.register(client, "v2", "mobile_device", bearer=token).status_code == 200


def test_authtoken_refresh_keeps_iss_and_checks_the_secret():
    """Our extension: the real library's `refresh` only logs "Api method is not available"."""
    old = authtoken.generate("k", "s" * 32)
    new = authtoken.refresh(old, "s" * 32)
    assert authtoken.decode(new)["payload"]["iss"] == "k" and authtoken.decode(new)["payload"]["iat"] > 1
    with pytest.raises(ValueError, match="signature"):
        authtoken.refresh(old, "t" * 32)
    with pytest.raises(ValueError):
        authtoken.refresh("garbage", "s")


def test_authtoken_refresh_refuses_alg_none():
    header = b64url_encode(json.dumps({"alg": "none"}).encode())
    payload = b64url_encode(json.dumps({"iss": "k"}).encode())
    with pytest.raises(ValueError, match="HS256"):
        authtoken.refresh(f"{header}.{payload}.", "s")


def test_token_cli_generate_refresh_decode():
    runner = CliRunner()
    generated = runner.invoke(cli, ["token", "generate", "--key", "desktop_app_key", "--secret", "desktop_app_secret"])
    assert generated.exit_code == 0
    token = generated.stdout.strip()
    refreshed = runner.invoke(cli, ["token", "refresh", token, "--secret", "desktop_app_secret"])
    assert refreshed.exit_code == 0
    decoded = runner.invoke(cli, ["token", "decode", refreshed.stdout.strip()])
    assert json.loads(decoded.stdout)["payload"]["iss"] == "desktop_app_key"
    assert runner.invoke(cli, ["token", "refresh", token, "--secret", "wrong"]).exit_code == 2
    assert runner.invoke(cli, ["token", "decode", "nope"]).exit_code == 2
