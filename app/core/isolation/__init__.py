"""The isolation pattern: every request passes the app's hook in a sandboxed frame, sealed.

::

    page (frontend origin)            isolation frame (own origin)        core
    send(message) --MessageChannel--> hook(payload, context)
                                      seal: AES-GCM, next seq
                  <--MessageChannel-- {n, seq, ct}
    {id, kind: "sealed", kid, seq, ct} --WebSocket----------------------> unseal_stage -> ...

The frame hands the page its end of the channel in a ``postMessage`` that only the frontend
origin receives, and the page takes it only from its own frame element.

- ``keys.py``: a fresh key per window document, and the cipher and sequence of its messages.
- ``page.py``: the frame page, with the app's scripts inlined and its own CSP.
- ``server.py``: the isolation origin, which serves each frame page once.
- ``stage.py``: the pipeline stage that lets only sealed messages in.

The page learns the key's id and its frame's one-time URL; the key itself reaches the frame only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..acl.origin import Origin
from ..pipeline import Handler
from ..transport.loopback import served_origin
from .keys import KeyRing
from .page import EMBEDDER_POLICY, ISOLATING
from .server import FrameSettings, frame_app
from .stage import read_ahead, unseal_stage

if TYPE_CHECKING:
    from ..runtime import Core
    from ..transport.session import Session

__all__ = ["Isolation"]

START_MS = 15_000
"""How long a page waits for its isolation frame to start before its calls fail."""


class Isolation:
    """The isolation pattern's part of the core (``Core.isolation`` when the pattern is on)."""

    def __init__(self, core: Core) -> None:
        options = core.config.isolation
        directory = core.config.isolation_dir
        assert options is not None and directory is not None
        self._core = core
        headers = core.config.model.app.security.headers
        self._settings = FrameSettings(
            directory,
            options.hook_timeout_ms,
            core.config.model.app.ipc.max_message_bytes,
            next(
                (v for k, v in headers.items()
                 if k.lower() == EMBEDDER_POLICY and v.strip().lower() in ISOLATING),
                None,
            ),
        )
        self.keys = KeyRing()
        self._port: int | None = None

    async def start(self) -> None:
        """Serve the isolation origin on a loopback port of its own."""
        self._port = await self._core.server.serve_app(
            frame_app(self.keys, self._settings, self._core.credentials)
        )

    @property
    def port(self) -> int | None:
        """The isolation origin's port (None until it serves)."""
        return self._port

    @property
    def frame_origin(self) -> str:
        """The isolation frames' origin, which the pages' CSP allows as a frame source."""
        if self._port is None:
            raise RuntimeError("the isolation origin is not serving yet; await start() first")
        return served_origin(self._port)

    def page_boot(self, label: str, origin: Origin) -> dict[str, Any]:
        """The isolation part of a page's boot data: a new key's id and its frame's URL."""
        key, token = self.keys.mint(label, origin)
        return {
            "frame": f"{self.frame_origin}/frame/{token}",
            "kid": key.kid,
            "startMs": START_MS,
            "hookMs": self._settings.hook_timeout_ms,
        }

    def unseal_stage(self, handler: Handler) -> Handler:
        return unseal_stage(self.keys)(handler)

    def let_go(self, session: Session) -> None:
        """``session``, a window's connection, has ended: the messages of its last sealed group
        whose envelopes had not come are dropped. Its page cannot go on with them anyway (it
        gives up on a connection closed while sealed messages were on their way), and they
        would be kept as long as the key (a day) for nothing: a page that held envelopes back
        on purpose could have the core keep millions of messages."""
        key = self.keys.get(session.document) if session.document is not None else None
        # Bound to it, or to none (a group opens before its first message binds the key, and
        # one whose first envelope is then refused binds nothing): another live connection
        # of the page could not have opened the group.
        if key is not None and (key.session is None or key.session is session
                                or key.session.over):
            key.due.clear()

    def read_ahead(self, document: str | None, messages: list[Any]) -> None:
        """(On the large frames' thread) open the sealed groups of a large frame from page
        load ``document`` there, not on the loop (see ``stage.read_ahead``)."""
        read_ahead(self.keys, document, messages)
