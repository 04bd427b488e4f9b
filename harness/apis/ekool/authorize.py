"""`GET /oauth/authorize` (league's checks, then Passport's AuthorizationController: a guest to the login page,
consent skipped for a returning user, `prompt`) and the consent page's decision post.

As measured against league 8.5.4 with Passport 12's controller (reference/ekool-oauth2.md, "Measured"): a guest
gets 302 to `/login` (the URL kept in the session) and comes back after logging in; `prompt=none` as a guest is
`access_denied` with hint `Unauthenticated`; `prompt=login` asks for a new login once; consent is skipped when
the user holds a valid, unrevoked access token for the client with exactly the requested scopes, unless
`prompt=consent`; `prompt=none` where consent would be asked is the user's denial.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from connexion import request
from starlette.responses import RedirectResponse, Response

from harness.apis.ekool import PLUGIN, clients, codes, oauth_errors, pages, scopes, sessions
from harness.apis.ekool.demo import AuthorizationRequest, User, find_client, find_user, find_user_by_name
from harness.runtime import Context, current

# The authorization request's parameters, carried through the login and consent forms as hidden fields.
PARAMETERS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
              "code_challenge_method")
_CHALLENGE_METHODS = ("S256", "plain")


def authorization_parameters(source: Mapping[str, Any]) -> dict[str, str]:
    return {name: source[name] for name in PARAMETERS if isinstance(source.get(name), str)}


def validate(ctx: Context, params: Mapping[str, str]) -> AuthorizationRequest:
    """league's AuthCodeGrant::validateAuthorizationRequest, check by check (reference/ekool-oauth2.md)."""
    if params.get("response_type") != "code" or params.get("client_id") is None:
        raise oauth_errors.unsupported_grant_type()
    client = find_client(ctx, params["client_id"])
    if client is None:
        raise oauth_errors.invalid_client()
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is not None:
        if not clients.redirect_uri_registered(redirect_uri, client):
            raise oauth_errors.invalid_client()
    elif len(client.redirect_uris) != 1:
        raise oauth_errors.invalid_client()
    final_redirect_uri = redirect_uri or client.redirect_uris[0]
    requested = scopes.parse(params.get("scope", ""))
    for scope in requested:
        if scope not in client.scopes:
            raise oauth_errors.invalid_scope(scope, final_redirect_uri)
    challenge = params.get("code_challenge")
    method = None
    if challenge is not None:
        method = params.get("code_challenge_method", "plain")
        if method not in _CHALLENGE_METHODS:
            raise oauth_errors.invalid_request("code_challenge_method", "Code challenge method must be one of "
                                         + ", ".join(f"`{m}`" for m in _CHALLENGE_METHODS))
        if not codes.PKCE_VALUE.fullmatch(challenge):
            raise oauth_errors.invalid_request("code_challenge",
                                               "Code challenge must follow the specifications of RFC-7636.")
    elif client.public:  # league's requireCodeChallengeForPublicClients, on by default
        raise oauth_errors.invalid_request("code_challenge", "Code challenge must be provided for public clients")
    return AuthorizationRequest(client, redirect_uri, tuple(dict.fromkeys(requested)), params.get("state"),
                                challenge, method, dict(params))


def approve(ctx: Context, auth: AuthorizationRequest, user: User) -> Response:
    with ctx.store.transaction() as tx:
        code = codes.issue(tx, auth.client.id, user.id, auth.redirect_uri, list(auth.scopes), auth.code_challenge,
                           auth.code_challenge_method, ctx.clock.now() + PLUGIN.lifetime(ctx.settings, "ekool_code"))
    params = [("code", code)] + ([("state", auth.state)] if auth.state is not None else [])
    return oauth_errors.redirect(auth.final_redirect_uri, params)


def deny(auth: AuthorizationRequest) -> Response:
    uri = oauth_errors.with_query(auth.final_redirect_uri, [("state", auth.state)] if auth.state is not None else [])
    return oauth_errors.to_response(oauth_errors.access_denied("The user denied the request", uri), {})


def deny_guest(auth: AuthorizationRequest) -> Response:
    """Passport's denyRequest without a user: `state=` is always appended (empty when the request had none)."""
    uri = oauth_errors.with_query(auth.final_redirect_uri, [("state", auth.state or "")])
    return oauth_errors.to_response(oauth_errors.access_denied("Unauthenticated", uri), {})


def has_valid_token(ctx: Context, user: User, auth: AuthorizationRequest) -> bool:
    """Passport's hasValidToken: the user's latest unrevoked, unexpired token for the client has exactly the
    requested scopes."""
    row = ctx.store.one("SELECT scopes FROM ekool_access_tokens WHERE user_id = ? AND client_id = ? AND revoked = 0"
                        " AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
                        (user.id, auth.client.id, ctx.clock.now()))
    return row is not None and json.loads(row["scopes"]) == list(auth.scopes)


def _to_login(session: sessions.Session, **changes: Any) -> Response:
    """Laravel's `redirect()->guest(route('login'))`: remember where the user was going, send them to log in.
    Laravel writes both URLs absolute from the request's host; relative ones stay right behind any proxy."""
    back = f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path
    response = RedirectResponse("/login", status_code=302)
    return sessions.save(current(), response, replace(session, intended=back, **changes))


def start() -> Response:
    ctx = current()
    try:
        auth = validate(ctx, authorization_parameters(request.query_params))
    except oauth_errors.OAuthError as err:
        return oauth_errors.to_response(err, request.headers)
    auto_user = find_user_by_name(ctx, ctx.settings.auto_login) if ctx.settings.auto_login else None
    if auto_user is not None:
        return approve(ctx, auth, auto_user)
    session = sessions.load(ctx, request.cookies)
    user = find_user(ctx, session.user_id) if session.user_id is not None else None
    prompt = request.query_params.get("prompt")
    if user is None:
        return deny_guest(auth) if prompt == "none" else _to_login(session, prompted_for_login=True)
    if prompt == "login" and not session.prompted_for_login:
        return _to_login(session.logged_out(), prompted_for_login=True)
    session = replace(session, prompted_for_login=False)
    if prompt != "consent" and has_valid_token(ctx, user, auth):
        return sessions.save(ctx, approve(ctx, auth, user), session)
    if prompt == "none":
        return sessions.save(ctx, deny(auth), session)
    return sessions.save(ctx, pages.consent(auth, user, session.csrf), session)


def decide(body: dict[str, Any]) -> Response:
    ctx = current()
    session = sessions.load(ctx, request.cookies)
    user = find_user(ctx, session.user_id) if session.user_id is not None else None
    if user is None or not session.csrf_matches(body.get("_token")):
        return pages.expired()
    try:
        auth = validate(ctx, authorization_parameters(body))
    except oauth_errors.OAuthError as err:
        return oauth_errors.to_response(err, request.headers)
    return approve(ctx, auth, user) if body.get("decision") == "approve" else deny(auth)


