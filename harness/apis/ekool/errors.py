"""connexion's own errors on eKool paths (validation, security, routing) answered the way eKool answers them.

Keyed on the operation the error came from (`harness.routing`); a request that matched no operation (404,
405) is eKool's when `owns` says its path is.
"""

from __future__ import annotations

import logging
from functools import cache

from connexion.exceptions import OAuthProblem, OAuthScopeProblem, ProblemException
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from harness.apis.ekool import bearer, oauth_errors
from harness.apis.ekool.authorize import authorization_parameters, validate
from harness.routing import route_of
from harness.runtime import SCOPE_KEY, Context
from harness.specs import HTTP_METHODS, served_spec

RESOURCE_PREFIXES = ("/generaldata", "/user/")
log = logging.getLogger("harness.ekool")


def owns(path: str) -> bool:
    return path.startswith("/oauth/") or path == "/login" or path.startswith(RESOURCE_PREFIXES)


@cache
def _allowed_methods() -> dict[str, str]:
    """`Allow` per path from the spec (the router would list only the first route's methods)."""
    allowed = {}
    for path, item in served_spec("ekool")["paths"].items():
        methods = [m.upper() for m in HTTP_METHODS if m in item]
        allowed[path] = ", ".join(methods + (["HEAD"] if "GET" in methods else []))
    return allowed


def _status(exc: Exception) -> int:
    if isinstance(exc, ProblemException):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    return 400 if isinstance(exc, UnicodeDecodeError | MultiPartException) else 500


def _authorize_error(ctx: Context, request: Request) -> oauth_errors.OAuthError:
    """Re-run league's checks on the raw query, so a schema error gets league's answer in league's order."""
    try:
        validate(ctx, authorization_parameters(request.query_params))
    except oauth_errors.OAuthError as err:
        return err
    return oauth_errors.invalid_request("request")


def _bad_request(operation: str | None, exc: Exception) -> oauth_errors.OAuthError:
    detail = str(getattr(exc, "detail", "") or exc)
    parameter = oauth_errors.parameter_named_in(detail)
    if operation == "issueToken" and parameter == "grant_type":
        return oauth_errors.unsupported_grant_type()
    return oauth_errors.invalid_request(parameter or "request")


def _generic(status: int, exc: Exception) -> oauth_errors.OAuthError:
    names = {404: ("not_found", "The requested resource could not be found."),
             405: ("method_not_allowed", "The request method is not supported by this resource."),
             415: ("invalid_request", "The request body must be application/x-www-form-urlencoded.")}
    error, description = names.get(status, ("server_error", "The authorization server encountered an unexpected "
                                            "condition which prevented it from fulfilling the request."))
    return oauth_errors.OAuthError(error, description, status)


async def error_response(request: Request, exc: Exception) -> Response:
    status = _status(exc)
    allow = _allowed_methods().get(request.url.path) if status == 405 else None
    headers = {"Allow": allow} if allow else {}
    ctx: Context = request.scope[SCOPE_KEY]
    route = route_of(request.scope)
    operation = route.operation_id if route else None
    if isinstance(exc, OAuthScopeProblem):
        err = oauth_errors.insufficient_scope(exc.required_scopes)
    elif isinstance(exc, bearer.BearerRejected):
        err = oauth_errors.access_denied(exc.hint)
    elif isinstance(exc, OAuthProblem):
        hint = await run_in_threadpool(bearer.hint_for, ctx, request.headers.get("authorization"))
        err = oauth_errors.access_denied(hint)
    elif status == 415 and operation == "issueToken":
        # Laravel reads a form or JSON only: any other body gives league no input, so no grant_type
        err = oauth_errors.unsupported_grant_type()
    elif status == 400 and operation == "authorize":
        err = await run_in_threadpool(_authorize_error, ctx, request)
    elif status == 400:
        err = _bad_request(operation, exc)
    else:
        if status >= 500 and not isinstance(exc, HTTPException):  # an HTTPException is a deliberate answer (a fault)
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        err = _generic(status, exc)
    return oauth_errors.to_response(err, request.headers, headers)
