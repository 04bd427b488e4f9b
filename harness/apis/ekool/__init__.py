"""eKool reference behaviour: Laravel Passport / league/oauth2-server 8 authorization server with login and
consent pages, and the resource API (reference/ekool-oauth2.md, seeds/002_e54ad929c1948203.txt).

The request wrapper and the error bodies are imported on first use: `harness serve` initialises the state
from the plugin (DDL, seed, keys, banner) without importing connexion."""

from __future__ import annotations

from harness import contract
from harness.plugins import ApiPlugin, lazy

ACCESS_KID = "ekool-access"  # harness.apis.ekool.tokens signs access tokens with it


PLUGIN = ApiPlugin(
    name="ekool",
    spec_file=contract.spec_dir() / "ekool.yaml",
    fixture_dir=contract.fixture_dir() / "ekool",
    mock_spec_file=contract.spec_dir() / "mock" / "ekool.yaml",
    order=20,
    base_paths=("",),
    owns=lazy("harness.apis.ekool.errors:owns"),
    ddl=lazy("harness.apis.ekool.demo:ddl"),
    seed=lazy("harness.apis.ekool.demo:seed"),
    config_schema=lazy("harness.apis.ekool.config:config_schema"),
    parse_config=lazy("harness.apis.ekool.config:parse_config"),
    # the collection shows 604800 (7 days); Passport's refresh tokens live 30 days, league's codes 10 minutes
    lifetimes={"ekool_access": 604800, "ekool_refresh": 30 * 86400, "ekool_code": 600},
    key_ids=lambda data: (ACCESS_KID,),
    operation_layer=lazy("harness.apis.ekool.wire:as_league_sees_it"),
    error_response=lazy("harness.apis.ekool.errors:error_response"),
    banner=lazy("harness.apis.ekool.demo:banner"),
    revoke_tokens=lazy("harness.apis.ekool.scenarios:revoke_tokens"),
    rotating_keys=lambda: (ACCESS_KID,),
    fails_refresh=True,
    landing=lazy("harness.apis.ekool.landing:landing"),
    swagger_ui=lazy("harness.apis.ekool.landing:swagger_ui"),
    handlers={
        "authorize": "harness.apis.ekool.authorize:start",
        "decideAuthorization": "harness.apis.ekool.authorize:decide",
        "showLogin": "harness.apis.ekool.login:show",
        "submitLogin": "harness.apis.ekool.login:submit",
        "issueToken": "harness.apis.ekool.grants:token",
        "getGeneralData": "harness.apis.ekool.resources:general_data",
        "getMyBasic": "harness.apis.ekool.resources:user_basic",
        "getMyRoles": "harness.apis.ekool.resources:user_roles",
        "getMySchools": "harness.apis.ekool.resources:user_schools",
        "getMyChildren": "harness.apis.ekool.resources:user_children",
        "getJwks": "harness.apis.shared:jwks",
    },
    security={
        "ekool_oauth": {"x-tokenInfoFunc": "harness.apis.ekool.bearer:token_info",
                        "x-scopeValidateFunc": "harness.apis.ekool.bearer:has_scopes"},
        "clientBasic": {"x-basicInfoFunc": "harness.apis.ekool.clients:basic_credentials"},
    },
    fast_operations=("getGeneralData", "getMyBasic", "getMyRoles", "getMySchools", "getMyChildren"),
    conformance="harness.conformance.ekool:CONFORMANCE",
    postman="harness.apis.ekool.postman:FLOW",
    tokens="harness.testing.ekool:EkoolTokens",
)
