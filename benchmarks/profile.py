"""Where the time goes: the shell's serve process under pyinstrument, the page under CDP's Profiler.

``python -m benchmarks.profile [--subject brownfield|isolation]
[--scenario calls|calls-async|payloads|events] [--out DIR]``

Each scenario runs in a fresh ``python -m app serve`` started under pyinstrument (the core's
loop runs on the main thread there, which is what pyinstrument samples), while headless
Chromium runs the load with the JS sampling profiler on. It writes, per scenario, into
``results/profile/``: ``<subject>-<scenario>-python.txt`` (call tree) and ``-python.html``, and
``<subject>-<scenario>-js.txt`` (self time per function) and ``-js.cpuprofile`` (opens in DevTools).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from .hosts import HeadlessChromium, wait_ready
from .plan import MB
from .process import Launch, SubjectProcess
from .subjects import BROWNFIELD, ISOLATION

__all__ = ["SCENARIOS", "js_self_times", "python_self_times"]

OUT = Path(__file__).resolve().parent / "results" / "profile"

SCENARIOS: dict[str, list[dict[str, Any]]] = {
    # Many small calls: sequential round trips, then a deep pipeline.
    "calls": [
        {"kind": "latency", "calls": 3000, "warmup": 100},
        {"kind": "throughput", "inflight": 1000, "seconds": 5.0},
    ],
    # The same with an async command: the difference is what the thread pool costs.
    "calls-async": [
        {"kind": "latency", "calls": 3000, "warmup": 100, "variant": "async"},
        {"kind": "throughput", "inflight": 1000, "seconds": 5.0, "variant": "async"},
    ],
    "payloads": [
        {"kind": "echo", "payload": "string", "bytes": 10 * MB, "repeat": 3},
        {"kind": "echo", "payload": "json", "bytes": 10 * MB, "repeat": 3},
        {"kind": "upload", "bytes": 100 * MB, "repeat": 1},
        {"kind": "download", "bytes": 100 * MB, "repeat": 1},
    ],
    "events": [{"kind": "events", "count": 20000}],
}


def js_self_times(profile: dict[str, Any], top: int = 25) -> list[tuple[str, float]]:
    """Self time (ms) per function of a CDP ``Profiler.stop`` profile, largest first."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    totals: dict[str, float] = defaultdict(float)
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        frame = nodes[node_id]["callFrame"]
        where = Path(frame["url"]).name if frame["url"] else ""
        name = frame["functionName"] or "(anonymous)"
        totals[f"{name} {where}:{frame['lineNumber'] + 1}" if where else name] += delta / 1000
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def python_self_times(session_path: Path, top: int = 25) -> list[tuple[str, float]]:
    """Self time (s) per function of a pyinstrument session, largest first."""
    from pyinstrument.session import Session

    totals: dict[str, float] = defaultdict(float)
    root = Session.load(session_path).root_frame()
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        # A frame's total_self_time already holds its synthetic "[self]" children's time.
        if frame.is_synthetic or frame.total_self_time <= 0:
            continue
        where = f"{frame.file_path_short}:{frame.line_no}" if frame.file_path else "built-in"
        totals[f"{frame.function} ({where})"] += frame.total_self_time
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def _render_python(session_path: Path, stem: Path) -> None:
    from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
    from pyinstrument.session import Session

    session = Session.load(session_path)
    text = ConsoleRenderer(unicode=True, color=False, show_all=False).render(session)
    flat = "\n".join(f"{secs * 1000:10.1f} ms  {name}"
                     for name, secs in python_self_times(session_path))
    stem.with_name(stem.name + "-python.txt").write_text(
        "Self time per function (all of the run, start-up included):\n" + flat
        + "\n\nCall tree:\n" + text
    )
    stem.with_name(stem.name + "-python.html").write_text(HTMLRenderer().render(session))


async def profile_scenario(subject_name: str, scenario: str, out: Path) -> str:
    """Run one scenario under both profilers; return a short summary."""
    subject = ISOLATION if subject_name == "isolation" else BROWNFIELD
    reason = subject.unavailable("headless")
    if reason:
        return f"{subject.title}: n/a ({reason})"
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{subject.name}-{scenario}"
    session_path = stem.with_suffix(".pyisession")
    launch = subject.launch("headless")
    profiled = Launch(["-m", "pyinstrument", "-r", "pyisession", "-o", str(session_path),
                       "-i", "0.0005", *launch.args], launch.env)
    async with async_playwright() as playwright:
        host = HeadlessChromium(playwright)
        await host.start()
        process = await SubjectProcess.start(profiled)
        try:
            page, detach = await host.attach(process, 60)
            await wait_ready(page, process, 60)
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("Profiler.enable")
            await cdp.send("Profiler.setSamplingInterval", {"interval": 200})
            await cdp.send("Profiler.start")
            measured = [await page.evaluate("(s) => window.__BENCH__.run(s)", spec)
                        for spec in SCENARIOS[scenario]]
            profile = (await cdp.send("Profiler.stop"))["profile"]
            await detach()
        finally:
            await process.stop(grace=60)
            await host.close()
    stem.with_name(stem.name + "-js.cpuprofile").write_text(json.dumps(profile))
    js = js_self_times(profile)
    stem.with_name(stem.name + "-js.txt").write_text(
        "Self time per function in the page (ms):\n"
        + "\n".join(f"{ms:10.1f} ms  {name}" for name, ms in js)
    )
    if session_path.exists():
        _render_python(session_path, stem)
        py = python_self_times(session_path, 15)
    else:
        py = []
    lines = [f"== {subject.title}, {scenario}: {json.dumps(measured)}",
             "  Python self time (top):"]
    lines += [f"    {secs * 1000:9.1f} ms  {name}" for name, secs in py]
    lines += ["  JS self time (top):"]
    lines += [f"    {ms:9.1f} ms  {name}" for name, ms in js[:12]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subject", choices=["brownfield", "isolation"], default="brownfield")
    parser.add_argument("--scenario", nargs="+", choices=list(SCENARIOS),
                        default=list(SCENARIOS))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for scenario in args.scenario:
        print(asyncio.run(profile_scenario(args.subject, scenario, args.out)), flush=True)
    print(f"\nprofiles in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
