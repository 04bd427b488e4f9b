"""The conformance half of the eKool plugin: its config table, its client, its rules, its recording."""

from __future__ import annotations

from harness.conformance.apis import ConformanceApi
from harness.conformance.ekool.client import EkoolClient
from harness.conformance.ekool.config import EkoolConfig, parse_ekool

CONFORMANCE = ConformanceApi(
    name="ekool",
    default_section=EkoolConfig,
    parse_section=parse_ekool,
    client=EkoolClient,
    rules="harness.conformance.ekool.rules",
    passive="harness.conformance.ekool.passive",
    key_paths=lambda section: (section.jwks_path,),
    bearer_variable=lambda section, token: "ekool_access_token",
    field_variables={"client_secret": "ekool_client_secret", "code": "ekool_code",
                     "refresh_token": "ekool_refresh_token"},
)
