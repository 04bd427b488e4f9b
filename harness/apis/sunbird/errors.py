"""Connexion's errors on Sunbird paths, answered the way the layer that would really answer does.

Register: 400 → envelope with the service's messages; 415/405 → Spring's error body; 5xx → INTERNAL_ERROR.
Refresh: 400 → envelope `BAD_REQUEST` with `errmsg ""`; others → Spring's body. Realm: Keycloak's
`{error, error_description}`. No route → Kong's 404; a failed connexion security check → Kong's 401.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus

from connexion.exceptions import ProblemException
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from harness.apis.sunbird.envelope import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    INTERNAL_ERROR_MESSAGE,
    gateway_message,
    msgid_of,
    realm_error,
    refresh_error,
    register_error,
    service_error,
)
from harness.apis.sunbird.gateway import BODY_NOTE, UNAUTHORIZED
from harness.apis.sunbird.validation import parse_json, register_errors
from harness.routing import slot_of

log = logging.getLogger("harness.sunbird")
NO_ROUTE = "no Route matched with those values"
_PREFIX = re.compile(r"^/api(?=/|$)")
_REALM = "/auth/realms/"  # Keycloak answers every path under it, an operation's or not
REGISTER_OPERATIONS = frozenset({"registerCredentialV1", "registerCredentialV2", "getApiToken"})
REALM_OPERATIONS = frozenset({"realmToken", "realmCerts", "realmOpenidConfiguration"})


def owns(path: str) -> bool:
    """Sunbird answers for `/api/...` and the unprefixed gateway and realm paths."""
    return bool(_PREFIX.match(path)) or path.startswith(("/api-manager/", "/auth/"))


def _status(exc: Exception) -> int:
    if isinstance(exc, ProblemException):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, UnicodeDecodeError | MultiPartException):  # undecodable body, form field over 1 MB
        return 400
    return 500


def _headers(exc: Exception) -> dict[str, str] | None:
    headers = getattr(exc, "headers", None)
    return dict(headers) if headers else None


def _envelope(answer: tuple[dict, int], headers: dict[str, str] | None) -> JSONResponse:
    body, status = answer
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(request: Request, exc: Exception) -> Response:
    """Keyed on the operation the error came from (`harness.routing`); a request that matched none (404, 405)
    by its path."""
    path = _PREFIX.sub("", re.sub(r"/{2,}", "/", request.url.path))
    slot = slot_of(request.scope)
    operation = slot.route.operation_id if slot.route else None
    status, headers = _status(exc), _headers(exc)
    if status >= 500 and not isinstance(exc, HTTPException):  # an HTTPException is a deliberate answer (a fault)
        log.error("unexpected error on %s", path, exc_info=exc)
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    if operation in REALM_OPERATIONS or (operation is None and path.startswith(_REALM)):
        detail = getattr(exc, "detail", None) or reason
        error = "invalid_request" if status < 500 else "server_error"
        return realm_error(status, error, str(detail), headers)
    if status == 401:
        return gateway_message(401, UNAUTHORIZED, headers)
    if status == 404:
        return gateway_message(404, NO_ROUTE, headers)
    if operation in REGISTER_OPERATIONS:
        if status == 400:
            raw = slot.notes.get(BODY_NOTE, b"")
            document = parse_json(raw)
            messages = register_errors(document) or [str(getattr(exc, "detail", "") or reason)]
            return _envelope(register_error(400, BAD_REQUEST, ", ".join(messages), msgid_of(document)), headers)
        if status >= 500:
            return _envelope(register_error(500, INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE), headers)
    if operation == "refreshAccessToken" and status == 400:
        return _envelope(refresh_error(BAD_REQUEST, ""), headers)
    return service_error(status, reason, path, headers)
