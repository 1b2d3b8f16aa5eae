"""build.devUrl: pages come from a dev server, and keep their runtime, ticket and CSP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import serving
from tests.window import free_port

from .conftest import brownfield_config


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[str]:
    """A plain HTTP server standing where a dev server (e.g. Vite) would."""
    site = tmp_path / "dev-site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!doctype html><html><head><title>dev</title><script type="module" src="/main.js">'
        "</script></head><body><p id=out>waiting</p></body></html>"
    )
    (site / "main.js").write_text(
        "const { invoke } = await import('/__app__/api/core.js');\n"
        "document.getElementById('out').textContent = await invoke('greet', { name: 'dev' });\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(site),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "dev-server.log").open("w"),  # its request log
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def with_dev_url(app_dir: Path, url: str) -> Path:
    config = brownfield_config(app_dir)
    data = json.loads(config.read_text())
    data["build"] = {"frontendDist": "no-such-folder", "devUrl": url}
    data["app"]["windows"] = data["app"]["windows"][:1]
    config.write_text(json.dumps(data))
    return config


def test_pages_from_the_dev_server_get_the_runtime(
    browser: Browser, app_dir: Path, dev_server: str
) -> None:
    with serving(with_dev_url(app_dir, dev_server)) as served:
        page = browser.new_page()
        response = page.goto(served.urls["main"])
        assert response is not None and response.ok
        assert "connect-src" in response.headers["content-security-policy"]
        expect(page.locator("#out")).to_have_text("Hello, dev!")
        assert page.evaluate("window.__APP__.window.label") == "main"
    # The page came from the dev server, the window's tab secret did not go to it.
    requests = (app_dir / "dev-server.log").read_text()
    assert '"GET /index.html' in requests and "__app_tab" not in requests


def test_a_dev_server_that_is_down_gets_a_clear_answer(browser: Browser, app_dir: Path) -> None:
    with serving(with_dev_url(app_dir, f"http://127.0.0.1:{free_port()}")) as served:
        page = browser.new_page()
        response = page.goto(served.urls["main"])
        assert response is not None and response.status == 502
        assert "did not answer" in page.content() and "Is it running?" in page.content()
