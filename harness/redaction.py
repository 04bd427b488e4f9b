"""What never leaves the harness in clear: the secret-bearing fields, headers and query parameters of both APIs'
flows, and how a body, a header list or a URL is written with their values replaced. The journal, the logs and
the proxy's reports (HAR, JSON, JUnit, console) all redact with these."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"
SECRET_FIELDS = frozenset({"password", "client_secret", "secret", "code", "code_verifier", "_token", "token",
                           "access_token", "refresh_token", "id_token"})
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})
# Query parameters that carry credentials in OAuth and Sunbird flows (sent there by mistake or by design).
SECRET_PARAMETERS = ("client_secret", "code", "code_verifier", "refresh_token", "access_token", "id_token",
                     "password", "token", "secret", "key")
_SECRET = re.compile(r"(?P<name>[?&](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&#]*", re.IGNORECASE)


def redact_query(path: str) -> str:
    """`path` (or a URL) with the values of secret-bearing query parameters replaced by `[redacted]`."""
    return _SECRET.sub(r"\g<name>[redacted]", path)


def redact(value: Any) -> Any:
    """A JSON document with every secret-bearing member's value replaced."""
    if isinstance(value, dict):
        return {key: REDACTED if key in SECRET_FIELDS and value[key] is not None else redact(value[key])
                for key in value}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def redact_header(name: str, value: str) -> str:
    key = name.lower()
    if key in SECRET_HEADERS:
        return REDACTED
    return redact_query(value) if key == "location" else value


def redacted_body(content_type: str, raw: bytes, limit: int = 64 * 1024) -> Any:
    """The body as a report may show it: JSON and forms decoded and redacted, other text as is (HTML, which carries
    a session's CSRF token, and binary bodies as their size only); None when empty."""
    if not raw:
        return None
    media = content_type.split(";")[0].strip().lower()
    text = raw[:limit].decode("utf-8", errors="replace")
    if media == "application/json" or media.endswith("+json"):
        try:
            return redact(json.loads(raw))
        except ValueError:
            return text
    if media == "application/x-www-form-urlencoded":
        return redact(dict(parse_qsl(text, keep_blank_values=True)))
    if media == "text/html":
        return f"[{len(raw)} bytes of text/html]"
    if media.startswith("text/") or media.endswith("xml"):
        return text
    return f"[{len(raw)} bytes of {media or 'unknown type'}]"


def redacted_text(content_type: str, raw: bytes) -> str:
    """A body written out for a report (a HAR's `text`, a curl's `--data-raw`): forms and JSON with their secrets
    replaced, HTML and binary bodies as their size."""
    media = content_type.split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        fields = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
        return urlencode([(k, REDACTED if k in SECRET_FIELDS and v else v) for k, v in fields], safe="[]")
    body = redacted_body(content_type, raw)
    if body is None:
        return ""
    return body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
