"""The Content-Security-Policy header of the pages the core serves.

With ``csp: null`` a strict default applies. A policy from the config (a string, or an object of
directive -> sources) is kept, and the sources the shell itself needs are added to it: the init
script's nonce, the hashes of the inline scripts the page came with (``inline_script_hashes``),
the IPC WebSocket, under isolation the isolation frame's origin, and with a dev server, the dev
server and the workers its client makes from blob: URLs (Vite's, to find out when the dev server
is back after a restart).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re

from selectolax.lexbor import LexborHTMLParser

log = logging.getLogger("app.core.transport")

DEFAULT = {
    "default-src": ["'self'"],
    # No inline script but the shell's (by nonce) and the page's own (by hash, see
    # inline_script_hashes): none written into it later, no onclick="...". eval() stays
    # allowed: frameworks that compile templates at run time need it, and so do test tools
    # that poll a page with a string predicate (Playwright's wait_for_function). A script
    # already running in the page gains nothing from it; set app.security.csp to refuse it too.
    "script-src": ["'self'", "'unsafe-eval'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}


_WHITESPACE = re.compile(r"[\t\n\f\r ]+")
"""What separates the words of a policy: ASCII whitespace only (a browser takes a vertical tab or
a no-break space as part of a word, and a directive named with one is no directive)."""
_NAME = re.compile(r"[A-Za-z0-9-]+")

_FALLBACKS = {
    "script-src": ("default-src",),
    "script-src-elem": ("script-src", "default-src"),
    "connect-src": ("default-src",),
    "frame-src": ("child-src", "default-src"),
    "worker-src": ("child-src", "script-src", "default-src"),
}
"""Where a browser looks, for each directive the shell adds sources to, when it is absent."""


def _policies(
    policy: str | dict[str, str | list[str]] | None,
) -> list[str | dict[str, str | list[str]] | None]:
    """The policies of the config's ``policy``: text may join several with commas, each
    enforced on its own."""
    return list(policy.split(",")) if isinstance(policy, str) else [policy]


def _parse_one(policy: str | dict[str, str | list[str]] | None) -> dict[str, list[str]]:
    """One policy's directives, as a browser reads them: names in any case, of a directive named
    twice the first (a browser ignores the second), and none whose name is not a name."""
    if policy is None:
        return {k: list(v) for k, v in DEFAULT.items()}
    if isinstance(policy, dict):
        pairs = [
            (name, [w for item in ([value] if isinstance(value, str) else value)
                    for w in _WHITESPACE.split(item)])
            for name, value in policy.items()
        ]
    else:
        pairs = []
        for part in policy.split(";"):
            words = [w for w in _WHITESPACE.split(part) if w]
            if words:
                pairs.append((words[0], words[1:]))
    directives: dict[str, list[str]] = {}
    for name, sources in pairs:
        if _NAME.fullmatch(name):
            directives.setdefault(name.lower(), [w for w in sources if w])
    return directives


INLINE_HASHES = 200
"""The most inline scripts of one page that get a hash (each adds ~55 bytes to the header, and
a browser refuses a page whose headers pass some 256 KB)."""

_SCRIPT_TYPES = frozenset({
    "", "module", "importmap", "speculationrules", "text/javascript", "application/javascript",
    "application/ecmascript", "application/x-ecmascript", "application/x-javascript",
    "text/ecmascript", "text/jscript", "text/livescript", "text/x-ecmascript",
    "text/x-javascript", *(f"text/javascript1.{n}" for n in range(6)),
})
"""The ``type`` values of a ``<script>`` that runs (any other makes a block of data, which
needs no hash)."""


@functools.lru_cache(maxsize=32)  # (a page is read again at each load)
def inline_script_hashes(html: bytes, codec: str = "utf-8") -> tuple[str, ...]:
    """The sources (``'sha256-...'``) that let the inline scripts of page ``html`` run, and
    only those: a script written into the page later (an injected ``<script>``, an
    ``onclick=`` attribute) has none unless it is one of them word for word.

    For the frontend folder's own files: their scripts are the app's code, as its script files
    are. The page is parsed as a browser parses it (Lexbor, which follows the HTML standard
    as Chromium does): text that only looks like a script to a simpler parser (in a
    ``<textarea>``, a ``<title>``, a comment closed by ``-- >``) must get no hash, or a script
    of that text injected later would run; nor does one in a ``<noscript>``, read as by a
    browser that runs scripts. Each is hashed as it reads in ``codec`` (the page's encoding, the
    core's header says which), its line breaks made LF and its NUL characters U+FFFD, as a
    browser hashes it; at most ``INLINE_HASHES`` of them.
    """
    if b"<script" not in html.lower():
        return ()
    found: dict[str, None] = {}
    page = LexborHTMLParser(html.decode(codec, "replace"), scripting=True)
    for script in page.css("script"):
        attributes = script.attributes  # (made anew at each read)
        if "src" in attributes or not _runs(attributes):
            continue
        digest = hashlib.sha256(script.text(deep=True).encode()).digest()
        source = f"'sha256-{base64.b64encode(digest).decode()}'"
        if source in found:
            continue
        if len(found) == INLINE_HASHES:
            log.warning("a page of the frontend has more than %d inline scripts; those after "
                        "them do not run (move them into files)", INLINE_HASHES)
            break
        found[source] = None
    return tuple(found)


def _runs(attributes: dict[str, str | None]) -> bool:
    """Whether a ``<script>`` with ``attributes`` runs in Chromium, as the HTML standard says:
    by its type (or its old ``language``), not a classic one marked ``nomodule``, not one for
    an event of an element (``for`` and ``event``, but for ``window``'s load)."""
    kind = attributes.get("type")
    if kind is None or kind == "":
        language = attributes.get("language")
        kind = f"text/{language}" if language else ""
    kind = kind.strip(_HTML_SPACE).lower()
    if kind not in _SCRIPT_TYPES:
        return False
    if kind not in ("module", "importmap", "speculationrules") and "nomodule" in attributes:
        return False
    event, target = attributes.get("event"), attributes.get("for")
    if event is not None and target is not None:
        event, target = event.strip(_HTML_SPACE).lower(), target.strip(_HTML_SPACE).lower()
        if target != "window" or event not in ("onload", "onload()"):
            return False
    return True


_HTML_SPACE = "\t\n\f\r "


DIRECTIVES = frozenset({
    "default-src", "script-src", "script-src-elem", "script-src-attr", "style-src",
    "style-src-elem", "style-src-attr", "img-src", "font-src", "connect-src", "media-src",
    "object-src", "child-src", "frame-src", "worker-src", "manifest-src", "prefetch-src",
    "fenced-frame-src", "base-uri", "sandbox", "form-action", "frame-ancestors", "navigate-to",
    "report-uri", "report-to", "require-trusted-types-for", "trusted-types",
    "upgrade-insecure-requests", "block-all-mixed-content", "plugin-types", "webrtc",
    "require-sri-for", "treat-as-public-address",
})
"""The directives browsers know (CSP level 3 and those Chromium still reads); others they
ignore."""


def unknown_directives(policy: str | dict[str, str | list[str]] | None) -> list[str]:
    """The directives of ``policy`` that no browser knows (a misspelt one restricts nothing)."""
    return [name for p in _policies(policy) for name in _parse_one(p) if name not in DIRECTIVES]


def restricts_nothing(policy: str | dict[str, str | list[str]] | None) -> bool:
    """Whether ``policy``, the config's, has no directive a browser knows (``""``, ``{}``, only
    misspelt ones): its pages then go with no policy at all."""
    if policy is None:  # the default one
        return False
    return not any(set(_parse_one(p)) & DIRECTIVES for p in _policies(policy))


def build_csp(
    policy: str | dict[str, str | list[str]] | None,
    *,
    nonce: str,
    connect: list[str],
    frame: str | None,
    workers: tuple[str, ...] = (),
    inline: tuple[str, ...] = (),
) -> str:
    """The policy header: ``policy`` with the shell's sources added (``inline``: the sources of
    the page's own inline scripts, from ``inline_script_hashes``)."""
    # Policies joined with commas are each enforced: each one must let the shell's sources in.
    return ", ".join(
        _build_one(_parse_one(p), nonce=nonce, connect=connect, frame=frame, workers=workers,
                   inline=inline)
        for p in _policies(policy)
    )


def _build_one(
    directives: dict[str, list[str]],
    *,
    nonce: str,
    connect: list[str],
    frame: str | None,
    workers: tuple[str, ...],
    inline: tuple[str, ...],
) -> str:
    def governing(name: str) -> list[str] | None:
        """The sources that govern ``name``: its own, or its fallback's (None: unrestricted)."""
        for each in (name, *_FALLBACKS.get(name, ())):
            if each in directives:
                return directives[each]
        return None

    def add(name: str, *sources: str) -> None:
        inherited = governing(name)
        if inherited is None:
            return  # nothing restricts it: adding the directive would
        values = directives.setdefault(name, [s for s in inherited if s.lower() != "'none'"])
        values[:] = [s for s in values if s.lower() != "'none'"]
        values += [s for s in sources if s not in values]

    # A nonce (or a hash) turns 'unsafe-inline' off; a policy that relies on it runs the init
    # script and the page's inline scripts anyway (unless 'strict-dynamic' turns it off too).
    for name in ("script-src", "script-src-elem"):
        scripts = [s.lower() for s in governing(name) or []]  # keywords in any case
        if (name == "script-src" or name in directives) and (
            "'unsafe-inline'" not in scripts
            or "'strict-dynamic'" in scripts
            or any(s.startswith(("'nonce-", "'sha")) for s in scripts)
        ):
            add(name, f"'nonce-{nonce}'", *inline)
    add("connect-src", *connect)
    if frame:
        add("frame-src", frame)
    if workers:
        add("worker-src", *workers)
    return "; ".join(f"{k} {' '.join(v)}".strip() for k, v in directives.items())
