"""Isolation against brownfield, in one run: invoke latency (p50/p99), calls/s with 1000 in flight.

    .venv/bin/python -m benchmarks.isolation_vs_brownfield [--host chromium|qt] [--rounds 3]

Runs the demo app once per pattern (the isolation one with a passthrough hook, so the figures
show what the pattern itself costs: the frame hop and the encryption) and drives both from the
same host: headless Debian Chromium against ``serve``, or the real pywebview Qt window
(offscreen) over CDP. The patterns take turns, ``--rounds`` times, and each figure is the best
of its rounds, the one least disturbed by other work on the machine. Throughput is a closed
loop: 1000 callers, each calling again as soon as its call resolved. Chromium gives pages a
clock of 0.1 ms steps, so latencies are in those steps; the mean is given beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
PATTERNS = ("brownfield", "isolation")

MEASURE = """async ([calls, warmup, inflight, seconds]) => {
    const { invoke } = window.__APP__.core;
    for (let i = 0; i < warmup; i++) await invoke('greet', { name: 'warm' });
    const times = [];
    for (let i = 0; i < calls; i++) {
        const t = performance.now();
        await invoke('greet', { name: 'x' });
        times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    // `inflight` callers, each calling again as soon as its last call resolved.
    const closedLoop = async (ms) => {
        let done = 0;
        const start = performance.now();
        const loop = async () => {
            while (performance.now() - start < ms) { await invoke('greet', { name: 'n' }); done++; }
        };
        await Promise.all(Array.from({ length: inflight }, loop));
        return done / ((performance.now() - start) / 1000);
    };
    await closedLoop(seconds * 250);
    return { p50: at(0.5), p99: at(0.99), mean, perSecond: await closedLoop(seconds * 1000) };
}"""


def write_app(folder: Path, pattern: str) -> Path:
    """The demo app with ``pattern`` on, in ``folder``; returns its config's path."""
    for name in ("frontend", "capabilities"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, folder / name)
    (folder / "dist-isolation").mkdir()
    (folder / "dist-isolation" / "index.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"></head>'
        '<body><script src="hook.js"></script></body></html>'
    )
    (folder / "dist-isolation" / "hook.js").write_text(
        "window.__ISOLATION_HOOK__ = (payload) => payload;\n"
    )
    config = json.loads((ROOT / "app.conf.json").read_text())
    config["app"]["security"]["pattern"] = (
        {"use": "isolation", "options": {"dir": "dist-isolation"}}
        if pattern == "isolation"
        else {"use": "brownfield"}
    )
    path = folder / "app.conf.json"
    path.write_text(json.dumps(config))
    return path


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def chromium_pages(playwright: Playwright, configs: dict[str, Path]) -> Iterator[dict[str, Page]]:
    """One headless Chromium page per pattern, each against its own ``serve``."""
    processes, pages = [], {}
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        for pattern, config in configs.items():
            process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--config", str(config)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            processes.append(process)
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("window "):
                raise RuntimeError(f"serve did not start: {line!r}")
            pages[pattern] = browser.new_page()
            pages[pattern].goto(line.split()[2])
        yield pages
    finally:
        browser.close()
        for process in processes:
            _stop(process)


@contextmanager
def qt_pages(playwright: Playwright, configs: dict[str, Path]) -> Iterator[dict[str, Page]]:
    """The real pywebview Qt window (offscreen) of each pattern, over CDP."""
    processes, pages = [], {}
    try:
        for pattern, config in configs.items():
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app", "--config", str(config)],
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    env={
                        **os.environ,
                        "QT_QPA_PLATFORM": "offscreen",
                        "QTWEBENGINE_DISABLE_SANDBOX": "1",
                        "QTWEBENGINE_REMOTE_DEBUGGING": f"127.0.0.1:{port}",
                    },
                )
            )
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(url + "/json/version", timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the Qt window did not come up") from None
                    time.sleep(0.2)
            # Qt WebEngine has no browser contexts to manage; the connection is left open.
            browser = playwright.chromium.connect_over_cdp(url, no_defaults=True)
            while not (candidates := [p for c in browser.contexts for p in c.pages]):
                time.sleep(0.2)
            pages[pattern] = candidates[0]
        yield pages
    finally:
        for process in processes:
            _stop(process)


def measure(page: Page, args: argparse.Namespace) -> dict[str, float]:
    page.reload()
    page.wait_for_function("() => window.__APP__ !== undefined")
    result: dict[str, float] = page.evaluate(
        MEASURE, [args.calls, args.warmup, args.inflight, args.seconds]
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", choices=("chromium", "qt"), default="chromium")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=1000, help="sequential calls for p50/p99")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--inflight", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=2.0, help="of calls with --inflight")
    args = parser.parse_args()
    best: dict[str, dict[str, float]] = {}
    host = chromium_pages if args.host == "chromium" else qt_pages
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        configs = {p: write_app(Path(tmp) / p, p) for p in PATTERNS}
        with host(playwright, configs) as pages:
            for _ in range(args.rounds):
                for pattern in PATTERNS:
                    figures = measure(pages[pattern], args)
                    old = best.setdefault(pattern, figures)
                    best[pattern] = {
                        key: (max if key == "perSecond" else min)(old[key], figures[key])
                        for key in figures
                    }
    report(args.host, best)
    return 0


def report(host: str, best: dict[str, dict[str, float]]) -> None:
    brown, iso = best["brownfield"], best["isolation"]
    print(f"host: {host}")
    print(f"{'pattern':<12}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'calls/s':>10}")
    for name, f in best.items():
        print(f"{name:<12}{f['p50']:>9.2f}{f['p99']:>9.2f}{f['mean']:>9.3f}{f['perSecond']:>10.0f}")
    print(
        f"isolation / brownfield: p50 {iso['p50'] / brown['p50']:.2f}x (target <= 1.5), "
        f"mean {iso['mean'] / brown['mean']:.2f}x, "
        f"calls/s {iso['perSecond'] / brown['perSecond']:.2f}x (target >= 0.7)"
    )


if __name__ == "__main__":
    sys.exit(main())
