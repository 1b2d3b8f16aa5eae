"""The isolation frame's page: the isolation app's ``index.html``, self-contained.

Each ``<script src>`` of the app's ``index.html`` is replaced by the file's text, and every
script gets the page's CSP nonce: the frame runs no file it fetches and no module (a sandboxed
frame's opaque origin cannot load them reliably), only what this function put in the page. The
shell's frame runtime (``js/isolation.js``) goes first, with this document's key; the app's
scripts after it only define the hook.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..assets import COMMENT, inject_head, js_json, read_js, script_tag

__all__ = ["EMBEDDER_POLICY", "ISOLATING", "FramePage", "failure", "render", "security_headers"]

# A comment is matched too, so that a script inside one stays as it is: commented out.
_SCRIPT = re.compile(
    COMMENT + rb"|<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)
# An attribute of that name, not one whose name ends with it ("data-src").
_ATTRIBUTE = r"""(?<![^\s"'/]){}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"""
_CLASSIC = {"", "text/javascript", "application/javascript", "application/ecmascript",
            "text/ecmascript", "application/x-javascript", "text/jscript"}
"""The types of a script that runs as a classic script (a data block, "text/plain" say, does not
run: it is left as it is, with no nonce)."""
_SRC = re.compile(_ATTRIBUTE.format("src").encode(), re.IGNORECASE)
_TYPE = re.compile(_ATTRIBUTE.format("type").encode(), re.IGNORECASE)


@dataclass(frozen=True)
class FramePage:
    html: bytes
    nonce: str
    problems: list[str]
    """What is wrong with the isolation app; the frame blocks every call and says this."""
    names_hook: bool = True
    """Whether the app's own scripts name the hook's global at all (a misspelt one is no hook:
    the frame then blocks every call)."""


def _attribute(pattern: re.Pattern[bytes], attributes: bytes) -> str | None:
    match = pattern.search(attributes)
    if match is None:
        return None
    value = next(g for g in match.groups() if g is not None)
    return value.decode("utf-8", "replace")


def _inline(
    directory: Path, html: bytes, nonce: str, problems: list[str], inlined: list[tuple[str, bytes]]
) -> bytes:
    """``html`` with the scripts of the isolation app written into it; each one's file name and
    element go to ``inlined``, in the document's order."""

    def tag(name: str, code: bytes) -> bytes:
        element = script_tag(nonce, code + _source_name(name))
        inlined.append((name, element))
        return element

    def replace(match: re.Match[bytes]) -> bytes:
        attributes, code = match.group(1), match.group(2)
        if attributes is None:
            return match.group(0)
        kind = _attribute(_TYPE, attributes)
        if kind is not None and kind.strip().lower() not in _CLASSIC | {"module"}:
            return match.group(0)
        if kind is not None and kind.strip().lower() == "module":
            problems.append(
                "The isolation app's index.html has a module script; ES modules do not run in "
                "the isolation frame, so write it as a classic script."
            )
            return b""
        src = _attribute(_SRC, attributes)
        if src is None:  # its lines counted as index.html's, for an error's line number
            padding = b"\n" * html.count(b"\n", 0, match.start(2))
            return tag("index.html", padding + code)
        relative = src.split("?")[0].split("#")[0].lstrip("/")
        try:
            path = (directory / relative).resolve()
            if not path.is_relative_to(directory) or not path.is_file():
                problems.append(
                    f"The isolation app's index.html loads the script {src!r}, which is not a "
                    f"file in {directory}."
                )
                return b""
            code = path.read_bytes()
        except (OSError, ValueError) as exc:  # unreadable, a name too long, a NUL in it
            problems.append(
                f"The isolation app's index.html loads the script {src!r}, which cannot "
                f"be read: {exc}."
            )
            return b""
        return tag(path.relative_to(directory).as_posix(), code)

    return _SCRIPT.sub(replace, html)


def _source_name(name: str) -> bytes:
    """The file an inlined script came from, which the browser gives its errors' line numbers
    by (the frame tells the page of an error as its scripts ran: 'hook.js:3')."""
    return b"\n//# sourceURL=" + re.sub(r"[^\w./-]", "_", name).encode()


def render(directory: Path, config: dict[str, Any]) -> FramePage:
    """The page of one isolation frame; ``config`` is its runtime's (it holds the key)."""
    nonce = secrets.token_urlsafe(16)
    problems: list[str] = []
    inlined: list[tuple[str, bytes]] = []
    try:
        html = _inline(directory, (directory / "index.html").read_bytes(), nonce, problems,
                       inlined)
    except OSError as exc:
        problems.append(f"The isolation app's index.html cannot be read: {exc}.")
        html = b"<!doctype html>"
        inlined.clear()  # (those read before the one that could not be are not in it)

    def page(sources: list[tuple[str, int, int]]) -> bytes:
        data = js_json({**config, "problems": problems, "sources": sources})
        runtime = (
            b"("
            + read_js("isolation.js").strip()
            + b")("
            + data
            + b", ("
            + read_js("runtime.js").strip()
            + b')({"codecOnly": true}));'
        )
        return inject_head(html, script_tag(nonce, runtime))

    # The config is one line: where the scripts are in the page does not depend on it.
    names_hook = any(name in html for name in HOOK_NAMES)
    return FramePage(page(_lines(page([]), inlined)), nonce, problems, names_hook)


def _lines(page: bytes, inlined: list[tuple[str, bytes]]) -> list[tuple[str, int, int]]:
    """(file name, first line, last line in ``page``) of each inlined script: a syntax error in
    one is given by the page's line, which the frame turns into the file's (isolation.js)."""
    found, at = [], 0
    for name, element in inlined:
        at = page.index(element, at)
        first = page.count(b"\n", 0, at) + 1
        found.append((name, first, first + element.count(b"\n")))
        at += len(element)
    return found


HOOK_NAMES = (b"__ISOLATION_HOOK__", b"__TAURI_ISOLATION_HOOK__")


def failure(reason: str) -> FramePage:
    """A frame page that only tells the page it failed (and why), so its calls fail at once."""
    nonce = secrets.token_urlsafe(16)
    code = b"parent.postMessage(" + js_json({"failed": reason}) + b', "*");'
    return FramePage(b"<!doctype html>" + script_tag(nonce, code), nonce, [reason])


EMBEDDER_POLICY = "cross-origin-embedder-policy"
ISOLATING = ("require-corp", "credentialless")
"""The embedder policies that make a page cross-origin isolated (with COOP): only these make
the frame take one on and waive its resource policy."""


def security_headers(
    nonce: str, frontend_origin: str, embedder_policy: str | None = None
) -> dict[str, str]:
    """Headers of a frame page: its own strict CSP, sandboxed, embeddable only by the frontend.

    When the frontend's pages have an embedder policy (to be cross-origin isolated), the frame
    takes it on too and waives its resource policy, as a page under that policy may embed
    nothing else (Chromium refuses a ``same-site`` frame from another loopback port). It stays
    served only as a frame of the app's own site, once, and only that page's origin may embed it
    (``frame-ancestors``; see server.py)."""
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src 'nonce-{nonce}'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {frontend_origin}",
            # Sandboxed even if someone embeds it without the sandbox attribute.
            "sandbox allow-scripts allow-modals",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "cross-origin" if embedder_policy else "same-origin",
        **({"Cross-Origin-Embedder-Policy": embedder_policy} if embedder_policy else {}),
    }
