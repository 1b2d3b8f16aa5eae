"""app.security.headers in Debian Chromium: the app's own headers on its pages and files, and
pages made cross-origin isolated by them, in both patterns (the isolation frame goes along)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response

from tests.conftest import serving

from .conftest import brownfield_config
from .test_isolation_browser import INVOKE
from .test_isolation_core import isolation_config

ISOLATED = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Permissions-Policy": "camera=()",
}


def with_headers(config: Path, headers: dict[str, str]) -> Path:
    data = json.loads(config.read_text())
    data["app"]["security"]["headers"] = headers
    config.write_text(json.dumps(data))
    return config


def frame_documents(page: Page) -> list[Response]:
    """The isolation frame's page as the browser gets it (not a large reply handed over)."""
    found: list[Response] = []

    def seen(response: Response) -> None:
        if response.request.resource_type == "document" and "/frame/" in response.url:
            found.append(response)

    page.on("response", seen)
    return found


def config_for(pattern: str, app_dir: Path) -> Path:
    return isolation_config(app_dir) if pattern == "isolation" else brownfield_config(app_dir)


@pytest.mark.parametrize("pattern", ["brownfield", "isolation"])
def test_app_headers_make_the_pages_cross_origin_isolated(
    browser: Browser, app_dir: Path, pattern: str
) -> None:
    with serving(with_headers(config_for(pattern, app_dir), ISOLATED)) as served:
        page = browser.new_context().new_page()
        frames = frame_documents(page)
        document = page.goto(served.urls["main"])
        assert document is not None
        page.wait_for_function("() => window.__APP__ !== undefined")
        headers = document.all_headers()
        for name, value in ISOLATED.items():
            assert headers[name.lower()] == value
        assert "default-src" in headers["content-security-policy"]  # the shell's own, still
        assert page.evaluate("crossOriginIsolated") is True
        assert page.evaluate("typeof SharedArrayBuffer") == "function"
        # Shared memory goes as bytes: a SharedArrayBuffer itself (it arrived as {}), and a
        # view on one large enough to leave as a Blob (which refuses shared memory).
        sizes = page.evaluate(
            """async () => {
              const { invoke } = window.__APP__.core;
              const small = await invoke("echo", { value: new SharedArrayBuffer(8) });
              const large = await invoke("echo", { value: new Uint8Array(
                new SharedArrayBuffer(2 << 20)) });
              return [small instanceof Uint8Array, small.length, large.length];
            }"""
        )
        assert sizes == [True, 8, 2 << 20]
        # Calls work, through the isolation frame too, which such a page may only embed when
        # the frame takes the same embedder policy on.
        assert page.evaluate(INVOKE, ["greet", {"name": "isolated"}]) == "Hello, isolated!"
        if pattern == "isolation":
            (frame,) = frames
            frame_headers = frame.all_headers()
            assert frame_headers["cross-origin-embedder-policy"] == "require-corp"
            assert frame_headers["cross-origin-resource-policy"] == "cross-origin"
        # The frontend's files carry them as well.
        file_headers = page.evaluate(
            "fetch('hello.txt').then((r) => Object.fromEntries(r.headers))"
        )
        assert file_headers["permissions-policy"] == "camera=()"
        assert file_headers["cross-origin-embedder-policy"] == "require-corp"


def test_without_app_headers_pages_are_not_isolated_and_the_frame_stays_same_origin(
    browser: Browser, app_dir: Path
) -> None:
    with serving(isolation_config(app_dir)) as served:
        page = browser.new_context().new_page()
        frames = frame_documents(page)
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        assert page.evaluate(INVOKE, ["greet", {"name": "plain"}]) == "Hello, plain!"
        assert page.evaluate("crossOriginIsolated") is False
        (frame,) = frames
        assert frame.all_headers()["cross-origin-resource-policy"] == "same-origin"
        assert "cross-origin-embedder-policy" not in frame.all_headers()


def test_an_embedder_policy_that_isolates_nothing_leaves_the_frame_as_it_is(
    browser: Browser, app_dir: Path
) -> None:
    headers = {"Cross-Origin-Embedder-Policy": "unsafe-none"}
    with serving(with_headers(isolation_config(app_dir), headers)) as served:
        page = browser.new_context().new_page()
        frames = frame_documents(page)
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        assert page.evaluate(INVOKE, ["greet", {"name": "plain"}]) == "Hello, plain!"
        (frame,) = frames
        assert frame.all_headers()["cross-origin-resource-policy"] == "same-origin"
        assert "cross-origin-embedder-policy" not in frame.all_headers()


def test_a_file_of_another_type_does_not_run_as_a_script(browser: Browser, app_dir: Path) -> None:
    # A text file of the frontend, which some HTML put into a page (a note's text rendered as
    # HTML, say) loads as a script: the CSP allows the app's own files. Sent with nosniff, as
    # every file and API module is, the browser refuses to run what is not JavaScript.
    (app_dir / "frontend" / "notes.txt").write_text("window.ranAsScript = true;\n")
    (app_dir / "frontend" / "real.js").write_text("window.realRan = true;\n")
    with serving(brownfield_config(app_dir)) as served:
        page = browser.new_context().new_page()
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        loaded = page.evaluate(
            """async () => {
              const load = (src) => new Promise((done) => {
                const script = document.createElement("script");
                script.src = src;
                script.onload = () => done("loaded");
                script.onerror = () => done("refused");
                document.head.append(script);
              });
              return [await load("notes.txt"), await load("real.js")];
            }"""
        )
        assert loaded == ["refused", "loaded"]
        assert page.evaluate("[window.ranAsScript, window.realRan]") == [None, True]
        for path in ("notes.txt", "/__app__/api/core.js"):
            headers = page.evaluate(
                "(path) => fetch(path).then((r) => Object.fromEntries(r.headers))", path
            )
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["referrer-policy"] == "no-referrer", path


def test_a_document_that_is_not_a_page_runs_no_script(browser: Browser, app_dir: Path) -> None:
    """An SVG (or XML) file of the frontend opened in a frame ran its scripts in the app's
    origin, outside the pages' CSP, with the page's IPC a parent away. Served sandboxed, it
    runs none; as an image it still draws."""
    (app_dir / "frontend" / "drawing.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<script>parent.drawingRan = typeof parent.__APP__;</script>'
        '<rect width="10" height="10"/></svg>'
    )
    (app_dir / "frontend" / "old.shtml").write_text(  # text/html, by its type, but no page
        "<!doctype html><script>parent.oldRan = typeof parent.__APP__;</script>"
    )
    with serving(brownfield_config(app_dir)) as served:
        page = browser.new_context().new_page()
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        shown = page.evaluate(
            """async () => {
              const frames = ['drawing.svg', 'old.shtml'].map((src) => {
                const frame = document.createElement('iframe');
                frame.loaded = new Promise((done) => { frame.onload = done; });
                frame.src = src;
                document.body.append(frame);
                return frame;
              });
              const framed = Promise.all(frames.map((frame) => frame.loaded));
              const image = new Image();
              const drawn = new Promise((done) => { image.onload = done; image.onerror = done; });
              image.src = 'drawing.svg';
              await Promise.all([framed, drawn]);
              // Still the app's origin: the page reaches into the drawing, as its own.
              const rect = frames[0].contentDocument.querySelector('rect');
              return [window.drawingRan ?? null, window.oldRan ?? null, image.naturalWidth,
                      rect.getAttribute('width')];
            }"""
        )
        assert shown == [None, None, 10, "10"]
        headers = page.evaluate(
            "fetch('drawing.svg').then((r) => Object.fromEntries(r.headers))"
        )
        assert headers["content-security-policy"] == "sandbox allow-same-origin"


def test_an_app_header_replaces_the_core_s_whatever_the_case_of_its_name(
    browser: Browser, app_dir: Path
) -> None:
    """The app's 'referrer-policy' went out beside the core's 'Referrer-Policy': two headers,
    which the browser joined ("no-referrer, same-origin")."""
    config = with_headers(brownfield_config(app_dir), {"referrer-policy": "same-origin"})
    with serving(config) as served:
        page = browser.new_context().new_page()
        document = page.goto(served.urls["main"])
        assert document is not None
        page.wait_for_function("() => window.__APP__ !== undefined")
        assert document.all_headers()["referrer-policy"] == "same-origin"
        for path in ("hello.txt", "/__app__/api/core.js"):
            headers = page.evaluate(
                "(path) => fetch(path).then((r) => Object.fromEntries(r.headers))", path
            )
            assert headers["referrer-policy"] == "same-origin", path
            assert headers["x-content-type-options"] == "nosniff", path
