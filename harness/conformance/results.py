"""What every phase produces: one outcome per rule (or check, or fixture) per operation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Outcome:
    phase: str  # "spec", "rules" or "fixtures"
    api: str
    rule: str
    operation: str  # "METHOD /path" as in the spec
    passed: bool
    message: str = ""
    curl: str = ""
    source: str = ""  # the seed, reference note or RFC the rule enforces
    cases: int = 0  # generated cases behind a spec-phase outcome

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if not o.passed]
