"""build.devUrl: pages come from a dev server, and keep their runtime, ticket and CSP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect

from tests.conftest import serving
from tests.window import free_port
from tests.window import open_window as open_native_window

from .conftest import main_window_config


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[str]:
    """A plain HTTP server standing where a dev server (e.g. Vite) would."""
    site = tmp_path / "dev-site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!doctype html><html><head><title>dev</title><script type="module" src="/main.js">'
        "</script></head><body><p id=out>waiting</p></body></html>"
    )
    (site / "inline.html").write_text(
        "<!doctype html><script>window.inline = true;</script><p id=out>inline</p>"
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
    listening(port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def listening(port: int) -> None:
    """Wait until a server listens on ``port`` (20 s at most)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def with_dev_url(app_dir: Path, url: str) -> Path:
    config = main_window_config(app_dir)
    data = json.loads(config.read_text())
    data["build"] = {"frontendDist": "no-such-folder", "devUrl": url}
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
        # A dev server's page may hold what a request put in it: its inline scripts get no
        # hash, and do not run (the frontend folder's own do).
        page.goto(page.evaluate("location.origin") + "/inline.html")
        page.wait_for_function("() => window.__APP__ !== undefined")
        assert page.evaluate("window.inline") is None
    # The page came from the dev server, the window's tab secret did not go to it.
    requests = (app_dir / "dev-server.log").read_text()
    assert '"GET /index.html' in requests and "__app_tab" not in requests


@pytest.mark.window
def test_the_native_windows_secret_does_not_go_to_the_dev_server(
    app_dir: Path, tmp_path: Path, playwright: Playwright
) -> None:
    """The native windows' requests carry a secret of the run (X-App-Window) that the core asks
    of each: relayed, a dev server that echoes what it gets would have handed it to the page."""
    log = tmp_path / "requests.jsonl"
    with vite_like(free_port(), log) as url, open_native_window(
        with_dev_url(app_dir, url), playwright=playwright
    ) as window:
        page = window.page("main")
        echoed = page.evaluate(
            "() => fetch('/api/echo', { method: 'POST', body: 'x' }).then((r) => r.text())")
        assert echoed == "x"
        assert page.evaluate("window.__APP__.core.invoke('greet', {name: 'dev'})") == (
            "Hello, dev!")
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(r["method"] == "POST" for r in requests)
    assert all(name.lower() != "x-app-window" for r in requests for name in r["headers"])


@pytest.mark.window
def test_a_redirect_elsewhere_does_not_take_the_native_windows_secret_along(
    app_dir: Path, tmp_path: Path, playwright: Playwright
) -> None:
    """Chromium keeps a request's headers through a redirect: a page that went to a redirect of
    the dev server's to another local server took the windows' secret there, with the cookie
    and (in the address) the tab secret, and a process behind it could then fetch pages and
    open the window's socket (found by an attacker)."""
    log, elsewhere_log = tmp_path / "dev.jsonl", tmp_path / "elsewhere.jsonl"
    with vite_like(free_port(), log) as url, vite_like(free_port(), elsewhere_log) as elsewhere, \
            open_native_window(with_dev_url(app_dir, url), playwright=playwright) as window:
        page = window.page("main")
        origin = page.evaluate("location.origin")
        page.evaluate("(to) => { location.href = to; }",
                      f"{origin}/redirect?to={elsewhere}/moved")
        page.wait_for_url(f"{elsewhere}/moved")
    moved = [json.loads(line) for line in elsewhere_log.read_text().splitlines()]
    assert moved and moved[0]["path"] == "/moved", moved
    carried = [value for r in moved for name, value in r["headers"].items()
               if name.lower() == "x-app-window"]
    assert carried == [], carried


def test_a_dev_server_that_is_down_gets_a_clear_answer(browser: Browser, app_dir: Path) -> None:
    with serving(with_dev_url(app_dir, f"http://127.0.0.1:{free_port()}")) as served:
        page = browser.new_page()
        response = page.goto(served.urls["main"])
        assert response is not None and response.status == 502
        assert "did not answer" in page.content() and "Is it running?" in page.content()


@contextmanager
def vite_like(port: int, log: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("dev_server.py")), str(port), str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_page_s_method_body_and_headers_reach_the_dev_server_but_not_its_cookie(
    browser: Browser, app_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "requests.jsonl"
    with vite_like(free_port(), log) as url, serving(with_dev_url(app_dir, url)) as served:
        page = browser.new_page()
        response = page.goto(served.urls["main"])
        assert response is not None and response.ok
        # A stylesheet link asks for text/css: relayed, the dev server answers it with CSS.
        expect(page.locator("#title")).to_have_css("color", "rgb(255, 0, 0)")
        echoed = page.evaluate(
            """() => fetch('/api/echo', { method: 'POST', body: 'posted',
                                          headers: { 'X-Custom': 'yes' } }).then((r) => r.text())"""
        )
        assert echoed == "posted"
        # A body past aiohttp's 1 MiB for a request it reads whole: relayed as it comes.
        assert page.evaluate(
            """() => fetch('/api/echo', { method: 'POST', body: 'x'.repeat(3000000) })
                       .then(async (r) => [r.status, (await r.text()).length])"""
        ) == [200, 3_000_000]
        csp = response.headers["content-security-policy"]
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    post = next(r for r in requests if r["method"] == "POST")
    assert post["headers"].get("X-Custom") == "yes"
    assert post["headers"].get("Content-Length") == "6"
    assert [r["headers"].get("Content-Length") for r in requests
            if r["method"] == "POST"][1] == "3000000"
    assert all("Cookie" not in r["headers"] and "__app_tab" not in r["path"] for r in requests)
    # Its hot-reload client may name it by either loopback name; Vite's restart check runs in
    # a worker made from a blob: URL.
    port = url.rsplit(":", 1)[1]
    for source in (f"ws://127.0.0.1:{port}", f"ws://localhost:{port}"):
        assert source in csp.split("connect-src", 1)[1].split(";")[0], csp
    assert "blob:" in csp.split("worker-src", 1)[1].split(";")[0], csp


def test_a_window_waits_for_its_dev_server_and_loads_once_it_answers(
    browser: Browser, app_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    with serving(with_dev_url(app_dir, f"http://127.0.0.1:{port}")) as served:
        page = browser.new_page()
        response = page.goto(served.urls["main"])
        assert response is not None and response.status == 502
        # (It reloads by itself: read while it may be doing so.)
        expect(page.locator("body")).to_contain_text("reloads by itself")
        with vite_like(port, tmp_path / "requests.jsonl"):
            page.wait_for_function("() => window.__APP__ !== undefined", timeout=20_000)
            assert page.evaluate("window.__APP__.window.label") == "main"
    said = [line for line in served.log if "does not answer" in line]
    assert len(said) == 1, said  # once, not at every reload


def test_the_dev_server_s_redirects_are_the_browser_s_to_follow(
    browser: Browser, app_dir: Path, tmp_path: Path
) -> None:
    """The relay followed redirects itself: one to another host was fetched by the core and
    served as the window's own page, with the local frontend's IPC."""
    log, elsewhere_log = tmp_path / "requests.jsonl", tmp_path / "elsewhere.jsonl"
    with vite_like(free_port(), log) as url, vite_like(free_port(), elsewhere_log) as elsewhere, \
            serving(with_dev_url(app_dir, url)) as served:
        page = browser.new_page()
        assert page.goto(served.urls["main"]) is not None
        origin = page.evaluate("location.origin")
        # To another host: the window goes there, as a page of that origin, with no runtime.
        page.goto(f"{origin}/redirect?to={elsewhere}/landing")
        assert page.url == f"{elsewhere}/landing"
        assert page.evaluate("typeof window.__APP__") == "undefined"
        # On the dev server, named by its own origin or by a path: relayed, the window's page.
        # ("//index.html" is a path of the dev server's, kept one: as a Location, it was
        # another host.)
        for to in (f"{url}/index.html?x=1", "/index.html?x=2", f"{url}//index.html?x=3"):
            page.goto(f"{origin}/redirect?to={to}")
            assert page.url.startswith(f"{origin}/index.html?x="), page.url
            assert page.evaluate("window.__APP__.core.invoke('greet', {name: 'r'})") == "Hello, r!"


def test_what_the_dev_server_answers_cannot_act_for_the_app_s_origin(
    browser: Browser, app_dir: Path, tmp_path: Path
) -> None:
    """Headers that act for an origin went through (Clear-Site-Data wiped the window's tab
    secret, CORS let other origins read the window's files), and HTML that was not a page (an
    error's, a POST's) was shown with no CSP."""
    with vite_like(free_port(), tmp_path / "requests.jsonl") as url, \
            serving(with_dev_url(app_dir, url)) as served:
        page = browser.new_page()
        assert page.goto(served.urls["main"]) is not None
        headers = page.evaluate(
            "fetch('/headers').then((r) => Object.fromEntries(r.headers.entries()))")
        assert headers["etag"] == '"v1"' and headers["cache-control"] == "max-age=5"
        for name in ("clear-site-data", "access-control-allow-origin", "refresh", "set-cookie",
                     "access-control-allow-credentials", "service-worker-allowed",
                     "content-security-policy-report-only"):
            assert name not in headers, name
        # A file of the dev server's that is not JavaScript does not run as a script either.
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        answers = page.evaluate(
            """Promise.all([fetch('/form', { method: 'POST' }), fetch('/style.xsl'),
                            fetch('/bad-redirect')]).then((rs) => rs.map((r) => [r.status,
                r.headers.get('content-security-policy')]))""")
        # HTML fetched as data, and what is not a page (XSLT ran script): nothing runs.
        assert answers[:2] == [[201, "sandbox"], [200, "sandbox allow-same-origin"]]
        assert answers[2][0] == 502  # a redirect to no URL: said so (it was a 500, traced)
        # A page with an error's status is a page of the app's: its runtime and CSP.
        response = page.goto(page.evaluate("location.origin") + "/broken")
        assert response is not None and response.status == 500
        assert "script-src" in response.headers["content-security-policy"]
        assert page.evaluate("window.__APP__.core.invoke('greet', {name: 'e'})") == "Hello, e!"
        # The redirect to no URL, as a window's page: said, not reloaded every second as when
        # the dev server does not answer (it does).
        response = page.goto(page.evaluate("location.origin") + "/bad-redirect")
        assert response is not None and response.status == 502
        assert "which is not a URL" in page.content() and "refresh" not in page.content()


def test_the_relay_keeps_no_cookies_streams_and_lets_go_of_dropped_requests(
    browser: Browser, app_dir: Path, tmp_path: Path
) -> None:
    """The relay kept the dev server's cookies for every later request (one window acting with
    another's login), read each answer whole before relaying it (an event stream never came;
    a large file was held in memory), and kept a dropped request's connection until the dev
    server answered: 100 dropped requests to a route that does not answer held up every
    window's page loads."""
    with vite_like(free_port(), tmp_path / "requests.jsonl") as url, \
            serving(with_dev_url(app_dir, url)) as served:
        page = browser.new_page()
        assert page.goto(served.urls["main"]) is not None
        page.wait_for_function("() => window.__APP__ !== undefined")
        said = page.evaluate(
            """async () => {
                await fetch('/login?as=someone');
                const whoami = await (await fetch('/whoami')).text();
                const reader = (await fetch('/stream')).body.getReader();
                const first = new TextDecoder().decode((await reader.read()).value);
                reader.cancel();
                // An answer that breaks off fails, rather than looking whole.
                const partial = await fetch('/partial').then((r) => r.text()).then(
                    (text) => 'whole: ' + text.length, (e) => e.name);
                return [whoami, first, partial];
            }"""
        )
        assert said == ["no cookie", "data: 1\n\n", "TypeError"]
        answered = page.evaluate(
            """async () => {
                for (let batch = 0; batch < 40; batch++) {
                    await Promise.all([...Array(6)].map(async () => {
                        const stop = new AbortController();
                        const dropped = fetch('/hang', { signal: stop.signal }).catch(() => 0);
                        setTimeout(() => stop.abort(), 50);
                        await dropped;
                    }));
                }
                const stop = new AbortController();
                setTimeout(() => stop.abort(), 15000);
                return (await fetch('/index.html', { signal: stop.signal })).status;
            }"""
        )
        assert answered == 200
