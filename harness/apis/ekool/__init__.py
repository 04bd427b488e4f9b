"""eKool reference behaviour (placeholder until the package lands)."""
from harness.apis import ApiPlugin

PLUGIN = ApiPlugin(name="ekool")
