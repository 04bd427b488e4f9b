"""`POST /login`: the login page's form. Success starts a session and returns to the authorization request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from connexion import request
from starlette.responses import RedirectResponse, Response

from harness.apis.ekool import pages, sessions
from harness.apis.ekool.authorize import authorization_parameters
from harness.apis.ekool.demo import authenticate, find_client
from harness.runtime import current

FAILED = "These credentials do not match our records."


def submit(body: dict[str, Any]) -> Response:
    ctx = current()
    session = sessions.load(ctx, request.cookies)
    if not session.csrf_matches(body.get("_token")):
        return pages.expired()
    params = authorization_parameters(body)
    username, password = body.get("username"), body.get("password")
    user = authenticate(ctx, username, password) if isinstance(username, str) and isinstance(password, str) else None
    if user is None:
        client = find_client(ctx, params["client_id"]) if "client_id" in params else None
        page = pages.login(params, session.csrf, client.name if client else None, error=FAILED,
                           username=username if isinstance(username, str) else "")
        return sessions.save(ctx, page, session)
    back = RedirectResponse(f"/oauth/authorize?{urlencode(params)}", status_code=302)
    return sessions.save(ctx, back, session.logged_in(user.id))
