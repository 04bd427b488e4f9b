"""The eKool Postman flow (`harness postman export`): the code flow with `--auto-login`, refresh rotation and
the resource API, with the first demo client (fixtures/ekool/demo/clients.yaml) in the environment."""

from __future__ import annotations

from urllib.parse import urlencode

from harness.apis.ekool import demo
from harness.plugins import PostmanFlow, PostmanStep


def _client() -> dict:
    clients, _ = demo.load_demo()
    return clients[0]


def ekool_steps() -> list[PostmanStep]:
    scopes = " ".join(_client()["scopes"])
    authorize_query = urlencode({"response_type": "code", "client_id": "{{client_id}}",
                                 "redirect_uri": "{{redirect_uri}}", "scope": scopes, "state": "xyz"}, safe="{}")
    code_form = {"grant_type": "authorization_code", "client_id": "{{client_id}}",
                 "client_secret": "{{client_secret}}", "redirect_uri": "{{redirect_uri}}", "code": "{{code}}"}
    bearer = {"Authorization": "Bearer {{access_token}}"}
    ok = "pm.expect(body.status).to.eql(true);"
    resources = [
        PostmanStep(f"resource {path}", operation, f"{{{{api_url}}}}{path}", 200, bearer,
             checks=() if path == "/generaldata" else (ok,))
        for operation, path in (("getGeneralData", "/generaldata"), ("getMyBasic", "/user/me/basic"),
                                ("getMyRoles", "/user/me/roles"), ("getMySchools", "/user/me/schools"),
                                ("getMyChildren", "/user/me/children"))
    ]
    return [
        PostmanStep("authorize (auto-login) redirects with a code", "authorize",
             f"{{{{login_url}}}}/oauth/authorize?{authorize_query}", 302,
             captures={"code": 'decodeURIComponent((location.match(/[?&]code=([^&]+)/) || [])[1] || "")'},
             checks=('pm.expect(location).to.match(/[?&]code=/);', 'pm.expect(location).to.match(/[?&]state=xyz/);')),
        PostmanStep("exchange the code", "issueToken", "{{login_url}}/oauth/token", 200, form=code_form,
             captures={"access_token": "body.access_token", "refresh_token": "body.refresh_token"},
             checks=('pm.expect(body.token_type).to.eql("Bearer");',
                     'pm.expect(pm.response.headers.get("Cache-Control")).to.include("no-store");')),
        PostmanStep("the same code again is revoked", "issueToken", "{{login_url}}/oauth/token", 400,
             form=code_form, checks=('pm.expect(body.error).to.eql("invalid_request");',)),
        *resources,
        PostmanStep("resource without a token is 401", "getMyBasic", "{{api_url}}/user/me/basic", 401,
             checks=('pm.expect(body.error).to.eql("access_denied");',)),
        PostmanStep("refresh rotates the tokens", "issueToken", "{{login_url}}/oauth/token", 200,
             form={"grant_type": "refresh_token", "client_id": "{{client_id}}", "client_secret": "{{client_secret}}",
                   "refresh_token": "{{refresh_token}}"},
             captures={"old_refresh_token": 'pm.collectionVariables.get("refresh_token")',
                       "refresh_token": "body.refresh_token", "access_token": "body.access_token"}),
        PostmanStep("the old refresh token is refused", "issueToken", "{{login_url}}/oauth/token", 401,
             form={"grant_type": "refresh_token", "client_id": "{{client_id}}", "client_secret": "{{client_secret}}",
                   "refresh_token": "{{old_refresh_token}}"},
             checks=('pm.expect(body.hint).to.eql("Token has been revoked");',)),
        PostmanStep("the new access token works", "getMyBasic", "{{api_url}}/user/me/basic", 200, bearer,
             checks=(ok,)),
    ]


def environment() -> dict[str, str]:
    client = _client()
    return {"login_url": "{{base_url}}", "api_url": "{{base_url}}", "client_id": client["id"],
            "client_secret": client["secret"], "redirect_uri": client["redirect_uris"][0]}


FLOW = PostmanFlow(steps=ekool_steps, environment=environment)
