"""Per-window credentials, which a window gets only through its one-time launch URL.

1. ``launch token``: in the launch URL; good once. Opening it sets the window's session cookie
   (HttpOnly, SameSite=Strict) and redirects to the window's page.
2. ``session``: the cookie. Every page the core serves to a request carrying it embeds a fresh
   ``ticket`` in its init script.
3. ``ticket``: good once, for a short time; the page's runtime spends it to open its WebSocket.
4. ``tab``: made with the session, and handed out only in the launch URL's redirect, as the
   ``TAB_PARAM`` query parameter of the page it leads to. The runtime moves it into
   ``localStorage`` (its origin's: no other port or program sees it) and out of the address
   before any script of the page runs, and every IPC connection of the window must show it.
   The cookie is not enough alone: browsers send the cookies of 127.0.0.1 to every port of it,
   so another local server the same browser visits receives it, and with it could get pages
   and tickets, but never the tab secret.
5. ``window secret``: while the app shows its own native windows, every request to its
   listeners must carry it in ``WINDOW_HEADER``, which the windows' request interceptor puts
   on each (see qtguard); no page sees it. A page's script can read the tab secret, and take
   it with the cookie to another local server (see 4.): without this, a process behind that
   server could act as a page of the window, and under isolation get a key of its own.
6. ``resume``: handed over that WebSocket, good once; lets the runtime reconnect after a drop
   without a new page load. A new one comes with each connection; a window keeps its latest
   ``RESUMES_KEPT``, those of pages no longer connected dropped first.

Tokens are 256-bit values from the OS random source.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import deque
from collections.abc import Container, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from ..acl.origin import Origin

__all__ = ["TAB_PARAM", "WINDOW_HEADER", "Credentials", "Ticket", "with_tab", "without_tab"]

TICKET_TTL = 120.0
RESUME_TTL = 24 * 3600.0
RESUMES_KEPT = 64
"""Resume tickets a window keeps: one per page connected now, and then some."""
WINDOW_HEADER = "X-App-Window"
"""The header of the native windows' requests that carries the window secret."""
TAB_PARAM = "__app_tab"
"""The query parameter that carries the tab secret from the launch URL to the page."""
_TAB = re.compile(r"([?&])" + TAB_PARAM + r"=[^&#]*(&?)")


def with_tab(target: str, tab: str) -> str:
    """``target`` (a path, maybe with a query and a fragment) with the tab secret added as
    text: the rest of its query stays as the app wrote it (no re-encoding)."""
    path, hash_mark, fragment = quote(target, safe="/?#&=%:@!$'()*+,;~-._").partition("#")
    return f"{path}{'&' if '?' in path else '?'}{TAB_PARAM}={tab}{hash_mark}{fragment}"


def without_tab(path_qs: str) -> str:
    """``path_qs`` with the tab secret taken out as text (the page's runtime does alike)."""
    match = _TAB.search(path_qs)
    if match is None:
        return path_qs
    kept = ("?" if match[1] == "?" else "&") if match[2] else ""
    return path_qs[: match.start()] + kept + path_qs[match.end() :]


def _same(shown: str, secret: str) -> bool:
    """Whether a request shows ``secret``, in constant time. As bytes: ``compare_digest`` raises
    on text that is not ASCII, which anyone could send (a 500 and a traceback each time)."""
    return secrets.compare_digest(shown.encode("utf-8", "surrogatepass"), secret.encode())


def _token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Ticket:
    label: str
    origin: Origin
    expires: float
    document: str | None = None
    """The page load it was made for (under isolation, its key's id); see ``Server._boot``."""


class Credentials:
    def __init__(self) -> None:
        self._launch: dict[str, str] = {}
        self._sessions: dict[str, str] = {}
        self._tabs: dict[str, str] = {}  # session secret -> its tab secret, once made
        self._tickets: dict[str, Ticket] = {}
        self._resumes: dict[str, deque[str]] = {}  # per window, oldest first
        # Tickets by time to live, in the order they expire: expired ones are dropped from the
        # front, however many pages were served (a scan of them all each time got slow).
        self._expiring: dict[float, deque[tuple[float, str]]] = {}
        self.window_secret: str | None = None
        """Set (``require_windows``) while the app shows its own native windows."""

    def require_windows(self) -> str:
        """From now on every request must come from the app's own native windows: the secret
        their requests carry (made once)."""
        if self.window_secret is None:
            self.window_secret = _token()
        return self.window_secret

    def from_windows(self, headers: Mapping[str, str]) -> bool:
        """Whether a request with ``headers`` may be served: any while no native window is
        required, else one that carries the windows' secret."""
        secret = self.window_secret
        return secret is None or _same(headers.get(WINDOW_HEADER, ""), secret)

    def new_launch(self, label: str) -> str:
        token = _token()
        self._launch[token] = label
        return token

    def spend_launch(self, token: str, label: str) -> tuple[str, str] | None:
        """Exchange a launch token of ``label`` for a new session: its secret and its tab
        secret; ``None`` if spent."""
        if self._launch.get(token) != label:
            return None
        del self._launch[token]
        secret = _token()
        self._sessions[secret] = label
        tab = self._tabs[secret] = _token()
        return secret, tab

    def session_label(self, secret: str | None) -> str | None:
        return self._sessions.get(secret) if secret else None

    def tab_matches(self, secret: str, shown: str | None) -> bool:
        """Whether a connection of session ``secret`` shows the session's tab secret."""
        tab = self._tabs.get(secret)
        return tab is not None and shown is not None and _same(shown, tab)

    def issue_ticket(
        self, label: str, origin: Origin, ttl: float = TICKET_TTL, document: str | None = None
    ) -> str:
        self._expire()
        token = _token()
        expires = time.monotonic() + ttl
        self._tickets[token] = Ticket(label, origin, expires, document)
        queue = self._expiring.setdefault(ttl, deque())
        queue.append((expires, token))
        if len(queue) > 2 * len(self._tickets) + 64:
            # Tickets spent or revoked stayed here until they would have expired (a resume
            # ticket: a day), one for each page load of a page that reloads itself without end.
            self._expiring[ttl] = deque(entry for entry in queue if entry[1] in self._tickets)
        return token

    def issue_resume(
        self, label: str, origin: Origin, document: str | None = None,
        live: Container[str | None] = (),
    ) -> str:
        """A resume ticket of window ``label`` (for the page load ``document``). Beyond
        ``RESUMES_KEPT``, the oldest of page loads not in ``live`` (those connected now) are
        revoked first: a page whose frames reloaded 64 times lost its way back otherwise."""
        token = self.issue_ticket(label, origin, ttl=RESUME_TTL, document=document)
        kept = self._resumes.setdefault(label, deque())
        kept.append(token)
        if len(kept) > RESUMES_KEPT:
            unspent = [t for t in kept if t in self._tickets]
            gone = [t for t in unspent if t != token and self._tickets[t].document not in live]
            revoked = set(gone[: max(0, len(unspent) - RESUMES_KEPT)])
            # (then, were there more connected page loads than that, their oldest)
            kept = deque(t for t in unspent if t not in revoked)
            while len(kept) > RESUMES_KEPT:
                revoked.add(kept.popleft())
            for old in revoked:
                del self._tickets[old]
            self._resumes[label] = kept
        return token

    def spend_ticket(self, token: str | None) -> Ticket | None:
        if not token:
            return None
        ticket = self._tickets.pop(token, None)
        if ticket is None or ticket.expires < time.monotonic():
            return None
        return ticket

    def forget(self, label: str) -> None:
        """Window ``label`` closed: its launch tokens, sessions, tab secrets and tickets go."""
        self._launch = {t: lbl for t, lbl in self._launch.items() if lbl != label}
        gone = {secret for secret, lbl in self._sessions.items() if lbl == label}
        for secret in gone:
            del self._sessions[secret]
            self._tabs.pop(secret, None)
        self._resumes.pop(label, None)
        self._tickets = {t: ticket for t, ticket in self._tickets.items() if ticket.label != label}

    def _expire(self) -> None:
        now = time.monotonic()
        for queue in self._expiring.values():
            while queue and queue[0][0] < now:
                self._tickets.pop(queue.popleft()[1], None)
