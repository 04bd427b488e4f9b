"""Token pairs: the RS256 access JWT (league's header and claim order), the opaque refresh token (stored
hashed), their rows in the shared store, rotation and revocation."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from harness.apis.ekool import ACCESS_KID as ACCESS_KID  # re-exported
from harness.apis.ekool import PLUGIN
from harness.apis.ekool.codes import opaque
from harness.apis.ekool.demo import digest
from harness.runtime import Context
from harness.store import Transaction


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str
    access_jti: str
    client_id: str
    user_id: int
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool


def numeric_date(micros: int, whole_seconds: bool = False) -> int | float:
    """A NumericDate (given in microseconds) as lcobucci/jwt 4-5 writes it: seconds with microseconds (`U.u`),
    an integer when the microseconds are zero; or whole seconds."""
    if whole_seconds or micros % 1_000_000 == 0:
        return micros // 1_000_000
    return micros / 1_000_000


def access_token(ctx: Context, client_id: str, user_id: int, scopes: list[str], jti: str, expires_at: float) -> str:
    """league 8's JWT: `exp` from the token entity (made first), then `iat` and `nbf` at conversion, a microsecond
    apart, so `exp - iat` is a little under the TTL; header `typ`, `alg` and no `kid` (reference/ekool-oauth2.md,
    "Measured against the genuine library")."""
    whole = ctx.settings.ekool_integer_timestamps
    issued = round(ctx.clock.now() * 1_000_000)
    claims = {"aud": client_id, "jti": jti, "iat": numeric_date(issued, whole),
              "nbf": numeric_date(issued + 1, whole),
              "exp": numeric_date(round(expires_at * 1_000_000), whole), "sub": str(user_id), "scopes": scopes}
    # sort_headers=False keeps league's header order: typ, alg.
    key = ctx.keys.private(ctx.keys.current(ACCESS_KID))
    return jwt.encode(claims, key, algorithm="RS256", headers={"typ": "JWT", "alg": "RS256"}, sort_headers=False)


def issue_pair(ctx: Context, tx: Transaction, client_id: str, user_id: int, scopes: list[str]) -> dict[str, Any]:
    """Store and return a new access/refresh pair as the token endpoint's body (league's key order)."""
    now = ctx.clock.now()
    access_ttl = PLUGIN.lifetime(ctx.settings, "ekool_access")
    expires_at = now + access_ttl
    jti = secrets.token_hex(40)
    refresh = opaque()
    scopes_json = json.dumps(scopes)
    tx.execute("INSERT INTO ekool_access_tokens (jti, client_id, user_id, scopes, expires_at) VALUES (?, ?, ?, ?, ?)",
               (jti, client_id, user_id, scopes_json, expires_at))
    tx.execute(
        "INSERT INTO ekool_refresh_tokens (token_hash, access_jti, client_id, user_id, scopes, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (digest(refresh), jti, client_id, user_id, scopes_json, now + PLUGIN.lifetime(ctx.settings, "ekool_refresh")),
    )
    return {"token_type": "Bearer", "expires_in": round(access_ttl),
            "access_token": access_token(ctx, client_id, user_id, scopes, jti, expires_at), "refresh_token": refresh}


def find_refresh(tx: Transaction, token: str) -> RefreshToken | None:
    row = tx.execute("SELECT * FROM ekool_refresh_tokens WHERE token_hash = ?", (digest(token),)).fetchone()
    if row is None:
        return None
    return RefreshToken(row["token_hash"], row["access_jti"], row["client_id"], row["user_id"],
                        tuple(json.loads(row["scopes"])), row["expires_at"], bool(row["revoked"]))


def revoke_pair(tx: Transaction, refresh: RefreshToken) -> None:
    tx.execute("UPDATE ekool_refresh_tokens SET revoked = 1 WHERE token_hash = ?", (refresh.token_hash,))
    tx.execute("UPDATE ekool_access_tokens SET revoked = 1 WHERE jti = ?", (refresh.access_jti,))


def access_token_revoked(ctx: Context, jti: str) -> bool:
    """Passport's rule: a token the store does not know (e.g. after a reset) counts as revoked."""
    row = ctx.store.one("SELECT revoked FROM ekool_access_tokens WHERE jti = ?", (jti,))
    return row is None or bool(row["revoked"])
