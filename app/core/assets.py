"""The JavaScript the core serves: the init script put into every page, and the API modules."""

from __future__ import annotations

import codecs
import re
from functools import cache
from importlib import resources
from typing import Any

import orjson

__all__ = [
    "API_FILES", "COMMENT", "declared_charset", "init_script", "inject_head", "js_json",
    "read_js", "script_tag",
]

_JS = resources.files("app.core") / "js"
COMMENT = rb"<!--(?:-?>|.*?(?:--!?>|\Z))"
"""An HTML comment as browsers read it: ``<!-->`` and ``<!--->`` are whole (empty) comments,
``--!>`` ends one as ``-->`` does, and one never closed runs to the end of the document."""
_WS = rb"[\t\n\f\r ]"
"""HTML's whitespace (not Python's: to a browser a vertical tab is part of a name or value)."""
_PROLOG = re.compile(_WS + rb"+|" + COMMENT + rb"|<![^>]*>?|<\?[^>]*>?", re.DOTALL)
"""What may come before a document's first element: blanks, comments, the doctype."""
_HTML = re.compile(rb"<html(?=" + _WS + rb"|[/>])", re.IGNORECASE)
_HEAD = re.compile(rb"<head(?=" + _WS + rb"|[/>])", re.IGNORECASE)
_TAG_END = re.compile(
    rb"(?:[\t\n\f\r /]+|[^\t\n\f\r />][^\t\n\f\r />=]*(?:" + _WS + rb"*=" + _WS
    + rb"""*(?:"[^"]*"|'[^']*'|[^\t\n\f\r >]*))?)*>?"""
)
"""The rest of a start tag, as browsers read it: quotes delimit attribute values only (in
``<html a=b'>`` the quote is part of the value, and the tag ends at the ``>``)."""
_END_TAG = re.compile(rb"</(script)", re.IGNORECASE)
_START_TAG = re.compile(rb"<(script[\t\n\f\r />])", re.IGNORECASE)


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
    """An inline ``<script>`` with ``nonce``, whose text reads as ``code`` does in a file of its
    own: a "</script" inside it cannot end it early, and a "<script" cannot keep its end from
    ending it (after a "<!--", the HTML parser takes a "<script" to open a nested script, and the
    next "</script>" to close that one, not this). Both can only stand in strings, template
    literals, regular expressions and comments, where ``<\\/`` and ``\\x3C`` read as ``</`` and
    ``<`` (only ``String.raw`` keeps the backslash)."""
    body = _START_TAG.sub(rb"\\x3C\1", _END_TAG.sub(rb"<\\/\1", code))
    return b'<script nonce="' + nonce.encode() + b'">' + body + b"</script>"


def inject_head(html: bytes, tag: bytes) -> bytes:
    """``tag`` where it runs before anything of the document: first in its ``<head>``, after
    its ``<html>`` when it has no head tag, or before its first element (after the doctype,
    which keeps the page in standards mode) when it has neither. Read as a browser reads it:
    not a ``<header>`` for the head, nor a tag inside a comment."""
    at = _after_prolog(html, 3 if html.startswith(b"\xef\xbb\xbf") else 0)
    for element in (_HTML, _HEAD):
        if element.match(html, at):
            at = _TAG_END.match(html, at).end()  # type: ignore[union-attr]
            at = _after_prolog(html, at)
    return html[:at] + tag + html[at:]


def _after_prolog(html: bytes, at: int) -> int:
    while (skipped := _PROLOG.match(html, at)) is not None and skipped.end() > at:
        at = skipped.end()
    return at


def declared_charset(html: bytes) -> tuple[str, str] | None:
    """The character encoding page ``html`` declares in its first 1024 bytes, outside comments
    (``<meta charset>``, or the charset of a ``<meta http-equiv="content-type">``), as a
    browser's prescan finds it: (the label, for the page's header; the codec that reads it as a
    browser does). None when it declares UTF-8 or nothing (the core serves pages as UTF-8 then),
    when a byte-order mark says, or when Python knows no such encoding."""
    if html.startswith((b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")):
        return None
    head = re.sub(COMMENT, b"", html[:1024], flags=re.DOTALL)
    for tag in _META.findall(head):
        found = _CHARSET_ATTRIBUTE.search(tag)
        if found is None and _CONTENT_TYPE.search(tag):
            found = _CONTENT_CHARSET.search(tag)
        if found is not None:
            break
    else:
        return None
    label = found.group(1).decode("ascii").lower()
    if label in _WINDOWS_1252:  # (as the encoding standard reads them)
        return label, "cp1252"
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    if codec in ("utf-8", "utf-8-sig") or codec.startswith("utf-16"):  # UTF-16 here means 8
        return None
    return label, codec


_META = re.compile(rb"<meta[\t\n\f\r /][^>]*>?", re.IGNORECASE)
_LABEL = _WS + rb"*=" + _WS + rb"*[\"']?([A-Za-z0-9._:+-]+)"
_CHARSET_ATTRIBUTE = re.compile(rb"[\t\n\f\r /]charset" + _LABEL, re.IGNORECASE)
_CONTENT_TYPE = re.compile(
    rb"[\t\n\f\r /]http-equiv" + _WS + rb"*=" + _WS + rb"*[\"']?content-type", re.IGNORECASE
)
_CONTENT_CHARSET = re.compile(rb"[\t\n\f\r /]content" + _WS + rb"*=" + _WS
                              + rb"*[\"'][^\"']*?charset" + _LABEL, re.IGNORECASE)
_WINDOWS_1252 = frozenset({
    "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1",
    "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1",
    "us-ascii", "windows-1252", "x-cp1252",
})
"""Labels browsers read as windows-1252 (Python reads most of them as Latin-1 or ASCII)."""


def init_script(boot: dict[str, Any]) -> bytes:
    """The runtime, called with this page's boot data (label, ticket, socket URL, ...). Named
    by a sourceURL: an inline script's stack frames otherwise name the page's address as it
    was at load, tab secret and all (the errors the runtime makes carry those frames, and error
    reports go off the machine)."""
    return (b"(" + read_js("runtime.js").strip().rstrip(b";") + b")(" + js_json(boot) + b");"
            + b"\n//# sourceURL=app-runtime.js")
