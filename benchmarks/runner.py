"""Runs every subject on every host, one at a time, and collects the figures."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from playwright.async_api import Page, async_playwright

from .hosts import Detach, HeadlessChromium, PageHost, QtWindow, wait_ready
from .plan import Plan, figures, steps
from .process import Launch, SubjectProcess
from .results import Results, Run
from .subjects import SUBJECTS, Subject
from .subjects.base import Host
from .subjects.host_env import PLAIN_PAGES

__all__ = ["measure", "run_benchmark"]

START_TIMEOUT = 60.0

Progress = Callable[[str], None]


async def _measure_page(page: Page, process: SubjectProcess, subject: Subject, plan: Plan,
                        run: Run, progress: Progress) -> None:
    for step in steps(plan):
        if step.binary and not subject.binary:
            for key in step.outputs:
                run.not_applicable[key] = f"{subject.title} has no binary values"
            continue
        if step.variant is not None and step.variant not in subject.variants:
            for key in step.outputs:
                run.not_applicable[key] = f"{subject.title} has no {step.variant} variant"
            continue
        label = " ".join(f"{k}={v}" for k, v in step.spec.items())
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(
                page.evaluate("(spec) => window.__BENCH__.run(spec)", step.spec),
                plan.figure_timeout,
            )
        except Exception as exc:
            # One failed measurement costs its figures only, as long as the subject lives.
            why = (f"took over {plan.figure_timeout:g} s" if isinstance(exc, asyncio.TimeoutError)
                   else f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            for key in step.outputs:
                run.errors[key] = why
            progress(f"    {label}: failed: {why}")
            if not process.alive() or page.is_closed():
                raise RuntimeError(f"the subject is gone ({process.why()})") from None
            continue
        run.details[label] = result
        for key, field in step.outputs.items():
            run.values[key] = float(result[field])
        progress(f"    {label}: {_brief(result)} ({time.monotonic() - started:.1f} s)")


def _brief(result: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in result.items())


async def _open(
    subject: Subject, host: PageHost, *, plain: bool = False
) -> tuple[SubjectProcess, Page | None, Detach | None, BaseException | None]:
    """Start ``subject`` on ``host`` and wait for its first call; on failure, say why.
    ``plain``: its pages are not cross-origin isolated (see PLAIN_PAGES)."""
    launch = subject.launch(host.name)
    env = {**launch.env, **host.env(), **(PLAIN_PAGES if plain else {})}
    process = await SubjectProcess.start(Launch(launch.args, env))
    page: Page | None = None
    detach: Detach | None = None
    try:
        page, detach = await host.attach(process, START_TIMEOUT)
        return process, page, detach, None
    except Exception as exc:
        return process, page, detach, exc


async def _close(process: SubjectProcess, detach: Detach | None) -> None:
    if detach is not None:
        with contextlib.suppress(Exception):
            await detach()
    await process.stop()


def _first_call(status: dict[str, Any]) -> float:
    """When the page's first call resolved, by this machine's wall clock (the page's own clock
    put on its Python process's)."""
    first = status["first"]
    return float(first["at"] + first["clockOffsetMs"])


def _startup(run: Run, status: dict[str, Any], process: SubjectProcess) -> float:
    startup = _first_call(status) - process.started
    # Split of the start-up: until the page began loading, then until its first call.
    run.details.setdefault("startup", []).append({
        "ms": startup,
        "process_to_page_ms": status["timeOrigin"] + status["first"]["clockOffsetMs"]
        - process.started,
        "page_to_first_call_ms": status["first"]["at"] - status["timeOrigin"],
        "clock_offset_ms": status["first"]["clockOffsetMs"],
    })
    return startup


async def measure(subject: Subject, host: PageHost, plan: Plan, progress: Progress) -> Run:
    """Start ``subject`` on ``host``, measure everything in ``plan``, stop it."""
    run = Run(subject.name, host.name)
    reason = subject.unavailable(host.name)
    if reason is not None:
        run.status, run.reason = "n/a", reason
        progress(f"    n/a: {reason}")
        return run
    process, page, detach, failure = await _open(subject, host)
    try:
        if failure is not None:
            raise failure
        assert page is not None
        status = await wait_ready(page, process, START_TIMEOUT)
        run.values["rss_idle_mb"] = process.memory_mb()[0]
        progress(f"    first invoke {_first_call(status) - process.started:.0f} ms after the "
                 "process started (start-up is measured on launches of its own)")
        await _measure_page(page, process, subject, plan, run, progress)
        run.values["rss_peak_mb"] = process.memory_mb()[1]
        if run.errors:
            run.status, run.reason = "error", f"{len(run.errors)} figure(s) failed"
    except Exception as exc:
        run.status, run.reason = "error", f"{type(exc).__name__}: {exc}"
        progress(f"    {run.status}: {run.reason}")
    finally:
        await _close(process, detach)
    return run


STARTUP_TRIES = 2
"""Launches made for one start-up sample at most: now and then a window's launch hangs (Qt
WebEngine's remote debugging, on a loaded machine); the next one is measured instead."""


async def startup_sample(subject: Subject, host: PageHost, run: Run) -> None:
    """One more launch of ``subject``, for its start-up time only (added to ``run``), with pages
    as js_api's is: not cross-origin isolated, which costs a load a second renderer. A launch
    that fails is said in the run's details and made again, once."""
    for _ in range(STARTUP_TRIES):
        process, page, detach, failure = await _open(subject, host, plain=True)
        try:
            if failure is not None:
                raise failure
            assert page is not None
            _startup(run, await wait_ready(page, process, START_TIMEOUT), process)
            return
        except Exception as exc:  # a failed extra launch costs its sample only
            run.details.setdefault("startup_failures", []).append(
                f"{type(exc).__name__}: {str(exc)[:300]}"
            )
        finally:
            await _close(process, detach)


def _merge(runs: list[Run]) -> Run:
    """One run out of several of the same subject and host: the median of each figure."""
    if len(runs) == 1:
        return runs[0]
    usable = [r for r in runs if r.status != "n/a"] or runs[:1]
    merged = Run(runs[0].subject, runs[0].host, status=usable[0].status, reason=usable[0].reason)
    for run in usable:
        for key, value in run.values.items():
            merged.details.setdefault("samples", {}).setdefault(key, []).append(value)
        merged.not_applicable.update(run.not_applicable)
        merged.details.setdefault("startup", []).extend(run.details.get("startup", []))
    merged.values = {k: statistics.median(v) for k, v in merged.details.get("samples", {}).items()}
    merged.errors = {k: why for r in usable for k, why in r.errors.items()
                     if k not in merged.values}
    if any(r.status == "error" for r in usable):
        merged.status = "error"
        merged.reason = "; ".join(sorted({r.reason or "" for r in usable if r.status == "error"}))
    return merged


def _settle_startup(run: Run) -> None:
    """Start-up is the median over the launches made for it."""
    samples = [s["ms"] for s in run.details.get("startup", [])]
    if samples and run.status != "n/a":
        run.values["startup_ms"] = statistics.median(samples)


def _meta(plan: Plan) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "pywebview": importlib.metadata.version("pywebview"),
        "plan": plan.name,
        "note": "Compare ratios within one run only: the machine is shared and noisy.",
    }


async def run_benchmark(
    plan: Plan,
    subjects: Sequence[Subject] = SUBJECTS,
    hosts: Sequence[Host] = ("qt", "headless"),
    progress: Progress = lambda line: None,
) -> Results:
    runs: list[Run] = []
    async with async_playwright() as playwright:
        for host_name in hosts:
            host: PageHost
            if host_name == "qt":
                host = QtWindow(playwright)
            else:
                host = HeadlessChromium(playwright)
                await host.start()
            try:
                measured: dict[str, list[Run]] = {s.name: [] for s in subjects}
                for round_ in range(1, plan.repeat + 1):
                    for subject in subjects:
                        turn = f" (run {round_} of {plan.repeat})" if plan.repeat > 1 else ""
                        progress(f"{subject.title} in {host_name}{turn}")
                        measured[subject.name].append(await measure(subject, host, plan, progress))
                merged = {name: _merge(rs) for name, rs in measured.items()}
                # Start-up varies by hundreds of ms from launch to launch here: launches of their
                # own, taken in turns so that every subject sees the same spells of load.
                extra = plan.startup_runs
                if extra:
                    progress(f"start-up: {extra} launch(es) of each subject in {host_name}")
                for _ in range(extra):
                    for subject in subjects:
                        if merged[subject.name].status != "n/a":
                            await startup_sample(subject, host, merged[subject.name])
                for run in merged.values():
                    _settle_startup(run)
                runs.extend(merged.values())
            finally:
                if isinstance(host, HeadlessChromium):
                    await host.close()
    from .targets import evaluate

    results = Results(_meta(plan), plan.to_json(), [asdict(f) for f in figures(plan)], runs)
    results.targets = evaluate(results)
    return results
