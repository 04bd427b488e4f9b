"""Showing a conformance run: live progress, the summary table, JUnit XML and JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.conformance.results import Outcome, failures


@dataclass
class RunResult:
    target: str
    apis: tuple[str, ...]
    profile: str = "default"
    outcomes: list[Outcome] = field(default_factory=list)
    cases: int = 0
    cases_by_phase: dict[str, int] = field(default_factory=dict)
    stateful_transitions: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and not failures(self.outcomes)

    def count(self, phase: str) -> int:
        return sum(1 for o in self.outcomes if o.phase == phase)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "apis": list(self.apis), "profile": self.profile, "passed": self.passed,
            "generated_cases": self.cases, "cases_by_phase": self.cases_by_phase,
            "stateful_transitions": self.stateful_transitions,
            "wall_time_seconds": round(self.elapsed, 3),
            "totals": {"outcomes": len(self.outcomes), "failures": len(failures(self.outcomes)),
                       "rules": self.count("rules"), "fixtures": self.count("fixtures"),
                       "spec_checks": self.count("spec")},
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


class Reporter:
    """Progress callbacks; the base class stays silent (tests, library use)."""

    def phase(self, api: str, phase: str) -> None: ...

    def outcome(self, outcome: Outcome) -> None: ...

    def cases(self, count: int) -> None: ...

    def close(self) -> None: ...


class ConsoleReporter(Reporter):
    """A spinner line per phase with running counts, on stderr."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=console, transient=False)
        self.progress.start()
        self.task: Any = None
        self.done = self.failed = self.generated = 0
        self.label = ""

    def _update(self) -> None:
        if self.task is not None:
            extra = f"{self.generated} cases, " if self.generated else ""
            self.progress.update(self.task, description=f"{self.label}: {extra}{self.done} checked, "
                                                        f"{self.failed} failed")

    def phase(self, api: str, phase: str) -> None:
        if self.task is not None:
            self.progress.stop_task(self.task)
        self.label, self.done, self.failed, self.generated = f"{api} · {phase}", 0, 0, 0
        self.task = self.progress.add_task(self.label, total=None)
        self._update()

    def outcome(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += not outcome.passed
        self._update()

    def cases(self, count: int) -> None:
        self.generated += count
        self._update()

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop_task(self.task)
        self.progress.stop()


def summary_table(result: RunResult) -> Table:
    """Every rule and fixture per operation; spec checks folded into one row per operation unless failed."""
    table = Table(title=f"harness conform → {result.target} (profile {result.profile})", show_lines=False)
    for column in ("API", "phase", "rule", "operation", "result"):
        table.add_column(column, overflow="fold")
    folded: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in result.outcomes:
        if outcome.phase == "spec" and outcome.passed:
            folded[(outcome.api, outcome.operation)].append(outcome)
            continue
        mark = "[red]FAILED[/]" if not outcome.passed else "[green]passed[/] [yellow](note)[/]" if outcome.note \
            else "[green]passed[/]"
        table.add_row(outcome.api, outcome.phase, outcome.rule, outcome.operation, mark)
    for (api, operation), outcomes in folded.items():
        cases = max(o.cases for o in outcomes)
        table.add_row(api, "spec", f"{len(outcomes)} checks passed ({cases} cases)", operation, "[green]passed[/]")
    return table


def print_summary(console: Console, result: RunResult) -> None:
    console.print(summary_table(result))
    failed = failures(result.outcomes)
    for number, outcome in enumerate(failed, 1):
        console.print(f"\n[bold red]{number}. {outcome.api} {outcome.rule}[/] on [bold]{outcome.operation}[/]")
        console.print(outcome.message, markup=False, highlight=False)
        if outcome.curl:
            console.print("reproduce:", outcome.curl, markup=False, highlight=False, soft_wrap=True)
    for outcome in (o for o in result.outcomes if o.note):
        console.print(f"\nnote: {outcome.api} {outcome.rule} on {outcome.operation}: {outcome.note}",
                      markup=False, highlight=False)
    status = "[green]all rules pass[/]" if result.passed else f"[red]{len(failed)} failed[/]"
    console.print(f"\n{len(result.outcomes)} outcomes ({result.count('rules')} rule checks, "
                  f"{result.count('fixtures')} fixtures, {result.count('spec')} spec checks), "
                  f"{result.cases} generated cases in {result.elapsed:.1f}s, profile {result.profile}: {status}")


def junit_xml(result: RunResult) -> ET.ElementTree:
    """One <testsuite> per API and phase; one <testcase> per rule per operation."""
    root = ET.Element("testsuites", name=f"harness conform (profile {result.profile})",
                      tests=str(len(result.outcomes)), failures=str(len(failures(result.outcomes))),
                      time=f"{result.elapsed:.3f}")
    suites: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in result.outcomes:
        suites[(outcome.api, outcome.phase)].append(outcome)
    for (api, phase), outcomes in suites.items():
        suite = ET.SubElement(root, "testsuite", name=f"{api}.{phase}", tests=str(len(outcomes)),
                              failures=str(len(failures(outcomes))))
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="profile", value=result.profile)
        for outcome in outcomes:
            case = ET.SubElement(suite, "testcase", classname=f"{api}.{phase}.{outcome.operation}",
                                 name=outcome.rule)
            if outcome.source or outcome.note:
                properties = ET.SubElement(case, "properties")
                if outcome.source:
                    ET.SubElement(properties, "property", name="source", value=outcome.source)
                if outcome.note:
                    ET.SubElement(properties, "property", name="note", value=outcome.note)
            if not outcome.passed:
                failure = ET.SubElement(case, "failure", message=outcome.message[:500])
                failure.text = f"{outcome.message}\n\nreproduce:\n{outcome.curl}" if outcome.curl else outcome.message
    return ET.ElementTree(root)


def write_junit(result: RunResult, path: Path) -> None:
    tree = junit_xml(result)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def write_json(result: RunResult, path: Path) -> None:
    path.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
