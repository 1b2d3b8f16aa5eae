"""``build.devUrl``: serve the window's pages from a dev server (Vite and the like).

Requests for the frontend are fetched from the dev server and answered from the window's own
origin, so pages keep their runtime, ticket and CSP exactly as with ``frontendDist``. A dev
server's hot-reload socket connects to the dev server directly; the page's CSP allows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from ..acl.origin import origin_of

__all__ = ["DevProxy", "Fetched"]

# Hop-by-hop and encoding headers do not survive being relayed.
_DROP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-encoding",
    "content-length",
    "content-security-policy",
    "set-cookie",
}


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]

    @property
    def is_html(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() == "text/html"


class DevProxy:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        origin = origin_of(self.base)
        if origin is None:
            raise ValueError(f"build.devUrl must be an http(s) URL, not {base_url!r}")
        self.origin = origin
        self.socket_origin = self.origin.replace("http", "ws", 1)
        self._http: aiohttp.ClientSession | None = None

    async def fetch(self, path_qs: str) -> Fetched:
        if self._http is None:
            self._http = aiohttp.ClientSession(auto_decompress=True)
        try:
            async with self._http.get(self.base + path_qs, allow_redirects=True) as response:
                body = await response.read()
                headers = {k: v for k, v in response.headers.items() if k.lower() not in _DROP}
                return Fetched(response.status, response.content_type, body, headers)
        except aiohttp.ClientError as exc:
            message = f"The dev server at {self.base} did not answer ({exc}). Is it running?\n"
            return Fetched(502, "text/plain", message.encode(), {})

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
