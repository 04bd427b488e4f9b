"""Recorded exchanges (`fixtures/<api>/*.yaml`): loading, variable filling, and comparison by shape.

A fixture file:

    source: seeds/000_91278a2417bb2929.txt     # the seed or reference note it comes from
    description: v2 register, RS256 token
    operation: registerCredentialV2           # operationId in openapi/<api>.yaml
    request:
      method: POST
      path: /api//api-manager/v2/consumer/mobile_device/credential/register
      headers: {Content-Type: application/json, Authorization: "Bearer {{mobile_app_bearer}}"}
      body: {"request": {"key": "text"}}      # JSON value; or `form: {...}` for form-urlencoded
    response:
      status: 200
      headers: {Content-Type: application/json}
      body: {...}
    placeholders:                             # JSON pointers (into this file) of "any value of this type"
      - /response/body/params/resmsgid

`{{name}}` in request strings is filled from variables the replayer provides (credentials, tokens).
Comparison is structural: status, media type, keys and value types; values only where they are not
placeholders and not volatile (tokens, ids, timestamps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness import plugins

_VAR = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


@dataclass
class Fixture:
    path: Path
    api: str
    source: str
    description: str
    operation: str
    request: dict[str, Any]
    response: dict[str, Any]
    placeholders: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.api}/{self.path.stem}"

    def variables(self) -> set[str]:
        return set(_VAR.findall(yaml.safe_dump(self.request)))

    def filled_request(self, variables: dict[str, str]) -> dict[str, Any]:
        """The request with `{{name}}` replaced; KeyError names a variable the caller did not provide."""
        return _fill(self.request, variables)

    def is_placeholder(self, pointer: str) -> bool:
        return pointer in self.placeholders


def _fill(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _VAR.sub(lambda m: variables[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    return value


def load_fixture(path: Path) -> Fixture:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Fixture(
        path=path,
        api=path.parent.name,
        source=data["source"],
        description=data.get("description", ""),
        operation=data["operation"],
        request=data["request"],
        response=data["response"],
        placeholders=list(data.get("placeholders", [])),
    )


def load_fixtures(api: str, directory: Path | None = None) -> list[Fixture]:
    """Every exchange fixture of one API (demo-data files under `demo/` are not exchanges): the plugin's own,
    or those in `<directory>/<api>/`."""
    folder = directory / api if directory is not None else plugins.get(api).fixture_dir
    return [load_fixture(p) for p in sorted(folder.glob("*.yaml"))]


def resolve_pointer(document: Any, pointer: str) -> Any:
    current = document
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        current = current[int(token)] if isinstance(current, list) else current[token]
    return current


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_differences(
    expected: Any, actual: Any, pointer: str = "", exact: frozenset[str] = frozenset()
) -> list[str]:
    """Where `actual` differs in shape from `expected`: missing keys, other JSON types.

    Values are compared only at pointers listed in `exact`. `null` in the recording admits any type
    (the seeds show `null` where a real answer may carry a value, e.g. `params.err`).
    Arrays: every actual item is compared with the first recorded item.
    """
    problems: list[str] = []
    if expected is None:
        return problems
    if json_type(expected) != json_type(actual):
        return [f"{pointer or '/'}: expected {json_type(expected)}, got {json_type(actual)}"]
    if isinstance(expected, dict):
        for key, value in expected.items():
            child = f"{pointer}/{key}"
            if key not in actual:
                problems.append(f"{child}: missing")
            else:
                problems.extend(shape_differences(value, actual[key], child, exact))
    elif isinstance(expected, list) and expected:
        for index, item in enumerate(actual):
            problems.extend(shape_differences(expected[0], item, f"{pointer}/{index}", exact))
    elif pointer in exact and expected != actual:
        problems.append(f"{pointer}: expected {expected!r}, got {actual!r}")
    return problems
