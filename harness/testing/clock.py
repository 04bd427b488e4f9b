"""`harness_clock`: the reference server's clock in a test, moved by durations as `/__harness/clock` takes them."""

from __future__ import annotations

from dataclasses import dataclass

from harness.clock import Clock
from harness.durations import parse_duration, parse_instant


@dataclass
class HarnessClock:
    clock: Clock

    def now(self) -> float:
        return self.clock.now()

    def advance(self, duration: str | float) -> float:
        """Move on by `"90s"`, `"15m"`, `"13h"`, `"7d"` or seconds; returns the new time."""
        self.clock.advance(parse_duration(duration))
        return self.clock.now()

    def set(self, instant: str | float) -> float:
        """Make it `instant` (ISO 8601, UTC when it names no offset, or epoch seconds); returns it."""
        self.clock.set_to(parse_instant(instant) if isinstance(instant, str) else float(instant))
        return self.clock.now()

    def reset(self) -> None:
        """Back to real time."""
        self.clock.reset()
