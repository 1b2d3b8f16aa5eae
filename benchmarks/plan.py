"""What one run measures: the sizes and counts of each figure, and the figures' definitions.

The figure keys are derived from the plan, so a quick run at tiny sizes reports the same kinds
of figures as a full run, only with smaller payloads in their labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["FULL", "QUICK", "Figure", "Plan", "Step", "figures", "size_label", "steps"]

KB = 1024
MB = 1024 * 1024


@dataclass(frozen=True)
class Plan:
    latency_calls: int = 1000
    """Sequential round trips for p50/p99 (after ``warmup`` calls that are not counted)."""
    warmup: int = 100
    inflight: tuple[int, ...] = (1, 100, 1000)
    throughput_seconds: float = 2.0
    """How long each throughput level runs (every level also does at least ``inflight`` calls)."""
    echo_sizes: tuple[int, ...] = (KB, MB, 10 * MB)
    binary_sizes: tuple[int, ...] = (10 * MB, 100 * MB)
    events: int = 5000
    """Events Python pushes as fast as it can (events/s, and how long they wait in a burst)."""
    paced_events: int = 1000
    paced_interval_ms: float = 1.0
    """Events Python pushes one at a time, this far apart: how long one takes to arrive when
    none waits before it (in a burst, an event's delivery is mostly the queue ahead of it)."""
    repeat: int = 1
    """Runs of each subject, taken in turns; every figure is the median of its runs."""
    startup_runs: int = 5
    """Launches of each subject for the start-up figure (the median is reported)."""
    figure_timeout: float = 120.0
    """Seconds one figure may take before the subject's run is abandoned."""
    name: str = "full"

    def repeats(self, size: int) -> int:
        """How many times a payload of ``size`` bytes is echoed (the median is reported)."""
        if size <= 64 * KB:
            return 50
        if size <= 2 * MB:
            return 5
        return 3 if size <= 20 * MB else 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FULL = Plan()
QUICK = Plan(
    latency_calls=30,
    warmup=5,
    throughput_seconds=0.1,
    echo_sizes=(KB, 16 * KB, 64 * KB),
    binary_sizes=(64 * KB, 256 * KB),
    events=50,
    paced_events=20,
    startup_runs=1,
    figure_timeout=60.0,
    name="quick",
)


def size_label(size: int) -> str:
    if size >= MB and size % MB == 0:
        return f"{size // MB} MB"
    if size >= KB and size % KB == 0:
        return f"{size // KB} KB"
    return f"{size} B"


Better = Literal["lower", "higher"]


@dataclass(frozen=True)
class Figure:
    """One number of the comparison: ``key`` in the JSON, ``label`` in the table and chart."""

    key: str
    label: str
    unit: str
    better: Better
    group: str
    binary: bool = False
    """Only subjects that carry binary values have it (pywebview's js_api has none)."""


@dataclass(frozen=True)
class Step:
    """One measurement the in-page script makes; it yields one or more figures."""

    spec: dict[str, Any]
    """What ``__BENCH__.run`` gets; ``kind`` names the measurement."""
    outputs: dict[str, str]
    """Figure key -> the field of the page's result that holds it."""
    binary: bool = False
    variant: str | None = None
    """Only subjects with this call variant have it (the shell's ``async`` command)."""


def _key(text: str) -> str:
    return text.replace(" ", "")


def steps(plan: Plan) -> list[Step]:
    """The page-side measurements of a run of ``plan``, in the order they are made."""
    out = [
        Step({"kind": "latency", "calls": plan.latency_calls, "warmup": plan.warmup},
             {"latency_p50": "p50", "latency_p99": "p99", "latency_mean": "mean"}),
        # The same with an async command, which runs on the core's loop: the difference is
        # what handing a sync command to a worker thread and back costs.
        Step({"kind": "latency", "calls": plan.latency_calls, "warmup": plan.warmup,
              "variant": "async"},
             {"latency_async_p50": "p50", "latency_async_mean": "mean"}, variant="async"),
    ]
    for n in plan.inflight:
        out.append(Step({"kind": "throughput", "inflight": n, "seconds": plan.throughput_seconds},
                        {f"calls_per_s_{n}": "rate"}))
    for payload in ("string", "json"):
        for size in plan.echo_sizes:
            out.append(Step(
                {"kind": "echo", "payload": payload, "bytes": size, "repeat": plan.repeats(size)},
                {f"echo_{payload}_{_key(size_label(size))}": "ms"},
            ))
    for direction in ("upload", "download"):
        for size in plan.binary_sizes:
            out.append(Step(
                {"kind": direction, "bytes": size, "repeat": plan.repeats(size)},
                {f"binary_{direction}_{_key(size_label(size))}": "ms"},
                binary=True,
            ))
    out.append(Step({"kind": "events", "count": plan.events},
                    {"events_per_s": "rate", "event_latency_p50": "p50",
                     "event_latency_p99": "p99"}))
    out.append(Step({"kind": "events", "count": plan.paced_events,
                     "intervalMs": plan.paced_interval_ms},
                    {"event_latency_paced_p50": "p50", "event_latency_paced_p99": "p99"}))
    return out


def figures(plan: Plan) -> list[Figure]:
    """Every figure of a run of ``plan``, in the order they are shown."""
    out = [
        Figure("latency_p50", "round trip p50", "ms", "lower", "latency"),
        Figure("latency_p99", "round trip p99", "ms", "lower", "latency"),
        Figure("latency_mean", "round trip mean", "ms", "lower", "latency"),
        Figure("latency_async_p50", "round trip p50, async command", "ms", "lower", "latency"),
        Figure("latency_async_mean", "round trip mean, async command", "ms", "lower",
               "latency"),
    ]
    out += [Figure(f"calls_per_s_{n}", f"calls/s, {n} in flight", "calls/s", "higher",
                   "throughput") for n in plan.inflight]
    for payload in ("string", "json"):
        out += [Figure(f"echo_{payload}_{_key(size_label(s))}",
                       f"echo {payload} {size_label(s)}", "ms", "lower", "echo")
                for s in plan.echo_sizes]
    for direction, way in (("upload", "JS→Py"), ("download", "Py→JS")):
        out += [Figure(f"binary_{direction}_{_key(size_label(s))}",
                       f"binary {size_label(s)} {way}", "ms", "lower", "binary", binary=True)
                for s in plan.binary_sizes]
    paced = f"1 per {plan.paced_interval_ms:g} ms"
    out += [
        Figure("events_per_s", "Py→JS events/s", "events/s", "higher", "events"),
        Figure("event_latency_p50", "event delivery p50", "ms", "lower", "events"),
        Figure("event_latency_p99", "event delivery p99", "ms", "lower", "events"),
        Figure("event_latency_paced_p50", f"event delivery p50, {paced}", "ms", "lower",
               "events"),
        Figure("event_latency_paced_p99", f"event delivery p99, {paced}", "ms", "lower",
               "events"),
        Figure("startup_ms", "start → first invoke", "ms", "lower", "process"),
        Figure("rss_idle_mb", "Python RSS after start", "MB", "lower", "process"),
        Figure("rss_peak_mb", "Python RSS peak", "MB", "lower", "process"),
    ]
    return out
