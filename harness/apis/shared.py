"""Handlers shared by both specs."""

from __future__ import annotations

from typing import Any

from harness.plugins import on_event_loop
from harness.runtime import current


@on_event_loop
def jwks() -> dict[str, Any]:
    """Every public signing key of this server (Sunbird v2 device keys, realm keys, eKool keys)."""
    return current().keys.jwks()
