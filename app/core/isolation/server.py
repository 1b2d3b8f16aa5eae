"""The isolation frame's own loopback origin: it serves each document's frame page once.

The frame page carries the document's key, so it is served under tight conditions: to the
``Host`` of this listener only, as an ``<iframe>`` only (``Sec-Fetch-Dest``), from the app's own
site only (``Sec-Fetch-Site``; a remote page that a capability names is another site), and once
per token. A request that fails a condition does not
spend the token, so a script that tries to fetch the page cannot take it from the real frame.
Nothing here is readable cross-origin: no CORS headers, and ``Cross-Origin-Resource-Policy``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ..acl.origin import origin_of
from ..transport.credentials import Credentials
from ..transport.loopback import HOST, foreign_host, log_refusal, not_from_windows, refuse
from .keys import KeyRing
from .page import FramePage, failure, render, security_headers

__all__ = ["FrameSettings", "frame_app"]

log = logging.getLogger("app.core.isolation")

SITES = ("same-site", "same-origin")
REMOTE_SITES = ("cross-site", *SITES)


@dataclass(frozen=True)
class FrameSettings:
    directory: Path
    hook_timeout_ms: int
    max_message_bytes: int
    embedder_policy: str | None = None
    """The frontend pages' Cross-Origin-Embedder-Policy (app.security.headers), if any."""


def _page_response(
    page: FramePage, frontend_origin: str, embedder_policy: str | None, status: int = 200
) -> web.Response:
    return web.Response(
        status=status,
        body=page.html,
        content_type="text/html",
        charset="utf-8",
        headers=security_headers(page.nonce, frontend_origin, embedder_policy),
    )


def frame_app(
    keys: KeyRing, settings: FrameSettings, credentials: Credentials
) -> web.Application:
    """The aiohttp application of the isolation origin."""

    async def frame(request: web.Request) -> web.StreamResponse:
        refusal = foreign_host(request) or not_from_windows(request, credentials)
        if refusal is not None:
            return refusal
        dest = request.headers.get("Sec-Fetch-Dest")
        site = request.headers.get("Sec-Fetch-Site")
        # A remote page a capability names is another site; its frame's CSP (frame-ancestors)
        # still lets only that page's origin embed it.
        wanted = keys.frame_key(request.match_info["token"])
        sites = REMOTE_SITES if wanted and wanted.origin.kind == "remote" else SITES
        if dest != "iframe" or site not in sites:
            return refuse(
                403,
                f"The isolation frame is served only as a frame of the app's own pages "
                f"(this request: destination {dest!r}, site {site!r}).",
                log,
            )
        spent = keys.spend_frame(request.match_info["token"])
        if spent is None:
            reason = (
                "the isolation frame's link was already used or has expired (each frame is "
                "served once). Reload the page."
            )
            log_refusal(f"isolation frame: {reason}", log)
            return _page_response(
                failure(reason), f"http://{HOST}:*", settings.embedder_policy, status=403
            )
        key, secret = spent
        frontend = origin_of(key.origin.url)
        assert frontend is not None, "keys are made for http(s) documents only"
        page = render(
            settings.directory,
            {
                "key": secret,
                "kid": key.kid,
                "window": key.label,
                "origin": frontend,
                "hookTimeoutMs": settings.hook_timeout_ms,
                "maxMessageBytes": settings.max_message_bytes,
            },
        )
        for problem in page.problems:
            log.error(
                "%s Every call of window '%s' is blocked until it is fixed.", problem, key.label
            )
        return _page_response(page, frontend, settings.embedder_policy)

    app = web.Application()
    app.router.add_get("/frame/{token}", frame)
    return app
