"""The toy API's one handler module."""

from __future__ import annotations

from typing import Any


def greeting(name: str) -> dict[str, str]:
    return {"greeting": f"hello, {name}"}


def echo(body: dict[str, Any]) -> dict[str, Any]:
    return {"text": body["text"], "length": len(body["text"])}
