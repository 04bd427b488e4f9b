"""Find, load, validate and route-sort the OpenAPI specs. One file per API, named like the API."""

from __future__ import annotations

import copy
import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from harness import plugins

# connexion, openapi-spec-validator and referencing are imported where they are used: loading a spec for
# state initialisation or the banner must not pay for them (about 0.2 s of start-up).

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser is ~10x faster when built in

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def spec_path(name: str) -> Path:
    """The spec file of the API `name` (KeyError names the registered APIs)."""
    return plugins.get(name).spec_file


@cache
def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_YAML_LOADER)


def _load(name: str) -> dict[str, Any]:
    return _read(spec_path(name))


def load_spec(name: str) -> dict[str, Any]:
    """A fresh deep copy of the contract as a dict (callers may mutate it)."""
    return copy.deepcopy(_load(name))


def validate_spec(name: str) -> None:
    """Raise if the contract, or the plugin's mock-only file, is not valid OpenAPI (openapi-spec-validator)."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    mock_file = plugins.get(name).mock_spec_file
    for path in (spec_path(name), *([mock_file] if mock_file else [])):
        spec, base_uri = read_from_filename(str(path))
        validate(spec, base_uri=base_uri)
    validate(served_spec(name))


def _local_refs(node: Any, contract_ref: str) -> Any:
    """`node` with references into the contract file (`../ekool.yaml#/…`) made local (`#/…`)."""
    if isinstance(node, dict):
        return {key: (value.replace(contract_ref, "#", 1) if key == "$ref" and isinstance(value, str)
                      else _local_refs(value, contract_ref)) for key, value in node.items()}
    if isinstance(node, list):
        return [_local_refs(item, contract_ref) for item in node]
    return node


def served_spec(name: str) -> dict[str, Any]:
    """The contract with the plugin's mock-only operations merged in: every operation the reference server
    routes. A mock operation or component that the contract already has is an error, not an override."""
    spec = load_spec(name)
    mock_file = plugins.get(name).mock_spec_file
    if mock_file is None:
        return spec
    contract_ref = Path(os.path.relpath(spec_path(name), mock_file.parent)).as_posix() + "#"
    mock = _local_refs(_read(mock_file), contract_ref)
    for path, item in mock.get("paths", {}).items():
        target = spec.setdefault("paths", {}).setdefault(path, {})
        for key, value in item.items():
            if key in HTTP_METHODS and key in target:
                raise ValueError(f"{mock_file.name}: {key.upper()} {path} is in the contract already")
            target.setdefault(key, value)
    for section, entries in mock.get("components", {}).items():
        existing = spec.setdefault("components", {}).setdefault(section, {})
        for entry, value in entries.items():
            if entry in existing:
                raise ValueError(f"{mock_file.name}: components/{section}/{entry} is in the contract already")
            existing[entry] = value
    spec.setdefault("tags", []).extend(tag for tag in mock.get("tags", []) if tag not in spec.get("tags", []))
    return spec


def routed_spec(name: str) -> dict[str, Any]:
    """The served spec with its paths ordered so literal segments win over templated ones.

    Connexion routes the first declared match; `/v2/consumer/desktop_device/...` must come before
    `/v2/consumer/{consumer}/...` or the literal operation (and its security) is never reached.
    """
    from connexion.utils import sort_routes

    spec = served_spec(name)
    paths = spec.get("paths", {})
    spec["paths"] = {path: paths[path] for path in sort_routes(list(paths))}
    return spec


def runtime_spec(plugin: plugins.ApiPlugin) -> dict[str, Any]:
    """The routed spec with the plugin's security functions attached: what connexion and the fast path load.
    It names Python functions, so it is never published (see `harness.published`)."""
    spec = routed_spec(plugin.name)
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for scheme, functions in plugin.security.items():
        if scheme not in schemes:
            raise LookupError(f"{plugin.name}: security scheme {scheme!r} is not in the spec")
        # connexion resolves these with `get_function_from_name`, which takes a dotted path
        schemes[scheme].update({key: target.replace(":", ".") for key, target in functions.items()})
    return spec


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation in the spec."""
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                found.append((method.upper(), path, item[method]))
    return found


def operation_ids(spec: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {op["operationId"]: (method, path) for method, path, op in operations(spec) if "operationId" in op}


def path_of(api: str, operation_id: str) -> str:
    """The path template of one of an API's operations, as its spec writes it."""
    return operation_ids(load_spec(api))[operation_id][1]


def resolve_refs(node: Any, spec: dict[str, Any]) -> Any:
    """`node` with every local `$ref` replaced by its target (our specs have no recursive schemas).

    A dangling reference raises `referencing.exceptions.PointerToNowhere`, like the spec validator does.
    """
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                if not isinstance(target, dict) or part not in target:
                    from referencing.exceptions import PointerToNowhere

                    raise PointerToNowhere(node["$ref"], spec)
                target = target[part]
            return resolve_refs(target, spec)
        return {key: resolve_refs(value, spec) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve_refs(item, spec) for item in node]
    return node
