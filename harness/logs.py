"""Logging for `harness serve`: one access line per request, with secrets in query strings redacted."""

from __future__ import annotations

import logging

from harness.redaction import redact_query


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
