"""``build.devUrl``: serve the window's pages from a dev server (Vite and the like).

Requests for the frontend are relayed to the dev server (method, body and the page's headers,
but not its cookies) and answered from the window's own origin, so pages keep their runtime,
ticket and CSP exactly as with ``frontendDist``. A page's HTML is read whole (the runtime goes
into it); anything else is relayed as it comes (a large file, an event stream). A dev server's
hot-reload socket connects to the dev server directly; the page's CSP allows it, by
``localhost`` and ``127.0.0.1`` alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
from aiohttp import web

from ..acl.origin import origin_of
from ..errors import shown
from .credentials import WINDOW_HEADER

log = logging.getLogger("app.core.transport")

__all__ = ["DevProxy", "Fetched", "relay"]

# What the page sends that does not go to the dev server: its credentials for the app (the
# session cookie, the native windows' secret, which a dev server that echoes what it gets
# would hand the page), what addresses the app (Host, Origin), and hop-by-hop headers.
_KEEP_BACK = {
    "host", "cookie", WINDOW_HEADER.lower(), "origin", "referer", "connection", "keep-alive",
    "upgrade", "transfer-encoding", "content-length", "te", "trailer", "proxy-authorization",
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


ANSWER_WAIT = 60.0
"""Seconds the dev server has to start answering a request (a first build may take a while)."""
PAGE_BYTES = 32 * 1024 * 1024
"""The largest page the relay reads whole (to put the runtime in); more is answered 502."""


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]
    unanswered: bool = False
    """The dev server did not answer (``body`` says so)."""
    stream: aiohttp.ClientResponse | None = None
    """The answer's body still to come (then ``body`` is empty): relay it as it comes, and
    release it."""

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
        body: bytes | aiohttp.StreamReader | None = None,
        length: int | None = None,
    ) -> Fetched:
        """Relay one request (its ``body`` of ``length`` bytes, if known, sent as it comes): a
        page whole, anything else with its body to come (``stream``); a dev server that does
        not answer gets a 502 saying so."""
        if self._http is None:
            # No cookie jar: cookies the dev server set in answer to one window's request went
            # with every window's later ones (one window acting with another's login).
            # No time limit of the whole answer's (aiohttp's is 300 s): an event stream goes on,
            # a long download too; the dev server's start to answering has ANSWER_WAIT.
            self._http = aiohttp.ClientSession(
                auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=ANSWER_WAIT),
            )
        sent = {k: v for k, v in (headers or {}).items() if k.lower() not in _KEEP_BACK}
        if body is not None and length is not None:  # (else it goes in chunks)
            sent["Content-Length"] = str(length)
        url = self.base + path_qs
        try:
            # Not followed here: the core would fetch another host itself (an OAuth login the
            # dev server sends the page to) and serve it as the window's own page, with its IPC.
            # A dev server that takes the request and never answers held the page (and a
            # connection of the relay's) for good.
            response = await asyncio.wait_for(self._http.request(
                method, url, headers=sent, data=body, allow_redirects=False
            ), ANSWER_WAIT)
        except (aiohttp.ClientError, TimeoutError) as exc:
            why = str(exc) or f"no answer in {ANSWER_WAIT:g} s"
            if not self._down:  # once until it answers again
                log.warning("the dev server at %s does not answer (%s); is it running?",
                            self.base, why)
            self._down = True
            message = f"The dev server at {self.base} did not answer ({why}). Is it running?\n"
            return Fetched(502, "text/plain", message.encode(), {}, unanswered=True)
        self._down = False
        handed_on = False
        try:
            kept = {k: v for k, v in response.headers.items() if k.lower() in _PASSED}
            if "Location" in response.headers:
                try:
                    kept["Location"] = self._relayed(urljoin(url, response.headers["Location"]))
                except ValueError:
                    return _unusable(path_qs, response.headers["Location"])
            fetched = Fetched(response.status, response.content_type, b"", kept)
            if not fetched.is_page or method == "HEAD":
                handed_on = True
                return replace(fetched, stream=response)
            page = await _read_page(response)
            if page is None:
                message = (f"The dev server's page {shown(path_qs, 200)} is larger than "
                           f"{PAGE_BYTES:,} bytes, more than the relay reads.\n")
                log.warning("%s", message.strip())
                return Fetched(502, "text/plain", message.encode(), {})
            return replace(fetched, body=page)
        except (aiohttp.ClientError, TimeoutError) as exc:
            message = f"The dev server's answer to {shown(path_qs, 200)} broke off ({exc}).\n"
            return Fetched(502, "text/plain", message.encode(), {})
        finally:
            if not handed_on:
                response.release()

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


async def relay(
    request: web.Request, upstream: aiohttp.ClientResponse, status: int, headers: dict[str, str]
) -> web.StreamResponse:
    """The dev server's answer to ``request`` (``upstream``, from ``DevProxy.fetch``), relayed
    as it comes (a large file is never held whole, an event stream goes on), then released. One
    that breaks off cuts the page's connection: ended as usual, a part of a file would look
    whole to the page (and be cached)."""
    response = web.StreamResponse(status=status, headers=headers)
    try:
        await response.prepare(request)
        if request.method != "HEAD":
            async for chunk in upstream.content.iter_chunked(1 << 16):
                await response.write(chunk)
        await response.write_eof()
    except ConnectionError:  # the page's end: it went
        pass
    except (aiohttp.ClientError, TimeoutError) as exc:  # the dev server's end
        log.warning("the dev server's answer to %s broke off: %s", shown(request.path, 200), exc)
        if request.transport is not None:
            request.transport.abort()
    finally:
        upstream.release()
    return response


async def _read_page(response: aiohttp.ClientResponse) -> bytes | None:
    """The whole body of ``response``, or ``None`` past ``PAGE_BYTES``."""
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > PAGE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _unusable(path_qs: str, location: str) -> Fetched:
    message = (f"The dev server's answer to {shown(path_qs, 200)} redirects to "
               f"'{shown(location, 200)}', which is not a URL.\n")
    log.warning("%s", message.strip())
    return Fetched(502, "text/plain", message.encode(), {})
