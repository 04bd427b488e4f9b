"""openapi/ekool.yaml: valid, complete per issue 2, and every fixture validates against its operation."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from openapi_schema_validator import OAS30Validator

from harness.fixtures import Fixture, load_fixtures
from harness.specs import load_spec, operations, resolve_refs, validate_spec

SPEC = load_spec("ekool")
OPS = {op["operationId"]: (method, path, op) for method, path, op in operations(SPEC)}
FIXTURES = load_fixtures("ekool")
PUBLIC_OPS = sorted(op_id for op_id, (_, _, op) in OPS.items() if not op.get("x-mock-only"))
SCOPES = ["users-basic", "users-roles", "users-schools", "users-children"]


def test_spec_is_valid_openapi():
    validate_spec("ekool")


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("GET", "/oauth/authorize", None), ("POST", "/oauth/token", None),
    ("GET", "/generaldata", "users-basic"), ("GET", "/user/me/basic", "users-basic"),
    ("GET", "/user/me/roles", "users-roles"), ("GET", "/user/me/schools", "users-schools"),
    ("GET", "/user/me/children", "users-children"),
])
def test_named_operation_exists_with_its_host_and_scope(method, path, scope):
    op = SPEC["paths"][path][method.lower()]
    if scope is None:
        hosts = [s["url"] for s in SPEC["paths"][path]["servers"]]
        assert "https://login.ekool.eu" in hosts and "https://login.ekool.dev" in hosts
    else:
        assert op["security"] == [{"ekool_oauth": [scope]}]
        assert {"401", "403"} <= set(op["responses"])


def test_servers_name_staging_production_and_localhost():
    urls = [s["url"] for s in SPEC["servers"]]
    assert {"https://api-v2.ekool.dev", "https://api-v2.ekool.eu", "http://127.0.0.1:8000"} <= set(urls)


def test_oauth2_scheme_has_the_four_scopes_with_descriptions():
    scheme = SPEC["components"]["securitySchemes"]["ekool_oauth"]
    flow = scheme["flows"]["authorizationCode"]
    assert sorted(flow["scopes"]) == sorted(SCOPES)
    assert all(len(text) > 10 for text in flow["scopes"].values())
    assert flow["tokenUrl"].endswith("/oauth/token") and flow["authorizationUrl"].endswith("/oauth/authorize")


def test_redirects_require_location_and_token_success_requires_its_fields():
    authorize = SPEC["paths"]["/oauth/authorize"]["get"]["responses"]["302"]
    assert _resolve(authorize["headers"]["Location"])["required"] is True
    token = _resolve(SPEC["paths"]["/oauth/token"]["post"]["responses"]["200"])
    schema = _resolve(token["content"]["application/json"]["schema"])
    assert schema["required"] == ["token_type", "expires_in", "access_token", "refresh_token"]
    error = SPEC["components"]["schemas"]["OAuthError"]
    assert error["required"] == ["error", "error_description", "message"] and "hint" in error["properties"]


def test_token_request_is_a_form_json_or_multipart_with_both_grants():
    """Laravel reads a JSON or multipart body like the form (reference/ekool-oauth2.md, "Measured")."""
    body = SPEC["paths"]["/oauth/token"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/x-www-form-urlencoded", "application/json", "multipart/form-data"]
    for media in body.values():
        schema = _resolve(media["schema"])
        assert schema["properties"]["grant_type"]["enum"] == ["authorization_code", "refresh_token"]


def test_examples_carry_no_postman_comments():
    import json

    assert "//an access" not in json.dumps(SPEC) and "// an access" not in json.dumps(SPEC)


def _resolve(node: Any) -> Any:
    return resolve_refs(node, SPEC)


def _check(instance: Any, schema: dict[str, Any], where: str) -> list[str]:
    validator = OAS30Validator({"components": SPEC["components"], "allOf": [schema]})
    return [f"{where}: {error.message}" for error in validator.iter_errors(instance)]


def _dummy_variables(fixture: Fixture) -> dict[str, str]:
    return {name: f"dummy-{name}" for name in fixture.variables()}


def request_problems(fixture: Fixture) -> list[str]:
    method, path, op = OPS[fixture.operation]
    request = fixture.filled_request(_dummy_variables(fixture))
    url = urlsplit(request["path"])
    problems = [] if request["method"] == method and url.path == path else [f"{request['method']} {url.path}"]
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    for parameter in map(_resolve, op.get("parameters", [])):
        if parameter["in"] != "query":
            continue
        if parameter["name"] not in query:
            problems += [f"missing query {parameter['name']}"] if parameter.get("required") else []
        else:
            problems += _check(query[parameter["name"]], parameter["schema"], f"query {parameter['name']}")
    content = op.get("requestBody", {}).get("content", {})
    if "form" in request:
        schema = content["application/x-www-form-urlencoded"]["schema"]
        problems += _check(request["form"], schema, "form")
    elif "body" in request:
        problems += _check(request["body"], content["application/json"]["schema"], "body")
    elif op.get("requestBody", {}).get("required"):
        problems.append("request body missing")
    security = op.get("security", SPEC.get("security", []))
    if any("ekool_oauth" in requirement for requirement in security):
        auth = request.get("headers", {}).get("Authorization", "")
        problems += [] if auth.startswith("Bearer ") else ["no Bearer Authorization header"]
    return problems


def response_problems(fixture: Fixture) -> list[str]:
    _, _, op = OPS[fixture.operation]
    response = fixture.response
    documented = op["responses"].get(str(response["status"]))
    if documented is None:
        return [f"status {response['status']} not documented"]
    documented = _resolve(documented)
    problems = []
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, header in documented.get("headers", {}).items():
        header = _resolve(header)
        if name.lower() in headers:
            problems += _check(headers[name.lower()], header["schema"], f"header {name}")
        elif header.get("required"):
            problems.append(f"missing header {name}")
    if "body" in response:
        media = headers.get("content-type", "application/json").split(";")[0]
        content = documented.get("content", {})
        if media not in content:
            return [*problems, f"media type {media} not documented"]
        problems += _check(response["body"], content[media]["schema"], "body")
    return problems


def test_there_is_one_fixture_per_collection_example():
    assert len(FIXTURES) == 11
    assert {f.source for f in FIXTURES} == {"seeds/002_e54ad929c1948203.txt"}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fixture_request_and_response_validate_against_the_operation(fixture):
    assert fixture.operation in OPS, f"unknown operation {fixture.operation}"
    assert request_problems(fixture) == []
    assert response_problems(fixture) == []


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fixture_placeholders_point_at_values(fixture):
    from harness.fixtures import resolve_pointer

    document = {"request": fixture.request, "response": fixture.response}
    for pointer in fixture.placeholders:
        resolve_pointer(document, pointer)  # KeyError/IndexError: a dangling placeholder


@pytest.mark.parametrize("op_id", PUBLIC_OPS)
def test_every_public_operation_has_a_fixture(op_id):
    assert any(f.operation == op_id for f in FIXTURES), f"{op_id} has no fixture"


def test_fixture_checks_catch_a_bad_exchange():
    """The validators above are not vacuous: a broken fixture is reported."""
    good = next(f for f in FIXTURES if f.operation == "getGeneralData")
    broken = Fixture(good.path, good.api, good.source, "", good.operation,
                     {**good.request, "headers": {}},
                     {**good.response, "body": {**good.response["body"], "id": [], "gender": "one"}})
    assert request_problems(broken) == ["no Bearer Authorization header"]
    assert len(response_problems(broken)) == 2
    undocumented = Fixture(good.path, good.api, good.source, "", good.operation, good.request,
                           {**good.response, "status": 418})
    assert response_problems(undocumented) == ["status 418 not documented"]
