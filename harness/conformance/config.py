"""What `harness conform` checks and with which credentials: a TOML file, or the demo data by default.

The top level says what to run (target, APIs, phases, budget); each API's own table (`[sunbird]`, `[ekool]`,
…) is defined and parsed by that API's conformance half (`harness.conformance.apis`). The defaults are the
documented demo data of `harness serve`, so `harness conform --target http://127.0.0.1:8000` works at once. A
real deployment needs a config file; see `conformance.example.toml`. String values may name environment
variables as `${NAME}` so secrets stay out of the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.conformance.apis import checked_api_names, for_api


class ConfigError(ValueError):
    """The config file is unreadable or names an unknown setting."""


def _default_sections() -> dict[str, Any]:
    return {name: for_api(name).default_section() for name in checked_api_names()}


@dataclass(frozen=True)
class ConformConfig:
    target: str = "http://127.0.0.1:8000"
    apis: tuple[str, ...] = field(default_factory=checked_api_names)
    phases: tuple[str, ...] = ("spec", "rules", "fixtures")
    max_examples: int = 25
    seed: int | None = None
    # schemathesis worker threads for its examples, coverage and fuzzing phases (its stateful phase runs in one)
    workers: int = 1
    request_timeout: float = 10.0
    fixture_dir: Path | None = None
    # which rules judge (harness.conformance.rules.PROFILES): the deployed system's exact behaviour, or the RFCs'
    profile: str = "default"
    # each API's own table, by API name
    sections: Mapping[str, Any] = field(default_factory=_default_sections)

    def __getattr__(self, name: str) -> Any:
        """`config.<api>`: that API's table."""
        sections = object.__getattribute__(self, "sections") if name != "sections" else None
        if sections is not None and name in sections:
            return sections[name]
        raise AttributeError(f"{type(self).__name__} has no setting or API table {name!r}")

    def with_overrides(self, **changes: Any) -> ConformConfig:
        """A copy with the given fields replaced; `None` values leave a field as it is."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def with_section(self, api: str, section: Any) -> ConformConfig:
        """A copy with `api`'s table replaced."""
        return replace(self, sections={**self.sections, api: section})

    @property
    def base_url(self) -> str:
        return self.target.rstrip("/")


def _expand(value: Any) -> Any:
    if isinstance(value, str):
        return os.path.expandvars(value)
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def check_keys(cls: type, data: dict[str, Any], where: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """`data` as keyword arguments of the dataclass `cls`; ConfigError names any unknown key."""
    known = {f.name for f in fields(cls)} | set(extra)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"[{where}]: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return dict(data)


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def parse_config(data: dict[str, Any]) -> ConformConfig:
    data = _expand(data)
    apis = checked_api_names()
    values = check_keys(ConformConfig, data, "top level", extra=apis)
    values.pop("sections", None)
    sections = _default_sections()
    for name in apis:
        if name in values:
            table = values.pop(name)
            if not isinstance(table, dict):
                raise ConfigError(f"[{name}] must be a table")
            sections[name] = for_api(name).parse_section(table)
    for name in ("apis", "phases"):
        if name in values:
            values[name] = tuple(values[name])
    if "fixture_dir" in values:
        values["fixture_dir"] = Path(values["fixture_dir"])
    if "workers" in values and not _is_positive_int(values["workers"]):
        raise ConfigError(f"workers must be a positive integer, not {values['workers']!r}")
    if "profile" in values:
        from harness.conformance.rules import PROFILES

        if values["profile"] not in PROFILES:
            raise ConfigError(f"profile must be one of {', '.join(PROFILES)}, not {values['profile']!r}")
    return ConformConfig(**values, sections=sections)


def load_config(path: Path | None) -> ConformConfig:
    """The config in `path`, or the demo defaults when `path` is None."""
    if path is None:
        return ConformConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    try:
        return parse_config(data)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
