"""RSA signing keys: generated once per state directory, loaded once per process, published as a JWKS.

Private keys are never logged or served; only the public halves leave this module via `jwks()`.

A key is named by its kid. `rotate(name)` gives a name a new generation (kid `<name>.<n>`) that signs from then
on while the older ones still verify and stay published; `retire(name)` drops every generation but the current.
Every worker sees a rotation at its next request (a version number in a memory-mapped file of the state dir).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from harness.clock import SharedVersion
from harness.crypto.memo import VerifiedMemo
from harness.store import Store

DDL = """
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL
)
"""
# A rotated key name: the kid that signs now, and the last generation number (kids are `<name>.<n>`, never reused).
GENERATIONS_DDL = """
CREATE TABLE IF NOT EXISTS signing_key_generations (
    name TEXT PRIMARY KEY, current TEXT NOT NULL, serial INTEGER NOT NULL)
"""
VERSION = "keys"  # the name of its shared number in the store


def _generation(name: str, kid: str) -> int | None:
    """1 for the name's own kid, n for `<name>.<n>`, None for another name's kid."""
    if kid == name:
        return 1
    prefix, _, serial = kid.rpartition(".")
    return int(serial) if prefix == name and serial.isdigit() else None


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
        self._verified = VerifiedMemo()
        with store.transaction() as tx:
            tx.execute(DDL)
            tx.execute(GENERATIONS_DDL)
        self._version = SharedVersion(store.shared_number(VERSION))
        self._current: dict[str, str] = {}
        self._generations: dict[str, list[str]] = {}

    def _fresh(self) -> None:
        """Forget what another worker's rotation or retirement made stale."""
        if self._version.changed():
            self._current = {row["name"]: row["current"] for row in
                             self._store.query("SELECT name, current FROM signing_key_generations")}
            self._generations = {}
            self._jwks = None
            self._verified.clear()

    @property
    def verified(self) -> VerifiedMemo:
        """Tokens already verified against this ring's keys; emptied when any worker rotates or retires one."""
        self._fresh()
        return self._verified

    def _changed(self) -> None:
        self._version.bump()
        self._version.forget()

    def current(self, name: str) -> str:
        """The kid that signs for `name` now."""
        self._fresh()
        return self._current.get(name, name)

    def generations(self, name: str) -> list[str]:
        """Every kid of `name` that still verifies, the current one first."""
        self._fresh()
        found = self._generations.get(name)
        if found is None:
            current = self._current.get(name, name)
            serials = {kid: _generation(name, kid) for kid in self.kids()}
            older = sorted((kid for kid, n in serials.items() if n is not None and kid != current),
                           key=lambda kid: -(serials[kid] or 0))
            found = self._generations[name] = [current, *older]
        return found

    def rotate(self, name: str) -> str:
        """A new generation of `name` signs from now on; the older ones still verify. Returns its kid."""
        pem = _new_private_pem()
        with self._store.transaction() as tx:
            row = tx.execute("SELECT serial FROM signing_key_generations WHERE name = ?", (name,)).fetchone()
            serial = (row["serial"] if row else 1) + 1
            kid = f"{name}.{serial}"
            tx.execute("INSERT INTO signing_keys (kid, private_pem) VALUES (?, ?)", (kid, pem))
            tx.execute("INSERT INTO signing_key_generations (name, current, serial) VALUES (?, ?, ?) "
                       "ON CONFLICT (name) DO UPDATE SET current = excluded.current, serial = excluded.serial",
                       (name, kid, serial))
        self._changed()
        return kid

    def retire(self, name: str) -> list[str]:
        """Drop every generation of `name` but the current one: tokens they signed no longer verify."""
        old = self.generations(name)[1:]
        with self._store.transaction() as tx:
            tx.executemany("DELETE FROM signing_keys WHERE kid = ?", [(kid,) for kid in old])
        if old:
            self._changed()
        return old

    def ensure(self, kids: Iterable[str]) -> None:
        """Make sure a key exists for every kid (generated outside the write lock, first writer wins)."""
        wanted = list(dict.fromkeys(kids))
        have = {row["kid"] for row in self._store.query("SELECT kid FROM signing_keys")}
        rotated = {row["name"] for row in self._store.query("SELECT name FROM signing_key_generations")}
        missing = [kid for kid in wanted if kid not in have and kid not in rotated]  # a retired first generation
        if not missing:
            return
        pems = {kid: _new_private_pem() for kid in missing}
        with self._store.transaction() as tx:
            tx.executemany(
                "INSERT INTO signing_keys (kid, private_pem) VALUES (?, ?) ON CONFLICT (kid) DO NOTHING", pems.items()
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
            # Our own keys, generated by `ensure` into our own store: OpenSSL's RSA consistency check (about 60 ms a
            # key here, 15 keys before the first JWKS answer) protects against keys from elsewhere, not these.
            loaded = serialization.load_pem_private_key(row["private_pem"].encode(), password=None,
                                                        unsafe_skip_rsa_key_validation=True)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            self._cache[kid] = loaded
            return loaded

    def public(self, kid: str) -> rsa.RSAPublicKey:
        key = self._public.get(kid)
        if key is None:
            key = self._public[kid] = self.private(kid).public_key()
        return key

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
        self._fresh()
        if self._jwks is None:
            self._jwks = {"keys": [self.jwk(kid) for kid in self.kids()]}
        return self._jwks
