"""Contract-first mock and conformance harness for the Sunbird API Manager and the eKool public API."""

import warnings

# connexion imports starlette.testclient, which warns about httpx on every start of the CLI.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

__version__ = "0.1.0"
