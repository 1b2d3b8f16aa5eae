"""The process as the app starts: Python's garbage collector does not run while the app's
modules, its transport and the GUI toolkit load, and runs as before once the app serves."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from tests.conftest import ROOT, serving
from tests.window import open_window

from . import raw
from .conftest import brownfield_config

# The app module, as python -m app loads it: what the collector's first threshold is (0: no
# runs) as the module loads, in create_app, in an on_start function and once the app serves.
COLLECTOR_APP = """
import gc
from app.demo import create_app as demo
AT_IMPORT = gc.get_threshold()[0]
def create_app(config):
    app = demo(config)
    seen = {{"import": AT_IMPORT, "create_app": gc.get_threshold()[0]}}
    {before}
    @app.command
    def collector() -> dict:
        return {{**seen, "serving": gc.get_threshold()[0], "enabled": gc.isenabled()}}
    {on_start}
    return app
"""

ON_START = """@app.on_start
    def prepare(app):
        seen["on_start"] = gc.get_threshold()[0]
"""


def _collector_config(app_dir: Path, before: str = "", on_start: str = "") -> tuple[Path, dict]:
    (app_dir / "collector_app.py").write_text(
        COLLECTOR_APP.format(before=before, on_start=on_start)
    )
    path = brownfield_config(app_dir)
    config = json.loads(path.read_text())
    config["app"]["security"]["capabilities"][0]["permissions"].append("allow-collector")
    path.write_text(json.dumps(config))
    return path, {"APP_MODULE": "collector_app", "PYTHONPATH": str(app_dir)}


async def _seen_when_served(config: Path, env: dict[str, str]) -> dict:
    with serving(config, env=env) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            reply = await raw.call(ws, {"id": 1, "kind": "invoke", "cmd": "collector"})
    assert reply["ok"], reply
    return reply["value"]


DEFAULT = gc.get_threshold()[0]  # (this interpreter's, as pytest leaves it)


@pytest.mark.parametrize("on_start", [False, True])
async def test_the_collector_waits_while_the_app_loads_and_runs_once_it_serves(
    app_dir: Path, on_start: bool
) -> None:
    config, env = _collector_config(app_dir, on_start=ON_START if on_start else "")
    seen = await _seen_when_served(config, env)
    assert seen["import"] == seen["create_app"] == 0, seen
    assert seen["serving"] == DEFAULT and seen["enabled"], seen
    if on_start:  # the app's own start-up work may make garbage: the collector runs for it
        assert seen["on_start"] == DEFAULT, seen


@pytest.mark.parametrize(
    ("before", "serving", "enabled"),
    [("gc.disable()", DEFAULT, False), ("gc.set_threshold(5000)", 5000, True)],
)
async def test_an_app_that_sets_the_collector_up_as_it_loads_keeps_its_choice(
    app_dir: Path, before: str, serving: int, enabled: bool
) -> None:
    config, env = _collector_config(app_dir, before=before)
    seen = await _seen_when_served(config, env)
    assert (seen["serving"], seen["enabled"]) == (serving, enabled), seen


@pytest.mark.window
def test_the_collector_runs_once_the_real_window_opens(
    app_dir: Path, playwright: Playwright
) -> None:
    config, env = _collector_config(app_dir)
    with open_window(config, env=env, playwright=playwright) as window:
        seen = window.page("main").evaluate("window.__APP__.core.invoke('collector')")
    assert seen["import"] == seen["create_app"] == 0, seen
    assert seen["serving"] == DEFAULT and seen["enabled"], seen


# The app module for the CA certificates of aiohttp's TLS contexts, which the app reads on a
# thread of its own as it starts (app.core.certs): here that reading is made 0.5 s slower, so
# that an on_start function run before it ended would find them missing.
CERTIFICATES_APP = """
import ssl, sys, time
from app.core import certs
from app.demo import create_app as demo
seen = {"aiohttp at import": "aiohttp" in sys.modules}
_read_all = certs._read_all
def _slowly(contexts):
    seen["put off"] = len(contexts)
    time.sleep(0.5)
    _read_all(contexts)
certs._read_all = _slowly
def _held():
    from aiohttp import connector
    contexts = (connector._SSL_CONTEXT_VERIFIED, connector._SSL_CONTEXT_UNVERIFIED)
    return [c.cert_store_stats()["x509_ca"] for c in contexts]
def create_app(config):
    app = demo(config)
    @app.on_start
    def prepare(app):
        seen["on_start"] = _held()
    @app.command
    def certificates() -> dict:
        return {**seen, "whole": ssl.create_default_context().cert_store_stats()["x509_ca"]}
    return app
"""


@pytest.mark.window
def test_aiohttps_tls_contexts_hold_the_systems_certificates_before_the_apps_code_runs(
    app_dir: Path, playwright: Playwright
) -> None:
    (app_dir / "certificates_app.py").write_text(CERTIFICATES_APP)
    config = brownfield_config(app_dir)
    loaded = json.loads(config.read_text())
    loaded["app"]["security"]["capabilities"][0]["permissions"].append("allow-certificates")
    config.write_text(json.dumps(loaded))
    env = {"APP_MODULE": "certificates_app", "PYTHONPATH": str(app_dir)}
    with open_window(config, env=env, playwright=playwright) as window:
        seen = window.page("main").evaluate("window.__APP__.core.invoke('certificates')")
    assert seen["aiohttp at import"] is False, seen  # else nothing was put off
    assert seen["put off"] == 2, seen  # aiohttp's two contexts, read later
    assert seen["whole"] > 0, seen
    assert seen["on_start"] == [seen["whole"]] * 2, seen


RUN_TWICE = """
import asyncio, sys
from app.demo import create_app
app = create_app(sys.argv[1])

@app.on_start
async def close_once_shown(app):
    labels = [window.label for window in app.config.model.app.windows]
    while not all(label in app.native_windows for label in labels):
        await asyncio.sleep(0.05)
    for label in labels:
        app.close_window(label)

app.run()
print("first run returned", flush=True)
try:
    app.run()
except RuntimeError as exc:
    print("second run:", exc, flush=True)
"""


def test_a_second_run_in_one_process_is_refused_not_a_crash(app_dir: Path) -> None:
    """pywebview's Qt GUI cannot start again once its loop has ended: a second app.run() in
    one process died of SIGSEGV inside it."""
    script = app_dir / "run_twice.py"
    script.write_text(RUN_TWICE)
    done = subprocess.run(
        [sys.executable, str(script), str(brownfield_config(app_dir))], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "QTWEBENGINE_DISABLE_SANDBOX": "1"},
    )
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-2000:])
    assert done.stdout.splitlines() == [
        "first run returned",
        "second run: app.run() opens windows once per process: the GUI toolkit cannot start "
        "again once its loop has ended (Qt's crashes the process). Keep the first run going, "
        "with app.open_window() for windows opened later, or start a new process.",
    ]
