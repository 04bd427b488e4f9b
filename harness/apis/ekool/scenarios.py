"""eKool's part of the admin API's OAuth scenarios: revoking every token of a user or client, and a refresh
made to fail (`/__harness/tokens/revoke`, `/__harness/refresh-failures`)."""

from __future__ import annotations

from collections.abc import Mapping

from harness.apis.ekool import oauth_errors, tokens
from harness.runtime import Context
from harness.store import Transaction
from harness.triggers import REFRESH_FAILURE

REFRESH_FAILURE_NAME = REFRESH_FAILURE.format(api="ekool")
_KINDS = {"access_tokens": "ekool_access_tokens", "refresh_tokens": "ekool_refresh_tokens",
          "codes": "ekool_auth_codes"}


def revoke_tokens(ctx: Context, tx: Transaction, user: str | None, client: str | None) -> dict[str, int]:
    """Passport's revocation of every access token, refresh token and unused code of the user (by username) and/or
    client: the resources then answer 401 "Access token has been revoked", a refresh "Token has been revoked", a
    code "Authorization code has been revoked", and the next authorization asks for consent again."""
    conditions, params = ["revoked = 0"], []
    if user is not None:
        row = tx.execute("SELECT id FROM ekool_users WHERE username = ?", (user,)).fetchone()
        conditions.append("user_id = ?")
        params.append(row["id"] if row else -1)
    if client is not None:
        conditions.append("client_id = ?")
        params.append(client)
    where = " AND ".join(conditions)
    return {kind: tx.execute(f"UPDATE {table} SET revoked = 1 WHERE {where}", params).rowcount  # fixed names
            for kind, table in _KINDS.items()}


def injected_refresh_failure(ctx: Context, tx: Transaction, form: Mapping[str, str]
                             ) -> oauth_errors.OAuthError | None:
    """An armed refresh failure, used up by this refresh: the presented pair is revoked (as a server that refuses
    a refresh token is done with it) and the answer is the `invalid_grant` Passport gives on league 9 for a revoked
    refresh token (league 8.5.4, measured, says 401 `invalid_request` for one: what the next try with it gets)."""
    presented = form.get("refresh_token")
    if presented is None or not ctx.triggers.take(REFRESH_FAILURE_NAME, tx):
        return None
    old = tokens.find_refresh(tx, presented)
    if old is not None:
        tokens.revoke_pair(tx, old)
    return oauth_errors.OAuthError("invalid_grant", "The refresh token is invalid.", 400, "Token has been revoked")
