"""The `[ekool]` table of a `harness serve --config` file: clients, users and schools.

Passport's clients: a confidential client has a secret; a public one (`public = true`) has none and must use
PKCE, as league's AuthCodeGrant requires by default. A user's resource data is checked against the spec's own
schemas of what `/user/me/roles|schools|children` return.
"""

from __future__ import annotations

import re
from typing import Any

from harness.apis.ekool import scopes
from harness.plugins import ConfigEntryError
from harness.specs import load_spec, resolve_refs
from harness.userdata import unique_entries

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+")
_HOST_AND_PORT = re.compile(r"[^:/]+:[0-9]+(/.*)?")


def _spec_schema(name: str) -> dict[str, Any]:
    spec = load_spec("ekool")
    return resolve_refs(spec["components"]["schemas"][name], spec)


def config_schema() -> dict[str, Any]:
    known_scopes = list(scopes.descriptions())
    words = {"type": "array", "items": {"type": "string", "minLength": 1}}
    client = {
        "type": "object", "required": ["id", "redirect_uris"], "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": r"^\S{1,100}$"},
            "secret": {"type": "string", "minLength": 1},
            "public": {"type": "boolean"},
            "name": {"type": "string", "minLength": 1},
            "redirect_uris": {**words, "minItems": 1},
            "scopes": {"type": "array", "items": {"enum": known_scopes}},
        },
    }
    school = _spec_schema("School")
    user = {
        "type": "object", "required": ["username", "password", "first_name", "last_name"],
        "additionalProperties": False,
        "properties": {
            "username": {"type": "string", "minLength": 1},
            "password": {"type": "string", "minLength": 1},
            "id": {"type": "integer", "minimum": 1, "maximum": 2**53},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "email": {"type": "string"},
            "id_code": {"type": "string"},
            "gender": {"type": "integer"},
            "roles": {"type": "array", "items": _spec_schema("UserRole")},
            "schools": {"type": "array", "items": {"anyOf": [{"type": "string", "minLength": 1}, school]}},
            "children": {"type": "array", "items": _spec_schema("Child")},
        },
    }
    return {
        "type": "object", "additionalProperties": False,
        "properties": {
            "clients": {"type": "array", "items": client},
            "users": {"type": "array", "items": user},
            "schools": {"type": "array", "items": school},
        },
    }


def parse_config(table: dict[str, Any], include_demo: bool) -> dict[str, Any]:
    """The clients and users as `demo.seed` loads them (schools resolved, user ids assigned)."""
    from harness.apis.ekool.demo import load_demo, load_demo_schools

    demo_users = load_demo()[1] if include_demo else []
    schools = {school["id"]: school for school in load_demo_schools()}
    own_schools = table.get("schools", [])
    unique_entries(own_schools, "id", ("ekool", "schools"))
    schools.update({str(school["id"]): school for school in own_schools})
    clients = [_client(index, entry) for index, entry in enumerate(table.get("clients", []))]
    unique_entries(clients, "id", ("ekool", "clients"))
    demo_ids = {user["username"]: user["id"] for user in demo_users}
    taken = {user["id"]: user["username"] for user in demo_users}
    next_id = max([*taken, 100000]) + 1
    users = []
    for index, entry in enumerate(table.get("users", [])):
        user = _user(index, entry, schools)
        if "id" not in user:
            user["id"] = demo_ids.get(user["username"], next_id)
            next_id = max(next_id, user["id"] + 1)
        elif taken.get(user["id"], user["username"]) != user["username"]:
            raise ConfigEntryError(("users", index, "id"), f"{user['id']} is already user "
                                   f"{taken[user['id']]!r}'s id (leave id out to get a free one)")
        taken[user["id"]] = user["username"]
        users.append(user)
    unique_entries(users, "username", ("ekool", "users"))
    unique_entries(users, "id", ("ekool", "users"))
    return {"clients": clients, "users": users}


def _client(index: int, entry: dict[str, Any]) -> dict[str, Any]:
    from harness.apis.ekool.demo import SERVER

    public = entry.get("public", False)
    if public and "secret" in entry:
        raise ConfigEntryError(("clients", index, "secret"),
                               "a public client has no secret (it proves itself with PKCE); leave secret out")
    if not public and "secret" not in entry:
        raise ConfigEntryError(("clients", index, "secret"),
                               "is missing (or set public = true for a PKCE-only client)")
    for position, uri in enumerate(entry["redirect_uris"]):
        problem = redirect_uri_problem(uri.replace(SERVER, "http://localhost"))  # `{server}`: this server
        if problem:
            raise ConfigEntryError(("clients", index, "redirect_uris", position), f"{uri!r} {problem}")
    return {"id": entry["id"], "name": entry.get("name", entry["id"]), "secret": None if public else entry["secret"],
            "redirect_uris": list(entry["redirect_uris"]),
            "scopes": list(dict.fromkeys(entry.get("scopes", scopes.descriptions())))}


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be a registered redirect URI (RFC 6749 3.1.2: absolute, no fragment), or None."""
    if _HOST_AND_PORT.fullmatch(uri):
        return "is not an absolute URI: it has no scheme (e.g. http://localhost:5173/callback)"
    if not _URI.fullmatch(uri):
        return "is not an absolute URI without a fragment (e.g. http://localhost:5173/callback, com.example.app:/cb)"
    scheme, _, rest = uri.partition(":")
    if scheme.lower() in ("http", "https") and not re.match(r"//[^/?]+", rest):
        return "is not an absolute URI: an http(s) URI needs a host (e.g. http://localhost:5173/callback)"
    return None


def _user(index: int, entry: dict[str, Any], schools: dict[str, dict[str, Any]]) -> dict[str, Any]:
    resolved = []
    for position, school in enumerate(entry.get("schools", [])):
        if isinstance(school, str):
            if school not in schools:
                raise ConfigEntryError(("users", index, "schools", position),
                                       f"no school {school!r} (known: {', '.join(schools)}; or write the school "
                                       "as a table: id, name, reg_nr, ehis_id)")
            school = schools[school]
        resolved.append(school)
    user = {"username": entry["username"], "password": entry["password"], "first_name": entry["first_name"],
            "last_name": entry["last_name"], "email": entry.get("email", ""), "id_code": entry.get("id_code", ""),
            "gender": entry.get("gender", 0), "roles": entry.get("roles", []), "schools": resolved,
            "children": entry.get("children", [])}
    if "id" in entry:
        user["id"] = entry["id"]
    return user

