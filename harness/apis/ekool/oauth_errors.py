"""league/oauth2-server 8 errors: the exception, its JSON body (key order error, error_description, hint,
message), its redirect form, and the translation of connexion's own errors on eKool paths."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.responses import JSONResponse, RedirectResponse, Response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_INVALID_REQUEST = ("The request is missing a required parameter, includes an invalid parameter value, includes a "
                    "parameter more than once, or is otherwise malformed.")
_ACCESS_DENIED = "The resource owner or authorization server denied the request."


@dataclass
class OAuthError(Exception):
    error: str
    description: str
    status: int
    hint: str | None = None
    # Set when league answers with a redirect to the client instead of a JSON body.
    redirect_uri: str | None = None

    def payload(self) -> dict[str, str]:
        body = {"error": self.error, "error_description": self.description}
        if self.hint is not None:
            body["hint"] = self.hint
        body["message"] = self.description
        return body


def unsupported_grant_type() -> OAuthError:
    return OAuthError("unsupported_grant_type",
                      "The authorization grant type is not supported by the authorization server.", 400,
                      "Check that all required parameters have been provided")


def invalid_request(parameter: str, hint: str | None = None, status: int = 400) -> OAuthError:
    return OAuthError("invalid_request", _INVALID_REQUEST, status, hint or f"Check the `{parameter}` parameter")


def invalid_client() -> OAuthError:
    return OAuthError("invalid_client", "Client authentication failed", 401)


def invalid_scope(scope: str, redirect_uri: str | None = None) -> OAuthError:
    # league escapes the scope with htmlspecialchars(ENT_QUOTES) before quoting it in the hint.
    escaped = html.escape(scope, quote=True).replace("&#x27;", "&#039;")
    return OAuthError("invalid_scope", "The requested scope is invalid, unknown, or malformed", 400,
                      f"Check the `{escaped}` scope", redirect_uri)


def invalid_grant(hint: str) -> OAuthError:
    return OAuthError("invalid_grant", "The provided authorization grant (e.g., authorization code, resource owner "
                      "credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI "
                      "used in the authorization request, or was issued to another client.", 400, hint)


def invalid_refresh_token(hint: str) -> OAuthError:
    return OAuthError("invalid_request", "The refresh token is invalid.", 401, hint)


def access_denied(hint: str, redirect_uri: str | None = None) -> OAuthError:
    return OAuthError("access_denied", _ACCESS_DENIED, 401, hint, redirect_uri)


def insufficient_scope(scopes: Iterable[str]) -> OAuthError:
    return OAuthError("insufficient_scope", "The request requires higher privileges than provided by the access "
                      "token.", 403, f"Check the `{' '.join(scopes)}` scope")


def with_query(uri: str, params: Iterable[tuple[str, str]]) -> str:
    """`uri` with form-encoded parameters appended (spaces as `+`, like PHP's http_build_query)."""
    query = urlencode(list(params))
    return f"{uri}{'&' if '?' in uri else '?'}{query}" if query else uri


def redirect(uri: str, params: Iterable[tuple[str, str]] = ()) -> RedirectResponse:
    return RedirectResponse(with_query(uri, params), status_code=302)


def to_response(
    err: OAuthError, request_headers: Mapping[str, str], extra_headers: Mapping[str, str] | None = None
) -> Response:
    """The error as league sends it: a redirect when it carries a redirect URI, else JSON."""
    if err.redirect_uri is not None:
        return redirect(err.redirect_uri, err.payload().items())
    headers = dict(extra_headers or {})
    authorization = request_headers.get("authorization")
    if err.error == "invalid_client" and authorization:
        scheme = "Bearer" if authorization.startswith("Bearer") else "Basic"
        headers["WWW-Authenticate"] = f'{scheme} realm="OAuth"'
    if err.error == "insufficient_scope" and err.hint:
        needed = err.hint.removeprefix("Check the `").removesuffix("` scope")
        headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{needed}"'
    return JSONResponse(err.payload(), status_code=err.status, headers=headers)


_PARAMETER_PATTERNS = (
    re.compile(r"schema\['properties'\]\['([^']+)'\]"),
    re.compile(r"'([^']+)' is a required property"),
    re.compile(r"parameter '([^']+)'"),
    re.compile(r" - '([^']+)'\s*$"),
)


def parameter_named_in(detail: str) -> str | None:
    """The request parameter a connexion validation message is about, if it names one."""
    for pattern in _PARAMETER_PATTERNS:
        match = pattern.search(detail)
        if match:
            return match.group(1)
    return None
