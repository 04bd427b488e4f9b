"""Cases per second with 1 and 2 schemathesis workers (threads), for the spec phase of `harness conform` and for a
fuzz campaign, each run against a fresh `harness serve --workers 2`; and whether every worker count reaches the
same outcomes (each check on each operation, passed or failed).

    python -m bench.parallel_conform                  # conform at max_examples 25, >= 2,000 fuzz cases per API
    python -m bench.parallel_conform --repeat 3 --only conform     # the median of 3 runs, worker counts alternating
    python -m bench.parallel_conform --latency 20     # a target that takes 20 ms per answer, as a remote one does
    python -m bench.parallel_conform --cases 10000 --api ekool --workers 1 --workers 4 --json out.json

One unmeasured conform run per API first takes the one-off costs (imports, spec parsing, Hypothesis's caches)
out of the first measurement. Loopback only; every server started here is stopped. Exit status 1 when a run fails a
check or the worker counts disagree on the outcomes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from bench.fuzz_campaign import fuzz_target, run_campaign, schema_run
from harness.conformance.config import ConformConfig

APIS = ("sunbird", "ekool")
SERVER_WORKERS = 2


@dataclass(frozen=True)
class Figure:
    mode: str  # "conform" (its spec phase) or "fuzz" (a campaign)
    api: str
    workers: int
    cases: int
    seconds: float
    outcomes: frozenset[tuple[str, str, bool]]  # (operation, check, passed)
    rates: tuple[float, ...] = field(default=(), compare=False)  # cases/s of every repeat, when repeated

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(1 for *_, passed in self.outcomes if not passed)


def conform_figure(api: str, url: str, workers: int, args: argparse.Namespace) -> Figure:
    config = ConformConfig(target=url, apis=(api,), max_examples=args.max_examples, seed=args.seed, workers=workers)
    started = time.perf_counter()
    run = schema_run(config, api)
    outcomes = frozenset((o.operation, o.rule, o.passed) for o in run.outcomes)
    return Figure("conform", api, workers, run.cases, time.perf_counter() - started, outcomes)


def fuzz_figure(api: str, url: str, workers: int, args: argparse.Namespace) -> Figure:
    first_max_examples = args.fuzz_max_examples or max(10, args.cases // 10)
    campaign = run_campaign(api, url, args.cases, args.seed, first_max_examples, workers)
    return Figure("fuzz", api, workers, campaign.cases, campaign.seconds, campaign.outcomes())


MEASURES = {"conform": conform_figure, "fuzz": fuzz_figure}


def _server(args: argparse.Namespace) -> AbstractContextManager[str]:
    return fuzz_target(None, SERVER_WORKERS, "--latency", str(args.latency))


def warm_up(args: argparse.Namespace) -> None:
    with _server(args) as url:
        for api in args.api or APIS:
            schema_run(ConformConfig(target=url, apis=(api,), max_examples=args.max_examples, seed=args.seed), api)


def _median(runs: list[Figure]) -> Figure:
    ranked = sorted(runs, key=lambda f: f.rate)
    middle = ranked[(len(ranked) - 1) // 2]
    return Figure(middle.mode, middle.api, middle.workers, middle.cases, middle.seconds,
                  frozenset().union(*(f.outcomes for f in runs)), tuple(f.rate for f in runs))


def measure(args: argparse.Namespace) -> list[Figure]:
    """Every mode, API and worker count, `--repeat` times (worker counts alternating), each on a fresh server."""
    worker_counts = args.workers or (1, 2)
    figures = []
    for mode in args.only or MEASURES:
        for api in args.api or APIS:
            runs: dict[int, list[Figure]] = {workers: [] for workers in worker_counts}
            for _ in range(args.repeat):
                for workers in worker_counts:
                    with _server(args) as url:
                        runs[workers].append(MEASURES[mode](api, url, workers, args))
                    print(f"  {mode} {api} workers={workers}: {runs[workers][-1].cases} cases in "
                          f"{runs[workers][-1].seconds:.1f} s", flush=True)
            figures += [_median(runs[workers]) for workers in worker_counts]
    return figures


def _baseline(figures: list[Figure], figure: Figure) -> Figure:
    """The first figure of the same mode and API: what the others are compared with."""
    return next(f for f in figures if (f.mode, f.api) == (figure.mode, figure.api))


def table(figures: list[Figure], args: argparse.Namespace) -> str:
    lines = [f"{os.cpu_count()} cores (os.cpu_count()); each run on a fresh `harness serve --workers "
             f"{SERVER_WORKERS} --latency {args.latency}`; conform: spec phase, max_examples {args.max_examples}, "
             f"seed {args.seed}; fuzz: >= {args.cases} cases per API; median of {args.repeat} run(s)",
             f"{'mode':<9}{'api':<9}{'workers':>8}{'cases':>8}{'wall s':>8}{'cases/s':>9}{'speed-up':>10}"
             f"{'failed':>8}  {'outcomes':<10}cases/s of each run"]
    for f in figures:
        base = _baseline(figures, f)
        same = f"{len(f.outcomes)}" if f is base else ("same" if f.outcomes == base.outcomes else "DIFFER")
        lines.append(f"{f.mode:<9}{f.api:<9}{f.workers:>8}{f.cases:>8}{f.seconds:>8.1f}{f.rate:>9.1f}"
                     f"{f.rate / base.rate if base.rate else 0:>9.2f}x{f.failed:>8}  {same:<10}"
                     f"{' '.join(f'{rate:.1f}' for rate in f.rates)}")
    return "\n".join(lines)


def as_json(figures: list[Figure], args: argparse.Namespace) -> dict[str, object]:
    return {"cores": os.cpu_count(), "server_workers": SERVER_WORKERS, "latency_ms": args.latency, "runs": [
        {"mode": f.mode, "api": f.api, "workers": f.workers, "cases": f.cases, "seconds": round(f.seconds, 2),
         "cases_per_second": round(f.rate, 1), "each_run": [round(rate, 1) for rate in f.rates], "failed": f.failed,
         "same_outcomes_as_first": f.outcomes == _baseline(figures, f).outcomes} for f in figures]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", action="append", choices=APIS)
    parser.add_argument("--only", action="append", choices=tuple(MEASURES), help="conform or fuzz (default: both)")
    parser.add_argument("--workers", action="append", type=int, help="schemathesis threads (repeatable; 1 and 2)")
    parser.add_argument("--max-examples", type=int, default=ConformConfig.max_examples,
                        help="max_examples of the conform runs")
    parser.add_argument("--cases", type=int, default=2000, help="fuzz cases per API (at least)")
    parser.add_argument("--fuzz-max-examples", type=int, help="max_examples of the first fuzz round (cases / 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per figure (shows the median; the slower middle one of an even count)")
    parser.add_argument("--latency", type=int, default=0, help="`harness serve --latency MS`: ms added to answers")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    warm_up(args)
    figures = measure(args)
    print(table(figures, args))
    if args.json:
        args.json.write_text(json.dumps(as_json(figures, args), indent=2) + "\n", encoding="utf-8")
    agree = all(f.outcomes == _baseline(figures, f).outcomes for f in figures)
    return 0 if agree and not any(f.failed for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
