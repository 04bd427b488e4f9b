"""eKool reference behaviour: Laravel Passport / league/oauth2-server 8 authorization server with login and
consent pages, and the resource API (reference/ekool-oauth2.md, seeds/002_e54ad929c1948203.txt).

The request wrapper and the error bodies are imported on first use: `harness serve` initialises the state
from the plugin (DDL, seed, keys, banner) without importing connexion."""

from __future__ import annotations

from harness.apis import ApiPlugin, lazy
from harness.apis.ekool import demo

ACCESS_KID = "ekool-access"  # harness.apis.ekool.tokens signs access tokens with it


PLUGIN = ApiPlugin(
    name="ekool",
    base_paths=("",),
    owns=lazy("harness.apis.ekool.problems:owns"),
    ddl=demo.DDL,
    seed=demo.seed,
    key_ids=(ACCESS_KID,),
    wrap=lazy("harness.apis.ekool.wire:as_league_sees_it"),
    error_response=lazy("harness.apis.ekool.problems:error_response"),
    banner=demo.banner,
    links=demo.links,
    handlers={
        "authorize": "harness.apis.ekool.authorize:start",
        "decideAuthorization": "harness.apis.ekool.authorize:decide",
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
)
