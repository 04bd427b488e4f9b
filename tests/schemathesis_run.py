"""Run schemathesis's engine over a loaded schema in process and tally what it did: the in-process campaigns of
tests/apis/<api>/test_schemathesis.py and tests/test_admin.py."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from schemathesis.engine import Status, events, from_schema


@dataclass
class Campaign:
    cases: Counter[str] = field(default_factory=Counter)  # by operation label ("GET /user/me/basic")
    phases: Counter[str] = field(default_factory=Counter)  # cases by phase
    statuses: Counter[int] = field(default_factory=Counter)
    successes: Counter[str] = field(default_factory=Counter)  # 200 answers by operation label
    failures: list[str] = field(default_factory=list)  # failed checks and engine errors

    @property
    def tested(self) -> set[str]:
        return set(self.cases)


def run(schema: Any) -> Campaign:
    campaign = Campaign()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            campaign.cases[recorder.label] += len(recorder.cases)
            campaign.phases[event.phase.value] += len(recorder.cases)
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    campaign.statuses[interaction.response.status_code] += 1
                    campaign.successes[recorder.label] += interaction.response.status_code == 200
            campaign.failures += [_failure(recorder.label, c) for checks in recorder.checks.values() for c in checks
                                  if c.status == Status.FAILURE]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            campaign.failures.append(f"error: {event}")
    return campaign


def _failure(label: str, check: Any) -> str:
    info = check.failure_info
    if info is None:
        return f"{label}: {check.name}"
    return f"{label}: {check.name}: {info.failure.title}: {info.failure.message} [{info.code_sample}]"
