"""The texts a reader sees in Swagger UI name their sources in words, never as files only maintainers have.

Descriptions, summaries and titles (of the document, its tags, servers, operations, parameters, responses,
schemas, examples and security schemes) say "the Sunbird API Manager documentation" or "as league/oauth2-server
8.5.4 answers", not `seeds/000_….txt`, `seed 003` or `reference/ekool-oauth2.md`. The exact files stay beside
the text as YAML comments (`# source: …`), which are not published.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from harness import contract, plugins
from harness.specs import load_spec

# Keys whose string values are prose a reader sees, wherever they are (examples included).
TEXT_KEYS = ("description", "summary", "title")
# Maintainers' file pointers: the source documents' directory, the behaviour notes' directory, any Markdown or
# text file name, "seed 000" / "Seed 003" / "seed000", and "the seed shows …" (a reader has no seed).
FILE_POINTER = re.compile(
    r"seeds/|reference/|\b[\w.-]+\.(?:md|txt)\b|\bseeds?[\s_-]*0\d\d\b|\bthe seeds?\b",
    re.IGNORECASE,
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _step(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f'{path}["{key}"]'


def texts(node: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """(JSON path, text) of every string under a `description`, `summary` or `title` key, and every OAuth scope's
    description (a flow's `scopes` map)."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = _step(path, str(key))
            if isinstance(value, str) and key in TEXT_KEYS:
                yield here, value
            elif key == "scopes" and isinstance(value, dict):
                yield from ((_step(here, str(name)), text) for name, text in value.items() if isinstance(text, str))
            else:
                yield from texts(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from texts(item, _step(path, index))


def file_pointers(document: Any) -> list[str]:
    """`<JSON path>: <text>` for each reader-facing text that cites a maintainer's file."""
    return [f"{path}: {text!r}" for path, text in texts(document) if FILE_POINTER.search(text)]


def _documents() -> dict[str, Any]:
    """Every spec a reader can open: each plugin's contract and mock-only pages, the admin API, openapi/mock/."""
    found: dict[str, Any] = {}
    spec_dir = contract.spec_dir()
    for name, plugin in plugins.discover().items():
        found[f"{name} (contract)"] = load_spec(name)
        if plugin.mock_spec_file is not None:
            found[f"{name} (mock pages)"] = yaml.safe_load(plugin.mock_spec_file.read_text(encoding="utf-8"))
    walked = {plugin.mock_spec_file.resolve() for plugin in plugins.discover().values() if plugin.mock_spec_file}
    for path in [spec_dir / "admin.yaml", *sorted((spec_dir / "mock").glob("*.yaml"))]:
        if path.resolve() not in walked:
            found[path.relative_to(spec_dir).as_posix()] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return found


DOCUMENTS = _documents()


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_no_reader_facing_text_cites_a_maintainers_file(name: str) -> None:
    found = file_pointers(DOCUMENTS[name])
    assert not found, "texts citing source files (reword; keep the file as a `# source:` comment):\n" + "\n".join(found)


def test_every_spec_is_walked() -> None:
    assert {"sunbird (contract)", "ekool (contract)", "ekool (mock pages)", "admin.yaml"} <= set(DOCUMENTS)
    assert all(any(True for _ in texts(document)) for document in DOCUMENTS.values())


@pytest.mark.parametrize("text", [
    "Sources: `seeds/000_91278a2417bb2929.txt` (GitBook page)",
    "Documented host (seed 000)",
    "Seed 003",
    "Make a token (SEED 001)",
    "as measured (reference/ekool-oauth2.md, \"Measured\")",
    "see sunbird-api-manager.md",
    "the text rendering 001_3aca058f764cef8a.txt",
    "The seed shows `Content-Type: */*`",
])
def test_the_check_finds_a_file_pointer(text: str) -> None:
    document = {"paths": {"/a/{b}": {"post": {"responses": {"200": {"content": {"application/json": {
        "examples": {"x": {"summary": text}}}}}}}}}}
    assert file_pointers(document) == [f'$.paths["/a/{{b}}"].post.responses["200"].content["application/json"]'
                                       f".examples.x.summary: {text!r}"]


def test_the_check_leaves_words_and_other_keys_alone() -> None:
    document = {
        "info": {"description": "From the Sunbird API Manager documentation (the GitBook page \"API Management "
                                "Service\") and Sunbird's auth-token generator library; `harness serve --seed 3`."},
        "components": {"schemas": {"Problem": {"properties": {"title": {"type": "string"}}}},
                       "examples": {"x": {"value": {"path": "seeds/000.txt"}}}},
        "x-note": "reference/sunbird-api-manager.md",
    }
    assert file_pointers(document) == []
    assert ("$.info.description" in dict(texts(document))) and len(list(texts(document))) == 1


def test_scope_descriptions_are_texts_too() -> None:
    document = {"components": {"securitySchemes": {"o": {"flows": {"authorizationCode": {"scopes": {
        "users-basic": "Your data (seed 002)"}}}}}}}
    assert file_pointers(document) == [
        "$.components.securitySchemes.o.flows.authorizationCode.scopes[\"users-basic\"]: 'Your data (seed 002)'"]
