"""Sunbird API Manager reference behaviour: Kong-like gateway, register v1/v2, refresh, realm stand-in.

reference/sunbird-api-manager.md describes the two layers this package reproduces; `openapi/sunbird.yaml`
is the contract. The spec is served at `/api` and at the bare root.

The gateway and the error bodies are imported on first use: `harness serve` initialises the state from the
plugin (DDL, seed, keys, banner) without importing connexion.
"""

from __future__ import annotations

from harness import contract
from harness.plugins import ApiPlugin, lazy

PLUGIN = ApiPlugin(
    name="sunbird",
    spec_file=contract.spec_dir() / "sunbird.yaml",
    fixture_dir=contract.fixture_dir() / "sunbird",
    order=10,
    base_paths=("/api", ""),
    owns=lazy("harness.apis.sunbird.errors:owns"),
    ddl=lazy("harness.apis.sunbird.demo:ddl"),
    seed=lazy("harness.apis.sunbird.demo:seed"),
    config_schema=lazy("harness.apis.sunbird.config:config_schema"),
    parse_config=lazy("harness.apis.sunbird.config:parse_config"),
    # the realm stand-in's tokens (Keycloak's defaults: 5 minutes, a 30-minute SSO session)
    lifetimes={"sunbird_realm_access": 300, "sunbird_realm_refresh": 1800},
    key_ids=lazy("harness.apis.sunbird.demo:key_ids"),
    operation_layer=lazy("harness.apis.sunbird.gateway:operation_layer"),
    error_response=lazy("harness.apis.sunbird.errors:error_response"),
    banner=lazy("harness.apis.sunbird.demo:banner"),
    landing=lazy("harness.apis.sunbird.landing:landing"),
    swagger_ui=lazy("harness.apis.sunbird.landing:swagger_ui"),
    revoke_tokens=lazy("harness.apis.sunbird.scenarios:revoke_tokens"),
    rotating_keys=lazy("harness.apis.sunbird.demo:rotating_keys"),
    fails_refresh=True,
    handlers={
        "registerCredentialV1": "harness.apis.sunbird.register:register_v1",
        "registerCredentialV2": "harness.apis.sunbird.register:register_v2",
        "getApiToken": "harness.apis.sunbird.register:get_api_token",
        "refreshAccessToken": "harness.apis.sunbird.refresh:refresh_token",
        "realmToken": "harness.apis.sunbird.realm:token",
        "realmCerts": "harness.apis.sunbird.realm:certs",
        "realmOpenidConfiguration": "harness.apis.sunbird.realm:openid_configuration",
        "getJwks": "harness.apis.shared:jwks",
    },
    security={"bearerAuth": {"x-bearerInfoFunc": "harness.apis.sunbird.gateway:bearer_info"}},
    fast_operations=("registerCredentialV1", "registerCredentialV2", "getApiToken", "refreshAccessToken"),
    conformance="harness.conformance.sunbird:CONFORMANCE",
    postman="harness.apis.sunbird.postman:FLOW",
    tokens="harness.testing.sunbird:SunbirdTokens",
)
