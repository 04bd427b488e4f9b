"""A Sunbird client as the real apps behave (reference/sunbird-api-manager.md, "Real clients"), over HTTP.

Rules and fixture replay use it to get what they need from the target: gateway bearers, device tokens,
realm refresh tokens and the published keys. It knows the public paths, never the server's internals.
"""

from __future__ import annotations

import uuid
from functools import cached_property
from typing import Any

import httpx

from harness.conformance import jwts
from harness.conformance.config import ConformConfig
from harness.conformance.sunbird.config import SunbirdConfig
from harness.conformance.transport import Transport
from harness.specs import path_of

REGISTER_V1 = path_of("sunbird", "registerCredentialV1")
REGISTER_V2 = path_of("sunbird", "registerCredentialV2")
REFRESH = path_of("sunbird", "refreshAccessToken")
JWKS = path_of("sunbird", "getJwks")

# Route → the gateway consumer whose ACL group may call it (reference note, "Gateway" table).
CALLER_FOR_CONSUMER = {
    "mobile_app": "mobile_admin",
    "mobile_device": "mobile_app",
    "desktop_device": "desktop_app",
    "portal_anonymous": "portal",
    "portal_loggedin": "portal",
}


class ClientError(RuntimeError):
    """The target did not give what a well-behaved client needs to go on."""


def _ok(response: httpx.Response, what: str) -> Any:
    if response.status_code != 200:
        raise ClientError(f"{what}: {response.status_code} {response.text[:300]}")
    try:
        return response.json()
    except ValueError as exc:
        raise ClientError(f"{what}: body is not JSON: {response.text[:200]}") from exc


class SunbirdClient:
    def __init__(self, config: ConformConfig, transport: Transport) -> None:
        self.config = config
        self.sunbird: SunbirdConfig = config.sunbird
        self.http = transport
        for name, credential in self.sunbird.credentials.items():
            transport.secrets.add(credential.secret, f"{name.upper()}_SECRET")
        transport.secrets.add(self.sunbird.realm_password, "REALM_PASSWORD")
        transport.secrets.add(self.sunbird.refresh_token, "REALM_REFRESH_TOKEN")

    def bearer(self, consumer: str) -> str:
        """The HS256 bearer of a gateway consumer's credential (seeds/003 `generate`)."""
        try:
            credential = self.sunbird.credentials[consumer]
        except KeyError as exc:
            raise ClientError(f"no gateway credential for consumer {consumer!r} in the config") from exc
        token = jwts.gateway_bearer(credential.key, credential.secret)
        self.http.secrets.add(token, f"{consumer.upper()}_BEARER")
        return token

    def caller_bearer(self, route_consumer: str) -> str:
        return self.bearer(CALLER_FOR_CONSUMER.get(route_consumer, route_consumer))

    def url(self, path: str) -> str:
        return f"{self.sunbird.prefix}{path}"

    def register(
        self, version: int, consumer: str, key: str | None = None, *, bearer: str | None = None,
        body: Any = None, msgid: str | None = None, path: str | None = None,
    ) -> httpx.Response:
        """POST a register call the way the mobile SDK does; `body` replaces the whole JSON body."""
        template = path or (REGISTER_V1 if version == 1 else REGISTER_V2)
        if body is None:
            body = {"id": "ekstep.genie.device.register", "ver": "1.0", "request": {"key": key or new_key()}}
            if msgid is not None:
                body["params"] = {"msgid": msgid}
        headers = {"Authorization": f"Bearer {bearer or self.caller_bearer(consumer)}"}
        return self.http.post(self.url(template.replace("{consumer}", consumer)), json=body, headers=headers)

    def device_token(self, consumer: str = "mobile_device") -> str:
        """A v2 (RS256) device token, as the mobile SDK gets it."""
        token = _ok(self.register(2, consumer), f"v2 register for {consumer}")["result"]["token"]
        self.http.secrets.add(token, "DEVICE_BEARER")
        return token

    @cached_property
    def device_bearer(self) -> str:
        return self.device_token()

    def realm_refresh_token(self) -> str:
        """The configured refresh token, or a fresh one from the realm's password grant."""
        if self.sunbird.refresh_token:
            return self.sunbird.refresh_token
        if not (self.sunbird.realm_username and self.sunbird.realm_password):
            raise ClientError("config gives neither sunbird.refresh_token nor realm_username/realm_password")
        response = self.http.post(self.sunbird.realm_token_path, data={
            "grant_type": "password", "client_id": self.sunbird.realm_client_id,
            "username": self.sunbird.realm_username, "password": self.sunbird.realm_password,
        })
        token = _ok(response, "realm password grant")["refresh_token"]
        self.http.secrets.add(token, "REALM_REFRESH_TOKEN")
        return token

    def refresh(self, refresh_token: str, bearer: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer or self.device_bearer}"}
        return self.http.post(self.url(REFRESH), data={"refresh_token": refresh_token}, headers=headers)

    @cached_property
    def jwks(self) -> dict[str, Any]:
        return _ok(self.http.get(JWKS), "JWKS")

    @cached_property
    def realm_keys(self) -> dict[str, Any]:
        return _ok(self.http.get(self.sunbird.realm_certs_path), "realm certs")

    @cached_property
    def realm_issuer(self) -> str:
        if self.sunbird.realm_issuer:
            return self.sunbird.realm_issuer
        document = _ok(self.http.get(f"{self.sunbird.realm_path}/.well-known/openid-configuration"),
                       "realm openid-configuration")
        return document["issuer"]

    # --- harness.conformance.apis.ConformanceClient --------------------------------------------------------

    def schema_targets(self) -> list[tuple[str, Any]]:
        return [(self.config.base_url + self.sunbird.prefix, lambda schema: schema)]

    def identity_for(self, case: Any) -> str | None:
        """The device token for refresh; for register, the gateway consumer whose group may call the route."""
        path = case.operation.path
        if path.endswith(REFRESH):
            return "device"
        if "/consumer/" in path:
            consumer = (case.path_parameters or {}).get("consumer") or path.split("/consumer/")[1].split("/")[0]
            return CALLER_FOR_CONSUMER.get(str(consumer), "mobile_app")
        return None

    def token_for(self, identity: str) -> str:
        return self.device_token() if identity == "device" else self.bearer(identity)

    def transport_for(self, path: str) -> Transport:
        return self.http

    def browse(self, url: str) -> httpx.Response | None:
        return None

    def variables(self) -> dict[str, Any]:
        """Sources of `{{name}}` in Sunbird fixtures (fixtures/sunbird/README.md); callables are asked lazily."""
        values: dict[str, Any] = {f"{name}_bearer": self.bearer(name) for name in self.sunbird.credentials}
        values["device_bearer"] = lambda: self.device_bearer
        values["realm_refresh_token"] = self.realm_refresh_token
        return values


def new_key() -> str:
    """A device key that passes validation: no whitespace, not a UUID (reference note, "Register, v1")."""
    return f"conformance-{uuid.uuid4().hex[:16]}"
