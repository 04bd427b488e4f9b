"""Export Postman collections from the specs and the demo data (`harness postman export`).

Each request's method, path, content type and the keys its test script asserts come from the spec
(an operation that disappears from the spec makes the export fail); this module only declares the flow:
which steps run in which order and which response values feed the next step's variables.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from harness import contract
from harness.specs import load_spec, operation_ids, resolve_refs
from harness.testing.tokens import gateway_bearer

POSTMAN_DIR = contract.postman_dir()  # the shipped copies; `export` writes where it is told
SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
_NAMESPACE = uuid.UUID("6f1c9a52-3c1e-4d3f-9a53-0e5d1c1f7a10")
# A fixed `iat` keeps the export byte-for-byte reproducible; the gateway does not check `iat`.
_FIXED_IAT = 1700000000
SUNBIRD_GATEWAY_CONSUMERS = ("mobile_admin", "mobile_app", "desktop_app", "portal")
EKOOL_CLIENT_ID = "ekooldemoclient00000000000000001"
EKOOL_CLIENT_SECRET = "ekooldemosecret0000000000000000000000001"
EKOOL_REDIRECT_URI = "http://localhost:3000/callback"
EKOOL_SCOPES = "users-basic users-roles users-schools users-children"


@dataclass(frozen=True)
class Step:
    name: str
    operation: str  # the spec's operationId: method, path and response schema come from there
    url: str  # what Postman requests, with {{variables}}
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form: dict[str, str] | None = None
    captures: dict[str, str] = field(default_factory=dict)  # variable -> JS expression (`body`, `location`)
    checks: tuple[str, ...] = ()  # extra JS assertions (`body`, `location`)


def _operation(spec: dict[str, Any], step: Step) -> tuple[str, dict[str, Any]]:
    """(method, operation object) of the step's operationId; KeyError when the spec lacks it."""
    found = operation_ids(spec).get(step.operation)
    if found is None:
        raise KeyError(f"operation {step.operation!r} is not in the spec {spec['info']['title']!r}")
    method, path = found
    return method, resolve_refs(spec["paths"][path][method.lower()], spec)


def required_keys(spec: dict[str, Any], step: Step) -> list[str]:
    """Top-level required properties of the documented response body for the step's status."""
    _, operation = _operation(spec, step)
    response = operation["responses"][str(step.status)]
    content = response.get("content", {})
    media = next((m for m in content if "json" in m), None)
    if media is None:
        return []
    schema = content[media].get("schema", {})
    keys = list(schema.get("required", []))
    for part in schema.get("allOf", []):
        keys += [k for k in part.get("required", []) if k not in keys]
    return keys


def _test_script(spec: dict[str, Any], step: Step) -> list[str]:
    lines = [
        f'pm.test("{step.name}: status {step.status}", function () {{',
        f"    pm.response.to.have.status({step.status});",
        "});",
        'var location = pm.response.headers.get("Location") || "";',
        "var body = {};",
        'if ((pm.response.headers.get("Content-Type") || "").indexOf("json") >= 0) { body = pm.response.json(); }',
    ]
    keys = required_keys(spec, step)
    if keys:
        lines += [f'pm.test("{step.name}: documented keys", function () {{']
        lines += [f'    pm.expect(body).to.have.property("{key}");' for key in keys]
        lines += ["});"]
    for index, check in enumerate(step.checks, start=1):
        lines += [f'pm.test("{step.name}: check {index}", function () {{', f"    {check}", "});"]
    for variable, expression in step.captures.items():
        lines += [f'pm.collectionVariables.set("{variable}", {expression});']
    return lines


def _item(spec: dict[str, Any], api: str, step: Step) -> dict[str, Any]:
    method, _ = _operation(spec, step)
    headers = [{"key": k, "value": v} for k, v in step.headers.items()]
    request: dict[str, Any] = {"method": method, "header": headers, "url": step.url}
    if step.json_body is not None:
        headers.append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": json.dumps(step.json_body, indent=2),
                           "options": {"raw": {"language": "json"}}}
    elif step.form is not None:
        headers.append({"key": "Content-Type", "value": "application/x-www-form-urlencoded"})
        request["body"] = {"mode": "urlencoded",
                           "urlencoded": [{"key": k, "value": v, "type": "text"} for k, v in step.form.items()]}
    return {
        "name": f"{step.operation}: {step.name}",
        "id": str(uuid.uuid5(_NAMESPACE, f"{api}:{step.name}")),
        "protocolProfileBehavior": {"followRedirects": False, "disableBodyPruning": True},
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": _test_script(spec, step)}}],
        "request": request,
    }


def sunbird_steps() -> list[Step]:
    v1, v2 = "registerCredentialV1", "registerCredentialV2"
    url = "{{sunbird_url}}"
    envelope_ok = 'pm.expect(body.params.status).to.eql("successful");'
    return [
        Step("v1 register mobile device", v1,
             f"{url}/api-manager/v1/consumer/mobile_device/credential/register", 200,
             {"Authorization": "Bearer {{mobile_app_bearer}}"},
             json_body={"request": {"key": "{{device_key}}"}},
             captures={"device_v1_secret": "body.result.secret", "device_v1_token": "body.result.token"},
             checks=(envelope_ok, 'pm.expect(body.result.key).to.eql(pm.variables.get("device_key"));')),
        Step("v1 register again returns the same secret", v1,
             f"{url}/api-manager/v1/consumer/mobile_device/credential/register", 200,
             {"Authorization": "Bearer {{mobile_app_bearer}}"}, json_body={"request": {"key": "{{device_key}}"}},
             checks=('pm.expect(body.result.secret).to.eql(pm.collectionVariables.get("device_v1_secret"));',)),
        Step("v2 register mobile device (mobile SDK body)", v2,
             f"{url}/api-manager/v2/consumer/mobile_device/credential/register", 200,
             {"Authorization": "Bearer {{mobile_app_bearer}}"},
             json_body={"id": "ekstep.genie.device.register", "ver": "1.0", "ts": "2026-01-01T00:00:00Z",
                        "request": {"key": "{{device_key}}"}},
             captures={"device_token": "body.result.token"},
             checks=(envelope_ok, 'pm.expect(body.result.secret).to.eql("");',
                     'pm.expect(JSON.parse(atob(body.result.token.split(".")[0])).alg).to.eql("RS256");')),
        Step("Get API token (desktop_device)", "getApiToken",
             f"{url}/api-manager/v2/consumer/desktop_device/credential/register", 200,
             {"Authorization": "Bearer {{desktop_app_bearer}}"},
             json_body={"id": "api.device.register", "ver": "1.0", "ts": 1700000000000,
                        "request": {"key": "{{device_key}}"}}, checks=(envelope_ok,)),
        Step("v2 register portal_anonymous", v2,
             f"{url}/api-manager/v2/consumer/portal_anonymous/credential/register", 200,
             {"Authorization": "Bearer {{portal_bearer}}"}, json_body={"request": {"key": "{{device_key}}"}},
             checks=(envelope_ok,)),
        Step("register without a bearer is refused by the gateway", v2,
             f"{url}/api-manager/v2/consumer/mobile_device/credential/register", 401,
             json_body={"request": {"key": "{{device_key}}"}},
             checks=('pm.expect(body.message).to.eql("Unauthorized");',)),
        Step("register with a key containing a space is a 400", v1,
             f"{url}/api-manager/v1/consumer/mobile_device/credential/register", 400,
             {"Authorization": "Bearer {{mobile_app_bearer}}"}, json_body={"request": {"key": "has space"}},
             checks=('pm.expect(body.params.err).to.eql("BAD_REQUEST");',
                     'pm.expect(body.params.errmsg).to.eql("KEY MUST NOT HAVE SPACE");')),
        Step("realm login (offline_access)", "realmToken",
             "{{base_url}}/auth/realms/sunbird/protocol/openid-connect/token", 200,
             form={"grant_type": "password", "client_id": "android", "username": "learner", "password": "learner",
                   "scope": "offline_access"},
             captures={"realm_refresh_token": "body.refresh_token"}),
        Step("refresh access token", "refreshAccessToken", f"{url}/auth/v1/refresh/token", 200,
             {"Authorization": "Bearer {{device_token}}"}, form={"refresh_token": "{{realm_refresh_token}}"},
             checks=(envelope_ok, 'pm.expect(body.id).to.eql("api.refresh.token");',
                     'pm.expect(body.result.refresh_token).to.eql(pm.collectionVariables.get("realm_refresh_token"));')),
        Step("refresh with a garbage token is invalid_grant", "refreshAccessToken",
             f"{url}/auth/v1/refresh/token", 400, {"Authorization": "Bearer {{device_token}}"},
             form={"refresh_token": "not-a-token"}, checks=('pm.expect(body.params.err).to.eql("invalid_grant");',)),
    ]


def ekool_steps() -> list[Step]:
    authorize_query = urlencode({"response_type": "code", "client_id": "{{client_id}}",
                                 "redirect_uri": "{{redirect_uri}}", "scope": EKOOL_SCOPES, "state": "xyz"},
                                safe="{}")
    code_form = {"grant_type": "authorization_code", "client_id": "{{client_id}}",
                 "client_secret": "{{client_secret}}", "redirect_uri": "{{redirect_uri}}", "code": "{{code}}"}
    bearer = {"Authorization": "Bearer {{access_token}}"}
    ok = "pm.expect(body.status).to.eql(true);"
    resources = [
        Step(f"resource {path}", operation, f"{{{{api_url}}}}{path}", 200, bearer,
             checks=() if path == "/generaldata" else (ok,))
        for operation, path in (("getGeneralData", "/generaldata"), ("getMyBasic", "/user/me/basic"),
                                ("getMyRoles", "/user/me/roles"), ("getMySchools", "/user/me/schools"),
                                ("getMyChildren", "/user/me/children"))
    ]
    return [
        Step("authorize (auto-login) redirects with a code", "authorize",
             f"{{{{login_url}}}}/oauth/authorize?{authorize_query}", 302,
             captures={"code": 'decodeURIComponent((location.match(/[?&]code=([^&]+)/) || [])[1] || "")'},
             checks=('pm.expect(location).to.match(/[?&]code=/);', 'pm.expect(location).to.match(/[?&]state=xyz/);')),
        Step("exchange the code", "issueToken", "{{login_url}}/oauth/token", 200, form=code_form,
             captures={"access_token": "body.access_token", "refresh_token": "body.refresh_token"},
             checks=('pm.expect(body.token_type).to.eql("Bearer");',
                     'pm.expect(pm.response.headers.get("Cache-Control")).to.include("no-store");')),
        Step("the same code again is revoked", "issueToken", "{{login_url}}/oauth/token", 400,
             form=code_form, checks=('pm.expect(body.error).to.eql("invalid_request");',)),
        *resources,
        Step("resource without a token is 401", "getMyBasic", "{{api_url}}/user/me/basic", 401,
             checks=('pm.expect(body.error).to.eql("access_denied");',)),
        Step("refresh rotates the tokens", "issueToken", "{{login_url}}/oauth/token", 200,
             form={"grant_type": "refresh_token", "client_id": "{{client_id}}", "client_secret": "{{client_secret}}",
                   "refresh_token": "{{refresh_token}}"},
             captures={"old_refresh_token": 'pm.collectionVariables.get("refresh_token")',
                       "refresh_token": "body.refresh_token", "access_token": "body.access_token"}),
        Step("the old refresh token is refused", "issueToken", "{{login_url}}/oauth/token", 401,
             form={"grant_type": "refresh_token", "client_id": "{{client_id}}", "client_secret": "{{client_secret}}",
                   "refresh_token": "{{old_refresh_token}}"},
             checks=('pm.expect(body.hint).to.eql("Token has been revoked");',)),
        Step("the new access token works", "getMyBasic", "{{api_url}}/user/me/basic", 200, bearer,
             checks=(ok,)),
    ]


def collection(api: str) -> dict[str, Any]:
    spec = load_spec(api)
    steps = sunbird_steps() if api == "sunbird" else ekool_steps()
    return {
        "info": {
            "_postman_id": str(uuid.uuid5(_NAMESPACE, api)),
            "name": f"{spec['info']['title']} (generated)",
            "description": f"Generated by `harness postman export` from openapi/{api}.yaml. Do not edit by hand.",
            "schema": SCHEMA_URL,
        },
        "item": [_item(spec, api, step) for step in steps],
        "variable": [{"key": "device_key", "value": "postman-device-0001"}],
    }


def environment() -> dict[str, Any]:
    values = {
        "base_url": "http://127.0.0.1:8000",
        "sunbird_url": "{{base_url}}/api",
        "login_url": "{{base_url}}",
        "api_url": "{{base_url}}",
        "client_id": EKOOL_CLIENT_ID,
        "client_secret": EKOOL_CLIENT_SECRET,
        "redirect_uri": EKOOL_REDIRECT_URI,
        **{f"{consumer}_bearer": gateway_bearer(consumer, _FIXED_IAT) for consumer in SUNBIRD_GATEWAY_CONSUMERS},
    }
    return {
        "id": str(uuid.uuid5(_NAMESPACE, "local-environment")),
        "name": "harness local",
        "values": [{"key": k, "value": v, "type": "default", "enabled": True} for k, v in values.items()],
        "_postman_variable_scope": "environment",
    }


def exports() -> dict[str, dict[str, Any]]:
    """File name → document, for every generated file."""
    return {
        "sunbird.postman_collection.json": collection("sunbird"),
        "ekool.postman_collection.json": collection("ekool"),
        "local.postman_environment.json": environment(),
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in exports().items():
        path = directory / name
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written
