"""The login host's browser session: a signed cookie (itsdangerous) holding the CSRF token, once logged in the
user id, and, as Laravel keeps them, the URL a guest was sent to log in from (`url.intended`) and Passport's
`promptedForLogin`. HttpOnly and SameSite=Lax; the signing key is per state directory unless configured."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from harness.runtime import Context

COOKIE = "ekool_session"
MAX_AGE = 2 * 3600  # Laravel's default session lifetime


@dataclass(frozen=True)
class Session:
    csrf: str
    user_id: int | None = None
    intended: str | None = None  # where a successful login goes back to
    prompted_for_login: bool = False  # Passport: `prompt=login` asks for a new login once

    def csrf_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf.encode(), token.encode())

    def logged_in(self, user_id: int) -> Session:
        """A new session for the user (a fresh CSRF token, so a pre-login token cannot be replayed)."""
        return replace(self, csrf=secrets.token_urlsafe(32), user_id=user_id, intended=None)

    def logged_out(self) -> Session:
        """Laravel's logout, session invalidated and token regenerated."""
        return Session(csrf=secrets.token_urlsafe(32))


@cache
def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="ekool-session")


def _signer(ctx: Context) -> URLSafeTimedSerializer:
    return _serializer(ctx.settings.session_secret or ctx.store.secret("ekool-session"))


def load(ctx: Context, cookies: Mapping[str, str]) -> Session:
    """The session of the request's cookie; a fresh anonymous one if it is missing, forged or expired."""
    raw = cookies.get(COOKIE)
    if raw:
        try:
            data = _signer(ctx).loads(raw, max_age=MAX_AGE)
            return Session(csrf=str(data["csrf"]), user_id=data.get("uid"), intended=data.get("intended"),
                           prompted_for_login=bool(data.get("prompted")))
        except (BadSignature, KeyError, TypeError):
            pass
    return Session(csrf=secrets.token_urlsafe(32))


def save(ctx: Context, response: Response, session: Session) -> Response:
    value = _signer(ctx).dumps({"csrf": session.csrf, "uid": session.user_id, "intended": session.intended,
                                "prompted": session.prompted_for_login})
    response.set_cookie(COOKIE, value, httponly=True, samesite="lax", path="/")
    return response
