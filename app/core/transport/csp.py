"""The Content-Security-Policy header of the pages the core serves.

With ``csp: null`` a strict default applies. A policy from the config (a string, or an object of
directive -> sources) is kept, and the sources the shell itself needs are added to it: the init
script's nonce, the IPC WebSocket, under isolation the isolation frame's origin, and with a dev
server, the dev server and the workers its client makes from blob: URLs (Vite's, to find out
when the dev server is back after a restart).
"""

from __future__ import annotations

import re

DEFAULT = {
    "default-src": ["'self'"],
    # No inline script but the shell's (by nonce). eval() stays allowed: frameworks that
    # compile templates at run time need it, and so do test tools that poll a page with a
    # string predicate (Playwright's wait_for_function). A script already running in the page
    # gains nothing from it; set app.security.csp to refuse it too.
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


def build_csp(
    policy: str | dict[str, str | list[str]] | None,
    *,
    nonce: str,
    connect: list[str],
    frame: str | None,
    workers: tuple[str, ...] = (),
) -> str:
    # Policies joined with commas are each enforced: each one must let the shell's sources in.
    policies = policy.split(",") if isinstance(policy, str) else [policy]
    return ", ".join(
        _build_one(_parse_one(p), nonce=nonce, connect=connect, frame=frame, workers=workers)
        for p in policies
    )


def _build_one(
    directives: dict[str, list[str]],
    *,
    nonce: str,
    connect: list[str],
    frame: str | None,
    workers: tuple[str, ...],
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

    # A nonce turns 'unsafe-inline' off; a policy that relies on it runs the init script anyway
    # (unless 'strict-dynamic' turns it off too).
    for name in ("script-src", "script-src-elem"):
        scripts = [s.lower() for s in governing(name) or []]  # keywords in any case
        if (name == "script-src" or name in directives) and (
            "'unsafe-inline'" not in scripts
            or "'strict-dynamic'" in scripts
            or any(s.startswith(("'nonce-", "'sha")) for s in scripts)
        ):
            add(name, f"'nonce-{nonce}'")
    add("connect-src", *connect)
    if frame:
        add("frame-src", frame)
    if workers:
        add("worker-src", *workers)
    return "; ".join(f"{k} {' '.join(v)}".strip() for k, v in directives.items())
