"""What a page's new windows and links to other schemes do in the real Qt window, with key
presses under Xvfb and no CDP client (one attached waits for every new window a page makes).

pywebview gave every window a page opened the same hidden page of its own, which stayed: after
one key press or click the opener scripted it (window.open's handle), and its code outlived the
page's reloads, reached the window's IPC through its opener, and opened the system's browser at
will. And a click sent an address of any scheme to the desktop's handler for it (xdg-open)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.conftest import wait_for_log
from tests.window import launch, read_output
from tests.xdisplay import XVFB_ENV, wait_for_window, xdotool

from .conftest import main_window_config

pytestmark = pytest.mark.window

PAGE = """<!doctype html><title>links</title>
<a id="link" target="_blank" href="http://127.0.0.1:9/link">link</a>
<script src="links.js"></script>"""

# Each key does one thing, as a user's key press (which lets a page open a window), then
# reports what the page got.
SCRIPT = """const { invoke } = window.__APP__.core;
const report = (what) => setTimeout(() => invoke("note", { text: JSON.stringify(what) }), 500);
addEventListener("keydown", (event) => {
  if (event.key === "o") {
    const opened = window.open("http://127.0.0.1:9/opened");
    setTimeout(() => invoke("note", { text: JSON.stringify(
      { key: "o", closed: opened === null || opened.closed }) }), 500);
  } else if (event.key === "b") {
    const blank = window.open("about:blank");
    let ran = false;
    try { blank.document.write("<script>opener.ran = true<\\/script>"); } catch (e) { }
    setTimeout(() => invoke("note", { text: JSON.stringify(
      { key: "b", closed: blank === null || blank.closed, ran: window.ran === true }) }), 500);
  } else if (event.key === "s") {
    location.href = "ssh://attacker.example/x";
    report({ key: "s", at: location.pathname });
  } else if (event.key === "l") {
    document.getElementById("link").click();
    report({ key: "l" });
  }
});
invoke("note", { text: "ready" });"""


def test_new_windows_open_in_the_browser_from_a_key_press_only_and_leave_the_page_nothing(
    app_dir: Path, display: str
) -> None:
    launched = app_dir / "launched.txt"
    fake = app_dir / "bin"
    fake.mkdir()
    for name in ("browser", "xdg-open"):
        (fake / name).write_text(f'#!/bin/sh\necho "{name} $1" >> {launched}\n')
        (fake / name).chmod(0o755)
    (app_dir / "frontend" / "links.html").write_text(PAGE)
    (app_dir / "frontend" / "links.js").write_text(SCRIPT)
    config = main_window_config(app_dir)
    data = json.loads(config.read_text())
    data["app"]["windows"][0].update(url="links.html", title="Links")
    data["app"]["security"]["capabilities"][0]["permissions"].append("allow-note")
    config.write_text(json.dumps(data))
    env = {"DISPLAY": display, **XVFB_ENV, "APP_MODULE": "tests.e2e.notes_app",
           "BROWSER": str(fake / "browser"), "PATH": f"{fake}:{os.environ['PATH']}"}
    process, _ = launch(config, env)
    log: list[str] = []
    reader = read_output(process, log)
    try:
        wait_for_log(log, "note: ready")
        window = wait_for_window(display, "^Links$")
        notes = {}
        for key in ("o", "b", "s", "l"):
            xdotool(display, "windowfocus", "--sync", window, "key", key)
            line = wait_for_log(log, f'note: {{"key":"{key}"')
            notes[key] = json.loads(line.split("note: ", 1)[1])
        wait_for_log(log, re.escape("link to http://127.0.0.1:9/link opens in the system's "
                                    "browser"))
        # (The log line comes as the browser is started, on a thread: it may not have run yet.)
        deadline = time.monotonic() + 30
        while (len(launched.read_text().splitlines()) if launched.exists() else 0) < 2:
            assert time.monotonic() < deadline, "the system's browser was not started twice"
            time.sleep(0.05)
    finally:
        process.terminate()
        status = process.wait(timeout=30)
        reader.join(timeout=10)
    assert status == 0, "\n".join(log[-20:])
    # No page of the app's gets a window it can script; nothing it wrote there ran.
    assert notes["o"] == {"key": "o", "closed": True}
    assert notes["b"] == {"key": "b", "closed": True, "ran": False}
    # A link of another scheme goes nowhere, and the page stays.
    assert notes["s"] == {"key": "s", "at": "/links.html"}
    # The http(s) ones, from a key press, open in the system's browser, once each.
    assert sorted(launched.read_text().splitlines()) == [
        "browser http://127.0.0.1:9/link", "browser http://127.0.0.1:9/opened"]
