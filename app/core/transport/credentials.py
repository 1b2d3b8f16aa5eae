"""Per-window credentials, which a window gets only through its one-time launch URL.

1. ``launch token``: in the launch URL; good once. Opening it sets the window's session cookie
   (HttpOnly, SameSite=Strict) and redirects to the window's page.
2. ``session``: the cookie. Every page the core serves to a request carrying it embeds a fresh
   ``ticket`` in its init script.
3. ``ticket``: good once, for a short time; the page's runtime spends it to open its WebSocket.
4. ``resume``: handed over that WebSocket, good once; lets the runtime reconnect after a drop
   without a new page load. A new one comes with each connection.

Tokens are 256-bit values from the OS random source.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from ..acl.origin import Origin

__all__ = ["Credentials", "Ticket"]

TICKET_TTL = 120.0
RESUME_TTL = 24 * 3600.0


def _token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Ticket:
    label: str
    origin: Origin
    expires: float


class Credentials:
    def __init__(self) -> None:
        self._launch: dict[str, str] = {}
        self._sessions: dict[str, str] = {}
        self._tickets: dict[str, Ticket] = {}

    def new_launch(self, label: str) -> str:
        token = _token()
        self._launch[token] = label
        return token

    def spend_launch(self, token: str, label: str) -> str | None:
        """Exchange a launch token of ``label`` for a new session secret; ``None`` if spent."""
        if self._launch.get(token) != label:
            return None
        del self._launch[token]
        secret = _token()
        self._sessions[secret] = label
        return secret

    def session_label(self, secret: str | None) -> str | None:
        return self._sessions.get(secret) if secret else None

    def issue_ticket(self, label: str, origin: Origin, ttl: float = TICKET_TTL) -> str:
        self._expire()
        token = _token()
        self._tickets[token] = Ticket(label, origin, time.monotonic() + ttl)
        return token

    def spend_ticket(self, token: str | None) -> Ticket | None:
        if not token:
            return None
        ticket = self._tickets.pop(token, None)
        if ticket is None or ticket.expires < time.monotonic():
            return None
        return ticket

    def _expire(self) -> None:
        now = time.monotonic()
        if len(self._tickets) > 64:
            for token in [t for t, v in self._tickets.items() if v.expires < now]:
                del self._tickets[token]
