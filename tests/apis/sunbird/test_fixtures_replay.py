"""Every Sunbird fixture replayed against the reference server: the seed examples match what it answers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.fixtures import Fixture, load_fixtures, resolve_pointer, shape_differences

FIXTURES = load_fixtures("sunbird")


def leaf_pointers(value: Any, pointer: str = "") -> list[str]:
    if isinstance(value, dict):
        return [p for key, child in value.items() for p in leaf_pointers(child, f"{pointer}/{key}")]
    if isinstance(value, list):
        return [p for index, child in enumerate(value) for p in leaf_pointers(child, f"{pointer}/{index}")]
    return [pointer]


def expected_body(fixture: Fixture, actual: Any) -> tuple[Any, frozenset[str]]:
    """The recorded body with placeholders opened up (None admits anything) and the pointers to compare exactly.

    The seed's register envelopes show `ts` where the service sends `ets` (fixtures/sunbird/README.md).
    """
    document = copy.deepcopy({"response": fixture.response})
    for pointer in fixture.placeholders:
        if pointer.startswith("/response/body/"):
            parent, _, name = pointer.rpartition("/")
            container = resolve_pointer(document, parent)
            container[int(name) if isinstance(container, list) else name] = None
    body = document["response"]["body"]
    if isinstance(body, dict) and "ts" in body and "ts" not in actual and "ets" in actual:
        body = {("ets" if key == "ts" else key): value for key, value in body.items()}
    exact = frozenset(p for p in leaf_pointers(body) if resolve_pointer(body, p) is not None)
    return body, exact


@pytest.fixture
def variables(client, sb) -> dict[str, str]:
    return {
        **{f"{name}_bearer": sb.demo_bearer(name) for name in ("mobile_admin", "mobile_app", "desktop_app", "portal")},
        "device_bearer": sb.device_token(client, "mobile_device", "v2"),
        "realm_refresh_token": sb.realm_tokens(client)["refresh_token"],
    }


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fixture_matches_the_server(client, variables, fixture: Fixture):
    request = fixture.filled_request(variables)
    kwargs: dict[str, Any] = {"headers": request.get("headers", {})}
    if "body" in request:
        kwargs["json"] = request["body"]
    if "form" in request:
        kwargs["data"] = request["form"]
    response = client.request(request["method"], request["path"], **kwargs)
    assert response.status_code == fixture.response["status"], response.text
    media = fixture.response["headers"]["Content-Type"]
    assert response.headers["content-type"].split(";")[0] == media
    if fixture.response.get("body") is not None:
        actual = response.json()
        body, exact = expected_body(fixture, actual)
        assert shape_differences(body, actual, exact=exact) == []


def test_comparison_catches_a_drift():
    """The comparison this replay relies on fails when an exact value or a key differs."""
    fixture = next(f for f in FIXTURES if f.path.stem == "000_register_v2")
    good = copy.deepcopy(fixture.response["body"])
    good["ets"] = good.pop("ts")
    body, exact = expected_body(fixture, good)
    assert shape_differences(body, good, exact=exact) == []
    wrong_secret = copy.deepcopy(good)
    wrong_secret["result"]["secret"] = "not-empty"
    assert shape_differences(body, wrong_secret, exact=exact) == ["/result/secret: expected '', got 'not-empty'"]
    del good["params"]["msgid"]
    assert shape_differences(body, good, exact=exact) == ["/params/msgid: missing"]
