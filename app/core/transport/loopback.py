"""What every listener of the app shares: the loopback address, its sockets, and refusals.

Both the windows' server and the isolation frame's origin listen here, and both refuse a
request whose ``Host`` does not name the listener it came in on (no DNS rebinding).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
import threading
import time

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ..acl.urls import SERVED_HOST as HOST
from ..errors import StartError
from .credentials import Credentials

__all__ = [
    "BASE_HEADERS", "HOST", "SERVER_LOG", "foreign_host", "local_port", "log_refusal",
    "loopback_socket", "not_from_windows", "port_of", "refuse", "served_origin",
]


def loopback_socket(port: int = 0) -> socket.socket:
    """A non-blocking socket bound to the loopback address (``port`` 0: any free one).

    Raises ``StartError`` naming the address when it cannot be had."""
    if not 0 <= port <= 65535:
        raise StartError(f"cannot listen on {HOST}:{port}: a port is a number from 1 to 65535")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise StartError(
            f"cannot listen on {HOST}:{port}: {exc.strerror or exc}"
            + ("; is another program (or another copy of the app) using it?"
               if exc.errno == errno.EADDRINUSE else "")
        ) from None
    except BaseException:
        sock.close()
        raise
    return sock


def served_origin(port: int) -> str:
    """The web origin of the listener on ``port``."""
    return f"http://{HOST}:{port}"


def local_port(request: web.Request) -> int:
    """The port of the listener the request came in on (-1 when the connection is gone)."""
    return port_of(request.transport)


def port_of(transport: asyncio.BaseTransport | None) -> int:
    """The local port of a connection (-1 when it is gone)."""
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    return int(sockname[1]) if sockname else -1


def foreign_host(request: web.Request) -> web.Response | None:
    """The refusal of a request whose ``Host`` is not its listener's address, else None."""
    if request.headers.get("Host") == f"{HOST}:{local_port(request)}":
        return None
    return refuse(421, f"Host {request.headers.get('Host')!r} is not this app's address.")


def not_from_windows(request: web.Request, credentials: Credentials) -> web.Response | None:
    """The refusal of a request that does not come from the app's native windows while it
    shows them (see ``Credentials.window_secret``), else None."""
    if credentials.from_windows(request.headers):
        return None
    return refuse(403, "This app serves its own windows only: the request did not come from one.")


BASE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
"""On every response of a window's origin: pages, files, the API's modules, large frames
handed over and refusals (``app.security.headers`` may replace them on the frontend's files).
Without ``nosniff`` a response of any type ran as a script: a page that some HTML put in could
run a text file's contents, or bytes a page had echoed back to it as a large reply, as the
app's own script, which the CSP allows."""


def refuse(status: int, reason: str, log: logging.Logger | None = None) -> web.Response:
    """A plain-text refusal, logged (as a warning of ``log``, by default the transport's; see
    ``_RefusalLog``)."""
    caller = sys._getframe(1)  # where it is refused: the kind of refusal (see _RefusalLog)
    _refusals.log(log or logging.getLogger("app.core.transport"), reason,
                  (caller.f_code.co_filename, caller.f_lineno))
    return web.Response(status=status, text=reason + "\n",
                        headers={**BASE_HEADERS, "Cache-Control": "no-store"})


def log_refusal(reason: str, log: logging.Logger | None = None) -> None:
    """Log a refusal that answers with something else than ``refuse``'s text, as it logs."""
    caller = sys._getframe(1)
    _refusals.log(log or logging.getLogger("app.core.transport"), reason,
                  (caller.f_code.co_filename, caller.f_lineno))


class _NotHttp(logging.Filter):
    """aiohttp logs a request that is not valid HTTP (a header it cannot read, a line too long)
    as an error, with a traceback that quotes what was sent: 500 such requests of 8 KB wrote
    4 MB of log in 1.7 s, and a flood of them slowed the other windows' calls (p50 0.5 -> 6 ms)
    with the writing alone. They are refusals like the others, logged as those are."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True  # an error of the core's own handlers: as aiohttp says it
        what = " ".join(str(exc.message).split())  # (in one line: it quotes what was sent)
        _refusals.log(logging.getLogger("app.core.transport"),
                      f"a request that is not valid HTTP ({type(exc).__name__}: {what})",
                      (_NotHttp, type(exc)))
        return False


SERVER_LOG = logging.getLogger("app.core.transport.http")
"""What the listeners' HTTP server (aiohttp's) logs; requests that are not valid HTTP go through
the refusals' limit."""
SERVER_LOG.addFilter(_NotHttp())


LOGGED_REFUSALS = 20
"""Refusals of one kind logged one by one in ``REFUSALS_WITHIN`` seconds; more are counted."""
REFUSALS_WITHIN = 10.0
LOGGED_REASON = 300
"""Characters of a refusal's reason that are logged (it may quote what the request sent)."""


class _RefusalLog:
    """Any local process, or a web page of any site, can send requests that are refused, as
    many as it likes and with what it likes in them: 50,000 in 5 s, each with an 8 KB Host,
    wrote 400 MB of log. Refusals of each kind (where the code refuses them: nothing a request
    sends makes a kind of its own) are logged ``LOGGED_REFUSALS`` every ``REFUSALS_WITHIN``
    seconds, their reasons cut at ``LOGGED_REASON`` characters; the log says when it stops
    logging a kind one by one, and how many went unlogged with the next of that kind it logs.
    A flood of one kind (requests with no cookie, say) does not hide the others (a spent launch
    URL, a foreign origin)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[object, list[float]] = {}  # kind -> [since, logged, unlogged]

    def log(self, log: logging.Logger, reason: str, kind: object) -> None:
        now = time.monotonic()
        with self._lock:
            counts = self._kinds.get(kind)
            if counts is None or now - counts[0] >= REFUSALS_WITHIN:
                unlogged = int(counts[2]) if counts else 0
                counts = self._kinds[kind] = [now, 0, 0]
            else:
                unlogged = 0
            counts[1] += 1
            if counts[1] > LOGGED_REFUSALS:
                counts[2] += 1
                return
            last = counts[1] == LOGGED_REFUSALS
        if unlogged:
            log.warning("refused %d more requests like the next, not logged one by one",
                        unlogged)
        if len(reason) > LOGGED_REASON:
            reason = reason[:LOGGED_REASON] + f"... ({len(reason)} characters)"
        log.warning("refused: %s%s", reason, (
            f" (more like it in the next {REFUSALS_WITHIN:g} s are counted, not logged one by "
            "one)") if last else "")


_refusals = _RefusalLog()
