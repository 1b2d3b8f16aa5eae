"""The benchmark runs end to end at tiny sizes and reports every figure (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The subject/host pairs that may read n/a here, and what their reason must mention.
MAY_BE_NOT_APPLICABLE = {
    ("jsapi", "headless"): "pywebview window",
}


class QuickRun(NamedTuple):
    results: dict[str, Any]
    printed: str
    out: Path


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=280,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "latest.png").stat().st_size > 10_000
    return QuickRun(json.loads((out / "latest.json").read_text()), done.stdout, out)


@pytest.mark.window
@pytest.mark.timeout(300)
def test_every_subject_reports_every_figure(quick_run: QuickRun) -> None:
    results, _, _ = quick_run
    keys = [f["key"] for f in results["figures"]]
    runs = {(r["subject"], r["host"]): r for r in results["runs"]}
    assert set(runs) == {(s, h) for s in ("jsapi", "bare", "brownfield", "isolation")
                         for h in ("qt", "headless")}
    for pair, run in runs.items():
        if run["status"] == "n/a":
            assert pair in MAY_BE_NOT_APPLICABLE, f"{pair} is n/a: {run['reason']}"
            assert MAY_BE_NOT_APPLICABLE[pair] in run["reason"]
            continue
        assert run["status"] == "ok", f"{pair}: {run['reason']} {run['errors']}"
        for key in keys:
            if key in run["not_applicable"]:
                # js_api has no binary; only the shell has an async-command variant.
                expected = (pair[0] == "jsapi" and key.startswith("binary_")) or (
                    pair[0] in ("jsapi", "bare") and key.startswith("latency_async_")
                )
                assert expected, (pair, key)
                continue
            value = run["values"].get(key)
            assert isinstance(value, float) and value > 0, (pair, key, value)


@pytest.mark.window
@pytest.mark.timeout(300)
def test_table_and_targets_are_printed(quick_run: QuickRun) -> None:
    results, table, _ = quick_run
    for figure in results["figures"]:
        assert figure["label"] in table
    for target in results["targets"]:
        assert target["target"] in table
        assert target["met"] is not None or target["why"]


@pytest.mark.window
@pytest.mark.timeout(300)
def test_the_table_is_written_in_markdown_too(quick_run: QuickRun) -> None:
    results, _, out = quick_run
    lines = (out / "latest.md").read_text().splitlines()
    columns = len(results["runs"]) + 2
    rows = [line for line in lines if line.startswith("|")]
    assert len(rows) == len(results["figures"]) + 2, rows
    assert all(row.count("|") == columns + 1 for row in rows), rows
    labels = [row.split("|")[1].strip() for row in rows[2:]]
    assert labels == [f["label"] for f in results["figures"]]
    for target in results["targets"]:
        assert any(line.startswith(f"{target['target']} [{target['host']}]") for line in lines)
