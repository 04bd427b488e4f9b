"""Sunbird's part of the admin API's OAuth scenarios: the realm stand-in's sessions of a user or client ended
(`/__harness/tokens/revoke`), and the refresh endpoint made to fail (`/__harness/refresh-failures`).

The refresh endpoint never asks the realm (reference/sunbird-api-manager.md, "Refresh"), so ending sessions
refuses the realm's own refresh grant, not `/auth/v1/refresh/token`: a failure there is armed on its own.
"""

from __future__ import annotations

from harness.runtime import Context
from harness.store import Transaction
from harness.triggers import REFRESH_FAILURE

REFRESH_FAILURE_NAME = REFRESH_FAILURE.format(api="sunbird")


def revoke_tokens(ctx: Context, tx: Transaction, user: str | None, client: str | None) -> dict[str, int]:
    """Keycloak's "sign out" of every session of the realm user (username) and/or realm client: their refresh
    tokens get `invalid_grant` at the realm's token endpoint."""
    conditions, params = [], []
    if user is not None:
        conditions.append("username = ?")
        params.append(user)
    if client is not None:
        conditions.append("client_id = ?")
        params.append(client)
    ended = tx.execute(f"DELETE FROM sunbird_realm_sessions WHERE {' AND '.join(conditions) or '1'}", params)
    return {"realm_sessions": ended.rowcount}


def refresh_fails(ctx: Context) -> bool:
    """An armed failure of `/auth/v1/refresh/token`, used up by this call."""
    return ctx.triggers.take(REFRESH_FAILURE_NAME)
