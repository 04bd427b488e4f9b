"""What every phase produces: one outcome per rule (or check, or fixture) per operation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Outcome:
    phase: str  # "spec", "rules" or "fixtures"
    api: str
    rule: str
    operation: str  # the spec's operationId (a run-level outcome: what it is about, e.g. "Stateful tests")
    passed: bool
    message: str = ""
    curl: str = ""
    source: str = ""  # the seed, reference note or RFC the rule enforces
    cases: int = 0  # generated cases behind a spec-phase outcome
    endpoint: str = ""  # "METHOD /path" of the operation, as in the spec
    note: str = ""  # a passed outcome's remark: a known deviation of the real system, and the clause it departs from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if not o.passed]
