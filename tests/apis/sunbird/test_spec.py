"""openapi/sunbird.yaml: valid, complete (issue 2), and in agreement with its examples and fixtures."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from harness.fixtures import Fixture, load_fixtures
from harness.specs import load_spec, operation_ids, operations, resolve_refs, routed_spec, validate_spec

SPEC = load_spec("sunbird")
FIXTURES = load_fixtures("sunbird")
NAMED_OPERATIONS = {
    ("POST", "/api-manager/v1/consumer/{consumer}/credential/register"),
    ("POST", "/api-manager/v2/consumer/{consumer}/credential/register"),
    ("POST", "/api-manager/v2/consumer/desktop_device/credential/register"),
    ("POST", "/auth/v1/refresh/token"),
    ("POST", "/auth/realms/sunbird/protocol/openid-connect/token"),
    ("GET", "/auth/realms/sunbird/protocol/openid-connect/certs"),
    ("GET", "/auth/realms/sunbird/.well-known/openid-configuration"),
    ("GET", "/.well-known/jwks.json"),
}
CLIENT_STATUSES = {"200", "400", "401", "403", "413", "415", "429", "500"}
GATED = [(m, p) for m, p in NAMED_OPERATIONS if p.startswith(("/api-manager", "/auth/v1"))]


def resolve(node: Any) -> Any:
    return resolve_refs(node, SPEC)


def operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    method, path = operation_ids(SPEC)[operation_id]
    return method, path, resolve(SPEC["paths"][path][method.lower()])


def schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    return [error.message for error in OAS30Validator(schema).iter_errors(instance)]


def path_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


def test_spec_validates():
    validate_spec("sunbird")


def test_named_operations_exist():
    present = {(method, path) for method, path, _ in operations(SPEC)}
    assert present >= NAMED_OPERATIONS


@pytest.mark.parametrize(("method", "path"), sorted(GATED))
def test_gated_operations_document_every_client_status_and_bearer(method, path):
    op = resolve(SPEC["paths"][path][method.lower()])
    assert set(op["responses"]) >= CLIENT_STATUSES
    assert op["security"] == [{"bearerAuth": []}]
    assert op["responses"]["401"]["content"]["application/json"]["example"] == {"message": "Unauthorized"}


def test_servers_with_and_without_api_prefix():
    urls = [server["url"] for server in SPEC["servers"]]
    assert "https://staging.open-sunbird.org/api" in urls and "https://staging.open-sunbird.org" in urls


def test_content_type_rules():
    register = SPEC["components"]["requestBodies"]["Register"]["content"]
    refresh = SPEC["paths"]["/auth/v1/refresh/token"]["post"]["requestBody"]["content"]
    assert list(register) == ["application/json"]
    assert list(refresh) == ["application/x-www-form-urlencoded"]


def test_envelope_admits_ets_and_ts():
    envelope = SPEC["components"]["schemas"]["RegisterEnvelope"]
    assert {"ets", "ts"} <= set(envelope["properties"]) and not {"ets", "ts"} & set(envelope["required"])


def _examples() -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, value) for every example in the spec."""
    found = []
    for method, path, raw in operations(SPEC):
        op = resolve(raw)
        bodies = [("request", op.get("requestBody", {}).get("content", {}))]
        bodies += [(status, r.get("content", {})) for status, r in op["responses"].items()]
        for where, content in bodies:
            for media, entry in content.items():
                values = [e["value"] for e in entry.get("examples", {}).values()]
                values += [entry["example"]] if "example" in entry else []
                found += [(f"{method} {path} {where} {media}", entry["schema"], v) for v in values]
    return found


@pytest.mark.parametrize(("where", "schema", "value"), _examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_example_matches_its_schema(where, schema, value):
    assert schema_errors(schema, value) == [], where


def test_seed_examples_are_in_the_spec():
    seed_tokens = {f.response["body"]["result"]["token"] for f in FIXTURES
                   if f.source.startswith("seeds/000") and f.path.stem.startswith("000_register")}
    examples = [str(value) for _, _, value in _examples()]
    for token in seed_tokens:
        assert any(token in example for example in examples)
    assert any("refresh_token': 'text'" in example for example in examples)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fixture_request_matches_its_operation(fixture: Fixture):
    method, path, op = operation(fixture.operation)
    assert fixture.request["method"] == method
    public_path = re.sub(r"^/api(?=/)", "", re.sub(r"/{2,}", "/", fixture.request["path"]))
    assert path_pattern(path).match(public_path), f"{public_path} is not {path}"
    media = fixture.request.get("headers", {}).get("Content-Type")
    if "requestBody" in op:
        content = op["requestBody"]["content"]
        assert media in content, f"{media} not accepted by {fixture.operation}"
        document = fixture.request.get("form", fixture.request.get("body"))
        assert schema_errors(content[media]["schema"], document) == []
    else:
        assert "body" not in fixture.request and "form" not in fixture.request


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fixture_response_matches_its_operation(fixture: Fixture):
    _, _, op = operation(fixture.operation)
    documented = op["responses"].get(str(fixture.response["status"]))
    assert documented is not None, f"status {fixture.response['status']} not documented"
    media = fixture.response["headers"]["Content-Type"]
    assert media in documented["content"]
    if fixture.response.get("body") is not None:
        assert schema_errors(documented["content"][media]["schema"], fixture.response["body"]) == []


def test_every_placeholder_points_into_its_fixture():
    from harness.fixtures import resolve_pointer

    for fixture in FIXTURES:
        document = {"request": fixture.request, "response": fixture.response}
        for pointer in fixture.placeholders:
            resolve_pointer(document, pointer)


def test_every_operation_has_a_fixture():
    covered = {fixture.operation for fixture in FIXTURES}
    assert set(operation_ids(SPEC)) - covered == set()


def test_literal_desktop_path_is_routed_before_the_template():
    paths = list(routed_spec("sunbird")["paths"])
    literal = paths.index("/api-manager/v2/consumer/desktop_device/credential/register")
    assert literal < paths.index("/api-manager/v2/consumer/{consumer}/credential/register")
    _, _, op = operation("getApiToken")
    assert op["security"] == [{"bearerAuth": []}]


def test_literal_desktop_path_reaches_its_own_operation(monkeypatch, make_app, sb):
    """The literal route calls `get_api_token`, not the templated v2 handler, under both prefixes."""
    from starlette.testclient import TestClient

    from harness.apis.sunbird import register

    calls: list[str] = []
    original_literal, original_template = register.get_api_token, register.register_v2

    def literal(body):
        calls.append("literal")
        return original_literal(body)

    def template(consumer, body):
        calls.append("template")
        return original_template(consumer, body)

    monkeypatch.setattr(register, "get_api_token", literal)
    monkeypatch.setattr(register, "register_v2", template)
    with TestClient(make_app(), base_url="http://127.0.0.1:8000") as client:
        for prefix in ("/api", ""):
            response = client.post(f"{prefix}/api-manager/v2/consumer/desktop_device/credential/register",
                                   json={"request": {"key": "d1"}}, headers=sb.auth(sb.demo_bearer("desktop_app")))
            assert response.status_code == 200
    assert calls == ["literal", "template", "literal", "template"]  # get_api_token delegates to register_v2


def test_literal_desktop_path_keeps_its_security_behind_the_gateway(state_dir):
    """Even with the gateway bypassed, connexion's own security refuses the literal route without a bearer."""
    import dataclasses

    from starlette.testclient import TestClient

    from harness.apis.sunbird import PLUGIN
    from harness.server import build_app, initialize_state
    from harness.settings import Settings

    without_gateway = dataclasses.replace(PLUGIN, operation_layer=None)
    app = build_app(initialize_state(Settings(state_dir=state_dir), ("sunbird",)), [without_gateway])
    with TestClient(app) as client:
        response = client.post("/api/api-manager/v2/consumer/desktop_device/credential/register",
                               json={"request": {"key": "d1"}}, headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
