"""Fuzz campaign: at least N schemathesis cases per API (positive and negative, all phases and checks)
against a live `harness serve`, with counts, failures and wall time.

    python -m bench.fuzz_campaign                      # >= 10,000 cases per API on a fresh 2-worker server
    python -m bench.fuzz_campaign --cases 2000 --api ekool --workers 2   # 2 schemathesis threads
    python -m bench.fuzz_campaign --url http://127.0.0.1:8000   # a server you started (loopback only)

The cases come from the conformance harness's spec phase (`harness.conformance.schema_phase`), which
authenticates each operation the way a real client does. Rounds with growing `max_examples` and fresh seeds
run until the case count is reached. Exit status 1 when any check failed.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import harness_serve
from harness.conformance.apis import for_api
from harness.conformance.config import ConformConfig
from harness.conformance.results import Outcome
from harness.conformance.schema_phase import SchemaRun, run_schema_phase
from harness.conformance.transport import Transport

SERVER_ERRORS = frozenset({"not_a_server_error"})
SCHEMA_VIOLATIONS = frozenset({"status_code_conformance", "content_type_conformance", "response_schema_conformance",
                               "response_headers_conformance"})
MAX_ROUNDS = 6


@dataclass
class Campaign:
    api: str
    cases: int = 0
    cases_by_phase: Counter[str] = field(default_factory=Counter)
    rounds: list[tuple[int, int, int]] = field(default_factory=list)  # (max_examples, seed, cases)
    failures: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    judged: set[tuple[str, str]] = field(default_factory=set)  # (operation, check) pairs any round judged
    seconds: float = 0.0

    def count(self, rules: frozenset[str] | None) -> int:
        return sum(1 for (_, rule) in self.failures if rules is None or rule in rules)

    def outcomes(self) -> frozenset[tuple[str, str, bool]]:
        """(operation, check, passed in every round)."""
        return frozenset((operation, rule, (operation, rule) not in self.failures) for operation, rule in self.judged)


def schema_run(config: ConformConfig, api: str) -> SchemaRun:
    """The spec phase of `harness conform` for one API, with a transport of its own."""
    transport = Transport(config.base_url, timeout=config.request_timeout)
    try:
        return run_schema_phase(api, config, for_api(api).client(config, transport))
    finally:
        transport.close()


def run_campaign(api: str, url: str, target_cases: int, seed: int, first_max_examples: int,
                 workers: int = 1) -> Campaign:
    campaign = Campaign(api)
    max_examples = first_max_examples
    started = time.monotonic()
    for round_number in range(MAX_ROUNDS):
        config = ConformConfig(target=url, apis=(api,), max_examples=max_examples, seed=seed + round_number,
                               workers=workers)
        run = schema_run(config, api)
        campaign.rounds.append((max_examples, seed + round_number, run.cases))
        campaign.cases += run.cases
        campaign.cases_by_phase.update(run.cases_by_phase)
        for outcome in run.outcomes:
            campaign.judged.add((outcome.operation, outcome.rule))
            if not outcome.passed:
                campaign.failures.setdefault((outcome.operation, outcome.rule), outcome)
        print(f"  {api} round {round_number + 1}: max_examples={max_examples} seed={seed + round_number} "
              f"-> {run.cases} cases ({campaign.cases} so far, {time.monotonic() - started:.0f} s)", flush=True)
        remaining = target_cases - campaign.cases
        if remaining <= 0:
            break
        # Size the next round (a fresh seed) to what is missing, with a margin: the coverage and example
        # phases give a fixed number of cases whatever max_examples is.
        max_examples = max(10, math.ceil(max_examples * remaining / max(run.cases, 1) * 1.5))
    campaign.seconds = time.monotonic() - started
    return campaign


def summary(campaigns: list[Campaign], target_cases: int) -> str:
    lines = [f"{'api':<9}{'cases':>8}{'rounds':>8}{'wall s':>8}{'cases/s':>9}{'5xx':>6}{'schema':>8}{'other':>7}"
             f"  cases by phase"]
    for c in campaigns:
        phases = ", ".join(f"{phase} {n}" for phase, n in sorted(c.cases_by_phase.items()))
        other = c.count(None) - c.count(SERVER_ERRORS) - c.count(SCHEMA_VIOLATIONS)
        lines.append(f"{c.api:<9}{c.cases:>8}{len(c.rounds):>8}{c.seconds:>8.0f}{c.cases / max(c.seconds, 1e-9):>9.0f}"
                     f"{c.count(SERVER_ERRORS):>6}{c.count(SCHEMA_VIOLATIONS):>8}{other:>7}  {phases}")
        if c.cases < target_cases:
            lines.append(f"  {c.api}: only {c.cases} of {target_cases} cases after {len(c.rounds)} rounds")
    for c in campaigns:
        for (operation, rule), outcome in sorted(c.failures.items()):
            lines.append(f"FAIL {c.api} {operation} {rule}: {outcome.message[:300]}")
            if outcome.curl:
                lines.append(f"     {outcome.curl[:400]}")
    return "\n".join(lines)


@contextmanager
def fuzz_target(url: str | None, server_workers: int, *extra: str) -> Iterator[str]:
    """The given loopback URL, or a fresh `harness serve --workers N [extra...]` on a temporary state."""
    if url:
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"the campaign talks to loopback only, not {url}")
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="harness-fuzz-") as state, \
            harness_serve(Path(state), server_workers, *extra) as server:
        yield server.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases per API (at least)")
    parser.add_argument("--api", action="append", choices=("sunbird", "ekool"))
    parser.add_argument("--url", help="an already running server on loopback")
    parser.add_argument("--workers", type=int, default=1, help="schemathesis threads")
    parser.add_argument("--server-workers", type=int, default=2, help="`harness serve --workers` (no --url)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--max-examples", type=int, default=1000, help="max_examples of the first round")
    args = parser.parse_args(argv)
    campaigns = []
    with fuzz_target(args.url, args.server_workers) as url:
        for api in args.api or ("sunbird", "ekool"):
            campaigns.append(run_campaign(api, url, args.cases, args.seed, args.max_examples, args.workers))
    print(summary(campaigns, args.cases))
    failed = any(c.failures for c in campaigns) or any(c.cases < args.cases for c in campaigns)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
