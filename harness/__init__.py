"""Contract-first mock and conformance harness for the Sunbird API Manager and the eKool public API."""

import warnings

# connexion imports starlette.testclient, which warns about httpx on every start of the CLI.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

# The documented Sunbird demo secrets (`mobile_app_secret`, ...) are shorter than RFC 7518 recommends.
warnings.filterwarnings("ignore", message="The HMAC key is .* below the minimum recommended length")

__version__ = "0.1.0"
