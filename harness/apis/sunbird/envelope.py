"""Sunbird response bodies: the service envelopes, the gateway's `{"message"}`, Spring and Keycloak errors.

Shapes and field order from reference/sunbird-api-manager.md ("Envelope", "Refresh") and seeds/000.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

from harness.runtime import current

REGISTER_ID = "ekstep.api.am.adminutil.consumer.create"
REFRESH_ID = "api.refresh.token"
VERSION = "1.0"

BAD_REQUEST = "BAD_REQUEST"
CREATE_CREDENTIAL_ERROR = "CREATE_CREDENTIAL_ERROR"
CREATE_CREDENTIAL_MESSAGE = "ERROR WHEN CREATING CREDENTIAL FOR CONSUMER."
INTERNAL_ERROR = "INTERNAL_ERROR"
INTERNAL_ERROR_MESSAGE = "UNABLE TO REGISTER CREDENTIAL DUE TO INTERNAL ERROR"
INVALID_GRANT = "invalid_grant"

EMPTY_CREDENTIAL = {"key": "", "secret": "", "token": ""}
EMPTY_REFRESH = {"access_token": None, "expires_in": 0, "refresh_expires_in": 0, "refresh_token": None}

Body = dict[str, Any]


def epoch_ms() -> int:
    """`ets`/`ts`: now by the server's clock (`/__harness/clock`) in a request, the wall clock outside one."""
    try:
        now = current().clock.now()
    except RuntimeError:
        now = time.time()
    return int(now * 1000)


def register_body(result: Body, msgid: str = "", err: str | None = None, errmsg: str | None = None) -> Body:
    """`id, ver, ets, params{status, err, errmsg, msgid, resmsgid}, result{key, secret, token}`."""
    return {
        "id": REGISTER_ID,
        "ver": VERSION,
        "ets": epoch_ms(),
        "params": {
            "status": "failed" if err else "successful",
            "err": err,
            "errmsg": errmsg,
            "msgid": msgid,
            "resmsgid": str(uuid.uuid4()),
        },
        "result": {"key": result["key"], "secret": result["secret"], "token": result["token"]},
    }


def register_error(status: int, err: str, errmsg: str, msgid: str = "") -> tuple[Body, int]:
    return register_body(EMPTY_CREDENTIAL, msgid, err, errmsg), status


def refresh_body(result: Body, err: str | None = None, errmsg: str | None = None) -> Body:
    """`id, ver, ts, params{resmsgid, status, err, errmsg}, result` (no `msgid`)."""
    return {
        "id": REFRESH_ID,
        "ver": VERSION,
        "ts": epoch_ms(),
        "params": {
            "resmsgid": str(uuid.uuid4()),
            "status": "failed" if err else "successful",
            "err": err,
            "errmsg": errmsg,
        },
        "result": result,
    }


def refresh_error(err: str, errmsg: str) -> tuple[Body, int]:
    return refresh_body(dict(EMPTY_REFRESH), err, errmsg), 400


def msgid_of(document: Any) -> str:
    """The request's `params.msgid` to echo, or ""."""
    params = document.get("params") if isinstance(document, dict) else None
    msgid = params.get("msgid") if isinstance(params, dict) else None
    return msgid if isinstance(msgid, str) else ""


def gateway_message(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def service_error(status: int, error: str, path: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """Spring Boot's default error body, as adminutil answers 405/415 and unexpected refresh failures."""
    timestamp = datetime.fromtimestamp(epoch_ms() / 1000, UTC).isoformat(timespec="milliseconds")
    return JSONResponse({"timestamp": timestamp, "status": status, "error": error, "path": path},
                        status_code=status, headers=headers)


def realm_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)
