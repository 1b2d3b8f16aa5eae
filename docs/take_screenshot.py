"""Take docs/screenshot.png: the demo page from a real ``python -m app serve`` run.

    .venv/bin/python docs/take_screenshot.py [--out docs/screenshot.png] [--theme light|dark]

Needs Debian's Chromium (or set CHROMIUM to another Chromium binary) and Playwright.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT: ViewportSize = {"width": 1000, "height": 760}


def launch_url(process: subprocess.Popen[str]) -> str:
    """The main window's one-time launch URL, from the ``window <label> <url>`` lines."""
    assert process.stdout is not None
    for line in process.stdout:
        words = line.split()
        if len(words) == 3 and words[:2] == ["window", "main"]:
            return words[2]
    raise SystemExit("`python -m app serve` exited before printing the main window's URL")


def stage(page: Page, theme: str) -> None:
    """Put the page in a state that shows a bit of everything."""
    expect(page.get_by_test_id("clock-ticks")).to_have_text(
        re.compile(r"^([2-9]|\d\d+) ticks$"), timeout=10_000
    )

    page.get_by_test_id("greet-name").fill("Ada")
    page.get_by_test_id("greet-submit").click()
    expect(page.get_by_test_id("greet-result")).to_have_text("Hello, Ada!")

    page.locator(f"#setting-theme input[value={theme}]").check()
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("settings-status")).to_contain_text("main")
    expect(page.locator("html")).to_have_attribute("data-theme", theme)

    for _ in range(2):
        page.get_by_test_id("ping").click()
    expect(page.get_by_test_id("pong")).to_contain_text("#2")

    page.get_by_test_id("error-invalid_args").click()
    expect(page.get_by_test_id("error-code")).to_have_text("invalid_args")

    page.get_by_test_id("delete-item-2").click()
    expect(page.get_by_test_id("items-status")).to_have_text("Deleted Pears.")

    page.locator("#echo-mode input[value=bytes]").check()
    page.get_by_test_id("echo-send").click()
    expect(page.get_by_test_id("echo-type")).to_contain_text("Uint8Array")

    page.get_by_test_id("count-start").click()
    expect(page.get_by_test_id("count-result")).to_contain_text("returned 500")
    expect(page.get_by_test_id("count-value")).to_have_text("500")

    page.get_by_test_id("file-read").click()
    expect(page.get_by_test_id("file-result")).to_contain_text("hello from a file")

    page.get_by_test_id("user-name").fill("Ada Lovelace")
    page.get_by_test_id("user-email").fill("ada@example.com")
    page.get_by_test_id("user-submit").click()
    expect(page.get_by_test_id("user-result")).to_contain_text("Created user #1")

    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=10_000)
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    # A fresh clock tick, so the live dot is green and the log's clock row is current.
    ticks = page.get_by_test_id("clock-ticks").inner_text()
    expect(page.get_by_test_id("clock-ticks")).not_to_have_text(ticks, timeout=5_000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not the viewport")
    args = parser.parse_args()

    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = launch_url(process)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            page.emulate_media(reduced_motion="reduce")
            page.goto(url)
            stage(page, args.theme)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=args.full_page)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
