"""The `[sunbird]` table of a `harness serve --config` file: Kong consumers, their JWT credentials, realm users
and realm clients.

A credential's `groups` are its consumer's ACL groups (Kong keeps groups per consumer): every group an operation
admits (the spec's `x-kong-acl-groups`) or a demo consumer has. A key is unique across every consumer, as in
Kong, and so is a v2 signing key id.
"""

from __future__ import annotations

import uuid
from typing import Any

from harness.plugins import ConfigEntryError
from harness.specs import HTTP_METHODS, load_spec
from harness.userdata import unique_entries

_NAME = {"type": "string", "pattern": r"^[A-Za-z0-9_.~-]{1,100}$"}
_REALM_ROLES = ["offline_access", "uma_authorization"]
_ACCOUNT_ROLES = ["manage-account", "manage-account-links", "view-profile"]


def known_groups() -> list[str]:
    from harness.apis.sunbird.demo import consumers

    groups: set[str] = {group for consumer in consumers() for group in consumer.groups}
    for item in load_spec("sunbird")["paths"].values():
        for method, operation in item.items():
            acl = operation.get("x-kong-acl-groups") if method in HTTP_METHODS else None
            if isinstance(acl, list):
                groups.update(acl)
            elif isinstance(acl, dict):
                groups.update(acl["otherwise"], *acl["values"].values())
    return sorted(groups)


def config_schema() -> dict[str, Any]:
    groups = {"type": "array", "items": {"enum": known_groups()}}
    strings = {"type": "array", "items": {"type": "string", "minLength": 1}}

    def entries(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "object", "required": required, "properties": properties,
                                           "additionalProperties": False}}

    return {
        "type": "object", "additionalProperties": False,
        "properties": {
            "credentials": entries(["consumer", "key", "secret"], {
                "consumer": _NAME, "key": _NAME, "secret": {"type": "string", "minLength": 1}, "groups": groups}),
            "consumers": entries(["name"], {"name": _NAME, "groups": groups, "signing_keys": {
                "type": "array", "items": _NAME}}),
            "realm_users": entries(["username", "password"], {
                "username": {"type": "string", "minLength": 1}, "password": {"type": "string", "minLength": 1},
                "id": {"type": "string", "pattern": "^[0-9a-fA-F-]{36}$"}, "realm_roles": strings,
                "account_roles": strings}),
            "realm_clients": entries(["client_id"], {"client_id": {"type": "string", "minLength": 1}}),
        },
    }


def parse_config(table: dict[str, Any], include_demo: bool) -> dict[str, Any]:
    """Consumers (groups and signing keys as given, None where left to the demo consumer's), credentials, realm
    users (roles defaulted as the demo's) and realm clients, as `demo.seed` loads them."""
    from harness.apis.sunbird.demo import consumers as demo_consumers

    consumers: dict[str, dict[str, Any]] = {}
    where: dict[str, str] = {}
    for index, entry in enumerate(table.get("consumers", [])):
        if entry["name"] in consumers:
            raise ConfigEntryError(("consumers", index, "name"),
                                   f"{entry['name']!r} is already defined at sunbird.{where[entry['name']]}")
        consumers[entry["name"]] = {"name": entry["name"], "groups": entry.get("groups"),
                                    "signing_keys": entry.get("signing_keys")}
        where[entry["name"]] = f"consumers[{index}]"
    credentials = []
    for index, entry in enumerate(table.get("credentials", [])):
        consumer = consumers.setdefault(entry["consumer"], {"name": entry["consumer"], "groups": None,
                                                            "signing_keys": None})
        if "groups" in entry:
            if consumer["groups"] is not None and sorted(consumer["groups"]) != sorted(entry["groups"]):
                raise ConfigEntryError(("credentials", index, "groups"), f"consumer {entry['consumer']!r} has groups "
                                       f"{consumer['groups']} at sunbird.{where[entry['consumer']]}: Kong keeps "
                                       "groups per consumer, so give the same groups or leave them out")
            consumer["groups"] = entry["groups"]
        where.setdefault(entry["consumer"], f"credentials[{index}]")
        credentials.append({"consumer": entry["consumer"], "key": entry["key"], "secret": entry["secret"]})
    _unique_keys(credentials, consumers, {c.name: c.signing_keys for c in demo_consumers()} if include_demo else {})
    users = [_realm_user(entry) for entry in table.get("realm_users", [])]
    unique_entries(users, "username", ("sunbird", "realm_users"))
    clients = [entry["client_id"] for entry in table.get("realm_clients", [])]
    return {"consumers": list(consumers.values()), "credentials": credentials, "realm_users": users,
            "realm_clients": list(dict.fromkeys(clients))}


def _unique_keys(credentials: list[dict[str, Any]], consumers: dict[str, dict[str, Any]],
                 demo_signing_keys: dict[str, tuple[str, ...]]) -> None:
    """Kong's keys are unique: no two credentials, and no credential and v2 signing key, share one."""
    signing = {kid: name for name, kids in demo_signing_keys.items() for kid in kids}
    for index, consumer in enumerate(consumers.values()):
        for kid in consumer["signing_keys"] or ():
            if signing.get(kid, consumer["name"]) != consumer["name"]:
                raise ConfigEntryError(("consumers", index, "signing_keys"),
                                       f"{kid!r} is already consumer {signing[kid]!r}'s signing key")
            signing[kid] = consumer["name"]
    seen: dict[str, int] = {}
    for index, credential in enumerate(credentials):
        key = credential["key"]
        if key in seen:
            raise ConfigEntryError(("credentials", index, "key"),
                                   f"{key!r} is already defined at sunbird.credentials[{seen[key]}] (keys are unique)")
        if key in signing:
            raise ConfigEntryError(("credentials", index, "key"),
                                   f"{key!r} is consumer {signing[key]!r}'s v2 signing key id (keys are unique)")
        seen[key] = index


def _realm_user(entry: dict[str, Any]) -> dict[str, Any]:
    return {"username": entry["username"], "password": entry["password"],
            "id": entry.get("id", str(uuid.uuid5(uuid.NAMESPACE_URL, f"harness:realm-user:{entry['username']}"))),
            "realm_roles": entry.get("realm_roles", _REALM_ROLES),
            "account_roles": entry.get("account_roles", _ACCOUNT_ROLES)}

