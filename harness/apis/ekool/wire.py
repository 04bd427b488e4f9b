"""The request as PHP and league see it, before connexion parses it: eKool's operation layer
(`harness.routing`), which sees each eKool request after routing and before connexion's security and validation.

Forms: starlette's form parser (used by connexion) raises on a field over 1 MB and on more than 1000 fields,
before any handler runs: a 500. PHP parses the form (dropping fields past `max_input_vars`, 1000), so league
answers with its usual error for the value, e.g. "Cannot decrypt the refresh token". Each field is cut to just
under the parser's limit and fields past the 1000th are dropped; a value that long matches no stored code,
token, secret or password, so every check answers as it would for the full value.

Authorization: league strips an optional leading `Bearer ` (case-sensitive) and parses the rest as the JWT;
connexion wants `<scheme> <token>`. The header is rewritten to `Bearer <what league would parse>`.

Which operations take a form and which a bearer token is read from the spec (`form_operations`,
`bearer_operations`).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from starlette.datastructures import Headers

from harness.asgi import read_body, replay
from harness.plugins import ASGIApp
from harness.routing import route_of
from harness.runtime import Context
from harness.specs import operations, resolve_refs, served_spec

FORM = "application/x-www-form-urlencoded"
_BEARER_PREFIX = re.compile(r"^\s*Bearer\s")
MAX_FIELD_BYTES = 1024 * 1024  # starlette.formparsers.FormParser.max_part_size (name and value together)
MAX_FIELDS = 1000  # starlette's max_fields, and PHP's default max_input_vars


def fit_form(body: bytes) -> bytes:
    """`body` with every field cut to the form parser's size limit and at most MAX_FIELDS fields."""
    parts = body.split(b"&")
    if len(parts) <= MAX_FIELDS and all(len(part) <= MAX_FIELD_BYTES for part in parts):
        return body
    return b"&".join(part[:MAX_FIELD_BYTES] for part in parts[:MAX_FIELDS])


def league_jwt(authorization: str) -> str:
    """What league's BearerTokenValidator parses as the token from an Authorization header."""
    return _BEARER_PREFIX.sub("", authorization, count=1).strip()


def _with_league_bearer(scope: dict[str, Any]) -> dict[str, Any]:
    headers = []
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            value = b"Bearer " + league_jwt(value.decode("latin-1")).encode("latin-1")
        headers.append((name, value))
    return {**scope, "headers": headers}


@cache
def form_operations() -> frozenset[str]:
    """The operations whose request body is a form."""
    spec = served_spec("ekool")
    return frozenset(op["operationId"] for _, _, op in operations(spec)
                     if FORM in resolve_refs(op.get("requestBody", {}), spec).get("content", {}))


@cache
def bearer_operations() -> frozenset[str]:
    """The operations that take an OAuth 2 access token (a requirement on an `oauth2` scheme)."""
    spec = served_spec("ekool")
    schemes = spec["components"]["securitySchemes"]
    return frozenset(op["operationId"] for _, _, op in operations(spec)
                     if any(schemes[name]["type"] == "oauth2" for requirement in op.get("security", spec.get(
                         "security", [])) for name in requirement))


def _is_form(scope: dict[str, Any]) -> bool:
    return Headers(scope=scope).get("content-type", "").startswith(FORM)


def as_league_sees_it(inner: ASGIApp, ctx: Context) -> ASGIApp:
    bearer, forms = bearer_operations(), form_operations()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        route = route_of(scope)
        operation = route.operation_id if route else None
        if operation in bearer:
            scope = _with_league_bearer(scope)
        if operation not in forms or not _is_form(scope):
            await inner(scope, receive, send)
            return
        buffered = await read_body(receive)
        if buffered.disconnected:  # the client went away: let the app see it
            await inner(scope, replay(buffered.data, receive), send)
            return
        body = fit_form(buffered.data)
        if body is not buffered.data:
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await inner(scope, replay(body, receive), send)

    return app
