"""The per-app runtime context (settings, store, keys) and how a handler reaches it.

The outermost middleware puts the context into the ASGI scope; connexion keeps the scope for the
handler, so `current()` works in sync and async handlers alike, with several apps in one process.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from harness.clock import Clock
from harness.crypto.keys import KeyRing
from harness.faults import Faults
from harness.journal import JournalStore
from harness.settings import Settings
from harness.store import Store
from harness.triggers import Triggers

SCOPE_KEY = "harness.context"


@dataclass
class Context:
    settings: Settings
    store: Store
    keys: KeyRing
    clock: Clock = field(default_factory=Clock)
    journal: JournalStore = field(init=False)
    faults: Faults = field(init=False)
    triggers: Triggers = field(init=False)

    def __post_init__(self) -> None:
        self.journal = JournalStore(self.store)
        self.faults = Faults(self.store)
        self.triggers = Triggers(self.store)


_scope_var: ContextVar[dict[str, Any]] | None = None
# Set by the outermost layer for every request: what `current()` answers before connexion has the request (its
# error handlers, the operation layers).
_entered: ContextVar[Context] = ContextVar("harness.context")


def enter(ctx: Context) -> None:
    """Make `ctx` the context of the request being served (each request runs in a context of its own)."""
    _entered.set(ctx)


def current() -> Context:
    # connexion's request scope, read straight from its ContextVar (its `scope` proxy costs a lookup per
    # access); imported on first use so that importing this module does not import connexion.
    global _scope_var
    if _scope_var is None:
        from connexion.context import _scope

        _scope_var = _scope
    try:
        return _scope_var.get()[SCOPE_KEY]
    except LookupError:
        pass
    try:
        return _entered.get()
    except LookupError:
        raise RuntimeError("no request context: harness.runtime.current() is only available in a request") from None
