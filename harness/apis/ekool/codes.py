"""Authorization codes: opaque (`def50200…`), stored hashed, 10 minutes, single use, bound to the client,
the redirect URI and the PKCE challenge."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

from harness.apis.ekool.demo import digest
from harness.store import Transaction

PKCE_VALUE = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def opaque() -> str:
    """An unguessable value shaped like league's encrypted payloads (hex after `def50200`)."""
    return "def50200" + secrets.token_hex(128)


@dataclass(frozen=True)
class AuthCode:
    code_hash: str
    client_id: str
    user_id: int
    redirect_uri: str | None
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    revoked: bool

    def verifier_matches(self, verifier: str) -> bool:
        if self.code_challenge_method == "S256":
            hashed = hashlib.sha256(verifier.encode("ascii")).digest()
            expected = base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()
        else:
            expected = verifier
        return hmac.compare_digest(expected.encode(), (self.code_challenge or "").encode())


def issue(tx: Transaction, client_id: str, user_id: int, redirect_uri: str | None, scopes: list[str],
          code_challenge: str | None, code_challenge_method: str | None, expires_at: float) -> str:
    code = opaque()
    tx.execute(
        "INSERT INTO ekool_auth_codes (code_hash, client_id, user_id, redirect_uri, scopes, code_challenge,"
        " code_challenge_method, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (digest(code), client_id, user_id, redirect_uri, json.dumps(scopes), code_challenge, code_challenge_method,
         expires_at),
    )
    return code


def find(tx: Transaction, code: str) -> AuthCode | None:
    row = tx.execute("SELECT * FROM ekool_auth_codes WHERE code_hash = ?", (digest(code),)).fetchone()
    if row is None:
        return None
    return AuthCode(row["code_hash"], row["client_id"], row["user_id"], row["redirect_uri"],
                    tuple(json.loads(row["scopes"])), row["code_challenge"], row["code_challenge_method"],
                    row["expires_at"], bool(row["revoked"]))


def revoke(tx: Transaction, code: AuthCode) -> None:
    tx.execute("UPDATE ekool_auth_codes SET revoked = 1 WHERE code_hash = ?", (code.code_hash,))
