"""`GET /login` (the login page a guest is sent to) and `POST /login` (its form). Success starts a session and
goes back to the URL the session remembers (Laravel's `redirect()->intended()`), the authorization request."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from connexion import request
from starlette.responses import RedirectResponse, Response

from harness.apis.ekool import pages, sessions
from harness.apis.ekool.demo import authenticate, find_client
from harness.runtime import Context, current

FAILED = "These credentials do not match our records."


def _client_name(ctx: Context, intended: str | None) -> str | None:
    client_id = parse_qs(urlsplit(intended or "").query).get("client_id", [None])[0]
    client = find_client(ctx, client_id) if client_id else None
    return client.name if client else None


def show() -> Response:
    ctx = current()
    session = sessions.load(ctx, request.cookies)
    return sessions.save(ctx, pages.login(session.csrf, _client_name(ctx, session.intended)), session)


def submit(body: dict[str, Any]) -> Response:
    ctx = current()
    session = sessions.load(ctx, request.cookies)
    if not session.csrf_matches(body.get("_token")):
        return pages.expired()
    username, password = body.get("username"), body.get("password")
    user = authenticate(ctx, username, password) if isinstance(username, str) and isinstance(password, str) else None
    if user is None:
        page = pages.login(session.csrf, _client_name(ctx, session.intended), error=FAILED,
                           username=username if isinstance(username, str) else "")
        return sessions.save(ctx, page, session)
    back = RedirectResponse(session.intended or "/", status_code=302)
    return sessions.save(ctx, back, session.logged_in(user.id))
