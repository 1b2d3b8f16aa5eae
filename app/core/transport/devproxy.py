"""``build.devUrl``: serve the window's pages from a dev server (Vite and the like).

Requests for the frontend are relayed to the dev server (method, body and the page's headers,
but not its cookies) and answered from the window's own origin, so pages keep their runtime,
ticket and CSP exactly as with ``frontendDist``. A dev server's hot-reload socket connects to
the dev server directly; the page's CSP allows it, by ``localhost`` and ``127.0.0.1`` alike.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp

from ..acl.origin import origin_of
from ..errors import shown

log = logging.getLogger("app.core.transport")

__all__ = ["DevProxy", "Fetched"]

# What the page sends that does not go to the dev server: its credentials for the app (the
# session cookie), what addresses the app (Host, Origin), and hop-by-hop headers.
_KEEP_BACK = {
    "host", "cookie", "origin", "referer", "connection", "keep-alive", "upgrade",
    "transfer-encoding", "content-length", "te", "trailer", "proxy-authorization",
}

# What of the dev server's answer reaches the page: what describes and caches the content.
# Nothing else, as it would act for the app's origin: cookies, CSP, CORS grants to other
# origins, Clear-Site-Data (which wiped the window's tab secret), Refresh, service worker scope;
# hop-by-hop and encoding headers do not survive being relayed. (Location is its own case.)
_PASSED = {
    "cache-control", "etag", "last-modified", "expires", "vary", "date", "age",
    "content-language", "content-disposition", "accept-ranges", "content-range",
    "retry-after", "sourcemap", "x-sourcemap",
}


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]
    unanswered: bool = False
    """The dev server did not answer (``body`` says so)."""

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()

    @property
    def is_page(self) -> bool:
        """HTML that a window shows as a page: a document's (an error's too), not a redirect's
        body, a part of one, or what answers no content."""
        return self.media_type == "text/html" and self.status not in (204, 206, 304) and not (
            300 <= self.status < 400 and "Location" in self.headers)


class DevProxy:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        origin = origin_of(self.base)
        if origin is None:
            raise ValueError(f"build.devUrl must be an http(s) URL, not {base_url!r}")
        self.origin = origin
        self.sources = [self.origin, self.origin.replace("http", "ws", 1)]
        """What the page's CSP lets it connect to: the dev server, by either loopback name (a
        dev server's client may use the page's host name with the dev server's port)."""
        parts = urlsplit(self.origin)
        twin = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}.get(parts.hostname or "")
        if twin is not None:
            other = f"{parts.scheme}://{twin}" + (f":{parts.port}" if parts.port else "")
            self.sources += [other, other.replace("http", "ws", 1)]
        self._http: aiohttp.ClientSession | None = None
        self._down = False

    async def fetch(
        self,
        path_qs: str,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Fetched:
        """Relay one request; a dev server that does not answer gets a 502 saying so."""
        if self._http is None:
            self._http = aiohttp.ClientSession(auto_decompress=True)
        sent = {k: v for k, v in (headers or {}).items() if k.lower() not in _KEEP_BACK}
        url = self.base + path_qs
        try:
            # Not followed here: the core would fetch another host itself (an OAuth login the
            # dev server sends the page to) and serve it as the window's own page, with its IPC.
            async with self._http.request(
                method, url, headers=sent, data=body, allow_redirects=False
            ) as response:
                content = await response.read()
                kept = {k: v for k, v in response.headers.items() if k.lower() in _PASSED}
                if "Location" in response.headers:
                    try:
                        kept["Location"] = self._relayed(urljoin(url, response.headers["Location"]))
                    except ValueError:
                        return _unusable(path_qs, response.headers["Location"])
                self._down = False
                return Fetched(response.status, response.content_type, content, kept)
        except aiohttp.ClientError as exc:
            if not self._down:  # once until it answers again
                log.warning("the dev server at %s does not answer (%s); is it running?",
                            self.base, exc)
            self._down = True
            message = f"The dev server at {self.base} did not answer ({exc}). Is it running?\n"
            return Fetched(502, "text/plain", message.encode(), {}, unanswered=True)

    def _relayed(self, location: str) -> str:
        """Where a redirect of the dev server's sends the page: a place on the dev server, as a
        path of the window's own origin (relayed in turn); elsewhere, there (a page of another
        origin, which gets no IPC unless a capability's remote.urls names it)."""
        if origin_of(location) not in self.sources:
            return location
        parts = urlsplit(location)
        # One leading /: "//example.com/x" (or "/\\example.com") is another host to browsers.
        path = "/" + parts.path.lstrip("/\\")
        return urlunsplit(("", "", path, parts.query, parts.fragment))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def _unusable(path_qs: str, location: str) -> Fetched:
    message = (f"The dev server's answer to {shown(path_qs, 200)} redirects to "
               f"{shown(location, 200)!r}, which is not a URL.\n")
    log.warning("%s", message.strip())
    return Fetched(502, "text/plain", message.encode(), {})
