"""One-shot behaviours the admin API arms and a plugin's own code honours, e.g. "the next 2 refreshes fail"
(`/__harness/refresh-failures`). Like faults they live in the store, shared by every worker, and a call uses one
up once whichever worker takes it; unlike faults they fire inside the operation, where the plugin knows what the
request is (a refresh, not a code exchange, on one endpoint).

Nothing armed costs a memory read: the armed names are re-read only when a version number in a memory-mapped
file of the state directory changes.
"""

from __future__ import annotations

import contextlib

from harness.clock import SharedVersion
from harness.store import Store, Transaction

VERSION = "triggers"  # the name of its shared number in the store
DDL = "CREATE TABLE IF NOT EXISTS harness_triggers (name TEXT PRIMARY KEY, remaining INTEGER NOT NULL)"
REFRESH_FAILURE = "refresh-failure:{api}"


class Triggers:
    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as tx:
            tx.execute(DDL)
        self._version = SharedVersion(store.shared_number(VERSION))
        self._armed: frozenset[str] = frozenset()

    def _changed(self) -> None:
        self._version.bump()

    def armed(self) -> dict[str, int]:
        return {row["name"]: row["remaining"] for row in
                self.store.query("SELECT name, remaining FROM harness_triggers ORDER BY name")}

    def arm(self, name: str, count: int) -> int:
        """`count` more calls fire `name`; returns how many are armed now."""
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO harness_triggers (name, remaining) VALUES (?, ?) ON CONFLICT (name) "
                       "DO UPDATE SET remaining = harness_triggers.remaining + excluded.remaining", (name, count))
            remaining = tx.execute("SELECT remaining FROM harness_triggers WHERE name = ?", (name,)).fetchone()[0]
        self._changed()
        return int(remaining)

    def take(self, name: str, tx: Transaction | None = None) -> bool:
        """Does this call fire `name`? If so, one is used up (in `tx` when the caller holds a transaction)."""
        if self._version.changed():
            self._armed = frozenset(self.armed())
        if name not in self._armed:
            return False
        with contextlib.nullcontext(tx) if tx is not None else self.store.transaction() as held:
            spent = held.execute("UPDATE harness_triggers SET remaining = remaining - 1 WHERE name = ? AND "
                                 "remaining > 0", (name,)).rowcount
            gone = held.execute("DELETE FROM harness_triggers WHERE name = ? AND remaining <= 0", (name,)).rowcount
        if gone or not spent:
            self._changed()
            self._version.forget()
        return bool(spent)

    def clear(self) -> int:
        cleared = self.store.execute("DELETE FROM harness_triggers")
        self._changed()
        return cleared
