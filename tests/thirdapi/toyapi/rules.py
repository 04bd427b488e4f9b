"""The toy API's one semantic rule."""

from __future__ import annotations

from typing import Any

from harness.conformance.rules import Operation, at, expect, rule


@rule("toy", at("GET", "/greeting/{name}"))
def greeting_names_the_caller(client: Any, op: Operation) -> None:
    """The greeting names exactly the name in the path.

    Source: toyapi/toy.yaml (getGreeting's example).
    """
    response = client.http.get(client.url(op.url("", "grace")))
    expect(response.status_code == 200, f"expected 200, got {response.status_code}")
    expect(response.json().get("greeting") == "hello, grace", f"greeting is {response.json()!r}")
