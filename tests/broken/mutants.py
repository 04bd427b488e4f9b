"""Deliberately broken implementations: ASGI wrappers in front of the reference app, each breaking one rule.

A mutant sees each request and the reference's answer and may change either, or answer by itself; it
talks to the reference only through ASGI, exactly as a proxy in front of a deployment would.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.asgi import read_body, respond
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
    """Passes everything through; subclasses override `handle` and name the rule they break."""

    api: ClassVar[str]
    breaks: ClassVar[str]

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


MUTANTS: tuple[type[Mutant], ...] = (
    DropsResmsgid, NewSecretEveryTime, AcceptsAlgNone, IgnoresAcl, WrongStatusForBadKey,
    CrashesOnGarbageRefreshToken, TextPlainJson,
    OpenRedirect, DropsState, ReusableCode, NoRefreshRotation, IgnoresPkce, IgnoresScopes, CachableTokens,
    ForeignSignedTokens,
)
