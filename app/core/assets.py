"""The JavaScript the core serves: the init script put into every page, and the API modules."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import orjson

__all__ = ["API_FILES", "init_script", "inject_head", "js_json", "read_js", "script_tag"]

_JS = resources.files("app.core") / "js"
_HEAD = re.compile(rb"<head[^>]*>", re.IGNORECASE)
_HTML = re.compile(rb"<html[^>]*>", re.IGNORECASE)
_END_TAG = re.compile(rb"</(script)", re.IGNORECASE)


@cache
def read_js(name: str) -> bytes:
    return (_JS / name).read_bytes()


API_FILES: dict[str, bytes] = {
    entry.name: entry.read_bytes() for entry in (_JS / "api").iterdir() if entry.is_file()
}


def js_json(value: Any) -> bytes:
    """``value`` as JSON that can sit inside a ``<script>`` element ("</" would end it)."""
    return orjson.dumps(value).replace(b"</", b"<\\/")


def script_tag(nonce: str, code: bytes) -> bytes:
    """An inline ``<script>`` with ``nonce``; a "</script" inside ``code`` cannot end it early."""
    body = _END_TAG.sub(rb"<\\/\1", code)
    return b'<script nonce="' + nonce.encode() + b'">' + body + b"</script>"


def inject_head(html: bytes, tag: bytes) -> bytes:
    """``tag`` as the first thing in the document's ``<head>`` (or after ``<html>``)."""
    anchor = _HEAD.search(html) or _HTML.search(html)
    at = anchor.end() if anchor else 0
    return html[:at] + tag + html[at:]


def init_script(boot: dict[str, Any]) -> bytes:
    """The runtime, called with this page's boot data (label, ticket, socket URL, ...)."""
    return b"(" + read_js("runtime.js").strip().rstrip(b";") + b")(" + js_json(boot) + b");"
