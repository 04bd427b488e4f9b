"""The server's time: the wall clock moved by an offset, one per app (`Context.clock`).

Everything whose answer depends on time (token `iat`/`exp`, code and refresh-token expiry, the gateway's
rate-limit window, the verified-token memo) reads it here, so a test moves the clock instead of sleeping, and
a runtime clock control can set the offset of a running server.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def set_to(self, timestamp: float) -> None:
        """Make `now()` return `timestamp` at this instant (and go on from there)."""
        self.offset = timestamp - time.time()
