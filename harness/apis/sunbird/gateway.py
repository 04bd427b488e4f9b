"""The Kong-like gateway in front of the register and refresh routes (reference/sunbird-api-manager.md, "Gateway").

Plugin order as in Kong (by priority): jwt → request-size-limiting → acl → rate-limiting. Each failure is
answered here with Kong's `{"message": ...}` body: after connexion has routed the request (the gateway is
Sunbird's operation layer, `harness.routing`), before it checks security or validates anything.

The guarded operations and their ACL groups are the spec's operations that carry `x-kong-acl-groups`: a list of
groups, or groups per value of a path parameter with an `otherwise` (any other consumer segment goes to the
service for the super-admin group only: that keeps the service's own unknown-consumer errors, v1 400 and v2 500,
reachable without letting a device or app credential mint credentials for an arbitrary consumer).

A method the spec does not list on a guarded path routes to no operation: it is answered 405 before the gateway
looks at the token. (A Kong route declared without methods would check the token first; the seeds and the
measured clients never send such a request.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import anyio.to_thread
from jwt.algorithms import RSAAlgorithm

from harness.apis.sunbird import credentials
from harness.apis.sunbird.credentials import Credential
from harness.apis.sunbird.envelope import gateway_message
from harness.asgi import Body, read_body, replay
from harness.authtoken import hs256_signature_valid, signature_bytes, signing_input
from harness.crypto.tokens import MalformedToken, split
from harness.routing import route_of, slot_of
from harness.runtime import Context
from harness.specs import load_spec, operations

CREDENTIAL_SCOPE_KEY = "sunbird.credential"
BODY_NOTE = "sunbird.body"
MAX_BODY_BYTES = 1 << 20  # Kong's allowed_payload_size is in megabytes (2^20 bytes)

UNAUTHORIZED = "Unauthorized"
NO_CREDENTIALS = "No credentials found for given 'iss'"
INVALID_ALGORITHM = "Invalid algorithm"
INVALID_SIGNATURE = "Invalid signature"
ACL_DENIED = "You cannot consume this service"
TOO_LARGE = "Request size limit exceeded"
RATE_LIMITED = "API rate limit exceeded"

ACL_EXTENSION = "x-kong-acl-groups"
_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)
_RS256 = RSAAlgorithm(RSAAlgorithm.SHA256)


class Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


GroupRule = Callable[[dict[str, str]], frozenset[str]]


def _group_rule(acl: Any) -> GroupRule:
    if isinstance(acl, list):
        groups = frozenset(acl)
        return lambda params: groups
    values = {value: frozenset(groups) for value, groups in acl["values"].items()}
    otherwise, parameter = frozenset(acl["otherwise"]), acl["parameter"]
    return lambda params: values.get(params.get(parameter, ""), otherwise)


@cache
def guarded_operations() -> dict[str, GroupRule]:
    """operationId → the rule giving its ACL groups, for every operation with `x-kong-acl-groups`."""
    return {operation["operationId"]: _group_rule(operation[ACL_EXTENSION])
            for _, _, operation in operations(load_spec("sunbird")) if ACL_EXTENSION in operation}


def operation_groups(operation_id: str, path_params: dict[str, str]) -> frozenset[str] | None:
    """The ACL groups a guarded operation allows here, or None if the gateway does not guard it."""
    rule = guarded_operations().get(operation_id)
    return rule(path_params) if rule is not None else None


def bearer_token(authorization: str | None) -> str:
    match = _BEARER.match(authorization or "")
    if not match:
        raise Rejected(401, UNAUTHORIZED)
    return match.group(1)


def authenticate(ctx: Context, token: str) -> Credential:
    """Kong's jwt plugin: find the credential by `kid`, else `iss`; its algorithm; its signature."""
    try:
        header, payload, _ = split(token)
    except MalformedToken as exc:
        raise Rejected(401, UNAUTHORIZED) from exc
    lookup = header.get("kid") if "kid" in header else payload.get("iss")
    credential = credentials.find(ctx.store, lookup) if isinstance(lookup, str) else None
    if credential is None:
        raise Rejected(403, NO_CREDENTIALS)
    if header.get("alg") != credential.algorithm:
        raise Rejected(403, INVALID_ALGORITHM)
    if not signature_valid(ctx, token, credential, payload):
        raise Rejected(403, INVALID_SIGNATURE)
    return credential


def signature_valid(ctx: Context, token: str, credential: Credential, payload: dict[str, Any]) -> bool:
    if credential.algorithm == "HS256":
        return credential.secret is not None and hs256_signature_valid(token, credential.secret)
    exp = payload.get("exp")
    return bool(ctx.keys.verified.remember(("RS256", credential.key, token),
                                           lambda: _rs256_signature_valid(ctx, token, credential),
                                           lambda _: exp if isinstance(exp, int | float) else None,
                                           ctx.clock.now()))


def _rs256_signature_valid(ctx: Context, token: str, credential: Credential) -> bool:
    try:
        signature = signature_bytes(token.rsplit(".", 1)[-1])
    except MalformedToken:
        return False
    return _RS256.verify(signing_input(token), ctx.keys.public(credential.key), signature)


def check_acl(credential: Credential, groups: frozenset[str]) -> None:
    if not groups & credential.groups:
        raise Rejected(403, ACL_DENIED)


def check_rate_limit(ctx: Context, credential: Credential) -> None:
    """Count the hit in the store (a write: it may wait for the lock, so callers run it in a thread)."""
    limit = ctx.settings.rate_limit_per_minute
    if limit > 0 and credentials.count_hit(ctx.store, credential.key, int(ctx.clock.now() // 60)) > limit:
        raise Rejected(429, RATE_LIMITED)


def bearer_info(token: str, required_scopes: list[str] | None = None, request: Any = None) -> dict[str, Any] | None:
    """connexion's check for `bearerAuth`: accept only what the gateway verified for this request."""
    credential = request.scope.get(CREDENTIAL_SCOPE_KEY) if request is not None else None
    if not isinstance(credential, Credential):
        return None
    return {"sub": credential.consumer, "key": credential.key, "groups": sorted(credential.groups)}


def _declared_length(scope: dict[str, Any]) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _header(scope: dict[str, Any], wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return None


class Gateway:
    """The operation layer (`harness.routing`): guards the operations of `guarded_operations`, passes every
    other Sunbird operation through untouched."""

    def __init__(self, app: Any, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        route = route_of(scope)
        groups = operation_groups(route.operation_id, scope.get("path_params", {})) if route else None
        if groups is None:
            await self.app(scope, receive, send)
            return
        try:
            token = bearer_token(_header(scope, b"authorization"))
            # On the event loop: one indexed read of the local WAL store and one HMAC or RSA verification
            # cost less than the hop to the thread pool.
            credential = authenticate(self.ctx, token)
            body = Body(b"", too_large=True) if _declared_length(scope) > MAX_BODY_BYTES else await read_body(
                receive, MAX_BODY_BYTES)
            if body.too_large:
                raise Rejected(413, TOO_LARGE)
            check_acl(credential, groups)
            if self.ctx.settings.rate_limit_per_minute > 0:  # a store write: off the event loop
                await anyio.to_thread.run_sync(check_rate_limit, self.ctx, credential)
        except Rejected as rejection:
            await gateway_message(rejection.status, rejection.message)(scope, receive, send)
            return
        slot_of(scope).notes[BODY_NOTE] = body.data  # what the service's 400 answer quotes (`errors.py`)
        await self.app({**scope, CREDENTIAL_SCOPE_KEY: credential}, replay(body.data, receive), send)


def operation_layer(app: Any, ctx: Context) -> Gateway:
    return Gateway(app, ctx)
