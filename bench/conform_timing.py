"""How many cases `harness conform --api all` generates, and how long the whole run takes, against a local
`harness serve` (goal: at least 2,000 generated cases plus every rule and fixture in under 60 s on 2 cores).

    python -m bench.conform_timing                       # starts `harness serve --workers 1`
    python -m bench.conform_timing --max-examples 80 --server-workers 2 --workers 2

Prints the figures and writes them to bench/results/conform_timing.json. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench.common import REPO, harness_serve
from harness.conformance.config import ConformConfig
from harness.conformance.results import failures
from harness.conformance.runner import conform

RESULTS = REPO / "bench" / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=100, help="schemathesis examples per operation")
    parser.add_argument("--workers", type=int, default=1, help="schemathesis worker threads")
    parser.add_argument("--server-workers", type=int, default=1, help="`harness serve --workers`")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as state, harness_serve(Path(state), args.server_workers) as server:
        config = ConformConfig(target=server.url, max_examples=args.max_examples, seed=args.seed,
                               workers=args.workers)
        result = conform(config)
    figures = {
        "max_examples": args.max_examples, "schemathesis_workers": args.workers,
        "server_workers": args.server_workers, "generated_cases": result.cases,
        "cases_by_phase": result.cases_by_phase, "stateful_transitions": result.stateful_transitions,
        "rule_checks": result.count("rules"), "fixtures": result.count("fixtures"),
        "spec_checks": result.count("spec"), "failures": len(failures(result.outcomes)),
        "wall_time_seconds": round(result.elapsed, 2),
        "cases_per_second": round(result.cases / result.elapsed, 1) if result.elapsed else 0,
    }
    print(json.dumps(figures, indent=2))
    for outcome in failures(result.outcomes):
        print(f"FAILED {outcome.api} {outcome.phase} {outcome.rule} {outcome.operation}: {outcome.message[:300]}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "conform_timing.json").write_text(json.dumps(figures, indent=2))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
