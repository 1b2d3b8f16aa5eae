"""``python -m benchmarks [--quick] [--subjects ...] [--hosts ...] [--out DIR]``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .plan import FULL, QUICK
from .report import table, targets_table, write
from .runner import run_benchmark
from .subjects import HOSTS, SUBJECTS

RESULTS = Path(__file__).resolve().parent / "results"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Compare the shell's IPC with pywebview's js_api and a bare WebSocket echo, "
        "in a real Qt window and in headless Chromium.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and short runs (a smoke test, not a measurement)")
    parser.add_argument("--subjects", nargs="+", choices=[s.name for s in SUBJECTS],
                        default=[s.name for s in SUBJECTS])
    parser.add_argument("--hosts", nargs="+", choices=HOSTS, default=list(HOSTS))
    parser.add_argument("--seconds", type=float, help="duration of each throughput level")
    parser.add_argument("--events", type=int, help="how many events Python pushes")
    parser.add_argument("--calls", type=int, help="sequential calls for p50/p99")
    parser.add_argument("--repeat", type=int, help="runs of each subject (figures are medians)")
    parser.add_argument("--startup-runs", type=int, help="launches of each subject for start-up")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder for latest.json and latest.png (default: %(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.seconds is not None:
        plan = replace(plan, throughput_seconds=args.seconds)
    if args.events is not None:
        plan = replace(plan, events=args.events)
    if args.calls is not None:
        plan = replace(plan, latency_calls=args.calls)
    if args.repeat is not None:
        plan = replace(plan, repeat=max(1, args.repeat))
    if args.startup_runs is not None:
        plan = replace(plan, startup_runs=max(1, args.startup_runs))
    subjects = [s for s in SUBJECTS if s.name in args.subjects]

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results = asyncio.run(run_benchmark(plan, subjects, args.hosts, progress))
    json_path, png_path = write(results, args.out)
    print(table(results))
    print()
    print(targets_table(results))
    print(f"\nwrote {json_path} and {png_path}")
    return 0 if all(r.status != "error" for r in results.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
