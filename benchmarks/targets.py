"""The issue's targets, as ratios between subjects within one run."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .plan import size_label
from .results import Results

__all__ = ["evaluate"]


@dataclass(frozen=True)
class Target:
    name: str
    subject: str
    versus: str
    key: str | tuple[str, str]
    """The figure compared, or the subject's figure and the other's when they differ."""
    limit: float
    meets: Callable[[float, float], bool]
    goal: str
    hosts: tuple[str, ...]
    measure: Callable[[float, float], float] = operator.truediv
    """How the subject's figure compares with the other's: a ratio, or a difference."""
    unit: str = "x"


def _targets(results: Results) -> list[Target]:
    plan = results.plan
    inflight = max(plan["inflight"])
    big = max(plan["echo_sizes"])
    echo_key = f"echo_string_{size_label(big).replace(' ', '')}"
    le, ge = operator.le, operator.ge
    both = ("qt", "headless")
    return [
        Target("brownfield p50 / bare echo p50", "brownfield", "bare", "latency_p50",
               1.25, le, "≤ 1.25x", both),
        Target("brownfield p50 / js_api p50", "brownfield", "jsapi", "latency_p50",
               0.6, le, "≤ 0.6x", ("qt",)),
        # js_api's p50 comes in 0.1 ms steps (its page's clock; the others' in 5 µs ones);
        # means have no steps. And an async command skips the worker-thread hop a sync one
        # takes. These rows show both effects.
        Target("brownfield mean / bare echo mean", "brownfield", "bare", "latency_mean",
               1.25, le, "≤ 1.25x", both),
        Target("brownfield async-command p50 / bare echo p50", "brownfield", "bare",
               ("latency_async_p50", "latency_p50"), 1.25, le, "≤ 1.25x", both),
        Target("brownfield async-command p50 / js_api p50", "brownfield", "jsapi",
               ("latency_async_p50", "latency_p50"), 0.6, le, "≤ 0.6x", ("qt",)),
        Target("the floor itself: bare echo p50 / js_api p50", "bare", "jsapi", "latency_p50",
               0.6, le, "≤ 0.6x", ("qt",)),
        Target(f"brownfield / js_api calls/s, {inflight} in flight", "brownfield", "jsapi",
               f"calls_per_s_{inflight}", 10, ge, "≥ 10x", ("qt",)),
        Target(f"js_api / brownfield time, {size_label(big)} string echo", "jsapi",
               "brownfield", echo_key, 3, ge, "≥ 3x faster", ("qt",)),
        Target("brownfield events/s / js_api evaluate_js rate", "brownfield", "jsapi",
               "events_per_s", 10, ge, "≥ 10x", ("qt",)),
        Target("isolation p50 / brownfield p50", "isolation", "brownfield", "latency_p50",
               1.5, le, "≤ 1.5x", both),
        Target(f"isolation / brownfield calls/s, {inflight} in flight", "isolation",
               "brownfield", f"calls_per_s_{inflight}", 0.7, ge, "≥ 0.7x", both),
        Target("start-up: brownfield - js_api window", "brownfield", "jsapi", "startup_ms",
               150, le, "≤ +150 ms", ("qt",), operator.sub, " ms"),
    ]


def evaluate(results: Results) -> list[dict[str, Any]]:
    """Each target on each host it applies to: the measured ratio and whether it is met."""
    out = []
    for target in _targets(results):
        for host in target.hosts:
            a, b = results.run(target.subject, host), results.run(target.versus, host)
            key_a, key_b = target.key if isinstance(target.key, tuple) else (target.key,) * 2
            x = a.value(key_a) if a else None
            y = b.value(key_b) if b else None
            row: dict[str, Any] = {"target": target.name, "host": host, "goal": target.goal,
                                   "limit": target.limit, "value": None, "unit": target.unit,
                                   "met": None}
            if x is None or y is None or (target.measure is operator.truediv and y == 0):
                missing = [r.column if r else f"{s}/{host}" for r, s, k in
                           ((a, target.subject, key_a), (b, target.versus, key_b))
                           if r is None or r.value(k) is None]
                row["why"] = "not measured: " + ", ".join(missing)
            else:
                value = target.measure(x, y)
                row["value"] = value
                row["met"] = bool(target.meets(value, target.limit))
            out.append(row)
    return out
