"""Pages from elsewhere: IPC only where a capability's ``remote.urls`` names the page.

A window that navigates away from the local frontend keeps no runtime. When a capability of the
window names the new page, the native window runs the core's runtime in it, with a ticket made
for that page's origin; the IPC socket takes such a ticket only from that origin.

The remote site here is a second local server reached as ``localhost``, which is another origin
(and another site) than the windows' ``127.0.0.1``.
"""

from __future__ import annotations

import asyncio
import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.sync_api import Page, Playwright

from app.demo import create_app
from tests.conftest import wait_for_log
from tests.window import NativeWindow, open_window

from . import raw
from .conftest import brownfield_config
from .test_isolation_core import isolation_config

PAGE = """<!doctype html><html><head><title>{name}</title><script>
window.readyEvents = 0;
addEventListener("app:ready", () => {{ window.readyEvents += 1; }});
</script></head><body>{name}</body></html>"""

OUTCOME = (
    "([cmd, args]) => window.__APP__.core.invoke(cmd, args).then((v) => ({ value: v }), "
    "(e) => ({ code: e.code, message: e.message }))"
)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """Another web site: ``http://localhost:<port>`` with /docs/ and /other/ pages."""
    root = tmp_path / "site"
    for name in ("docs", "other"):
        (root / name).mkdir(parents=True)
        (root / name / "index.html").write_text(PAGE.format(name=name))
    # Pages that give themselves another address as they load: one outside /docs/ that claims
    # a place in it, one inside that moves within it.
    (root / "other" / "claims-docs.html").write_text(PAGE.format(name="claims").replace(
        "<script>", '<script>history.replaceState(null, "", "/docs/fake.html");'))
    (root / "docs" / "moves.html").write_text(PAGE.format(name="moves").replace(
        "<script>", '<script>history.pushState(null, "", "/docs/moved/here.html");'))
    # One that claims it later, then starts a load that shows no new document (a download):
    # the window reports the page loaded again.
    (root / "other" / "claims-later.html").write_text(PAGE.format(name="later").replace(
        "<script>", '<script>addEventListener("load", () => setTimeout(() => {'
        'history.replaceState(null, "", "/docs/fake-later.html");'
        'location.href = "/other/file.bin"; }, 100));'))
    (root / "other" / "file.bin").write_bytes(b"\0" * 64)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def with_remote_capability(config: Path, site: str) -> Path:
    """Let window "main" greet (only) from the site's /docs/ pages."""
    data = json.loads(config.read_text())
    data["app"]["security"]["capabilities"].append(
        {
            "identifier": "docs-site",
            "windows": ["main"],
            "remote": {"urls": [f"{site}/docs/**"]},
            "local": False,
            "permissions": ["allow-greet"],
        }
    )
    config.write_text(json.dumps(data))
    return config


def visit(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.readyState === 'complete'")


def check_remote_page(window: NativeWindow, site: str) -> Page:
    page = window.page("main")
    local = page.evaluate("location.origin")
    visit(page, f"{site}/docs/index.html")
    page.wait_for_function("() => window.__APP__ !== undefined", timeout=30_000)
    assert page.evaluate("[window.__APP__.window.label, window.readyEvents]") == ["main", 1]
    assert page.evaluate(OUTCOME, ["greet", {"name": "docs"}]) == {"value": "Hello, docs!"}
    # The local frontend's grants do not reach the remote page: only docs-site's do.
    denied = page.evaluate(OUTCOME, ["echo", {"value": 1}])
    assert denied["code"] == "forbidden"
    assert f"a remote page at {site}/docs/index.html" in denied["message"]
    assert "allow-echo" in denied["message"]
    emitted = page.evaluate(
        "window.__APP__.event.emit('ping', 1).then(() => 'sent', (e) => e.code)"
    )
    assert emitted == "forbidden"

    # A page of the same site that no capability names gets nothing, and cannot connect.
    visit(page, f"{site}/other/index.html")
    wait_for_log(window.log, re.escape(f"shows {site}/other/index.html, which no capability names"))
    assert page.evaluate("typeof window.__APP__") == "undefined"
    assert page.evaluate("window.readyEvents") == 0
    ws = local.replace("http:", "ws:") + "/__app__/ipc?ticket=guess"
    refused = page.evaluate(
        """(url) => new Promise((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve("open");
            ws.onerror = () => resolve("refused");
        })""",
        ws,
    )
    assert refused == "refused"
    wait_for_log(window.log, re.escape(f"IPC from origin '{site}' is refused"))
    return page


@pytest.mark.window
def test_a_named_remote_page_gets_ipc_in_the_real_window(
    app_dir: Path, site: str, playwright: Playwright
) -> None:
    config = with_remote_capability(brownfield_config(app_dir), site)
    with open_window(config, playwright=playwright) as window:
        check_remote_page(window, site)


@pytest.mark.window
def test_a_page_that_gives_itself_a_named_address_gets_no_ipc(
    app_dir: Path, site: str, playwright: Playwright
) -> None:
    """The native window asked the page for its address once it had loaded, and a page's script
    can change it before (history.replaceState): a page outside /docs/ got /docs/'s grants."""
    config = with_remote_capability(brownfield_config(app_dir), site)
    with open_window(config, playwright=playwright) as window:
        page = window.page("main")
        visit(page, f"{site}/docs/moves.html")  # (moving within /docs/ is fine)
        page.wait_for_function("() => window.__APP__ !== undefined", timeout=30_000)
        assert page.evaluate("location.pathname") == "/docs/moved/here.html"
        assert page.evaluate(OUTCOME, ["greet", {"name": "m"}]) == {"value": "Hello, m!"}
        visit(page, f"{site}/other/claims-docs.html")
        assert page.evaluate("location.pathname") == "/docs/fake.html"
        wait_for_log(window.log, re.escape(
            f"shows {site}/docs/fake.html, but the page came from {site}/other/claims-docs.html"))
        assert page.evaluate("[typeof window.__APP__, window.readyEvents]") == ["undefined", 0]
        visit(page, f"{site}/other/claims-later.html")
        wait_for_log(window.log, re.escape(
            f"shows {site}/docs/fake-later.html, but the page came from "
            f"{site}/other/claims-later.html"))
        assert page.evaluate("location.pathname") == "/docs/fake-later.html"
        assert page.evaluate("[typeof window.__APP__, window.readyEvents]") == ["undefined", 0]


class Slow(Quiet):
    """Pages that come after ``?d=`` seconds."""

    def do_GET(self) -> None:
        time.sleep(float(self.path.split("d=", 1)[1].split("&", 1)[0]))
        body = b"<!doctype html><title>elsewhere</title><p>elsewhere"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.window
def test_a_page_a_named_one_moves_on_to_does_not_get_its_runtime(
    app_dir: Path, site: str, playwright: Playwright, tmp_path: Path
) -> None:
    """A named page that starts two loads in a row (a link clicked twice): the first, dropped
    for the second, ended, and the window took the named page, still shown, for loaded. Its
    runtime, checked then, ran in the page the second load brought, of another origin."""
    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), partial(Slow, directory=str(tmp_path)))
    threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
    other = f"http://127.0.0.1:{elsewhere.server_address[1]}"
    config = with_remote_capability(brownfield_config(app_dir), site)
    env = {"APP_MODULE": "tests.e2e.slow_runtime_app"}
    try:
        with open_window(config, env=env, playwright=playwright) as window:
            page = window.page("main")
            visit(page, f"{site}/docs/index.html")
            page.wait_for_function("() => window.__APP__ !== undefined", timeout=30_000)
            page.evaluate("""(other) => {
                location.href = other + '/slow?d=3&first';
                setTimeout(() => { location.href = other + '/slow?d=0.06&second'; }, 30);
            }""", other)
            # What the window did with the load that ended first: kept the runtime back, or
            # ran it in the page that came next, whose socket the core then refused.
            refused = re.escape(f"IPC from origin '{other}' is refused")
            decided = wait_for_log(
                window.log, f"another load is under way|moved on before it got|{refused}")
            assert not re.search(refused, decided), decided
            page.wait_for_url(re.compile(r".*&second$"))
            wait_for_log(window.log, re.escape(f"shows {other}/slow?d=0.06&second, which no "
                                               "capability names"))
            assert page.evaluate("typeof window.__APP__") == "undefined"
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()


@pytest.mark.window
def test_a_named_remote_page_goes_through_the_isolation_hook(
    app_dir: Path, site: str, playwright: Playwright
) -> None:
    config = with_remote_capability(isolation_config(app_dir), site)
    with open_window(config, playwright=playwright) as window:
        page = check_remote_page(window, site)
        visit(page, f"{site}/docs/index.html")
        page.wait_for_function("() => window.__APP__ !== undefined", timeout=30_000)
        frame = page.evaluate("new URL(document.querySelector('iframe').src).origin")
        assert frame.startswith("http://127.0.0.1:")
        # The core takes only sealed calls under isolation: this one passed the frame.
        assert page.evaluate(OUTCOME, ["greet", {"name": "sealed"}]) == {
            "value": "Hello, sealed!"
        }


# ---- the socket's side, with a raw client ------------------------------------------------------


class Running:
    """The demo app's core in this process (no native window), for raw attacks."""

    def __init__(self, config: Path) -> None:
        self.app = create_app(config)
        self.stop = threading.Event()
        ready: queue.Queue[dict[str, str]] = queue.Queue()
        self.thread = threading.Thread(
            target=self.app.serve, kwargs={"on_ready": ready.put, "stop": self.stop}
        )
        self.thread.start()
        self.urls = ready.get(timeout=30)

    def remote_script(self, label: str, url: str) -> str | None:
        core = self.app.core
        assert core is not None and core.loop is not None

        async def make() -> bytes | None:
            return core.server.remote_script(label, url)

        script = asyncio.run_coroutine_threadsafe(make(), core.loop).result(timeout=10)
        return script.decode() if script is not None else None

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


@pytest.fixture
def running(app_dir: Path) -> Iterator[Running]:
    config = brownfield_config(app_dir)
    data = json.loads(config.read_text())
    data["app"]["security"]["capabilities"].append(
        {
            "identifier": "docs-site",
            "windows": ["main"],
            "remote": {"urls": ["https://docs.example.com/guide/**"]},
            "permissions": ["allow-greet"],
        }
    )
    config.write_text(json.dumps(data))
    app = Running(config)
    yield app
    app.close()


def refused(error: Any) -> bool:
    return isinstance(error, aiohttp.WSServerHandshakeError) and error.status == 403


async def test_only_named_http_pages_of_that_window_get_a_runtime(running: Running) -> None:
    launched = await raw.launch(running.urls["main"])
    named = "https://docs.example.com/guide/start.html"
    assert running.remote_script("main", named) is not None
    for label, url in [
        ("settings", named),  # the capability is for window "main" only
        ("main", "https://docs.example.com/blog/"),
        ("main", "https://evil.example.com/guide/start.html"),
        ("main", "http://docs.example.com/guide/start.html"),  # another scheme
        ("main", launched.origin + "/index.html"),  # the local frontend has its own
        ("main", "about:blank"),
        ("main", "data:text/html,<p>hi</p>"),
        ("main", "file:///etc/passwd"),
        ("nowhere", named),
    ]:
        assert running.remote_script(label, url) is None, (label, url)


async def test_a_remote_ticket_works_only_from_its_origin_and_once(running: Running) -> None:
    launched = await raw.launch(running.urls["main"])
    page = "https://docs.example.com/guide/start.html"
    origin = "https://docs.example.com"

    def ticket() -> str:
        script = running.remote_script("main", page)
        assert script is not None
        return raw.ticket_of(script)

    # From another origin, and from the window's own origin (even with its cookie): refused.
    for sent, cookie in [
        ("https://evil.example.com", ""),
        ("http://docs.example.com", ""),
        ("null", ""),
        (launched.origin, launched.cookie),
    ]:
        with pytest.raises(aiohttp.WSServerHandshakeError) as error:
            await raw.connect(launched, ticket=ticket(), origin=sent, cookie=cookie)
        assert refused(error.value), sent
    # A local page's ticket is no good from the remote origin either.
    with pytest.raises(aiohttp.WSServerHandshakeError) as error:
        await raw.connect(launched, origin=origin, cookie="")
    assert refused(error.value)
    # Another window's socket does not take this window's remote ticket.
    settings = await raw.launch(running.urls["settings"])
    with pytest.raises(aiohttp.WSServerHandshakeError) as error:
        await raw.connect(settings, ticket=ticket(), origin=origin, cookie="")
    assert refused(error.value)

    good = ticket()
    http, ws = await raw.connect(launched, ticket=good, origin=origin, cookie="")
    try:
        greeted = await raw.call(
            ws, {"id": 1, "kind": "invoke", "cmd": "greet", "args": {"name": "r"}}
        )
        assert greeted["ok"] is True and greeted["value"] == "Hello, r!"
        denied = await raw.call(ws, {"id": 2, "kind": "invoke", "cmd": "echo", "args": {}})
        assert denied["ok"] is False and denied["error"]["code"] == "forbidden"
        assert f"a remote page at {page}" in denied["error"]["message"]
        # A large reply comes over the socket itself: a page from elsewhere is not handed
        # frames over HTTP (its own policies would have to let it fetch from the app).
        name = "r" * 1_500_000
        await ws.send_str(json.dumps(
            [{"id": 3, "kind": "invoke", "cmd": "greet", "args": {"name": name}}]
        ))
        (reply,) = raw.messages_of(await ws.receive(timeout=10))
        assert reply["id"] == 3 and reply["value"] == f"Hello, {name}!"
    finally:
        await ws.close()
        await http.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as error:
        await raw.connect(launched, ticket=good, origin=origin, cookie="")
    assert refused(error.value)
