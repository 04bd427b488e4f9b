"""schemathesis over every Sunbird operation, in process: all phases (examples, coverage, fuzzing, stateful),
positive and negative data, every check. Expected: no failed check, no 5xx, no engine error."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis_run import run
from starlette.testclient import TestClient

from harness import authtoken
from harness.specs import load_spec, operations

MAX_EXAMPLES = 25
REFRESH_PATH = "/auth/v1/refresh/token"
# Which consumers exist is deployment data, not contract: the run registers for the demo `mobile_device`
# (v1 stores one credential per key and consumer; v2 answers 500 for consumers without keys, as tested in
# test_register.py). The literal `desktop_device` operation covers the other route.
CONSUMER = "mobile_device"


def _bearer(admin: str) -> str:
    return authtoken.generate(f"{admin}_key", f"{admin}_secret")


def configured_schema(app: Any, device_token: str) -> Any:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    schema.config.generation.update(max_examples=MAX_EXAMPLES, modes=[GenerationMode.POSITIVE,
                                                                      GenerationMode.NEGATIVE])
    schema.config.parameters = {"path.consumer": CONSUMER}
    bearers = {"/api-manager/v2/consumer/desktop_device/credential/register": _bearer("desktop_app"),
               REFRESH_PATH: device_token}

    @schema.auth()
    class GatewayBearer:
        """Each gated operation gets a bearer its route's ACL group accepts (schemathesis caches `get` across
        operations, so the choice is made in `set`)."""

        def get(self, case: Any, ctx: Any) -> dict[str, str]:
            return bearers

        def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
            path = case.operation.path
            if path.startswith(("/api-manager/", REFRESH_PATH)):
                token = data.get(path, _bearer("mobile_app"))
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    @schema.hook
    def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
        """A well-formed refresh token the realm never issued is rightly refused (documented 400 invalid_grant)."""
        return not (type(failure).__name__ == "RejectedPositiveData" and case.operation.path == REFRESH_PATH
                    and response.status_code == 400 and response.json()["params"]["err"] == "invalid_grant")

    return schema


@pytest.mark.slow
def test_schemathesis_finds_nothing(make_app, capsys):
    app = make_app(validate_responses=False)  # as `harness serve` runs (fast path on); schemathesis checks responses
    with TestClient(app) as client:
        device = client.post(f"/api/api-manager/v2/consumer/{CONSUMER}/credential/register",
                             json={"request": {"key": "schemathesis"}},
                             headers={"Authorization": f"Bearer {_bearer('mobile_app')}"}).json()["result"]["token"]
    schema = configured_schema(app, device)
    started = time.monotonic()
    campaign = run(schema)
    cases, statuses, failures = campaign.cases, campaign.statuses, campaign.failures
    with capsys.disabled():
        print(f"\nschemathesis: {sum(cases.values())} cases in {time.monotonic() - started:.1f}s, "
              f"statuses {dict(sorted(statuses.items()))}")
        for label, count in sorted(cases.items()):
            print(f"  {count:5d}  {label}")
    assert failures == []
    assert not [status for status in statuses if status >= 500]
    documented = {f"{method} {path}" for method, path, _ in operations(load_spec("sunbird"))}
    assert documented <= {label for label, count in cases.items() if count > 0}
