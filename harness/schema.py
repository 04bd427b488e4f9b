"""The store's schema, versioned: a fingerprint of the DDL each part runs, kept in `meta` when the part's tables
are made (`schema:core`, `schema:<api>`).

A store whose tables another version of the harness made is refused with the fix, rather than served with
columns this code does not expect; `harness store check` reports the same.
"""

from __future__ import annotations

import hashlib

from harness.crypto import keys
from harness.plugins import ApiPlugin
from harness.store import Store, Transaction

CORE = "core"
REMEDY = "`harness store reset` recreates it with the demo data (what it holds now is lost)"


class SchemaMismatch(RuntimeError):
    """The store's tables were made by another version of the harness."""


def _core_ddl() -> str:
    from harness import faults, journal, triggers

    return ";".join((keys.DDL, keys.GENERATIONS_DDL, faults.DDL, triggers.DDL, journal.DDL))


def parts(plugins: list[ApiPlugin]) -> dict[str, str]:
    """Each part of the schema (the core, then every API) and its DDL."""
    return {CORE: _core_ddl(), **{plugin.name: plugin.ddl() or "" for plugin in plugins}}


def fingerprint(ddl: str) -> str:
    normalised = " ".join(ddl.split())
    return hashlib.sha256(normalised.encode()).hexdigest()[:16]


def mismatched(store: Store, part: str, ddl: str) -> str | None:
    """Why the store's `part` is not this version's (None when current or not made yet)."""
    row = store.one("SELECT value FROM meta WHERE name = ?", (f"schema:{part}",))
    if row is None or row["value"] == fingerprint(ddl):
        return None
    return (f"the store's {part} tables were made by another version of the harness "
            f"(schema {row['value']}, this version needs {fingerprint(ddl)}): {REMEDY}")


def require_current(store: Store, part: str, ddl: str) -> None:
    problem = mismatched(store, part, ddl)
    if problem:
        raise SchemaMismatch(problem)


def record(store: Store, tx: Transaction, part: str, ddl: str) -> None:
    store.set_meta(tx, f"schema:{part}", fingerprint(ddl))


def problems(store: Store, plugins: list[ApiPlugin]) -> list[str]:
    """What keeps the store from being served by this version: parts missing or made by another version."""
    found = []
    for part, ddl in parts(plugins).items():
        row = store.one("SELECT value FROM meta WHERE name = ?", (f"schema:{part}",))
        if row is None:
            found.append(f"the store has no {part} tables yet: `harness store init` makes them")
        else:
            found += [problem for problem in [mismatched(store, part, ddl)] if problem]
    return found
