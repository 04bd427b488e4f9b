"""The rules every API's spec states by itself, judged on each exchange of a documented operation."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from harness.conformance.passive import PassiveRule, Seen
from harness.conformance.rules import expect
from harness.specs import resolve_refs


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _media(value: str) -> str:
    return value.split(";")[0].strip().lower()


def _documented(seen: Seen) -> dict[str, Any] | None:
    responses = (seen.spec_operation or {}).get("responses", {})
    status = str(seen.response.status_code)
    return responses.get(status) or responses.get(f"{status[0]}XX") or responses.get("default")


def status_is_documented(seen: Seen, memory: dict[str, Any]) -> None:
    """Every answer's status is one the operation documents (or its `default`).

    Source: OpenAPI 3.0 §4.7.16 (Responses Object); the spec is the contract.
    """
    if seen.spec_operation is None:
        return
    expect(_documented(seen) is not None, f"status {seen.response.status_code} is not documented for "
           f"{seen.operation} (documented: {', '.join(seen.spec_operation.get('responses', {}))})")


def content_type_is_documented(seen: Seen, memory: dict[str, Any]) -> None:
    """An answer with a body has a content type its status documents.

    Source: OpenAPI 3.0 §4.7.17 (Response Object `content`); RFC 9110 §8.3.
    """
    documented = _documented(seen)
    if not documented or not documented.get("content") or not seen.response.content:
        return
    media = _media(seen.response.headers.get("content-type", ""))
    allowed = [_media(key) for key in documented["content"]]
    expect(any(key in (media, "*/*") or (key.endswith("/*") and media.startswith(key[:-1])) for key in allowed),
           f"{seen.response.status_code} answer has Content-Type {media or 'none'!r}; documented: {', '.join(allowed)}")


def body_matches_its_schema(seen: Seen, memory: dict[str, Any]) -> None:
    """A JSON answer matches the schema its status and content type document.

    Source: OpenAPI 3.0 §4.7.17 (Media Type `schema`); the spec is the contract.
    """
    if seen.validator is None or _documented(seen) is None:
        return
    media = _media(seen.response.headers.get("content-type", ""))
    if not media.endswith("json"):
        return
    # a client asks for the same answer again and again (JWKS, a profile): each body is validated once
    key = (seen.operation, seen.response.status_code, media, hashlib.sha256(seen.response.content).digest())
    verdict = memory.get(key)
    if verdict is None:
        try:
            seen.validator.validate_response(seen.response)
            verdict = ""
        except Exception as exc:  # schemathesis's failure types vary by version: any is this rule's finding
            verdict = " ".join(str(exc).split())[:500] or "the body does not match its schema"
        if len(memory) > 4096:
            memory.clear()
        memory[key] = verdict
    expect(not verdict, verdict)


_RESOLVED: dict[tuple[int, str], Any] = {}
_VALIDATORS: dict[int, jsonschema.Draft4Validator] = {}


def _resolved(operation: dict[str, Any], part: str, spec: dict[str, Any]) -> Any:
    """`operation[part]` with its references resolved, once per operation object (specs are loaded once)."""
    key = (id(operation), part)
    if key not in _RESOLVED:
        _RESOLVED[key] = resolve_refs(operation.get(part), spec)
    return _RESOLVED[key]


def _validator(schema: dict[str, Any], spec: dict[str, Any]) -> jsonschema.Draft4Validator:
    if id(schema) not in _VALIDATORS:
        _VALIDATORS[id(schema)] = jsonschema.Draft4Validator(resolve_refs(schema, spec))
    return _VALIDATORS[id(schema)]


def _request_problem(seen: Seen) -> str | None:
    """Why the spec does not allow this request, or None (body media type and schema, required query
    parameters; what a proxy can tell without the server's state)."""
    operation = seen.spec_operation or {}
    spec = seen.spec
    for parameter in _resolved(operation, "parameters", spec) or []:
        if parameter.get("in") == "query" and parameter.get("required") and parameter["name"] not in seen.params:
            return f"query parameter {parameter['name']!r} is missing"
    body = _resolved(operation, "requestBody", spec)
    if not body:
        return None
    if not seen.request.content:
        return "the body is missing" if body.get("required") else None
    media = _media(seen.request.headers.get("content-type", ""))
    content = {_media(key): value for key, value in body.get("content", {}).items()}
    if media not in content:
        return f"Content-Type {media or 'none'!r} is not one the operation takes ({', '.join(content)})"
    schema = content[media].get("schema")
    if not schema:
        return None
    instance = seen.request_json() if media.endswith("json") else seen.form if media.endswith("urlencoded") else None
    if instance is None and media.endswith("json"):
        return "the body is not JSON"
    if instance is None:
        return None
    error = best_match(_validator(schema, spec).iter_errors(instance))
    return None if error is None else f"the body breaks the schema: {error.message}"


def a_request_the_spec_forbids_is_refused(seen: Seen, memory: dict[str, Any]) -> None:
    """A request the operation does not allow (body type or schema, a required parameter) is never answered 2xx.

    Source: OpenAPI 3.0 §4.7.10, §4.7.13 (Parameter and Request Body Objects); the spec is the contract.
    """
    if seen.spec_operation is None or not seen.response.is_success:
        return
    problem = _request_problem(seen)
    expect(problem is None, f"answered {seen.response.status_code} to a request the spec does not allow: {problem}")


def credentials_are_required(seen: Seen, memory: dict[str, Any]) -> None:
    """An operation that requires credentials is never answered 2xx to a request without any, or with an unsigned
    JWT.

    Source: OpenAPI 3.0 §4.7.30 (Security Requirement Object); RFC 6750 §3; RFC 9110 §11; RFC 8725 §2.1 (an
    unsigned JWT is no credential).
    """
    operation = seen.spec_operation
    if operation is None or not seen.response.is_success:
        return
    requirements = operation.get("security", seen.spec.get("security", []))
    if not requirements or any(not requirement for requirement in requirements):
        return
    expect("authorization" in seen.request.headers,
           f"answered {seen.response.status_code} to a request without an Authorization header")
    if seen.bearer and seen.bearer.count(".") == 2:  # a JWT no verifier accepts: unsigned (RFC 8725 §2.1)
        try:
            algorithm = str(json.loads(_b64url(seen.bearer.split(".")[0])).get("alg", ""))
        except (ValueError, AttributeError):
            return
        expect(algorithm.lower() != "none" and seen.bearer.split(".")[2] != "",
               f"answered {seen.response.status_code} to an unsigned bearer (alg {algorithm!r})")


RULES = [PassiveRule(func.__name__, "", func) for func in (
    status_is_documented, content_type_is_documented, body_matches_its_schema, a_request_the_spec_forbids_is_refused,
    credentials_are_required)]
