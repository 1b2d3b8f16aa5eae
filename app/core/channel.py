"""``Channel``: a stream from a running command to the page, passed as an argument from JS.

JS: ``invoke("download", { progress: new Channel((v) => ...) })``. Python: a parameter annotated
``Channel``; ``channel.send(value)`` may be called many times, from any thread.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Generic

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema
from typing_extensions import TypeVar

from .errors import InternalError, Unsendable
from .looprun import running_loop
from .protocol import encode
from .transport.backlog import size_of

if TYPE_CHECKING:
    from .inbox import LoopInbox
    from .transport.session import Session

__all__ = ["MADE", "Channel"]

log = logging.getLogger("app.core.channel")

CHANNEL_KEY = "$__ch"
_GONE = (
    "The page this channel leads to is not connected: it has closed, or its connection dropped "
    "(such a page reconnects, and what is sent once it has reaches it); this value was not sent."
)

MADE: ContextVar[list[Channel] | None] = ContextVar("app_core_channels_made", default=None)
"""Set to a list while a call's arguments are validated: the channels made, wherever they are
in them (a parameter, a list of them, a model's field), so that every one can be attached."""

T = TypeVar("T", default=Any)


class Channel(Generic[T]):
    """``Channel[int]`` says what the command sends on it (as the page's ``Channel<number>``);
    ``Channel`` alone, anything."""

    def __init__(self, channel_id: int) -> None:
        self.id = channel_id
        self._session: Session | None = None
        self._inbox: LoopInbox | None = None
        self._ended: str | None = None

    def end(self, why: str) -> None:
        """No value goes on it any more: ``send`` raises ``InternalError(why)``, which ends a
        command that would otherwise send for as long as its page stays open."""
        self._ended = why

    def attach(self, session: Session | None, inbox: LoopInbox) -> None:
        self._session, self._inbox = session, inbox

    def send(self, value: T) -> None:
        """Deliver ``value`` to the page's ``onmessage`` (JSON-like values or bytes). Raise here,
        in the command: ``InvalidArgs`` for a value that cannot reach the page, and
        ``InternalError`` when the page is gone, has not read for the command time limit (on a
        worker thread, ``send`` waits while the page is more than 8 MiB behind), or its call
        was abandoned at that limit."""
        if self._ended is not None:
            raise InternalError(self._ended)
        session, inbox = self._session, self._inbox
        if session is None or inbox is None:
            return
        # The page's connection now: a page that reconnected since the call gets it there.
        session = session.current()
        try:
            encoded = encode({"kind": "channel", "channel": self.id, "value": value})
        except TypeError as exc:  # orjson's errors are TypeErrors too
            raise Unsendable(f"A value sent on a channel cannot reach the page: {exc}.") from None
        backlog = session.backlog
        if backlog.closed:
            raise InternalError(_GONE)
        if running_loop() is inbox.loop:
            session.deliver_encoded(encoded)
            return
        # On a command's thread: wait while the page is behind, so that a fast sender does not
        # pile up what a slow (or stuck) page has not read.
        size = size_of(encoded)
        if not backlog.wait_and_add(size, session.patience):
            if backlog.closed:
                raise InternalError(_GONE)
            error = InternalError(
                f"The page has not read this channel's messages for {session.patience:g} s; "
                "the command stopped sending."
            )
            log.warning("channel %d: %s", self.id, error.message)
            raise error
        inbox.put(session.deliver_counted, encoded, size)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> Channel:
            if isinstance(value, Channel):
                channel = value
            elif (
                isinstance(value, dict)
                and type(value.get(CHANNEL_KEY)) is int  # not a bool, which JSON can send
                and len(value) == 1
            ):
                channel = cls(value[CHANNEL_KEY])
            else:
                raise ValueError("expected a Channel created in JS with new Channel()")
            made = MADE.get()
            if made is not None:
                made.append(channel)
            return channel

        return core_schema.no_info_plain_validator_function(validate)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "object", "description": "a Channel created in JS with new Channel()"}

    def __repr__(self) -> str:
        return f"Channel({self.id})"
