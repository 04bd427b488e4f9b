"""Credential registration, v1 (stored HS256 credential) and v2 (RS256 token, nothing stored).

reference/sunbird-api-manager.md, "Register, v1" and "Register, v2"; seeds/000 for the shapes.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import anyio.to_thread

from harness.apis.sunbird import credentials
from harness.apis.sunbird.envelope import (
    BAD_REQUEST,
    CREATE_CREDENTIAL_ERROR,
    CREATE_CREDENTIAL_MESSAGE,
    INTERNAL_ERROR,
    INTERNAL_ERROR_MESSAGE,
    Body,
    msgid_of,
    register_body,
    register_error,
)
from harness.apis.sunbird.validation import register_errors
from harness.crypto.tokens import sign_hs256, sign_rs256
from harness.plugins import on_event_loop
from harness.runtime import current

log = logging.getLogger("harness.sunbird")
DESKTOP_DEVICE = "desktop_device"


def _invalid(body: Any) -> tuple[Body, int] | None:
    errors = register_errors(body)
    return register_error(400, BAD_REQUEST, ", ".join(errors), msgid_of(body)) if errors else None


async def register_v1(consumer: str, body: dict[str, Any]) -> tuple[Body, int]:
    """The consumer's HS256 credential for `key` (same key → same secret) and a fresh token signed with it.

    Reads run on the event loop; only creating a credential (a write that may wait for the lock) goes to a thread.
    """
    invalid = _invalid(body)
    if invalid:
        return invalid
    key, msgid = body["request"]["key"], msgid_of(body)
    ctx = current()
    store = ctx.store
    if not credentials.consumer_exists(store, consumer):
        return register_error(400, CREATE_CREDENTIAL_ERROR, CREATE_CREDENTIAL_MESSAGE, msgid)
    try:
        secret = credentials.existing_hs256(store, consumer, key)
        if secret is None:
            secret = await anyio.to_thread.run_sync(credentials.register_hs256, store, consumer, key)
    except credentials.CredentialConflict:
        return register_error(400, CREATE_CREDENTIAL_ERROR, CREATE_CREDENTIAL_MESSAGE, msgid)
    token = sign_hs256({"iss": key, "iat": int(ctx.clock.now())}, secret, headers={"typ": None})
    return register_body({"key": key, "secret": secret, "token": token}, msgid), 200


@on_event_loop
def register_v2(consumer: str, body: dict[str, Any]) -> tuple[Body, int]:
    """A new RS256 token per call, signed with one of the consumer's keys picked at random; `secret` is ""."""
    invalid = _invalid(body)
    if invalid:
        return invalid
    key, msgid = body["request"]["key"], msgid_of(body)
    ctx = current()
    kids = credentials.signing_keys(ctx.store, consumer)
    if not kids:
        log.info("v2 register for consumer %r without signing keys", consumer)
        return register_error(500, INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, msgid)
    kid = secrets.choice(kids)
    token = sign_rs256({"iss": key, "iat": int(ctx.clock.now())}, ctx.keys, kid, headers={"kid": kid, "typ": None})
    return register_body({"key": key, "secret": "", "token": token}, msgid), 200


@on_event_loop
def get_api_token(body: dict[str, Any]) -> tuple[Body, int]:
    """seeds/000 "Get API token": the v2 registration for `desktop_device`."""
    return register_v2(DESKTOP_DEVICE, body)
