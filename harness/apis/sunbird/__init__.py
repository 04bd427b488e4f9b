"""Sunbird API Manager reference behaviour (placeholder until the package lands)."""
from harness.apis import ApiPlugin

PLUGIN = ApiPlugin(name="sunbird", base_paths=("/api", ""), key_ids=("mobile_devicev2_key1",))
