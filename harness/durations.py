"""Durations and instants as people write them: `"90s"`, `"15m"`, `"13h"`, `"7d"`, seconds, ISO 8601 dates."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

_DURATION = re.compile(r"^(-?[0-9]+(?:\.[0-9]+)?)([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """Seconds from `"90s"`, `"15m"`, `"13h"`, `"7d"`, `"-1h"` or a number; ValueError names a bad one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not a duration (e.g. \"90s\", \"15m\", \"13h\", \"7d\" or seconds)")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a duration")
    return float(value)


def parse_instant(value: str) -> float:
    """Epoch seconds of an ISO 8601 date-time (UTC when it names no offset)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time (e.g. 2027-01-01T00:00:00Z)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
