"""The loopback HTTP/WebSocket server of the windows.

Each window gets its own listening socket on 127.0.0.1, so each window is its own origin: one
window's scripts cannot read another's pages or open its IPC socket (the Origin check refuses).
Every request must name the listener in ``Host`` (no DNS rebinding), and every page, file and
socket needs the window's session cookie, which only the one-time launch URL sets.
"""

from __future__ import annotations

import asyncio
import html
import logging
import mimetypes
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from ..acl.origin import Origin, origin_of
from ..assets import API_FILES, declared_charset, init_script, inject_head, script_tag
from ..dispatch import PAGE_SLACK_MS
from ..errors import shown
from .credentials import TAB_PARAM, Credentials, with_tab, without_tab
from .csp import build_csp, inline_script_hashes
from .devproxy import DevProxy, relay
from .handover import PATH as HANDOVER_PATH
from .handover import Handovers
from .loopback import (
    BASE_HEADERS,
    HOST,
    SERVER_LOG,
    foreign_host,
    local_port,
    loopback_socket,
    not_from_windows,
    port_of,
    refuse,
    served_origin,
)
from .session import LOGGED_BAD, InFlight, Session, in_flight_bytes

if TYPE_CHECKING:
    from ..runtime import Core

__all__ = ["Server"]

log = logging.getLogger("app.core.transport")
_acl_log = logging.getLogger("app.core.acl")  # where denials are logged

_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*\"?([A-Za-z0-9._:+-]+)", re.IGNORECASE)
"""The charset a Content-Type names (a dev server's)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FRAME_DESTS = {"iframe", "frame"}

SHUTDOWN_GRACE = 2.0
"""Seconds requests still being answered get when a listener stops (a download that is not
read would otherwise hold the shutdown for aiohttp's default of a minute)."""

WEB_TYPES = {
    ".html": "text/html", ".htm": "text/html", ".xhtml": "application/xhtml+xml",
    ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
    ".json": "application/json", ".map": "application/json",
    ".webmanifest": "application/manifest+json", ".wasm": "application/wasm",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
    ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
    ".txt": "text/plain", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".wav": "audio/wav",
    ".mp4": "video/mp4", ".webm": "video/webm",
}
"""The types of a frontend's files, whatever the system's own list holds (aiohttp reads none
of it, and served .webp, .woff2, .map and .xhtml files as application/octet-stream)."""


UNSANDBOXED_TYPES = frozenset(
    {"text/javascript", "application/javascript", "application/wasm", "application/pdf"}
)
"""The frontend's files other than its pages that are served without ``FILE_POLICY``: its
scripts (workers take their policy from their file) and PDF (Chromium's viewer needs scripts)."""

FILE_POLICY = "sandbox allow-same-origin"
"""The Content-Security-Policy of the frontend's other files: one that a frame or a link opens
as a document of its own (an SVG, XML, XSLT, a .shtml file) runs no script (one did, in the
app's origin and outside the pages' CSP, where it could reach the window's IPC), and stays of
the app's origin (a page scripts an SVG in an <object>; XML loads its XSLT). As an image, a
style sheet or data it is as before."""


def layered(*layers: Mapping[str, str]) -> dict[str, str]:
    """Headers, each layer's over the ones before it whatever the case of their names (merged
    as dicts, ``referrer-policy`` of the app's beside the core's ``Referrer-Policy`` sent
    both; a browser takes the first ``X-Content-Type-Options``)."""
    merged: dict[str, str] = {}
    names: dict[str, str] = {}  # lower case -> as merged
    for layer in layers:
        for name, value in layer.items():
            merged.pop(names.get(name.lower(), name), None)
            names[name.lower()] = name
            merged[name] = value
    return merged


CROWDED = 4429
"""The close code of a connection refused for ``MAX_CONNECTIONS`` (its reason says so)."""

MAX_CONNECTIONS = 64
"""The most IPC connections one window may have open at once (its documents: the page, its
frames, pop-ups); each has buffers of its own."""

UNCOVERED_MESSAGE_BYTES = 64 * 1024
"""The largest message a page that no capability covers may send (a sub-frame's, say): each of
its calls is denied anyway, and each connection holds a message whole as it comes in. At
``app.ipc.maxMessageBytes`` for them, a page making 20 sub-frames that each sent 48 MB had the
core hold 1.1 GB at once."""


def _session_cookie(port: int) -> str:
    """The name of the session cookie of the window on ``port``."""
    return f"app_s{port}"


async def _base_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every response of a window's origin carries ``BASE_HEADERS`` (an error page of aiohttp's
    or a 404 too), unless it has its own (the app's, from app.security.headers)."""
    for name, value in BASE_HEADERS.items():
        response.headers.setdefault(name, value)


def _runner(app: web.Application) -> web.AppRunner:
    # A request whose page went is given up: a page could otherwise start requests that the
    # dev server does not answer, drop them, and hold every connection of the relay's.
    return web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE,
        handler_cancellation=True, logger=SERVER_LOG,
    )


class Server:
    def __init__(self, core: Core, credentials: Credentials) -> None:
        self.core = core
        self.credentials = credentials
        self.labels: dict[int, str] = {}
        self.sessions: set[Session] = set()
        self._orphans: set[asyncio.Future[Any]] = set()  # what is cancelled as the core stops
        self._spare: asyncio.Future[Any] | None = None
        self._stopping = False
        self._runners: list[web.AppRunner] = []
        self._sites: dict[int, web.SockSite] = {}
        self._in_flight: dict[str, InFlight] = {}  # per window, shared by its connections
        self._missing: dict[str, int] = {}  # per window, pages asked for that are not there
        self.documents: dict[str, Session] = {}
        """Each page load's connection now, by its document id (see ``_boot``)."""
        self.app = web.Application(middlewares=[self._host_check])
        self.app.on_response_prepare.append(_base_headers)
        # GET only: a HEAD (a link preview, a prefetch) must not spend the one-time link.
        self.app.router.add_get("/__app__/launch/{token}", self._launch, allow_head=False)
        self.app.router.add_get("/__app__/ipc", self._ipc)
        self.app.router.add_get("/__app__/api/{name}", self._api)
        self.handovers = Handovers()
        self.app.router.add_get(HANDOVER_PATH + "{token}", self.handovers.serve, allow_head=False)
        self.app.router.add_get("/{path:.*}", self._static)
        self._runner = _runner(self.app)
        dev_url = core.config.model.build.dev_url
        self.dev = DevProxy(dev_url) if dev_url else None
        self.dev_sources = self.dev.sources if self.dev else []
        if self.dev is not None:  # what a page sends to its own origin goes to the dev server
            self.app.router.add_route("*", "/{path:.*}", self._static)
        self.app_headers = dict(core.config.model.app.security.headers)
        """The app's own headers of the frontend's pages and files (app.security.headers)."""

    async def start(self) -> None:
        await self._runner.setup()

    async def serve_app(self, app: web.Application, port: int = 0) -> int:
        """Serve another application (the isolation frame's) on a loopback port of its own."""
        runner = _runner(app)
        await runner.setup()
        sock = loopback_socket(port)
        await web.SockSite(runner, sock).start()
        self._runners.append(runner)
        return int(sock.getsockname()[1])

    async def add_window(self, label: str, port: int = 0) -> int:
        sock = loopback_socket(port)
        site = web.SockSite(self._runner, sock)
        await site.start()
        bound = int(sock.getsockname()[1])
        self.labels[bound] = label
        self._sites[bound] = site
        return bound

    async def remove_window(self, label: str) -> None:
        """Stop serving window ``label``: its credentials go, its listener closes and its
        connections end."""
        self.credentials.forget(label)
        self._in_flight.pop(label, None)  # (its connections keep theirs as they end)
        self._missing.pop(label, None)
        ports = [p for p, lbl in self.labels.items() if lbl == label]
        for port in ports:
            del self.labels[port]
            site = self._sites.pop(port, None)
            if site is not None:
                await site.stop()
        gone = [s for s in self.sessions if s.label == label]
        await asyncio.gather(*(s.close() for s in gone), return_exceptions=True)
        # Its HTTP connections too (the browser keeps them open for its next requests): a
        # listener that stops closes none, and each window opened and closed left a few open.
        # An idle one ends at once (close() stops its wait for a next request); what is being
        # answered gets SHUTDOWN_GRACE, as in the runner's own cleanup.
        server = self._runner.server
        handlers = [h for h in (server.connections if server is not None else ())
                    if port_of(h.transport) in ports]
        for handler in handlers:
            handler.close()
        await asyncio.gather(*(h.shutdown(SHUTDOWN_GRACE) for h in handlers),
                             return_exceptions=True)

    def window_port(self, label: str) -> int:
        """The port window ``label`` is served on; ``ValueError`` if no such window is open."""
        for port, served in self.labels.items():
            if served == label:
                return port
        raise ValueError(f"window '{shown(label, 100)}' is not open (app.window_labels() lists "
                         "the open ones)")

    def launch_url(self, label: str) -> str:
        port = self.window_port(label)
        return f"{served_origin(port)}/__app__/launch/{self.credentials.new_launch(label)}"

    def carry_on(self, tasks: set[asyncio.Task[None]]) -> None:
        """The calls of a connection that has ended run on, unanswered, until they end, or
        the core does (then they are cancelled, as a page closing once cancelled its own)."""
        for task in tasks:
            self.until_stop(task)

    def until_stop(self, task: asyncio.Future[Any]) -> None:
        """``task`` runs on until it ends, or until the core stops: then it is cancelled."""
        if self._stopping:
            if task is not self._spare:
                task.cancel()
        elif not task.done():
            self._orphans.add(task)
            task.add_done_callback(self._orphans.discard)

    async def stop(self, spare: asyncio.Future[Any] | None = None) -> None:
        # Open sockets would hold the shutdown until they close by themselves; a page that
        # reconnects meanwhile gets its new socket closed as soon as it opens.
        self._stopping = True
        self._spare = spare  # the call that stops the app: it returns once it has
        await asyncio.gather(*(s.close() for s in list(self.sessions)), return_exceptions=True)
        for task in list(self._orphans):  # (the app ends: what runs on for no page stops)
            if task is not spare:
                task.cancel()
        # Together: each gives its unfinished requests SHUTDOWN_GRACE, and no more in all.
        await asyncio.gather(*(runner.cleanup() for runner in [*self._runners, self._runner]))
        if self.dev is not None:
            await self.dev.close()

    # Checks ----------------------------------------------------------------------------------

    @web.middleware
    async def _host_check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        refusal = foreign_host(request) or not_from_windows(request, self.credentials)
        if refusal is None and local_port(request) not in self.labels:
            refusal = refuse(421, "This listener serves no window any more.")
        return refusal or await handler(request)

    def _session_label(self, request: web.Request) -> str | None:
        """The window whose session the request carries; ``None`` without one, and for what a
        page of another site asked for. Browsers send the cookie of 127.0.0.1 to every port of
        it, so a page another local server serves (same site, another origin) would carry it:
        the browser's ``Sec-Fetch-Site`` says so, and it gets nothing of the window."""
        port = local_port(request)
        secret = request.cookies.get(_session_cookie(port))
        if request.headers.get("Sec-Fetch-Site") in ("same-site", "cross-site") and not (
            # ... except the page the launch URL leads to, opened from another window of the
            # app (window.open of its launch URL): it shows the new tab secret.
            secret and self.credentials.tab_matches(secret, request.query.get(TAB_PARAM))
        ):
            return None
        label = self.credentials.session_label(secret)
        return label if label == self.labels.get(port) else None

    def _boot(self, label: str, origin: Origin, port: int) -> dict[str, Any]:
        """A document's boot data: who it is, and a fresh ticket (and isolation key) for it."""
        isolation = self.core.isolation
        ipc = self.core.config.model.app.ipc
        # The page's own deadline: the command's, with slack (under isolation it starts once
        # the hook has let the call through).
        timeout_ms = ipc.command_timeout_ms + PAGE_SLACK_MS
        sealing = isolation.page_boot(label, origin) if isolation else None
        # The ticket is for this page load, which its reconnections carry on: a channel of the
        # page follows it to its new connection, and under isolation its connections may use
        # its key only (the key's id names the page load then).
        document = sealing["kid"] if sealing else secrets.token_urlsafe(16)
        covered = self.core.authority.covers(label, origin)
        return {
            "label": label,
            "tabs": origin.kind != "remote",  # the window's own pages show its tab secret
            "ticket": self.credentials.issue_ticket(label, origin, document=document),
            "ws": f"ws://{HOST}:{port}/__app__/ipc",
            "timeoutMs": timeout_ms,
            "maxMessageBytes": self._largest_message(covered),
            "uncovered": not covered,
            "isolation": sealing,
        }

    def _largest_message(self, covered: bool) -> int:
        """The largest message a page may send (``covered`` by a capability or not)."""
        largest = self.core.config.model.app.ipc.max_message_bytes
        if not covered:
            return min(largest, UNCOVERED_MESSAGE_BYTES)
        return largest

    def remote_script(self, label: str, url: str, came_from: str | None = None) -> bytes | None:
        """The runtime for a page from elsewhere that window ``label`` now shows, or ``None``.

        Only a page that a capability of this window names in ``remote.urls`` gets it; the
        caller (the native window) runs it in that page. Pages the core serves itself already
        have their runtime, and pages that are not http(s) never get one. ``came_from``: the
        address the page's document came from, which must be named too: a page may give
        itself another one (``history.replaceState``) before it has loaded.
        """
        page = origin_of(url)
        ours = {served_origin(p) for p in self.labels}
        if self.core.isolation is not None:
            ours.add(self.core.isolation.frame_origin)
        if label not in self.labels.values() or page is None or page in ours:
            return None
        origin = Origin("remote", url)
        if not self.core.authority.covers(label, origin):
            log.info(
                "window %s shows %s, which no capability names in remote.urls: it gets no IPC",
                label,
                url,
            )
            return None
        if came_from is not None and (origin_of(came_from) != page or not (
            self.core.authority.covers(label, Origin("remote", came_from))
        )):
            log.warning(
                "window %s shows %s, but the page came from %s, which no capability names in "
                "remote.urls: it gets no IPC (a page may change its own address)",
                label, url, shown(came_from, 300),
            )
            return None
        log.info("window %s shows %s: its capabilities' remote.urls name it, IPC is on", label, url)
        return init_script(self._boot(label, origin, self.window_port(label)))

    # Routes ----------------------------------------------------------------------------------

    async def _launch(self, request: web.Request) -> web.StreamResponse:
        port = local_port(request)
        label = self.labels[port]
        spent = self.credentials.spend_launch(request.match_info["token"], label)
        if spent is None:
            return refuse(
                403,
                f"This launch link of window '{label}' is not valid or was already used; "
                "launch links work once. Start the app again for a new one.",
            )
        secret, tab = spent
        window = self.core.windows.get(label)
        target = with_tab("/" + (window.url if window else "index.html").lstrip("/"), tab)
        response = web.HTTPSeeOther(target)
        response.headers["Location"] = target  # as written: the page's query is the app's
        response.set_cookie(
            _session_cookie(port), secret, httponly=True, samesite="Strict", path="/"
        )
        response.headers["Cache-Control"] = "no-store"
        raise response

    async def _api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if self._session_label(request) is None:
            return refuse(403, "The app's API is only served to the app's own windows.")
        if name not in API_FILES:
            return refuse(404, f"There is no API module named {name!r}.")
        content_type = "text/javascript" if name.endswith(".js") else "text/plain"
        return web.Response(body=API_FILES[name], content_type=content_type,
                            headers=layered(BASE_HEADERS, self.app_headers))

    async def _ipc(self, request: web.Request) -> web.StreamResponse:
        port = local_port(request)
        label = self.labels[port]
        sent_origin = request.headers.get("Origin")
        own = sent_origin == served_origin(port)
        if own:
            # The window's own pages: the session cookie, the window's tab secret (see
            # credentials.py), and a ticket one of its pages was given.
            if self._session_label(request) is None:
                return refuse(403, "IPC needs the window's session; open the window's launch URL.")
            session_secret = request.cookies[_session_cookie(port)]
            # ("tab": the socket's own parameter, which runtime.js adds; TAB_PARAM is the one
            # page addresses carry from the launch URL, which the runtime takes out of them.)
            if not self.credentials.tab_matches(session_secret, request.query.get("tab")):
                return refuse(
                    403,
                    f"IPC of window '{label}' needs the window's tab secret, which this page "
                    "does not have (it was not opened through the window's launch URL, nor "
                    "from one of its pages). Use the window, or start the app again.",
                    log,
                )
            ticket = self.credentials.spend_ticket(request.query.get("ticket"))
            if ticket is None or ticket.label != label or ticket.origin.kind == "remote":
                return refuse(403, "IPC ticket missing, already used or expired; reload the page.")
        else:
            # A page from elsewhere: only with the ticket the core put into it (remote_script),
            # from the origin that ticket was made for. Its cookie is not sent cross-site.
            ticket = self.credentials.spend_ticket(request.query.get("ticket"))
            if (sent_origin == "null" and ticket is not None and ticket.label == label
                    and ticket.origin.kind != "remote"):
                # A page of the window's own, sandboxed (by a frame's sandbox attribute or its
                # own policy): its runtime refuses its calls, saying why, and connects only so
                # that the denial is logged here, as every denial is.
                return refuse(403, f"denied: IPC of window '{label}' from "
                              f"{ticket.origin.describe()}, which is sandboxed: its origin is "
                              "opaque, which no capability can allow", _acl_log)
            if (
                ticket is None
                or ticket.label != label
                or ticket.origin.kind != "remote"
                or origin_of(ticket.origin.url) != sent_origin
            ):
                return refuse(403, f"IPC from origin {sent_origin!r} is refused.")
        crowded = sum(1 for s in self.sessions if s.label == label) >= MAX_CONNECTIONS
        ws = web.WebSocketResponse(
            # aiohttp refuses a frame of max_msg_size bytes or more; the limit is inclusive.
            max_msg_size=self._largest_message(
                self.core.authority.covers(label, ticket.origin)) + 1,
            heartbeat=None,
            compress=False,
            decode_text=False,  # orjson parses the UTF-8 bytes directly
        )
        try:
            await ws.prepare(request)
        except ConnectionError:  # the page left as its socket opened (a reload, say): routine
            log.debug("window %s: a page left during its connection's handshake", label)
            return ws
        if self.labels.get(port) != label:  # its window closed meanwhile: start nothing for it
            await ws.close(code=1001, message=f"window '{label}' has closed".encode()[:123])
            return ws
        if crowded:
            # Opened, then closed with the reason: a browser shows a page nothing of a refused
            # handshake, and its runtime then said only that the connection was lost.
            why = (f"window '{label}' has {MAX_CONNECTIONS} IPC connections open already; close "
                   "some of its frames or pop-ups")
            log.warning("refused: %s", why)
            await ws.close(code=CROWDED, message=why.encode()[:123])
            return ws
        # Large frames are handed over HTTP only to pages of the window's own origin (a remote
        # page could not fetch them), unless the page found it could not fetch one.
        handover = own and request.query.get("frames") != "socket"
        in_flight = self._in_flight.get(label)
        if in_flight is None:
            largest = self.core.config.model.app.ipc.max_message_bytes
            in_flight = self._in_flight[label] = InFlight(in_flight_bytes(largest))
        session = Session(self.core, ws, label, ticket.origin, request.transport,
                          handover_port=port if handover else None, document=ticket.document,
                          in_flight=in_flight)
        resume = self.credentials.issue_resume(label, ticket.origin, ticket.document,
                                               live=self.documents)
        session.deliver({"kind": "hello", "resume": resume})
        self.sessions.add(session)
        if session.document is not None:
            self.documents[session.document] = session
        if self._stopping:  # opened while the app shuts down (a page reconnecting): end it
            await session.close()
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            if session.document is not None and self.documents.get(session.document) is session:
                del self.documents[session.document]
        return ws

    def _log_missing(self, label: str, relative: str) -> None:
        """Say that a window asked for a page the frontend does not have: its first
        ``LOGGED_BAD`` (a page script may ask for missing pages in a loop)."""
        count = self._missing[label] = self._missing.get(label, 0) + 1
        if count <= LOGGED_BAD:
            log.warning("window %s: no page /%s in the frontend%s", label, shown(relative),
                        "; more are not logged" if count == LOGGED_BAD else "")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        label = self._session_label(request)
        if label is None:
            return refuse(
                403,
                "This page belongs to an app window; open it through the window's launch URL.",
            )
        if self.dev is not None:
            # The tab secret goes to no other server, the dev server included.
            # The body streams to the dev server as it comes (read whole, it met aiohttp's
            # limit of 1 MiB: a page's upload got a 413 the dev server never saw).
            fetched = await self.dev.fetch(
                without_tab(request.path_qs), request.method, request.headers,
                request.content if request.can_read_body else None, request.content_length,
            )
            if fetched.unanswered and request.headers.get("Sec-Fetch-Dest") == "document":
                return _retrying(fetched.body.decode())
            elsewhere = fetched.headers.get("Location", "")
            if (self.credentials.window_secret is not None
                    and urlsplit(elsewhere).scheme in ("http", "https")):
                # Chromium takes a request's headers along a redirect, the native windows'
                # secret among them (see Credentials.window_secret): the page goes there itself.
                return _leaving(elsewhere)
            if fetched.is_page and request.method != "HEAD":
                # The dev server's word on the encoding, or the page's own.
                said = _CHARSET_PARAM.search(fetched.content_type)
                declared = declared_charset(fetched.body)
                charset = said.group(1) if said else declared[0] if declared else "utf-8"
                return self._page(request, label, fetched.body, fetched.content_type,
                                  fetched.status, fetched.headers, charset=charset)
            headers = layered(fetched.headers, BASE_HEADERS, self.app_headers,
                              {"Content-Type": fetched.content_type})
            if fetched.media_type not in UNSANDBOXED_TYPES:  # as a document (XML, SVG...): inert
                headers["Content-Security-Policy"] = FILE_POLICY
            if fetched.stream is None:
                return web.Response(status=fetched.status, body=fetched.body, headers=headers)
            return await relay(request, fetched.stream, fetched.status, headers)
        root = self.core.config.frontend_dir
        relative = request.match_info["path"] or "index.html"
        try:
            path = (root / relative).resolve()
            if path.is_dir():  # its index.html, resolved in turn: it may be a link out too
                path = (path / "index.html").resolve()
            if not path.is_relative_to(root):
                return refuse(404, "Not found.")
            found = path.is_file()
        except (ValueError, OSError):  # a NUL byte, a name too long
            found = False
        if not found:
            if relative == "favicon.ico":  # asked for by the browser itself: an empty one, with
                return web.Response(status=204)  # no error in the page's console for it
            if request.headers.get("Sec-Fetch-Dest") == "document":  # a window opened nothing
                self._log_missing(label, relative)
            return web.Response(status=404, text=f"Not found: /{shown(relative)}\n")
        content_type = (
            WEB_TYPES.get(path.suffix.lower())
            or mimetypes.guess_type(path.name)[0]
            or "application/octet-stream"
        )
        if path.suffix.lower() not in (".html", ".htm"):
            response = web.FileResponse(path, headers=layered(BASE_HEADERS, self.app_headers))
            response.headers["Cache-Control"] = "no-cache"
            response.headers["Content-Type"] = content_type
            if content_type not in UNSANDBOXED_TYPES:
                response.headers["Content-Security-Policy"] = FILE_POLICY
            return response
        page = path.read_bytes()
        label_codec = declared_charset(page)
        charset, codec = label_codec if label_codec else ("utf-8", "utf-8")
        return self._page(request, label, page, content_type,
                          inline=inline_script_hashes(page, codec), charset=charset)

    def _page(
        self,
        request: web.Request,
        label: str,
        document: bytes,
        content_type: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        inline: tuple[str, ...] = (),
        charset: str = "utf-8",
    ) -> web.StreamResponse:
        """Page ``document`` with the runtime and the policy; ``inline``: the sources that let its
        own inline scripts run (a file of the frontend's: the app's own code, as its script
        files are; never a dev server's page, which may hold what a request put in it)."""
        port = local_port(request)
        dest = request.headers.get("Sec-Fetch-Dest", "document")
        if dest in FRAME_DESTS:
            origin = Origin("subframe", served_origin(port) + request.path_qs)
        elif dest == "document":
            origin = Origin("local", served_origin(port))
        else:
            # A fetch() of a page is data, not a document: it gets no runtime and no ticket.
            return web.Response(
                status=status,
                body=document,
                content_type=content_type.split(";")[0],
                headers=layered(headers or {}, BASE_HEADERS, self.app_headers, {
                    "Cache-Control": "no-store", "Content-Security-Policy": "sandbox"}),
            )
        nonce = secrets.token_urlsafe(16)
        boot = self._boot(label, origin, port)
        body = inject_head(document, script_tag(nonce, init_script(boot)))
        csp = build_csp(
            self.core.config.model.app.security.csp,
            nonce=nonce,
            connect=[boot["ws"], served_origin(port) + HANDOVER_PATH, *self.dev_sources],
            frame=self.core.isolation.frame_origin if self.core.isolation else None,
            workers=("blob:",) if self.dev else (),
            inline=inline,
        )
        return web.Response(
            status=status,
            body=body,
            content_type=content_type.split(";")[0],
            charset=charset,
            headers=layered(headers or {}, BASE_HEADERS, self.app_headers,
                            {"Content-Security-Policy": csp, "Cache-Control": "no-store"}),
        )


def _leaving(url: str) -> web.Response:
    """A redirect of the dev server's to another origin, for a native window: a document that
    goes there, as a load of its own (no script; no address of the app's as its referrer)."""
    shown_url = html.escape(url, quote=True)
    return web.Response(
        text=f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" '
        f'content="0; url={shown_url}"><title>Moved</title><p>This page moved to '
        f'<a href="{shown_url}">{shown_url}</a>.</p>\n',
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                 "Content-Security-Policy": "default-src 'none'"},
    )


def _retrying(message: str) -> web.Response:
    """A window's page while its dev server does not answer: what is wrong, and a reload every
    second until it answers (a native window has no reload button)."""
    text = html.escape(message.strip())
    return web.Response(
        status=502,
        text=f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="1">'
        f"<title>Waiting for the dev server</title><p>{text}</p><p>This page reloads by itself "
        "once it answers.</p>\n",
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )
