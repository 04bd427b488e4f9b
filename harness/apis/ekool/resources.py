"""The resource API: the token's user (connexion has checked the token and its scope via `bearer`)."""

from __future__ import annotations

from typing import Any

from connexion.exceptions import OAuthProblem

from harness.apis.ekool.bearer import REVOKED
from harness.apis.ekool.demo import User, find_user
from harness.plugins import on_event_loop
from harness.runtime import current

ESTONIA = {"id": 1, "name": "Eesti", "isoCode": "EST", "countryCode": None}


def _user(token_info: dict[str, Any]) -> User:
    sub = token_info.get("sub")
    user = find_user(current(), int(sub)) if isinstance(sub, str) and sub.isdigit() else None
    if user is None:  # unreachable while tokens are revoked with their user; kept as a 401, never a 500
        raise OAuthProblem(detail=REVOKED)
    return user


def _envelope(data: Any) -> dict[str, Any]:
    return {"status": True, "meta": [], "data": data}


@on_event_loop
def general_data(token_info: dict[str, Any]) -> dict[str, Any]:
    user = _user(token_info)
    p = user.profile
    return {
        "username": user.username, "authorities": [{"authority": "ROLE_USER"}], "id": user.id,
        "firstName": p["first_name"], "lastName": p["last_name"], "idCode": p["id_code"], "gender": p["gender"],
        "lockedProfile": False, "active": None, "idIssuedBy": p.get("id_issued_by", ESTONIA),
        "authenticationType": None, "accountNonExpired": True, "accountNonLocked": True,
        "credentialsNonExpired": True, "enabled": True, "rememberMe": False, "authenticationData": None,
        "harIDRoles": [],
    }


@on_event_loop
def user_basic(token_info: dict[str, Any]) -> dict[str, Any]:
    user = _user(token_info)
    p = user.profile
    return _envelope({"id": str(user.id), "first_name": p["first_name"], "last_name": p["last_name"],
                      "email": p["email"], "id_code": p["id_code"]})


@on_event_loop
def user_roles(token_info: dict[str, Any]) -> dict[str, Any]:
    return _envelope(_user(token_info).profile["roles"])


@on_event_loop
def user_schools(token_info: dict[str, Any]) -> dict[str, Any]:
    return _envelope(_user(token_info).profile["schools"])


@on_event_loop
def user_children(token_info: dict[str, Any]) -> dict[str, Any]:
    return _envelope(_user(token_info).profile["children"])
