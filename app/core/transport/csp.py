"""The Content-Security-Policy header of the pages the core serves.

With ``csp: null`` a strict default applies. A policy from the config (a string, or an object of
directive -> sources) is kept, and the sources the shell itself needs are added to it: the init
script's nonce, the IPC WebSocket, under isolation the isolation frame's origin, and with a dev
server, the dev server and the workers its client makes from blob: URLs (Vite's, to find out
when the dev server is back after a restart).
"""

from __future__ import annotations

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


def _parse(policy: str | dict[str, str | list[str]] | None) -> dict[str, list[str]]:
    """The policy's directives, as a browser reads them: names in any case, and of a directive
    named twice, the first (a browser ignores the second)."""
    if policy is None:
        return {k: list(v) for k, v in DEFAULT.items()}
    if isinstance(policy, dict):
        pairs = [
            (name.split(), value.split() if isinstance(value, str) else list(value))
            for name, value in policy.items()
        ]
    else:
        pairs = [(words[:1], words[1:]) for words in map(str.split, policy.split(";"))]
    directives: dict[str, list[str]] = {}
    for name, sources in pairs:
        if name:
            directives.setdefault(name[0].lower(), sources)
    return directives


def build_csp(
    policy: str | dict[str, str | list[str]] | None,
    *,
    nonce: str,
    connect: list[str],
    frame: str | None,
    workers: tuple[str, ...] = (),
) -> str:
    directives = _parse(policy)
    fallback = directives.get("default-src", [])

    def add(name: str, *sources: str) -> None:
        if name not in directives and "default-src" not in directives:
            return  # nothing restricts it: adding the directive would
        values = directives.setdefault(name, [s for s in fallback if s != "'none'"])
        if "'none'" in values:
            values.remove("'none'")
        values += [s for s in sources if s not in values]

    scripts = directives.get("script-src", fallback)
    # A nonce turns 'unsafe-inline' off; a policy that relies on it runs the init script anyway.
    if "'unsafe-inline'" not in scripts or any(s.startswith(("'nonce-", "'sha")) for s in scripts):
        add("script-src", f"'nonce-{nonce}'")
    add("connect-src", *connect)
    if frame:
        add("frame-src", frame)
    if workers:
        add("worker-src", *workers)
    return "; ".join(f"{k} {' '.join(v)}".strip() for k, v in directives.items())
