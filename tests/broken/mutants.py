"""Deliberately broken implementations: ASGI wrappers in front of the reference app, each breaking one rule.

A mutant sees each request and the reference's answer and may change either, or answer by itself; it
talks to the reference only through ASGI, exactly as a proxy in front of a deployment would.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.asgi import read_body, respond
from harness.conformance.config import ConformConfig
from harness.conformance.jwts import gateway_bearer, hs256, unverified

ASGIApp = Any


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(errors="replace"), keep_blank_values=True))

    def with_form(self, form: dict[str, str]) -> Request:
        return replace(self, body=urlencode(form).encode())

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    def with_params(self, params: dict[str, str]) -> Request:
        return replace(self, query=urlencode(params))

    @property
    def bearer(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" and token else None


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)

    def with_json(self, value: Any) -> Response:
        return replace(self, body=json.dumps(value).encode())


class Mutant:
    """Passes everything through; subclasses override `handle` and name the rule they break (judged under
    `profile`)."""

    api: ClassVar[str]
    breaks: ClassVar[str]
    profile: ClassVar[str] = "default"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def forward(self, request: Request) -> Response:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
                 "scheme": "http", "path": request.path, "raw_path": request.path.encode(),
                 "query_string": request.query.encode(), "root_path": "", "server": ("127.0.0.1", 80),
                 "client": ("127.0.0.1", 1),
                 "headers": [(k.encode(), v.encode()) for k, v in request.headers.items() if k != "content-length"]
                 + [(b"content-length", str(len(request.body)).encode())]}
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": request.body, "more_body": False}

        answer = Response(500)
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        answer.body = b"".join(chunks)
        answer.headers.pop("content-length", None)
        return answer

    async def handle(self, request: Request) -> Response:
        return await self.forward(request)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__harness/"):
            await self.app(scope, receive, send)
            return
        body = (await read_body(receive)).data
        request = Request(scope["method"], scope["path"], scope.get("query_string", b"").decode(),
                          {k.decode().lower(): v.decode() for k, v in scope["headers"]}, body)
        response = await self.handle(request)
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        await respond(send, response.status, headers, response.body)


def _is_register(request: Request) -> bool:
    return request.path.endswith("/credential/register")


# --- Sunbird -------------------------------------------------------------------------------------------

class DropsResmsgid(Mutant):
    """Register answers lack `params.resmsgid`."""

    api, breaks = "sunbird", "register_envelope_has_documented_fields"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if _is_register(request) and response.status == 200:
            body = response.json()
            body["params"].pop("resmsgid", None)
            return response.with_json(body)
        return response


class NewSecretEveryTime(Mutant):
    """v1 register mints a new secret (and re-signs the token with it) on every call: nothing is stored."""

    api, breaks = "sunbird", "register_v1_same_key_returns_same_secret"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if _is_register(request) and "/v1/" in request.path and response.status == 200:
            body = response.json()
            secret = secrets.token_hex(16)
            _, claims = unverified(body["result"]["token"])
            body["result"]["secret"] = secret
            body["result"]["token"] = hs256(claims, secret, headers={"typ": None})
            return response.with_json(body)
        return response


class AcceptsAlgNone(Mutant):
    """The gateway lets an unsigned `alg: none` bearer through as if it were signed."""

    api, breaks = "sunbird", "gateway_refuses_alg_none"

    async def handle(self, request: Request) -> Response:
        token = request.bearer
        if token and token.count(".") == 2:
            try:
                header, claims = unverified(token)
            except ValueError:
                header, claims = {}, {}
            if header.get("alg") == "none":
                consumer = str(claims.get("iss", "")).removesuffix("_key")
                if "kid" in header:  # a device token: get a real one the way a client would
                    admin = gateway_bearer("mobile_app_key", "mobile_app_secret")
                    registered = await self.forward(Request(
                        "POST", "/api/api-manager/v2/consumer/mobile_device/credential/register", "",
                        {"content-type": "application/json", "authorization": f"Bearer {admin}"},
                        json.dumps({"request": {"key": "alg-none-device"}}).encode()))
                    good = registered.json()["result"]["token"]
                else:
                    good = gateway_bearer(f"{consumer}_key", f"{consumer}_secret")
                request = replace(request, headers={**request.headers, "authorization": f"Bearer {good}"})
        return await self.forward(request)


class IgnoresAcl(Mutant):
    """The gateway skips the ACL: a consumer outside the route's group is served."""

    api, breaks = "sunbird", "gateway_refuses_wrong_group"
    CALLER = {"mobile_app": "mobile_admin", "mobile_device": "mobile_app", "desktop_device": "desktop_app",
              "portal_anonymous": "portal", "portal_loggedin": "portal"}

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.status == 403 and b"cannot consume" in response.body and _is_register(request):
            consumer = request.path.split("/consumer/")[1].split("/")[0]
            caller = self.CALLER.get(consumer, "mobile_app")
            good = gateway_bearer(f"{caller}_key", f"{caller}_secret")
            return await self.forward(replace(request, headers={**request.headers, "authorization": f"Bearer {good}"}))
        return response


class WrongStatusForBadKey(Mutant):
    """A key with whitespace gets 422 instead of the documented 400."""

    api, breaks = "sunbird", "register_rejects_each_documented_bad_key"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.status == 400 and b"KEY MUST NOT HAVE SPACE" in response.body:
            return replace(response, status=422)
        return response


class CrashesOnGarbageRefreshToken(Mutant):
    """Refresh answers 500 where it should refuse a bad refresh token with 400 `invalid_grant`."""

    api, breaks = "sunbird", "refresh_rejects_garbage_token_with_invalid_grant"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if request.path.endswith("/refresh/token") and response.status == 400 and b"invalid_grant" in response.body:
            return Response(500, {"content-type": "application/json"}, b'{"message": "Internal Server Error"}')
        return response


class TextPlainJson(Mutant):
    """JSON answers are labelled `text/plain`."""

    api, breaks = "sunbird", "json_bodies_come_with_json_content_type"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.headers.get("content-type", "").startswith("application/json") and "/api" in request.path:
            response.headers["content-type"] = "text/plain"
        return response


class ReturnsAnotherSecret(Mutant):
    """v1 register answers a secret that is not the one its token is signed with (stable per key)."""

    api, breaks = "sunbird", "register_v1_token_verifies_with_returned_secret"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if _is_register(request) and "/v1/" in request.path and response.status == 200:
            body = response.json()
            body["result"]["secret"] = hashlib.sha256(body["result"]["secret"].encode()).hexdigest()[:32]
            return response.with_json(body)
        return response


class SignsV2WithAnUnpublishedKey(Mutant):
    """v2 tokens are signed by an RSA key the JWKS does not publish (same `kid`)."""

    api, breaks = "sunbird", "register_v2_token_verifies_with_target_jwks"
    KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if _is_register(request) and "/v2/" in request.path and response.status == 200:
            body = response.json()
            header, claims = unverified(body["result"]["token"])
            body["result"]["token"] = jwt.encode(claims, self.KEY, algorithm="RS256", headers={"kid": header["kid"]})
            return response.with_json(body)
        return response


def _rewrite_refusal(response: Response, status: int, message: str, new_status: int, new_message: str) -> Response:
    if response.status == status and response.body and json.loads(response.body) == {"message": message}:
        return Response(new_status, {"content-type": "application/json"},
                        json.dumps({"message": new_message}).encode())
    return response


class MissingBearerIsForbidden(Mutant):
    """No bearer (or an undecodable one) gets 403 `Forbidden` instead of 401 `Unauthorized`."""

    api, breaks = "sunbird", "gateway_refuses_missing_or_malformed_bearer"

    async def handle(self, request: Request) -> Response:
        return _rewrite_refusal(await self.forward(request), 401, "Unauthorized", 403, "Forbidden")


class BadSignatureIsUnauthorized(Mutant):
    """A bearer with a bad signature gets 401 `Unauthorized` instead of 403 `Invalid signature`."""

    api, breaks = "sunbird", "gateway_refuses_bad_signature"

    async def handle(self, request: Request) -> Response:
        return _rewrite_refusal(await self.forward(request), 403, "Invalid signature", 401, "Unauthorized")


class UnknownIssIsBadSignature(Mutant):
    """A bearer naming no credential is reported as `Invalid signature`."""

    api, breaks = "sunbird", "gateway_refuses_unknown_iss"

    async def handle(self, request: Request) -> Response:
        return _rewrite_refusal(await self.forward(request), 403, "No credentials found for given 'iss'",
                                403, "Invalid signature")


class StrictBase64Url(Mutant):
    """The gateway refuses a signature written in standard Base64 (`+ / =`), which Kong accepts."""

    api, breaks = "sunbird", "gateway_accepts_standard_base64_signature"

    async def handle(self, request: Request) -> Response:
        token = request.bearer or ""
        if token.count(".") == 2 and any(char in token.rsplit(".", 1)[1] for char in "+/="):
            return Response(403, {"content-type": "application/json"}, b'{"message": "Invalid signature"}')
        return await self.forward(request)


class RegisterTakesAnyContentType(Mutant):
    """Register reads any body as JSON, whatever its Content-Type."""

    api, breaks = "sunbird", "register_requires_json_content_type"

    async def handle(self, request: Request) -> Response:
        if _is_register(request) and not request.headers.get("content-type", "").startswith("application/json"):
            request = replace(request, headers={**request.headers, "content-type": "application/json"})
        return await self.forward(request)


class RefreshTakesJson(Mutant):
    """Refresh reads a JSON body as if it were the form."""

    api, breaks = "sunbird", "refresh_requires_form_content_type"

    async def handle(self, request: Request) -> Response:
        if request.path.endswith("/refresh/token") and request.headers.get("content-type", "").startswith(
                "application/json"):
            form = {k: str(v) for k, v in json.loads(request.body or b"{}").items()}
            request = replace(request, headers={**request.headers,
                                                "content-type": "application/x-www-form-urlencoded"})
            request = request.with_form(form)
        return await self.forward(request)


class MissingRefreshTokenIsInvalidGrant(Mutant):
    """A refresh without `refresh_token` is treated as a bad token (`invalid_grant`), not a bad request."""

    api, breaks = "sunbird", "refresh_requires_refresh_token"

    async def handle(self, request: Request) -> Response:
        if request.path.endswith("/refresh/token") and request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded") and "refresh_token" not in request.form:
            request = request.with_form({**request.form, "refresh_token": "absent"})
        return await self.forward(request)


class RefreshMisstatesExpiry(Mutant):
    """Refresh answers an `expires_in` an hour longer than the token lives."""

    api, breaks = "sunbird", "refresh_gives_access_token_verifying_with_published_keys"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if request.path.endswith("/refresh/token") and response.status == 200:
            body = response.json()
            body["result"]["expires_in"] += 3600
            return response.with_json(body)
        return response


# --- eKool ---------------------------------------------------------------------------------------------

def _is_token(request: Request) -> bool:
    return request.path == "/oauth/token" and request.method == "POST"


class OpenRedirect(Mutant):
    """Authorize redirects an unregistered `redirect_uri` with an error instead of refusing it."""

    api, breaks = "ekool", "authorize_never_redirects_to_unregistered_uri"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        uri = request.params.get("redirect_uri")
        if request.path == "/oauth/authorize" and response.status == 401 and uri:
            return Response(302, {"location": f"{uri}?error=invalid_client"})
        return response


class DropsState(Mutant):
    """The code redirect forgets `state`."""

    api, breaks = "ekool", "authorize_echoes_state"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        location = response.headers.get("location", "")
        if "code=" in location:
            parts = urlsplit(location)
            query = [(k, v) for k, v in parse_qsl(parts.query) if k != "state"]
            response.headers["location"] = urlunsplit(parts._replace(query=urlencode(query)))
        return response


class ReusableCode(Mutant):
    """A code can be exchanged again: the first answer is replayed."""

    api, breaks = "ekool", "code_is_single_use"

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.answers: dict[str, Response] = {}

    async def handle(self, request: Request) -> Response:
        code = request.form.get("code") if _is_token(request) else None
        if code and code in self.answers:
            return self.answers[code]
        response = await self.forward(request)
        if code and response.status == 200:
            self.answers[code] = response
        return response


class NoRefreshRotation(Mutant):
    """The old refresh token keeps working after a refresh."""

    api, breaks = "ekool", "refresh_rotates_tokens"

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.answers: dict[str, Response] = {}

    async def handle(self, request: Request) -> Response:
        form = request.form if _is_token(request) else {}
        token = form.get("refresh_token") if form.get("grant_type") == "refresh_token" else None
        if token and token in self.answers:
            return self.answers[token]
        response = await self.forward(request)
        if token and response.status == 200:
            self.answers[token] = response
        return response


class IgnoresPkce(Mutant):
    """PKCE is dropped on the way in: any verifier (or none) redeems the code."""

    api, breaks = "ekool", "pkce_verifier_is_checked"
    PKCE = ("code_challenge", "code_challenge_method", "code_verifier")

    async def handle(self, request: Request) -> Response:
        if request.path.startswith("/oauth/") or request.path == "/login":
            request = request.with_params({k: v for k, v in request.params.items() if k not in self.PKCE})
            if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                request = request.with_form({k: v for k, v in request.form.items() if k not in self.PKCE})
        return await self.forward(request)


class IgnoresScopes(Mutant):
    """Resources serve any valid token, whatever its scopes."""

    api, breaks = "ekool", "resource_requires_its_scope"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.status == 403:
            return Response(200, {"content-type": "application/json"},
                            json.dumps({"status": True, "meta": [], "data": {}}).encode())
        return response


class CachableTokens(Mutant):
    """Token answers lose `Cache-Control: no-store` and `Pragma: no-cache`."""

    api, breaks = "ekool", "token_responses_are_no_store"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if _is_token(request):
            response.headers.pop("cache-control", None)
            response.headers.pop("pragma", None)
        return response


class ForeignSignedTokens(Mutant):
    """Access tokens come back signed by a key nobody published (a forged issuer)."""

    api, breaks = "ekool", "access_token_verifies_and_carries_granted_scopes"
    KEY = "not-the-published-key-" + "x" * 16

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if _is_token(request) and response.status == 200:
            body = response.json()
            _, claims = unverified(body["access_token"])
            body["access_token"] = hs256(claims, self.KEY)
            return response.with_json(body)
        return response


def _is_grant(request: Request, grant: str) -> bool:
    return _is_token(request) and request.form.get("grant_type") == grant


def _as_demo_client(request: Request) -> Request:
    """The token request with the demo client's credentials, whoever sent it."""
    demo = ConformConfig().ekool
    return request.with_form({**request.form, "client_id": demo.client_id, "client_secret": demo.client_secret})


class UnknownScopeIsBadRequest(Mutant):
    """An unknown scope at authorize gets a 400 JSON error instead of the error redirect."""

    api, breaks = "ekool", "authorize_redirects_unknown_scope_as_error"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if request.path == "/oauth/authorize" and "error=invalid_scope" in response.headers.get("location", ""):
            body = {"error": "invalid_scope", "error_description": "The requested scope is invalid.",
                    "message": "The requested scope is invalid."}
            return Response(400, {"content-type": "application/json"}, json.dumps(body).encode())
        return response


class CodeForAnyClient(Mutant):
    """Any authenticated client can exchange any code (the code's client is not checked)."""

    api, breaks = "ekool", "code_is_bound_to_client"

    async def handle(self, request: Request) -> Response:
        return await self.forward(_as_demo_client(request) if _is_grant(request, "authorization_code") else request)


class CodeForAnyRedirectUri(Mutant):
    """A code is redeemed whatever `redirect_uri` the exchange names (the issued one is put back)."""

    api, breaks = "ekool", "code_is_bound_to_redirect_uri"

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.issued_for: dict[str, str] = {}

    async def handle(self, request: Request) -> Response:
        code = request.form.get("code") if _is_grant(request, "authorization_code") else None
        if code in self.issued_for:
            request = request.with_form({**request.form, "redirect_uri": self.issued_for[code]})
        response = await self.forward(request)
        location = urlsplit(response.headers.get("location", ""))
        issued = dict(parse_qsl(location.query)).get("code")
        if issued:
            self.issued_for[issued] = urlunsplit(location._replace(query=""))
        return response


class RefreshForAnyClient(Mutant):
    """Any authenticated client can use any refresh token."""

    api, breaks = "ekool", "refresh_token_is_bound_to_client"

    async def handle(self, request: Request) -> Response:
        return await self.forward(_as_demo_client(request) if _is_grant(request, "refresh_token") else request)


class RefreshIgnoresScope(Mutant):
    """A refresh asking for more scopes than granted is served (the `scope` parameter is ignored)."""

    api, breaks = "ekool", "refresh_refuses_wider_scope"

    async def handle(self, request: Request) -> Response:
        if _is_grant(request, "refresh_token"):
            request = request.with_form({k: v for k, v in request.form.items() if k != "scope"})
        return await self.forward(request)


class IgnoresClientSecret(Mutant):
    """The token endpoint checks the client id but not its secret."""

    api, breaks = "ekool", "token_rejects_wrong_client_secret"

    async def handle(self, request: Request) -> Response:
        demo = ConformConfig().ekool
        if _is_token(request) and request.form.get("client_id") == demo.client_id:
            request = _as_demo_client(request)
        return await self.forward(request)


class ServesWithoutToken(Mutant):
    """A resource asked without any `Authorization` is served with an empty answer."""

    api, breaks = "ekool", "resource_requires_token"

    async def handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path.startswith(("/generaldata", "/user/me/")) \
                and "authorization" not in request.headers:
            return Response(200, {"content-type": "application/json"},
                            json.dumps({"status": True, "meta": [], "data": {}}).encode())
        return await self.forward(request)


class ErrorsWithoutMessage(Mutant):
    """JSON error bodies lack league's `message` copy of `error_description`."""

    api, breaks = "ekool", "error_bodies_carry_error_description_message"

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.status >= 400 and response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            if isinstance(body, dict) and "message" in body:
                body.pop("message")
                return response.with_json(body)
        return response


def _invalid_grant(description: str) -> Response:
    body = {"error": "invalid_grant", "error_description": description, "hint": "", "message": description}
    return Response(400, {"content-type": "application/json"}, json.dumps(body).encode())


class _League9InvalidGrant(Mutant):
    """league 9 answers 400 `invalid_grant` where league 8 answers the error named by `status` and `marker`."""

    api = "ekool"
    status: ClassVar[int]
    marker: ClassVar[bytes]
    description: ClassVar[str]

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if _is_token(request) and response.status == self.status and self.marker in response.body:
            return _invalid_grant(self.description)
        return response


class League9ReusedCode(_League9InvalidGrant):
    """league 9: a reused code is 400 `invalid_grant` (a faithful variation the default profile forbids)."""

    breaks = "reused_code_is_leagues_invalid_request"
    status, marker = 400, b"Authorization code has been revoked"
    description = "The provided authorization grant is invalid, expired or revoked."


class League9RevokedRefresh(_League9InvalidGrant):
    """league 9: a rotated refresh token is 400 `invalid_grant` (a faithful variation the default forbids)."""

    breaks = "revoked_refresh_token_is_leagues_invalid_request"
    status, marker, description = 401, b"Token has been revoked", "The refresh token is invalid."


class League8UnderRfc(Mutant):
    """The real system itself, judged by the RFCs: one of its known deviations."""

    api, profile = "ekool", "rfc"


class League8DropsErrorState(League8UnderRfc):
    breaks = "error_redirects_keep_state"


class League8KeepsReplayedCodeTokens(League8UnderRfc):
    breaks = "reused_code_revokes_its_tokens"


class League8UnchallengedResource401(League8UnderRfc):
    breaks = "resource_401_carries_www_authenticate"


MUTANTS: tuple[type[Mutant], ...] = (
    DropsResmsgid, NewSecretEveryTime, AcceptsAlgNone, IgnoresAcl, WrongStatusForBadKey,
    CrashesOnGarbageRefreshToken, TextPlainJson, ReturnsAnotherSecret, SignsV2WithAnUnpublishedKey,
    MissingBearerIsForbidden, BadSignatureIsUnauthorized, UnknownIssIsBadSignature, StrictBase64Url,
    RegisterTakesAnyContentType, RefreshTakesJson, MissingRefreshTokenIsInvalidGrant, RefreshMisstatesExpiry,
    OpenRedirect, DropsState, ReusableCode, NoRefreshRotation, IgnoresPkce, IgnoresScopes, CachableTokens,
    ForeignSignedTokens, UnknownScopeIsBadRequest, CodeForAnyClient, CodeForAnyRedirectUri, RefreshForAnyClient,
    RefreshIgnoresScope, IgnoresClientSecret, ServesWithoutToken, ErrorsWithoutMessage, League9ReusedCode,
    League9RevokedRefresh, League8DropsErrorState, League8KeepsReplayedCodeTokens, League8UnchallengedResource401,
)
