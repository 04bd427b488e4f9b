"""The toy greeting API: the declaration the `harness.apis` entry point names (imports nothing else)."""

from __future__ import annotations

from pathlib import Path

from harness.plugins import ApiPlugin

HERE = Path(__file__).resolve().parent

PLUGIN = ApiPlugin(
    name="toy",
    spec_file=HERE / "toy.yaml",
    fixture_dir=HERE / "fixtures" / "toy",
    order=30,
    base_paths=("/toy",),
    handlers={"getGreeting": "toyapi.handlers:greeting", "echoNote": "toyapi.handlers:echo"},
    conformance="toyapi.conformance:CONFORMANCE",
    postman="toyapi.postman:FLOW",
)
