"""`POST /oauth/token`: the authorization_code and refresh_token grants, with league's checks in league's order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connexion import request
from starlette.responses import JSONResponse, Response

from harness.apis.ekool import clients, codes, oauth_errors, scenarios, scopes, tokens
from harness.apis.ekool.demo import Client
from harness.runtime import Context, current
from harness.store import Transaction

# league's BearerTokenResponse: `no-store`/`no-cache` and a charset on success only; its errors carry neither
# (reference/ekool-oauth2.md, "Measured against the genuine library")
TOKEN_CONTENT_TYPE = "application/json; charset=UTF-8"


def laravel_input(body: dict[str, Any]) -> dict[str, str]:
    """The parameters league sees: Laravel's TrimStrings and ConvertEmptyStringsToNull run first, so values are
    trimmed and an empty one is absent (reference/ekool-oauth2.md, "Measured"); a form or a JSON body alike."""
    return {key: value.strip() for key, value in body.items() if isinstance(value, str) and value.strip()}


def token(body: dict[str, Any]) -> Response:
    form = laravel_input(body)
    try:
        answer = grant(current(), form, request.headers)
    except oauth_errors.OAuthError as err:
        return oauth_errors.to_response(err, request.headers)
    return JSONResponse(answer, headers=oauth_errors.NO_STORE, media_type=TOKEN_CONTENT_TYPE)


def grant(ctx: Context, form: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, Any]:
    grant_type = form.get("grant_type")
    if grant_type not in ("authorization_code", "refresh_token"):
        raise oauth_errors.unsupported_grant_type()
    # One write transaction: a code or refresh token is checked and spent atomically across workers.
    with ctx.store.transaction() as tx:
        client = clients.authenticate(ctx, form, headers, form.get("redirect_uri"), grant_type)
        if grant_type == "authorization_code":
            return _exchange_code(ctx, tx, client, form)
        failure = scenarios.injected_refresh_failure(ctx, tx, form)
        if failure is None:
            return _refresh(ctx, tx, client, form)
    raise failure  # after the commit: the failure is used up and the pair revoked


def _exchange_code(ctx: Context, tx: Transaction, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
    value = form.get("code")
    if value is None:
        raise oauth_errors.invalid_request("code")
    code = codes.find(tx, value)
    if code is None:
        raise oauth_errors.invalid_request("code", "Cannot decrypt the authorization code")
    if ctx.clock.now() > code.expires_at:
        raise oauth_errors.invalid_request("code", "Authorization code has expired")
    if code.revoked:
        raise oauth_errors.invalid_request("code", "Authorization code has been revoked")
    if code.client_id != client.id:
        raise oauth_errors.invalid_request("code", "Authorization code was not issued to this client")
    redirect_uri = form.get("redirect_uri")
    if code.redirect_uri is not None and redirect_uri is None:
        raise oauth_errors.invalid_request("redirect_uri")
    if code.redirect_uri != redirect_uri:
        raise oauth_errors.invalid_request("redirect_uri", "Invalid redirect URI")
    _check_verifier(code, form.get("code_verifier"))
    codes.revoke(tx, code)
    return tokens.issue_pair(ctx, tx, client.id, code.user_id, list(code.scopes))


def _check_verifier(code: codes.AuthCode, verifier: str | None) -> None:
    if not code.code_challenge:
        if verifier is not None:  # blocks a PKCE downgrade
            raise oauth_errors.invalid_request("code_challenge",
                                         "code_verifier received when no code_challenge is present")
        return
    if verifier is None:
        raise oauth_errors.invalid_request("code_verifier")
    if not codes.PKCE_VALUE.fullmatch(verifier):
        raise oauth_errors.invalid_request("code_verifier", "Code Verifier must follow the specifications of RFC-7636.")
    if not code.verifier_matches(verifier):
        raise oauth_errors.invalid_grant("Failed to verify `code_verifier`.")


def _refresh(ctx: Context, tx: Transaction, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
    value = form.get("refresh_token")
    if value is None:
        raise oauth_errors.invalid_request("refresh_token")
    old = tokens.find_refresh(tx, value)
    if old is None:
        raise oauth_errors.invalid_refresh_token("Cannot decrypt the refresh token")
    if old.client_id != client.id:
        raise oauth_errors.invalid_refresh_token("Token is not linked to client")
    if old.expires_at < ctx.clock.now():
        raise oauth_errors.invalid_refresh_token("Token has expired")
    if old.revoked:
        raise oauth_errors.invalid_refresh_token("Token has been revoked")
    requested = form.get("scope")
    wanted = list(old.scopes) if requested is None else scopes.parse(requested)
    for scope in wanted:
        if scope not in scopes.descriptions():
            raise oauth_errors.invalid_scope(scope)
    for scope in wanted:
        if scope not in old.scopes:
            raise oauth_errors.invalid_scope(scope)
    tokens.revoke_pair(tx, old)
    return tokens.issue_pair(ctx, tx, client.id, old.user_id, wanted)
