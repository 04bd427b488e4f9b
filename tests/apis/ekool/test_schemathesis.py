"""schemathesis in process over every operation the reference server routes for eKool (the contract and its
login and consent pages, `openapi/mock/ekool.yaml`): all phases, all built-in checks, valid credentials supplied
like a client gets them; no server error and no schema violation may appear."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis_run import run
from starlette.testclient import TestClient

from harness.apis.ekool.sessions import COOKIE
from harness.specs import operations, served_spec

from .conftest import Flow, read_form

MAX_EXAMPLES = 40
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# The JWKS handler is shared with Sunbird and its errors are the server's, not eKool's: tests/test_core.py.
SHARED = "getJwks"


class Credentials:
    """What each operation needs to get past its guard: a bearer token, or a browser session and its CSRF token."""

    def __init__(self, http: TestClient) -> None:
        flow = Flow(http)
        self.bearer = flow.tokens()["access_token"]
        login_page = http.get("/login")
        self.anonymous = (login_page.cookies[COOKIE], read_form(login_page.text).fields["_token"])
        consent_page = flow.consent_page()
        self.logged_in = (http.cookies[COOKIE], read_form(consent_page.text).fields["_token"])

    def for_case(self, case: Any) -> tuple[str, Any]:
        if case.operation.path == "/login":
            return "session", self.anonymous
        if case.operation.path == "/oauth/consent":
            return "session", self.logged_in
        if case.operation.path.startswith(("/generaldata", "/user/")):
            return "bearer", self.bearer
        return "none", None


def _auth(credentials: Credentials) -> type:
    class ClientAuth:
        def get(self, case: Any, ctx: Any) -> tuple[str, Any]:
            return credentials.for_case(case)

        def set(self, case: Any, data: tuple[str, Any], ctx: Any) -> None:
            kind, value = data
            if kind == "bearer":
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {value}"}
            elif kind == "session":
                cookie, csrf = value
                case.cookies = {**(case.cookies or {}), COOKIE: cookie}
                if isinstance(case.body, dict):
                    case.body = {**case.body, "_token": csrf}

    return ClientAuth


def test_schemathesis_finds_no_server_error_and_no_schema_violation(make_app):
    app = make_app(validate_responses=False)  # as `harness serve` runs (fast path on); schemathesis checks responses
    with TestClient(app, base_url="http://127.0.0.1:8000") as http:
        credentials = Credentials(http)
    config = SchemathesisConfig.from_dict({
        "generation": {"max-examples": MAX_EXAMPLES},
        "phases": {name: {"enabled": True} for name in PHASES},
        "seed": 20260101,
    })
    schema = schemathesis.openapi.from_dict(served_spec("ekool"), config=config)
    schema.app = app
    schema = schema.exclude(operation_id=SHARED)
    # `schema.auth(Class)` would only build a test decorator: register through the call-then-decorate form.
    schema.auth(cache_by_key=lambda case, ctx: f"{case.method} {case.operation.path}")(_auth(credentials))
    campaign = run(schema)
    cases, statuses, successes, failures = (campaign.phases, campaign.statuses, campaign.successes,
                                            campaign.failures)
    tested = campaign.tested
    print(f"\nschemathesis eKool: {sum(cases.values())} cases {dict(cases)}; statuses {dict(sorted(statuses.items()))}")
    expected = {f"{method} {path}" for method, path, op in operations(served_spec("ekool"))
                if op["operationId"] != SHARED}
    assert expected <= tested, f"untested: {expected - tested}"
    assert sorted(set(failures)) == [], "\n".join(sorted(set(failures)))
    assert not any(status >= 500 for status in statuses)
    resources = {label for label in expected if label.startswith(("GET /generaldata", "GET /user/"))}
    assert all(successes[label] > 0 for label in resources), f"the bearer got through: {dict(successes)}"
