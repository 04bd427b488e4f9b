"""Register request checks with the service's exact messages (reference/sunbird-api-manager.md, "Register, v1").

The spec's `RegisterRequest` schema says the same thing; connexion rejects first, and the error handler
asks `register_errors` for the messages, so both layers answer with one wording.
"""

from __future__ import annotations

import json
import re
from typing import Any

REQUEST_MANDATORY = "REQUEST IS MANDATORY"
KEY_MANDATORY = "KEY IS MANDATORY"
KEY_HAS_SPACE = "KEY MUST NOT HAVE SPACE"
KEY_IS_UUID = "KEY MUST NOT BE A UUID"

_WHITESPACE = re.compile(r"[ \t\n\r\f\v]")  # Java's \s, and the spec's pattern, in every regex engine
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def register_errors(document: Any) -> list[str]:
    """Every validation message for a parsed register body ([] when valid)."""
    request = document.get("request") if isinstance(document, dict) else None
    if not isinstance(request, dict):
        return [REQUEST_MANDATORY]
    key = request.get("key")
    if not isinstance(key, str) or key == "":
        return [KEY_MANDATORY]
    errors = []
    if _WHITESPACE.search(key):
        errors.append(KEY_HAS_SPACE)
    if _UUID.match(key):
        errors.append(KEY_IS_UUID)
    return errors


def parse_json(raw: bytes) -> Any:
    """The JSON document of a raw body, or None when it is empty, not UTF-8 or not JSON."""
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
