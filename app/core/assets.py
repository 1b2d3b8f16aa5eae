"""The JavaScript the core serves: the init script put into every page, and the API modules."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson

__all__ = ["API_FILES", "init_script", "read_js"]

_JS = resources.files("app.core") / "js"


@cache
def read_js(name: str) -> bytes:
    return (_JS / name).read_bytes()


API_FILES: dict[str, bytes] = {
    entry.name: entry.read_bytes() for entry in (_JS / "api").iterdir() if entry.is_file()
}


def init_script(boot: dict[str, Any]) -> bytes:
    """The runtime, called with this page's boot data (label, ticket, socket URL, ...)."""
    # "</" cannot appear in the JSON inside a <script> element.
    data = orjson.dumps(boot).replace(b"</", b"<\\/")
    return b"(" + read_js("runtime.js").strip().rstrip(b";") + b")(" + data + b");"
