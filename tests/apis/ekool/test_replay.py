"""Every eKool fixture replayed against the reference server answers with the recorded status and shape: a drift
between fixtures and behaviour fails here (fixtures/ekool/README.md names the variables)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from harness.fixtures import Fixture, load_fixtures, shape_differences

from .conftest import DEMO_CLIENT, DEMO_SECRET, Flow, query_of

REDIRECT = "http://127.0.0.1/callback"


@pytest.fixture
def auto_flow(make_app) -> Iterator[Flow]:
    """`harness serve --auto-login mari`: the authorize fixture answers 302 at once."""
    with TestClient(make_app(auto_login="mari"), base_url="http://127.0.0.1:8000") as http:
        yield Flow(http)


def variables(flow: Flow) -> dict[str, str]:
    code = query_of(flow.authorize(redirect_uri=REDIRECT).headers["location"])["code"]
    spare = query_of(flow.authorize(redirect_uri=REDIRECT).headers["location"])["code"]
    tokens = flow.exchange(spare, redirect_uri=REDIRECT).json()
    return {"ekool_client_id": DEMO_CLIENT, "ekool_client_secret": DEMO_SECRET, "ekool_redirect_uri": REDIRECT,
            "ekool_code": code, "ekool_access_token": tokens["access_token"],
            "ekool_refresh_token": tokens["refresh_token"]}


@pytest.mark.parametrize("fixture", load_fixtures("ekool"), ids=lambda f: f.name)
def test_fixture_replays_with_its_status_and_shape(auto_flow, fixture: Fixture):
    request = fixture.filled_request(variables(auto_flow))
    content = urlencode(request["form"]) if "form" in request else None
    answer = auto_flow.http.request(request["method"], request["path"], headers=request.get("headers") or {},
                                    content=content, follow_redirects=False)
    expected = fixture.response
    assert answer.status_code == expected["status"], answer.text
    for name, value in (expected.get("headers") or {}).items():
        actual = answer.headers.get(name)
        assert actual is not None, f"header {name} missing"
        if name == "Location":  # recorded as a template, e.g. {redirect_uri}?code={code}: compare the query keys
            assert actual.startswith(f"{REDIRECT}?")
            assert set(query_of(value)) <= set(query_of(actual)), actual
        else:
            assert actual.split(";")[0] == value, name
    if "body" in expected:
        assert shape_differences(expected["body"], answer.json()) == []
