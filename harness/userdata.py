"""`harness serve --config FILE`: a team's own clients, users, credentials and lifetimes, from a TOML file.

The file has `[demo]` (`include = false` starts from no demo data), `[lifetimes]` (the names the plugins
declare, as durations) and one table per API, which that API's plugin describes (`config_schema`, a JSON
Schema) and checks (`parse_config`). Everything is checked before anything is used: a bad file raises
`DataFileError`, whose message names the file, the line where it can, the key and what is wrong.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from harness.durations import parse_duration
from harness.plugins import ApiPlugin, ConfigEntryError, SeedData
from harness.settings import Settings

MAX_LIFETIME = 10 * 366 * 86400
Key = tuple[str | int, ...]


class DataFileError(ValueError):
    """The config file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class DataConfig:
    source: str
    include_demo: bool = True
    lifetimes: dict[str, float] = field(default_factory=dict)
    api_data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def applied_to(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, include_demo=self.include_demo, lifetimes=dict(self.lifetimes),
                                   api_data=dict(self.api_data), config_file=self.source)


def seed_data(settings: Settings, plugin: ApiPlugin) -> SeedData:
    """What `plugin.seed` loads under these settings."""
    return SeedData(settings.include_demo, settings.api_data.get(plugin.name, {}), settings.config_file)


def unique_entries(entries: Sequence[Mapping[str, Any]], key: str, table: tuple[str, str]) -> None:
    """ConfigEntryError at the second entry of `table` (api, kind) with the same `key`."""
    seen: dict[Any, int] = {}
    for index, entry in enumerate(entries):
        if entry[key] in seen:
            raise ConfigEntryError((table[1], index, key), f"{entry[key]!r} is already defined at "
                                   f"{table[0]}.{table[1]}[{seen[entry[key]]}] (one entry per {key})")
        seen[entry[key]] = index


def fingerprint(data: SeedData) -> str:
    """Names the data a state directory was seeded with: a restart with other data seeds again."""
    if data.include_demo and not data.entries:
        return "1"  # the demo data alone, as earlier versions marked it
    return hashlib.sha256(json.dumps([data.include_demo, data.entries], sort_keys=True).encode()).hexdigest()


def load_data_config(path: Path, plugins: Iterable[ApiPlugin]) -> DataConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise DataFileError(f"{path}: cannot read the config file: {reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"at line (\d+)", str(exc))
        raise DataFileError(f"{path}{':' + line.group(1) if line else ''}: not valid TOML: {exc}") from None
    try:
        return parse_data_config(data, list(plugins), str(path))
    except ConfigEntryError as exc:
        line = locate(text, exc.key)
        raise DataFileError(f"{path}{f':{line}' if line else ''}: {dotted(exc.key)}: {exc.message}") from None


def parse_data_config(data: dict[str, Any], plugins: list[ApiPlugin], source: str = "") -> DataConfig:
    by_name = {plugin.name: plugin for plugin in plugins if plugin.config_schema is not None}
    known = ["demo", "lifetimes", *by_name]
    for key in data:
        if key not in known:
            raise ConfigEntryError((key,), f"unknown table (known: {', '.join(known)})")
    demo = _table(data, "demo")
    _check(demo, {"type": "object", "properties": {"include": {"type": "boolean"}}, "additionalProperties": False},
           ("demo",))
    lifetimes = _lifetimes(_table(data, "lifetimes"), plugins)
    api_data = {}
    for name, plugin in by_name.items():
        if name not in data:
            continue
        table = _table(data, name)
        assert plugin.config_schema is not None
        _check(table, plugin.config_schema(), (name,))
        try:
            api_data[name] = plugin.parse_config(table, demo.get("include", True))
        except ConfigEntryError as exc:
            raise ConfigEntryError((name, *exc.key), exc.message) from None
    return DataConfig(source, demo.get("include", True), lifetimes, api_data)


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigEntryError((name,), "must be a table")
    return table


def _lifetimes(table: dict[str, Any], plugins: list[ApiPlugin]) -> dict[str, float]:
    declared = {name: default for plugin in plugins for name, default in plugin.lifetimes.items()}
    lifetimes = {}
    for name, value in table.items():
        if name not in declared:
            raise ConfigEntryError(("lifetimes", name), f"unknown lifetime (known: {', '.join(declared)})")
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise ConfigEntryError(("lifetimes", name), str(exc)) from None
        if not 1 <= seconds <= MAX_LIFETIME:
            raise ConfigEntryError(("lifetimes", name), f"{value!r} must be at least 1 second and at most 10 years")
        lifetimes[name] = seconds
    return lifetimes


def _check(instance: Any, schema: dict[str, Any], prefix: Key) -> None:
    validator = jsonschema.Draft4Validator(schema)
    error = min(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.message),
                default=None)
    if error is None:
        return
    where = (*prefix, *error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        unexpected = sorted(set(error.instance) - set(allowed))
        raise ConfigEntryError((*where, unexpected[0]), f"unknown key (known: {', '.join(allowed)})")
    raise ConfigEntryError(where, _message(error))


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing")
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    return error.message


def dotted(key: Key) -> str:
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_\"'-]+)\s*=")


def locate(text: str, key: Key) -> int | None:
    """The line (1-based) where `key` is written, for files laid out as the example is: `[table]` or
    `[[array]]` headers and one `key = value` per line; else the nearest header above it; None if none."""
    lines = text.splitlines()
    cut = next((i for i, part in enumerate(key) if isinstance(part, int)), len(key))
    for size in range(cut, 0, -1):
        index = key[size] if size == cut and size < len(key) else None
        start = _find_header(lines, key[:size], index)
        if start is not None:
            break
    else:
        return None
    rest = key[size + (0 if index is None else 1):]
    if rest and isinstance(rest[0], str):
        for number in range(start + 1, len(lines)):
            if _HEADER.match(lines[number]):
                break
            assignment = _ASSIGNMENT.match(lines[number])
            if assignment and assignment.group(1).strip("\"'") == rest[0]:
                return number + 1
    return start + 1


def _find_header(lines: Sequence[str], table: Key, index: int | str | None) -> int | None:
    """The line index of `[[table]]` number `index`, or with no index of the first header within `table`."""
    seen = -1
    for number, line in enumerate(lines):
        header = _HEADER.match(line)
        if header is None:
            continue
        name = tuple(part.strip().strip("\"'") for part in header.group(1).split("."))
        if index is None:
            if name[:len(table)] == table:
                return number
            continue
        if name == table:
            seen += 1
            if seen == index:
                return number
    return None
