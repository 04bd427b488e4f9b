"""The fast path (harness/fastpath.py) answers exactly as connexion does.

The same generated requests go to two apps on one state directory, one with the fast path and one without;
status, headers and body must agree (tokens, timestamps and message ids masked; v2/refresh tokens compared by
their header and claims). A counter on the fast path shows it did answer a share of them, so the comparison
cannot pass by the fast path standing aside.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from harness import authtoken, fastpath
from harness.crypto.memo import VerifiedMemo
from harness.crypto.tokens import b64url_decode, sign_rs256
from harness.plugins import ApiPlugin
from harness.server import create_app
from harness.settings import Settings
from harness.testing.sunbird import gateway_bearer
from harness.testing.tokens import TokenHelper

BASE = "http://127.0.0.1:8000"
VOLATILE = {"ets", "ts", "resmsgid", "timestamp"}
TOKENS = {"token", "access_token"}
NEAR = {"expires_in", "refresh_expires_in"}  # seconds left: may differ by one between the two calls
EXAMPLES = 150


class Pair:
    """The two apps, their clients, the tokens every strategy draws from, and how often the fast path answered."""

    def __init__(self, state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fast = TestClient(create_app(Settings(state_dir=state)), base_url=BASE)
        self.slow = TestClient(create_app(Settings(state_dir=state, fast_path=False)), base_url=BASE)
        self.operations: list[str] = []  # operationIds the fast path answered
        answer = fastpath.FastPath.answer

        async def counted(fast: fastpath.FastPath, operation: fastpath.FastOperation, *args: Any) -> None:
            self.operations.append(operation.operation_id)
            await answer(fast, operation, *args)

        monkeypatch.setattr(fastpath.FastPath, "answer", counted)
        with TokenHelper.in_process(self.fast.app) as helper:
            self.device = helper.sunbird_device_token("mobile_device")
            v1 = helper.sunbird_v1_credential("mobile_device")
            self.v1_device = authtoken.generate(v1["key"], v1["secret"])
            self.offline = helper.realm_refresh_token(offline=True)
            self.online = helper.realm_refresh_token(offline=False)
            self.ekool_all = helper.ekool_tokens("mari")
            self.ekool_basic = helper.ekool_tokens("juhan", scopes=["users-basic"])
            rotated = helper.ekool_tokens("mari")
            helper.client.post("/oauth/token", data={
                "grant_type": "refresh_token", "client_id": "ekooldemoclient00000000000000001",
                "client_secret": "ekooldemosecret0000000000000000000000001",
                "refresh_token": rotated["refresh_token"]})
            self.ekool_revoked = rotated["access_token"]
        now = int(time.time())
        self.ekool_expired = sign_rs256({"aud": "ekooldemoclient00000000000000001", "jti": "x", "iat": now - 60,
                                         "nbf": now - 60, "exp": now - 1, "sub": "100001", "scopes": ["users-basic"]},
                                        self.fast.app.ctx.keys, "ekool-access",
                                        headers={"typ": "JWT", "kid": "ekool-access"})
        self.operations.clear()

    @property
    def answered(self) -> int:
        return len(self.operations)

    def both(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> None:
        fast = self.fast.request(method, url, headers=headers, content=body)
        slow = self.slow.request(method, url, headers=headers, content=body)
        assert comparable(fast) == comparable(slow), f"{method} {url} {headers} {body!r}"
        for name in NEAR:
            a, b = _find(fast, name), _find(slow, name)
            assert (a is None) == (b is None) and (a is None or abs(a - b) <= 1), (name, a, b)


def _find(response: Any, name: str) -> Any:
    try:
        result = response.json().get("result")
    except (ValueError, AttributeError):
        return None
    return result.get(name) if isinstance(result, dict) else None


def _token_shape(token: Any) -> Any:
    if not isinstance(token, str) or token.count(".") != 2:
        return token
    head, claims = (json.loads(b64url_decode(part)) for part in token.split(".")[:2])
    masked = {k: ("<time>" if k in ("iat", "exp") else v) for k, v in claims.items()}
    return list(head), {k: v for k, v in head.items() if k != "kid"}, masked


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE else _token_shape(v) if k in TOKENS else
                    "<near>" if k in NEAR else _mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return value


def comparable(response: Any) -> tuple[int, list[tuple[str, str]], Any]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "content-length")
    try:
        body: Any = _mask(response.json())
    except ValueError:
        body = response.text
    return response.status_code, headers, body


@pytest.fixture
def pair(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pair]:
    both = Pair(state_dir, monkeypatch)
    with both.fast, both.slow:
        yield both


# --- Sunbird: register v1/v2, "Get API token", refresh ------------------------------------------------------------

CONSUMERS = ["mobile_device", "desktop_device", "portal_anonymous", "portal_loggedin", "mobile_app", "nobody"]
ADMINS = ["mobile_admin", "mobile_app", "desktop_app", "portal"]
JSON_TYPES = ["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
              "Application/JSON", "text/plain", "application/x-www-form-urlencoded", None]
JSON = "application/json"
FORM_TYPES = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
              "application/json", "multipart/form-data; boundary=x", None]
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=6)
register_bodies = st.one_of(
    st.builds(lambda key, extra: {**extra, "request": {"key": key}}, st.text(max_size=12),
              st.dictionaries(st.sampled_from(["id", "ver", "ts", "params"]), json_values, max_size=2)),
    st.builds(lambda key, msgid: {"params": {"msgid": msgid}, "request": {"key": key}},
              st.text(min_size=1, max_size=8), json_values),
    st.builds(lambda request: {"request": request}, json_values),
    json_values,
).map(lambda body: json.dumps(body).encode()) | st.binary(max_size=24) | st.just(b"")


def bearers(pair: Pair) -> st.SearchStrategy[str | None]:
    return st.one_of(st.sampled_from(ADMINS).map(lambda c: f"Bearer {gateway_bearer(c)}"),
                     st.sampled_from([None, "Bearer", "Bearer garbage", "Basic Zm9vOmJhcg==", f"bearer {pair.device}",
                                      f"Bearer {pair.device}", f"Bearer {pair.v1_device}", "Bearer a.b.c"]))


def _headers(authorization: str | None, content_type: str | None) -> dict[str, str]:
    headers = {"Authorization": authorization, "Content-Type": content_type}
    return {k: v for k, v in headers.items() if v is not None}


ADMIN_FOR = {"mobile_app": "mobile_admin", "mobile_device": "mobile_app", "desktop_device": "desktop_app",
             "portal_anonymous": "portal", "portal_loggedin": "portal", "nobody": "mobile_admin"}
valid_register = st.builds(lambda key, msgid: json.dumps({"params": {"msgid": msgid}, "request": {"key": key}}),
                           st.text(min_size=1, max_size=12), st.text(max_size=6)).map(str.encode)


def test_register_answers_agree(pair: Pair) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(prefix=st.sampled_from(["/api", ""]), version=st.sampled_from(["v1", "v2"]),
           consumer=st.sampled_from(CONSUMERS), plausible=st.booleans(), authorization=bearers(pair),
           content_type=st.sampled_from(JSON_TYPES), body=register_bodies, valid_body=valid_register,
           query=st.sampled_from(["", "", "", "?debug=1"]))
    def check(prefix: str, version: str, consumer: str, plausible: bool, authorization: str | None,
              content_type: str | None, body: bytes, valid_body: bytes, query: str) -> None:
        if plausible:  # the right admin and a JSON body: what a real client sends, so the fast path answers
            authorization, content_type, body = f"Bearer {gateway_bearer(ADMIN_FOR[consumer])}", JSON, valid_body
        url = f"{prefix}/api-manager/{version}/consumer/{consumer}/credential/register{query}"
        pair.both("POST", url, _headers(authorization, content_type), body)

    check()
    assert pair.answered >= EXAMPLES // 5, f"the fast path answered only {pair.answered} requests"


def form_bodies(pair: Pair) -> st.SearchStrategy[bytes]:
    tokens = st.sampled_from([pair.offline, pair.online, pair.device, "", "text", pair.offline[:-4] + "AAAA"])
    fields = st.one_of(
        tokens.map(lambda t: f"refresh_token={t}"),
        tokens.map(lambda t: f"refresh_token={quote(t, safe='')}&client_id=android"),
        tokens.map(lambda t: f"refresh_token={t}&refresh_token=x"),
        tokens.map(lambda t: f"a=%zz&refresh_token={t}"),
        st.text(max_size=20).map(lambda text: f"refresh_token={quote(text)}"),
        st.text(max_size=20),
    )
    return fields.map(str.encode) | st.binary(max_size=16)


def test_refresh_answers_agree(pair: Pair) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(prefix=st.sampled_from(["/api", ""]), plausible=st.booleans(), authorization=bearers(pair),
           content_type=st.sampled_from(FORM_TYPES), body=form_bodies(pair))
    def check(prefix: str, plausible: bool, authorization: str | None, content_type: str | None, body: bytes) -> None:
        if plausible:
            authorization, content_type = f"Bearer {pair.device}", FORM_TYPES[0]
        pair.both("POST", f"{prefix}/auth/v1/refresh/token", _headers(authorization, content_type), body)

    check()
    assert pair.answered >= EXAMPLES // 10, f"the fast path answered only {pair.answered} requests"


def test_the_literal_desktop_route_keeps_its_own_operation(pair: Pair) -> None:
    """`.../v2/consumer/desktop_device/...` is get_api_token (desktopAdmin), not the templated v2 operation."""
    for admin in ADMINS:
        headers = {"Authorization": f"Bearer {gateway_bearer(admin)}", "Content-Type": "application/json"}
        pair.both("POST", "/api/api-manager/v2/consumer/desktop_device/credential/register", headers,
                  b'{"request": {"key": "desk"}}')
    # desktop_app only (the others are refused by the gateway's ACL), and by its own operation
    assert pair.operations == ["getApiToken"]


# --- eKool: the scope-guarded resource API ---------------------------------------------------------------------------

RESOURCES = ["/generaldata", "/user/me/basic", "/user/me/roles", "/user/me/schools", "/user/me/children",
             "/user/me/other"]


def test_resource_answers_agree(pair: Pair) -> None:
    tokens = [pair.ekool_all["access_token"], pair.ekool_basic["access_token"], pair.ekool_revoked,
              pair.ekool_expired, pair.device, "garbage"]
    schemes = ["Bearer {}", "bearer {}", "Bearer  {} ", "{}", "Basic {}"]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(path=st.sampled_from(RESOURCES), method=st.sampled_from(["GET", "GET", "GET", "POST"]),
           token=st.sampled_from(tokens), scheme=st.sampled_from(schemes), send=st.booleans(),
           query=st.sampled_from(["", "", "?page=1"]), plausible=st.booleans(), live=st.sampled_from(tokens[:2]))
    def check(path: str, method: str, token: str, scheme: str, send: bool, query: str, plausible: bool,
              live: str) -> None:
        if plausible:  # a well-formed call with a live token: the fast path's own decisions (scopes) are compared
            method, token, scheme, send, query = "GET", live, schemes[0], True, ""
        pair.both(method, path + query, {"Authorization": scheme.format(token)} if send else {}, None)

    check()
    assert pair.answered >= EXAMPLES // 10, f"the fast path answered only {pair.answered} requests"


def test_a_remembered_token_is_still_refused_once_revoked_or_expired(make_app) -> None:
    """The verified-token memo keeps signatures, not decisions: revocation and `exp` are checked every time."""
    app = make_app(validate_responses=False)  # a 7-day token: the clock, not a sleep, ends it
    with TokenHelper.in_process(app) as helper:
        first = helper.ekool_tokens("mari")
        bearer = {"Authorization": f"Bearer {first['access_token']}"}
        assert helper.client.get("/user/me/basic", headers=bearer).status_code == 200
        assert len(app.ctx.keys.verified) >= 1
        helper.client.post("/oauth/token", data={
            "grant_type": "refresh_token", "client_id": "ekooldemoclient00000000000000001",
            "client_secret": "ekooldemosecret0000000000000000000000001", "refresh_token": first["refresh_token"]})
        revoked = helper.client.get("/user/me/basic", headers=bearer)
        assert (revoked.status_code, revoked.json()["hint"]) == (401, "Access token has been revoked")
        second = helper.ekool_tokens("mari")
        bearer = {"Authorization": f"Bearer {second['access_token']}"}
        assert helper.client.get("/user/me/basic", headers=bearer).status_code == 200
        exp = json.loads(b64url_decode(second["access_token"].split(".")[1]))["exp"]
        app.ctx.clock.set_to(exp)  # the token's last instant: exp <= now is expired (no leeway)
        expired = helper.client.get("/user/me/basic", headers=bearer)
        assert (expired.status_code, expired.json()["hint"]) == (401, "Access token could not be verified")


# --- the pieces ------------------------------------------------------------------------------------------------------


def test_memo_keeps_only_successes_until_their_end() -> None:
    memo = VerifiedMemo(max_entries=2)
    calls: list[str] = []

    def verify(result: Any) -> Any:
        calls.append("verify")
        return result

    assert memo.remember("bad", lambda: verify(False), lambda _: None) is False
    assert memo.remember("bad", lambda: verify(False), lambda _: None) is False
    assert len(calls) == 2 and len(memo) == 0
    now = time.time()
    assert memo.remember("good", lambda: verify({"sub": "1"}), lambda _: now + 60) == {"sub": "1"}
    assert memo.remember("good", lambda: verify({"sub": "2"}), lambda _: now + 60) == {"sub": "1"}
    assert len(calls) == 3
    assert memo.get("good", now=now + 60) is None  # ends at `until`, like PyJWT's `exp <= now`
    memo.put("a", 1, now + 60)
    memo.put("b", 2, now + 60)
    memo.put("c", 3, now + 60)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (None, 2, 3)  # bounded: the oldest goes


def test_an_operation_the_fast_path_cannot_answer_is_refused_when_the_app_is_built(state_dir: Path) -> None:
    from harness.apis import ekool
    from harness.server import build_app, initialize_state

    ctx = initialize_state(Settings(state_dir=state_dir), ("ekool",))
    authorize = ApiPlugin(**{**ekool.PLUGIN.__dict__, "fast_operations": ("authorize",)})
    with pytest.raises(fastpath.Unsupported, match=r"^authorize: "):
        build_app(ctx, [authorize])
    missing = ApiPlugin(**{**ekool.PLUGIN.__dict__, "fast_operations": ("getNothing",)})
    with pytest.raises(fastpath.Unsupported, match="not in the spec"):
        build_app(ctx, [missing])


@pytest.mark.parametrize(("body", "parsed"), [
    (b"refresh_token=abc", {"refresh_token": "abc"}),
    (b"refresh_token=a%2Bb+c&x=", {"refresh_token": "a+b c", "x": ""}),
    (b"", {}),
    (b"refresh_token=a&refresh_token=b", None),  # repeated field: connexion decides
    (b"refresh_token=%zz", None),  # broken escape
    (b"refresh_token=%ff", None),  # not UTF-8
    (b"a;b=c", None),
    (b"novalue", None),
])
def test_form_bodies_outside_the_plain_shape_are_left_to_connexion(body: bytes, parsed: Any) -> None:
    assert fastpath._form_body(body) == parsed


# --- connexion's context and version ---------------------------------------------------------------------------------


def context_echo(user: str) -> dict[str, Any]:
    """A handler that reads connexion's request context the ways a handler may."""
    import connexion

    return {"operation": connexion.context.operation.operation_id, "user": user,
            "context_user": connexion.context.context["user"],
            "scopes": connexion.context.context["token_info"]["scopes"], "path": connexion.context.scope["path"],
            "method": connexion.request.method, "produces": list(connexion.context.operation.produces)}


def _echo_apps(state: Path) -> tuple[Any, Any]:
    from harness.apis import ekool, sunbird
    from harness.server import build_app, initialize_state

    echo = ApiPlugin(**{**ekool.PLUGIN.__dict__, "handlers": {**ekool.PLUGIN.handlers, "getMyBasic": context_echo}})
    return tuple(build_app(initialize_state(Settings(state_dir=state, fast_path=fast)), [sunbird.PLUGIN, echo])
                 for fast in (True, False))


def test_a_handler_reading_connexions_context_answers_alike_both_ways(state_dir: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    answered: list[str] = []
    answer = fastpath.FastPath.answer

    async def counted(fast: fastpath.FastPath, operation: fastpath.FastOperation, *args: Any) -> None:
        answered.append(operation.operation_id)
        await answer(fast, operation, *args)

    monkeypatch.setattr(fastpath.FastPath, "answer", counted)
    fast_app, slow_app = _echo_apps(state_dir)
    with TokenHelper.in_process(fast_app) as helper:
        token = helper.ekool_tokens("mari", scopes=["users-basic"])["access_token"]
    bodies = []
    for app in (fast_app, slow_app):
        with TestClient(app, base_url=BASE) as http:
            response = http.get("/user/me/basic", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        bodies.append(response.json())
    assert answered == ["getMyBasic"]  # the first through the fast path, the second through connexion
    assert bodies[0] == bodies[1]
    assert bodies[0]["operation"] == "getMyBasic" and bodies[0]["user"] == bodies[0]["context_user"] == "100001"
    assert bodies[0]["path"] == "/user/me/basic" and bodies[0]["method"] == "GET"


def test_on_an_untested_connexion_the_app_serves_without_its_internals(make_app,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    from harness import internals

    monkeypatch.setattr(internals, "version", lambda name: "3.4.0")
    monkeypatch.setattr(fastpath.FastPath, "answer", lambda *a: pytest.fail("the fast path answered"))
    with caplog.at_level("WARNING", logger="harness"):
        app = make_app(validate_responses=False)
    assert "connexion 3.4.0 is installed" in caplog.text and "tested on connexion 3.3.x" in caplog.text
    with TokenHelper.in_process(app) as helper:
        token = helper.ekool_tokens("mari", scopes=["users-basic"])["access_token"]
        assert helper.client.get("/user/me/basic", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_installed_connexion_is_the_tested_minor() -> None:
    from harness.internals import connexion_internals_problem

    assert connexion_internals_problem() is None


def test_the_routing_memo_replays_connexions_route_and_keeps_only_routed_paths(state_dir: Path) -> None:
    app = create_app(Settings(state_dir=state_dir))
    stack = app.connexion_app.middleware.middleware_stack
    memo = next(layer for layer in stack if isinstance(layer, fastpath.RoutingMemo))
    memo.size = 2
    with TestClient(app, base_url=BASE) as client:
        with TokenHelper.in_process(app) as helper:
            auth = {"Authorization": f"Bearer {helper.ekool_tokens('mari')['access_token']}"}
            device = {"Authorization": f"Bearer {helper.sunbird_device_token('mobile_device')}"}
        memo.routes.clear()
        first = client.get("/user/me/basic", headers=auth)
        assert list(memo.routes) == [("GET", "/user/me/basic", "")]
        assert memo.routes[("GET", "/user/me/basic", "")].operation_id == "getMyBasic"
        again = client.get("/user/me/basic", headers=auth)  # replayed: same route, same answer
        assert first.status_code == again.status_code == 200 and first.json() == again.json()
        # errors of a replayed route are still the operation's own (the slot names the operation)
        url = "/api/api-manager/v1/consumer/mobile_app/credential/register"
        answers = [client.post(url, json={"request": {}}, headers=gateway_headers()) for _ in range(2)]
        assert [a.json()["params"]["errmsg"] for a in answers] == ["KEY IS MANDATORY"] * 2
        assert client.post("/auth/v1/refresh/token", headers=device).status_code == 400
        assert list(memo.routes) == [("POST", url, ""), ("POST", "/auth/v1/refresh/token", "")]  # the oldest went
        assert client.get("/user/me/nothing", headers=auth).status_code == 404
        assert ("GET", "/user/me/nothing", "") not in memo.routes


def gateway_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {gateway_bearer('mobile_admin')}"}
