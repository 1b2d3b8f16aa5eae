"""The run's report: a text table, the JSON file, a PNG chart of the comparison and the table in
Markdown (for the README)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .results import Results, Run

__all__ = ["chart", "markdown", "table", "targets_table", "write"]

SUBJECT_ORDER = ("jsapi", "bare", "brownfield", "isolation")


def _columns(results: Results) -> list[Run]:
    order = {name: i for i, name in enumerate(SUBJECT_ORDER)}
    return sorted(results.runs, key=lambda r: (r.host != "qt", order.get(r.subject, 99)))


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cell(run: Run, key: str) -> str:
    if run.status == "n/a":
        return "n/a"
    if key in run.not_applicable:
        return "n/a"
    if key in run.errors or (run.status == "error" and key not in run.values):
        return "error"
    value = run.values.get(key)
    return "-" if value is None else _number(value)


def _grid(results: Results) -> tuple[list[str], list[list[str]], list[str]]:
    """The table's head, its rows (figures down, subject/host across; n/a where a subject has
    no such figure) and its notes (runs that are n/a or failed)."""
    runs = _columns(results)
    head = ["figure", "unit", *[r.column for r in runs]]
    rows = [[f["label"], f["unit"], *[_cell(r, f["key"]) for r in runs]]
            for f in results.figures]
    notes = [f"{r.column}: {r.status}: {r.reason}" for r in runs if r.status != "ok"]
    notes += [f"{r.column}: {key}: {why}" for r in runs for key, why in r.errors.items()]
    return head, rows, notes


def table(results: Results) -> str:
    head, rows, notes = _grid(results)
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return " | ".join(c.ljust(w) if i < 2 else c.rjust(w)
                          for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    out = [line(head), "-+-".join("-" * w for w in widths), *map(line, rows)]
    return "\n".join(out + (["", *notes] if notes else []))


def markdown(results: Results) -> str:
    """The table and the targets as the README shows them."""
    head, rows, notes = _grid(results)
    out = [f"| {' | '.join(head)} |", f"|{'---|' * len(head)}"]
    out += [f"| {' | '.join(row)} |" for row in rows]
    out += ["", *notes, "", "```", targets_table(results), "```"]
    return "\n".join(out) + "\n"


def targets_table(results: Results) -> str:
    lines = []
    for t in results.targets:
        if t["met"] is None:
            verdict, value = "—", t.get("why", "")
        else:
            verdict = "met" if t["met"] else "NOT met"
            value = f"{t['value']:.2f}{t['unit']}"
        lines.append(f"{t['target']} [{t['host']}]: {value} (goal {t['goal']}): {verdict}")
    return "\n".join(lines)


def chart(results: Results, path: Path) -> None:
    """One small bar chart per figure (bars per subject; Qt solid, headless hatched), and a
    last row with how far each target is from being met."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in _columns(results) if r.values]
    figs = results.figures
    cols = 4
    rows = math.ceil(len(figs) / cols)
    fig = plt.figure(figsize=(cols * 4.2, rows * 2.9 + 4.0))
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[1.0] * rows + [1.6])
    colors = {"jsapi": "#9e9e9e", "bare": "#4c72b0", "brownfield": "#dd8452",
              "isolation": "#55a868"}
    for index, figure in enumerate(figs):
        ax = fig.add_subplot(grid[index // cols, index % cols])
        names, values, bar_colors, hatches = [], [], [], []
        for run in runs:
            value = run.values.get(figure["key"])
            names.append(f"{run.subject}\n{run.host}")
            values.append(value if value is not None else 0.0)
            bar_colors.append(colors.get(run.subject, "#777777"))
            hatches.append("" if run.host == "qt" else "//")
        bars = ax.bar(range(len(values)), values, color=bar_colors)
        for bar, hatch, value, run in zip(bars, hatches, values, runs, strict=True):
            bar.set_hatch(hatch)
            if value == 0.0:
                text = "n/a" if figure["key"] in run.not_applicable else "-"
                ax.text(bar.get_x() + bar.get_width() / 2, 0, text, ha="center",
                        va="bottom", fontsize=7, rotation=90)
        better = "lower is better" if figure["better"] == "lower" else "higher is better"
        ax.set_title(f"{figure['label']} ({figure['unit']})\n{better}", fontsize=9)
        ax.set_xticks(range(len(names)), names, fontsize=6)
        ax.tick_params(axis="y", labelsize=7)
    _targets_panel(fig.add_subplot(grid[rows, :]), results)
    fig.suptitle(f"IPC comparison ({results.meta.get('plan')} plan, {results.meta.get('date')});"
                 " solid: Qt window, hatched: headless Chromium", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _attainment(target: dict[str, Any]) -> float:
    """How far a target is met: 1 is the goal exactly, above 1 is met (shown up to 3)."""
    value, limit = target["value"], target["limit"]
    if target["goal"].startswith("≥"):
        ratio = value / limit
    else:
        ratio = limit / value if value > 0 else 3.0
    return float(max(0.0, min(3.0, ratio)))


def _targets_panel(ax: Any, results: Results) -> None:
    measured = [t for t in results.targets if t["met"] is not None]
    labels = [f"{t['target']} [{t['host']}]: {t['value']:.2f}{t['unit']} (goal {t['goal']})"
              for t in measured]
    values = [_attainment(t) for t in measured]
    ax.barh(range(len(values)), values,
            color=["#55a868" if t["met"] else "#c44e52" for t in measured])
    ax.axvline(1.0, color="black", linewidth=1)
    for row, label in enumerate(labels):  # inside the panel, so the grid above keeps its width
        ax.text(0.02, row, label, va="center", fontsize=8)
    ax.set_yticks([])
    ax.invert_yaxis()
    ax.set_xlim(0, 3)
    ax.set_title("targets: 1 = the goal exactly; green bars are met (shown up to 3)", fontsize=9)


def write(results: Results, out: Path) -> tuple[Path, Path]:
    """``latest.json``, ``latest.png`` and ``latest.md`` in ``out``."""
    json_path, png_path = out / "latest.json", out / "latest.png"
    results.write(json_path)
    chart(results, png_path)
    (out / "latest.md").write_text(markdown(results))
    return json_path, png_path
