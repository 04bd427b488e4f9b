"""RSA signing keys: generated once per state directory, loaded once per process, published as a JWKS.

Private keys are never logged or served; only the public halves leave this module via `jwks()`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from harness.crypto.memo import VerifiedMemo
from harness.store import Store

_DDL = """
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    created_at REAL NOT NULL DEFAULT (julianday('now'))
)
"""


def _new_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class KeyRing:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, rsa.RSAPrivateKey] = {}
        self._public: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()
        self._jwks: dict[str, Any] | None = None
        # tokens already verified against this ring's keys (keys never change for a state directory)
        self.verified = VerifiedMemo()
        with store.transaction() as tx:
            tx.execute(_DDL)

    def ensure(self, kids: Iterable[str]) -> None:
        """Make sure a key exists for every kid (generated outside the write lock, first writer wins)."""
        wanted = list(dict.fromkeys(kids))
        have = {row["kid"] for row in self._store.query("SELECT kid FROM signing_keys")}
        missing = [kid for kid in wanted if kid not in have]
        if not missing:
            return
        pems = {kid: _new_private_pem() for kid in missing}
        with self._store.transaction() as tx:
            tx.executemany(
                "INSERT OR IGNORE INTO signing_keys (kid, private_pem) VALUES (?, ?)", pems.items()
            )
        self._jwks = None

    def private(self, kid: str) -> rsa.RSAPrivateKey:
        key = self._cache.get(kid)
        if key is not None:
            return key
        with self._lock:
            row = self._store.one("SELECT private_pem FROM signing_keys WHERE kid = ?", (kid,))
            if row is None:
                raise KeyError(kid)
            loaded = serialization.load_pem_private_key(row["private_pem"].encode(), password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            self._cache[kid] = loaded
            return loaded

    def public(self, kid: str) -> rsa.RSAPublicKey:
        key = self._public.get(kid)
        if key is None:
            key = self._public[kid] = self.private(kid).public_key()
        return key

    def has(self, kid: str) -> bool:
        return kid in self._cache or self._store.one(
            "SELECT 1 FROM signing_keys WHERE kid = ?", (kid,)
        ) is not None

    def kids(self) -> list[str]:
        return [row["kid"] for row in self._store.query("SELECT kid FROM signing_keys ORDER BY kid")]

    def public_pem(self, kid: str) -> str:
        return self.public(kid).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def jwk(self, kid: str) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.public(kid)))
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": jwk["n"], "e": jwk["e"]}

    def jwks(self, kids: Iterable[str] | None = None) -> dict[str, Any]:
        if kids is not None:
            return {"keys": [self.jwk(kid) for kid in kids]}
        if self._jwks is None:
            self._jwks = {"keys": [self.jwk(kid) for kid in self.kids()]}
        return self._jwks
