"""The per-app runtime context (settings, store, keys) and how a handler reaches it.

The outermost middleware puts the context into the ASGI scope; connexion keeps the scope for the
handler, so `current()` works in sync and async handlers alike, with several apps in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from connexion.context import scope as _request_scope

from harness.crypto.keys import KeyRing
from harness.settings import Settings
from harness.store import Store

SCOPE_KEY = "harness.context"


@dataclass
class Context:
    settings: Settings
    store: Store
    keys: KeyRing


def current() -> Context:
    return _request_scope[SCOPE_KEY]
