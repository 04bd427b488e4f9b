"""`harness conform` against Prism mocking our own specs: what the harness flags in a schema-only mock.

    python -m bench.conform_prism [--max-examples N]

Starts `prism mock openapi/<api>.yaml` (the pinned @stoplight/prism-cli in node_modules) on a free loopback
port per API, runs every phase against it and prints the failing rules, grouped. Prism serves the spec's
paths at its root, so the Sunbird gateway prefix is empty here. Writes bench/results/conform_prism.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import replace

from bench.common import REPO, prism_mock
from harness.conformance.config import ConformConfig
from harness.conformance.results import failures
from harness.conformance.runner import conform
from harness.specs import spec_path

RESULTS = REPO / "bench" / "results"


def run(api: str, max_examples: int, seed: int) -> dict[str, object]:
    with prism_mock(spec_path(api)) as prism:
        config = ConformConfig(target=prism.url, apis=(api,), max_examples=max_examples, seed=seed)
        config = config.with_section("sunbird", replace(config.sunbird, prefix=""))
        result = conform(config)
    failed: dict[str, list[str]] = defaultdict(list)
    for outcome in failures(result.outcomes):
        failed[f"{outcome.phase}:{outcome.rule}"].append(f"{outcome.operation}: {outcome.message[:160]}")
    return {"api": api, "outcomes": len(result.outcomes), "failures": sum(map(len, failed.values())),
            "generated_cases": result.cases, "wall_time_seconds": round(result.elapsed, 2),
            "passed": sorted({f"{o.phase}:{o.rule}" for o in result.outcomes if o.passed} - set(failed)),
            "failed": dict(sorted(failed.items()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--api", choices=("sunbird", "ekool", "all"), default="all")
    args = parser.parse_args(argv)
    reports = [run(api, args.max_examples, args.seed)
               for api in (("sunbird", "ekool") if args.api == "all" else (args.api,))]
    for report in reports:
        print(f"\n== {report['api']}: {report['failures']} failures of {report['outcomes']} outcomes, "
              f"{report['generated_cases']} cases, {report['wall_time_seconds']}s")
        for rule, where in report["failed"].items():
            print(f"  {rule} ({len(where)}): {where[0]}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "conform_prism.json").write_text(json.dumps(reports, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
