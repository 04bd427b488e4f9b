"""The conformance half of the Sunbird plugin: its config table, its client, its rules, its recording."""

from __future__ import annotations

from harness.conformance import jwts
from harness.conformance.apis import ConformanceApi
from harness.conformance.sunbird.client import JWKS, SunbirdClient
from harness.conformance.sunbird.config import SunbirdConfig, parse_sunbird


def _bearer_variable(section: SunbirdConfig, token: str) -> str:
    """Device tokens carry a `kid`; a gateway credential's bearer names its key in `iss`."""
    try:
        header, claims = jwts.unverified(token)
    except ValueError:
        return "redacted_bearer"
    if "kid" in header:
        return "device_bearer"
    consumer = {c.key: name for name, c in section.credentials.items()}.get(str(claims.get("iss")))
    return f"{consumer}_bearer" if consumer else "redacted_bearer"


CONFORMANCE = ConformanceApi(
    name="sunbird",
    default_section=SunbirdConfig,
    parse_section=parse_sunbird,
    client=SunbirdClient,
    rules="harness.conformance.sunbird.rules",
    passive="harness.conformance.sunbird.passive",
    key_paths=lambda section: (JWKS, section.realm_certs_path),
    prefixes=lambda section: (section.prefix, ""),
    bearer_variable=_bearer_variable,
    field_variables={"refresh_token": "realm_refresh_token"},
)
