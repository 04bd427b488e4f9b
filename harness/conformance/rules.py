"""The registry of semantic rules: one named function per rule, run once per operation it is about.

A rule is `def rule_name(session, operation) -> None` that raises `AssertionError` (use `expect`) when the
target breaks it. Its docstring's first line says the rule; a `Source:` line cites the seed, reference note
or RFC clause it enforces. Rules choose their operations from the spec, so a spec without the operation
fails the rule instead of silently skipping it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.specs import operations as spec_operations

_PARAM = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the spec's path template
    spec: dict[str, Any] | None = None  # the operation object; None when the spec lacks it

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def operation_id(self) -> str:
        """The spec's operationId; the label of an operation the spec lacks."""
        return (self.spec or {}).get("operationId") or self.label

    def url(self, prefix: str = "", *values: str) -> str:
        """The path behind `prefix`, its templated segments filled with `values` in order."""
        filled = iter(values)
        return prefix + _PARAM.sub(lambda _: next(filled), self.path)

    @property
    def missing(self) -> bool:
        return self.spec is None


Selector = Callable[[list[Operation]], list[Operation]]
RuleFunc = Callable[[Any, Operation], None]


def _normalise(path: str) -> str:
    return _PARAM.sub("{}", path.rstrip("/"))


def at(method: str, *paths: str) -> Selector:
    """The operation(s) at these method and paths (parameter names do not matter)."""

    def select(available: list[Operation]) -> list[Operation]:
        chosen = []
        for path in paths:
            found = [op for op in available if op.method == method and _normalise(op.path) == _normalise(path)]
            chosen.extend(found or [Operation(method, path)])
        return chosen

    return select


def named(*operation_ids: str) -> Selector:
    """The operations with these operationIds, in this order (a missing one fails as a missing operation)."""

    def select(available: list[Operation]) -> list[Operation]:
        chosen = []
        for operation_id in operation_ids:
            found = [op for op in available if not op.missing and op.operation_id == operation_id]
            chosen.extend(found or [Operation("ANY", f"<{operation_id}>")])
        return chosen

    return select


def where(predicate: Callable[[Operation], bool], description: str) -> Selector:
    """Every spec operation matching `predicate`; fails as one missing operation when none does."""

    def select(available: list[Operation]) -> list[Operation]:
        return [op for op in available if predicate(op)] or [Operation("ANY", f"<{description}>")]

    return select


def either(*selectors: Selector) -> Selector:
    """The operations any of `selectors` picks, in order."""

    def select(available: list[Operation]) -> list[Operation]:
        return [op for selector in selectors for op in selector(available)]

    return select


ResponseJudge = Callable[[Any], None]  # one httpx.Response of the rule's operations; raises AssertionError

# What a run holds a target to. `default`: the deployed system's exact behaviour (league 8's error codes, its
# `state`-less `invalid_scope` redirect, the real gateway's messages). `rfc`: RFC 6749/6750/7636/9700 behaviour,
# where another faithful implementation (league 9's `invalid_grant`, a kept `state`) passes and the real system's
# known deviations are findings.
PROFILES = {"default": "the deployed system's exact behaviour (reference notes, \"Measured\")",
            "rfc": "RFC 6749, 6750, 7636 and 9700 behaviour"}
BOTH = frozenset(PROFILES)


@dataclass(frozen=True)
class Rule:
    name: str
    api: str
    func: RuleFunc
    selector: Selector
    # Rules that judge a single response also name that judgement: the schema phase applies it to every
    # generated case of the rule's operations, as a schemathesis check named like the rule.
    each_response: ResponseJudge | None = None
    profiles: frozenset[str] = BOTH
    # A known deviation of the real system from an RFC (an `rfc` rule the real system fails): under the default
    # profile it still runs, and a failure is reported as a note naming the clause, not as a failure.
    deviation: bool = False

    def runs_under(self, profile: str) -> bool:
        return profile in self.profiles or self.deviation

    def judges_under(self, profile: str) -> bool:
        """Whether a failure under `profile` is a failure (else a note)."""
        return profile in self.profiles

    @property
    def summary(self) -> str:
        return (self.func.__doc__ or "").strip().splitlines()[0] if self.func.__doc__ else ""

    @property
    def source(self) -> str:
        for line in (self.func.__doc__ or "").splitlines():
            if line.strip().startswith("Source:"):
                return line.strip().removeprefix("Source:").strip()
        return ""


RULES: list[Rule] = []


def rule(api: str, selector: Selector, each_response: ResponseJudge | None = None,
         profiles: Iterable[str] = BOTH, deviation: bool = False) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule of `api` checked on the operations `selector` picks from the spec; `each_response`, when
    the rule judges single responses, is that judgement (also run on every generated case); `profiles`, which
    profiles it belongs to; `deviation`, an `rfc` rule the real system is known to fail (a note by default)."""
    chosen = frozenset(profiles)
    unknown = chosen - BOTH
    if unknown:
        raise ValueError(f"unknown profiles {sorted(unknown)}; known: {sorted(BOTH)}")

    def register(func: RuleFunc) -> RuleFunc:
        RULES.append(Rule(name=func.__name__, api=api, func=func, selector=selector, each_response=each_response,
                          profiles=chosen, deviation=deviation))
        return func

    return register


def rules_for(api: str) -> list[Rule]:
    """The rules of `api`, registered by importing the rules module its conformance half names."""
    from harness.conformance.apis import for_api

    importlib.import_module(for_api(api).rules)
    return [r for r in RULES if r.api == api]


def spec_ops(spec: dict[str, Any]) -> list[Operation]:
    return [Operation(method, path, op) for method, path, op in spec_operations(spec)]


def plan(api: str, spec: dict[str, Any], names: Iterable[str] | None = None,
         profile: str = "default") -> list[tuple[Rule, Operation]]:
    """Every (rule, operation) pair to check under `profile`, in registration order."""
    wanted = set(names) if names is not None else None
    available = spec_ops(spec)
    return [(r, op) for r in rules_for(api) if r.runs_under(profile) and (wanted is None or r.name in wanted)
            for op in r.selector(available)]


def expect(condition: object, message: str) -> None:
    """Fail the rule with `message` unless `condition` holds."""
    if not condition:
        raise AssertionError(message)
