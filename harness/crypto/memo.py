"""A bounded memo of verifications that succeeded, for tokens a client presents again and again.

A frontend or a load test reuses its access, device or refresh token for every request; verifying it again
costs an RSA operation and PyJWT's pure-Python segment checks, more than the rest of a resource request.
Only successes are kept, keyed by everything the verification depended on (key id and algorithm, the exact
token string), and every entry ends at the token's own expiry, so `exp` is still enforced with no leeway.
What must be checked on every request (revocation, the credential's existence, ACLs) stays outside.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

MAX_ENTRIES = 4096
UNTIL_NO_EXPIRY = 300.0  # a token without `exp` (e.g. a gateway bearer): verified again after five minutes


class VerifiedMemo:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: float | None = None) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            until, value = entry
            if (time.time() if now is None else now) >= until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any, until: float) -> None:
        with self._lock:
            self._entries[key] = (until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, key: Hashable, verify: Callable[[], Any], until: Callable[[Any], float | None],
                 now: float | None = None) -> Any:
        """`verify()`'s result, from the memo when it succeeded before; a raise or a falsy result is never kept.

        `until(result)` is when the entry ends (the token's `exp`), or None for UNTIL_NO_EXPIRY from `now` (the
        server's clock; the wall clock by default).
        """
        now = time.time() if now is None else now
        value = self.get(key, now)
        if value is None:
            value = verify()
            if value:
                end = until(value)
                self.put(key, value, now + UNTIL_NO_EXPIRY if end is None else end)
        return value
