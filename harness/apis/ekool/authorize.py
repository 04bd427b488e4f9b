"""`GET /oauth/authorize` (checks, then the login or consent page) and the consent page's decision post."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connexion import request
from starlette.responses import Response

from harness.apis.ekool import clients, codes, oauth_errors, pages, scopes, sessions
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
    return AuthorizationRequest(client, redirect_uri, tuple(dict.fromkeys(requested)), params.get("state"),
                                challenge, method, dict(params))


def approve(ctx: Context, auth: AuthorizationRequest, user: User) -> Response:
    with ctx.store.transaction() as tx:
        code = codes.issue(tx, auth.client.id, user.id, auth.redirect_uri, list(auth.scopes), auth.code_challenge,
                           auth.code_challenge_method, ctx.clock.now())
    params = [("code", code)] + ([("state", auth.state)] if auth.state is not None else [])
    return oauth_errors.redirect(auth.final_redirect_uri, params)


def deny(auth: AuthorizationRequest) -> Response:
    uri = oauth_errors.with_query(auth.final_redirect_uri, [("state", auth.state)] if auth.state is not None else [])
    return oauth_errors.to_response(oauth_errors.access_denied("The user denied the request", uri), {})


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
    if user is None:
        page = pages.login(auth.parameters, session.csrf, auth.client.name)
    else:
        page = pages.consent(auth, user, session.csrf)
    return sessions.save(ctx, page, session)


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


