"""The contract names operations in the API's own words, never our Python modules, and ships in the package."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from harness import contract
from harness.plugins import load_plugins
from harness.server import HarnessApp
from harness.specs import load_spec, operation_ids, served_spec

ROOT = Path(__file__).resolve().parent.parent
# The operationIds other tools and users' files refer to (issue 11): changing one is a breaking change.
STABLE_IDS = {
    "sunbird": {"registerCredentialV1", "registerCredentialV2", "getApiToken", "refreshAccessToken", "realmToken",
                "realmCerts", "realmOpenidConfiguration", "getJwks"},
    "ekool": {"authorize", "issueToken", "getGeneralData", "getMyBasic", "getMyRoles", "getMySchools", "getMyChildren",
              "getJwks"},
}
# The reference server's own pages (openapi/mock/<api>.yaml): routed, stable too, but outside the contract.
MOCK_IDS = {"sunbird": set(), "ekool": {"decideAuthorization", "showLogin", "submitLogin"}}
# `harness.apis.sunbird.register.register_v1`, `harness.apis.shared:jwks`, `bench.common`, `tests/...py`
_OUR_PACKAGES = ("harness", "bench", "tests")
_MODULE_NAME = re.compile(rf"\b(?:{'|'.join(_OUR_PACKAGES)})(?:[.:][A-Za-z_]\w*)+|\b[\w/]+\.py\b")
_FUNCTION_EXTENSION = re.compile(r"^x-\w*Func$")


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def python_names(document: Any) -> list[str]:
    """Every string of `document` that names one of our Python modules or functions."""
    found = [match for text in _strings(document) for match in _MODULE_NAME.findall(text)]
    found += [key for key in _strings(document) if _FUNCTION_EXTENSION.match(key)]
    return found


def _contract_files() -> list[Path]:
    return sorted(p for d in ("openapi", "fixtures", "postman") for p in (ROOT / d).rglob("*")
                  if p.suffix in (".yaml", ".json"))


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


@pytest.mark.parametrize("path", _contract_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_string_in_the_contract_names_a_python_module(path: Path) -> None:
    assert python_names(_load(path)) == []


@pytest.mark.parametrize("text", [
    {"operationId": "harness.apis.sunbird.register.register_v1"},
    {"links": {"x": {"operationId": "harness.apis.shared:jwks"}}},
    {"components": {"securitySchemes": {"b": {"x-bearerInfoFunc": "anything"}}}},
    {"description": "see harness/fixtures.py"},
    "operation: bench.common.run",
])
def test_the_check_finds_a_python_name(text: Any) -> None:
    assert python_names(text)


def test_the_check_leaves_the_apis_own_dotted_words_alone() -> None:
    words = {"id": "api.refresh.token", "host": "https://login.ekool.dev/oauth", "envelope": "ekstep.api.am.adminutil",
             "cmd": "`harness serve`", "operationId": "registerCredentialV1"}
    assert python_names(words) == []


@pytest.mark.parametrize("api", sorted(STABLE_IDS))
def test_every_operation_has_its_stable_id(api: str) -> None:
    assert set(operation_ids(load_spec(api))) == STABLE_IDS[api]
    assert set(operation_ids(served_spec(api))) == STABLE_IDS[api] | MOCK_IDS[api]


def test_every_fixture_names_an_operation_of_its_spec() -> None:
    for api, ids in STABLE_IDS.items():
        names = {yaml.safe_load(p.read_text())["operation"] for p in (ROOT / "fixtures" / api).glob("*.yaml")}
        assert names and names <= ids, names - ids


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from harness.server import create_app
    from harness.settings import Settings

    app: HarnessApp = create_app(Settings(state_dir=tmp_path_factory.mktemp("state")))
    with TestClient(app, base_url="http://127.0.0.1:18080") as http:
        yield http


@pytest.mark.parametrize(("api", "url"), [("sunbird", "/api/openapi.json"), ("ekool", "/ekool/openapi.json")])
def test_published_specs_carry_the_operation_ids_and_no_python_names(client: TestClient, api: str, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    spec = answer.json()
    assert set(operation_ids(spec)) == STABLE_IDS[api]
    assert python_names(spec) == []
    assert spec["info"] == load_spec(api)["info"]


def test_published_spec_names_the_server_the_client_reached_first(client: TestClient) -> None:
    """Reached server first, then the documented remote hosts; the spec's local entries (127.0.0.1:8000) and
    connexion's relative "" never: Try it out goes where the page came from, whatever the port."""
    sunbird = client.get("/api/openapi.json").json()
    assert [s["url"] for s in sunbird["servers"]] == [
        "http://127.0.0.1:18080/api", "https://staging.open-sunbird.org/api", "https://staging.open-sunbird.org"]
    assert [s["url"] for s in load_spec("sunbird")["servers"]][2:] == ["http://127.0.0.1:8000/api",
                                                                       "http://127.0.0.1:8000"], "left out"
    assert sunbird["components"]["securitySchemes"]["sunbirdRealm"]["flows"]["password"]["tokenUrl"] == (
        "http://127.0.0.1:18080/auth/realms/sunbird/protocol/openid-connect/token")
    ekool = client.get("/ekool/openapi.yaml", headers={"x-forwarded-proto": "https", "x-forwarded-host": "mock.test"})
    assert ekool.headers["content-type"].startswith("text/yaml")
    spec = yaml.safe_load(ekool.text)
    assert [s["url"] for s in spec["servers"]] == ["https://mock.test", "https://api-v2.ekool.dev",
                                                   "https://api-v2.ekool.eu"]
    for path in ("/oauth/authorize", "/oauth/token"):
        assert [s["url"] for s in spec["paths"][path]["servers"]] == [
            "https://mock.test", "https://login.ekool.dev", "https://login.ekool.eu"]
    flow = spec["components"]["securitySchemes"]["ekool_oauth"]["flows"]["authorizationCode"]
    assert (flow["authorizationUrl"], flow["tokenUrl"]) == ("https://mock.test/oauth/authorize",
                                                            "https://mock.test/oauth/token")
    assert load_spec("ekool")["components"]["securitySchemes"]["ekool_oauth"]["flows"]["authorizationCode"][
        "tokenUrl"] == "https://login.ekool.eu/oauth/token", "the contract itself is unchanged"


def test_the_swagger_ui_loads_the_published_spec(client: TestClient) -> None:
    for plugin in load_plugins():
        page = client.get(f"{plugin.docs_prefix}/ui/")
        assert page.status_code == 200 and f"{plugin.docs_prefix}/openapi.json" in page.text


def test_the_package_finds_its_contract_through_one_lookup() -> None:
    assert contract.spec_dir().samefile(ROOT / "openapi")
    assert contract.fixture_dir().samefile(ROOT / "fixtures")
    assert contract.postman_dir().samefile(ROOT / "postman")
