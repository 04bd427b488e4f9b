"""Logging for `harness serve`: one access line per request, with secrets in query strings redacted."""

from __future__ import annotations

import logging
import re

# Query parameters that carry credentials in OAuth and Sunbird flows (sent there by mistake or by design).
SECRET_PARAMETERS = ("client_secret", "code", "code_verifier", "refresh_token", "access_token", "id_token",
                     "password", "token", "secret", "key")
_SECRET = re.compile(r"(?P<name>[?&](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&#]*", re.IGNORECASE)


def redact_query(path: str) -> str:
    """`path` with the values of secret-bearing query parameters replaced by `[redacted]`."""
    return _SECRET.sub(r"\g<name>[redacted]", path)


class RedactSecrets(logging.Filter):
    """For uvicorn's access log, whose record args are (client, method, path with query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def install_access_log_redaction() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
