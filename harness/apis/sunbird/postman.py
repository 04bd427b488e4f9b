"""The Sunbird Postman flow (`harness postman export`): register, refresh and the gateway's refusals, with the
demo gateway credentials as environment bearers."""

from __future__ import annotations

from harness import authtoken
from harness.apis.sunbird import demo
from harness.plugins import PostmanFlow, PostmanStep


def sunbird_steps() -> list[PostmanStep]:
    v1, v2 = "registerCredentialV1", "registerCredentialV2"
    url = "{{sunbird_url}}"
    envelope_ok = 'pm.expect(body.params.status).to.eql("successful");'
    return [
        PostmanStep("v1 register mobile device", v1,
             f"{url}/api-manager/v1/consumer/mobile_device/credential/register", 200,
             {"Authorization": "Bearer {{mobile_app_bearer}}"},
             json_body={"request": {"key": "{{device_key}}"}},
             captures={"device_v1_secret": "body.result.secret", "device_v1_token": "body.result.token"},
             checks=(envelope_ok, 'pm.expect(body.result.key).to.eql(pm.variables.get("device_key"));')),
        PostmanStep("v1 register again returns the same secret", v1,
             f"{url}/api-manager/v1/consumer/mobile_device/credential/register", 200,
             {"Authorization": "Bearer {{mobile_app_bearer}}"}, json_body={"request": {"key": "{{device_key}}"}},
             checks=('pm.expect(body.result.secret).to.eql(pm.collectionVariables.get("device_v1_secret"));',)),
        PostmanStep("v2 register mobile device (mobile SDK body)", v2,
             f"{url}/api-manager/v2/consumer/mobile_device/credential/register", 200,
             {"Authorization": "Bearer {{mobile_app_bearer}}"},
             json_body={"id": "ekstep.genie.device.register", "ver": "1.0", "ts": "2026-01-01T00:00:00Z",
                        "request": {"key": "{{device_key}}"}},
             captures={"device_token": "body.result.token"},
             checks=(envelope_ok, 'pm.expect(body.result.secret).to.eql("");',
                     'pm.expect(JSON.parse(atob(body.result.token.split(".")[0])).alg).to.eql("RS256");')),
        PostmanStep("Get API token (desktop_device)", "getApiToken",
             f"{url}/api-manager/v2/consumer/desktop_device/credential/register", 200,
             {"Authorization": "Bearer {{desktop_app_bearer}}"},
             json_body={"id": "api.device.register", "ver": "1.0", "ts": 1700000000000,
                        "request": {"key": "{{device_key}}"}}, checks=(envelope_ok,)),
        PostmanStep("v2 register portal_anonymous", v2,
             f"{url}/api-manager/v2/consumer/portal_anonymous/credential/register", 200,
             {"Authorization": "Bearer {{portal_bearer}}"}, json_body={"request": {"key": "{{device_key}}"}},
             checks=(envelope_ok,)),
        PostmanStep("register without a bearer is refused by the gateway", v2,
             f"{url}/api-manager/v2/consumer/mobile_device/credential/register", 401,
             json_body={"request": {"key": "{{device_key}}"}},
             checks=('pm.expect(body.message).to.eql("Unauthorized");',)),
        PostmanStep("register with a key containing a space is a 400", v1,
             f"{url}/api-manager/v1/consumer/mobile_device/credential/register", 400,
             {"Authorization": "Bearer {{mobile_app_bearer}}"}, json_body={"request": {"key": "has space"}},
             checks=('pm.expect(body.params.err).to.eql("BAD_REQUEST");',
                     'pm.expect(body.params.errmsg).to.eql("KEY MUST NOT HAVE SPACE");')),
        PostmanStep("realm login (offline_access)", "realmToken",
             "{{base_url}}/auth/realms/sunbird/protocol/openid-connect/token", 200,
             form={"grant_type": "password", "client_id": "android", "username": "learner", "password": "learner",
                   "scope": "offline_access"},
             captures={"realm_refresh_token": "body.refresh_token"}),
        PostmanStep("refresh access token", "refreshAccessToken", f"{url}/auth/v1/refresh/token", 200,
             {"Authorization": "Bearer {{device_token}}"}, form={"refresh_token": "{{realm_refresh_token}}"},
             checks=(envelope_ok, 'pm.expect(body.id).to.eql("api.refresh.token");',
                     'pm.expect(body.result.refresh_token).to.eql(pm.collectionVariables.get("realm_refresh_token"));')),
        PostmanStep("refresh with a garbage token is invalid_grant", "refreshAccessToken",
             f"{url}/auth/v1/refresh/token", 400, {"Authorization": "Bearer {{device_token}}"},
             form={"refresh_token": "not-a-token"}, checks=('pm.expect(body.params.err).to.eql("invalid_grant");',)),
    ]


def environment() -> dict[str, str]:
    """`{{sunbird_url}}` and one bearer per demo gateway credential (fixtures/sunbird/demo/gateway.yaml)."""
    values = {"sunbird_url": "{{base_url}}/api"}
    for consumer in demo.consumers():
        for key, secret in consumer.credentials[:1]:
            values[f"{consumer.name}_bearer"] = authtoken.generate(key, secret)  # deterministic: iat null
    return values


FLOW = PostmanFlow(steps=sunbird_steps, environment=environment, variables={"device_key": "postman-device-0001"})
