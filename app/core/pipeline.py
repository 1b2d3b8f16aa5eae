"""The IPC request path: one handler type, and the stages composed in ``build_pipeline``.

A ``Handler`` takes a decoded ``Request`` and returns the reply's value, or raises an
``IpcError``. Each stage wraps the next one::

    [unseal] -> check_shape -> authorize -> route

``unseal`` is there when the isolation pattern is on: it opens the sealed envelope and puts the
plaintext message's kind and body on the request before the other stages see it.

``settle`` turns the outcome into exactly one reply message, whatever happened.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .acl.authority import Authority
from .acl.origin import Caller
from .acl.permissions import command_permissions
from .acl.scope import Scope
from .commands import Command
from .errors import InternalError, InvalidArgs, IpcError, NotFound, ProtocolError, shown
from .events import check_event_name, check_window_label
from .protocol import Encoded, Prepared, encode, encode_prepared

if TYPE_CHECKING:
    from .runtime import Core
    from .transport.session import Session

__all__ = ["Handler", "Request", "build_pipeline", "settle"]

log = logging.getLogger("app.core.ipc")

KINDS = ("invoke", "emit", "listen", "unlisten")


@dataclass
class Request:
    """One message from a window, with who sent it. ``scope`` is set once it is authorized."""

    id: int
    kind: str
    body: dict[str, Any]
    caller: Caller
    session: Session | None = None
    scope: Scope | None = None
    command: Command | None = None
    answered: bool = False
    """Answered already, while its handling went on (``Session.answer_now``)."""
    abandoned: bool = False
    """Its caller stopped waiting and cancelled its handling (the test client's caller did)."""

    @property
    def name(self) -> str:
        """The command or event it names, fit for a message: a caller's value of any shape."""
        return shown(self.body.get("cmd") if self.kind == "invoke" else self.body.get("event"))


Handler = Callable[[Request], Awaitable[Any]]
Stage = Callable[[Handler], Handler]


def request_from(message: Any, caller: Caller, session: Session | None) -> Request:
    """Wrap one decoded message; its id must be an integer so the reply can find its caller."""
    if not isinstance(message, dict):
        raise ProtocolError("Each message must be a JSON object.")
    msg_id = message.get("id")
    if not isinstance(msg_id, int) or isinstance(msg_id, bool) or not 0 <= msg_id < 2**53:
        raise ProtocolError("Each message needs an 'id' that is an integer from 0 to 2**53 - 1.")
    return Request(msg_id, shown(message.get("kind")), message, caller, session)


def check_shape(core: Core) -> Stage:
    suggest = _Suggestions(core)

    def stage(next_: Handler) -> Handler:
        async def handler(request: Request) -> Any:
            body = request.body
            if request.kind not in KINDS:
                raise ProtocolError(
                    f"Unknown message kind {request.kind[:40]!r}; "
                    f"expected one of {', '.join(KINDS)}."
                )
            if request.kind == "invoke":
                name = body.get("cmd")
                if not isinstance(name, str) or not name:
                    raise ProtocolError("An invoke message needs the command name in 'cmd'.")
                request.command = core.registry.get(name)
                if request.command is None:
                    context = core.authority.context(request.caller)
                    if not context.capabilities:
                        # A caller with no capability learns nothing, not even which names exist
                        # (it is denied as for any command); the log tells the developer.
                        log.warning(
                            "window %s called '%s', which is no registered command either",
                            request.caller.window,
                            shown(name, 100),
                        )
                        return await next_(request)
                    close = suggest(request.caller, context.scopes, name)
                    raise NotFound(
                        f"There is no command named '{shown(name, 100)}'; "
                        + (f"did you mean '{close}'?" if close else
                           "check the name against the app's @app.command functions.")
                    )
            else:
                try:
                    check_event_name(body.get("event"))
                except InvalidArgs as exc:  # (the name alone does not say which call it was)
                    raise InvalidArgs(f"{request.kind}: {exc.message}") from None
                target = body.get("target")
                if target is not None:
                    if not isinstance(target, str):
                        raise ProtocolError("An event's 'target' must be a window label.")
                    check_window_label(target)
            return await next_(request)

        return handler

    return stage


SUGGEST_AMONG = 200
"""A misspelt command's name is matched against the caller's commands up to this many..."""
SUGGESTED_NAME = 64
"""... if it is this long at most..."""
SUGGESTIONS = 20
SUGGESTIONS_WITHIN = 10.0
"""... for ``SUGGESTIONS`` misspelt names of a window in ``SUGGESTIONS_WITHIN`` seconds: a
page's stream of them (thousands in flight) costs the core's loop no more than plain refusals."""


class _Suggestions:
    """The command a caller may call whose name is closest to a misspelt one, if one is close.
    Only those: the page learns no name its capabilities do not already give it."""

    CALLERS = 64
    """Callers (window and origin) whose commands are kept; the capabilities and commands do
    not change as the app runs."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._names: OrderedDict[Caller, list[str]] = OrderedDict()
        self._spent: dict[str, deque[float]] = {}  # window -> when its last ones were made

    def __call__(self, caller: Caller, allowed: Mapping[str, object], name: str) -> str | None:
        if len(name) > SUGGESTED_NAME:
            return None
        now = time.monotonic()
        if len(self._spent) > self.CALLERS:  # windows come and go: the quiet ones are let go
            for window in [w for w, s in self._spent.items() if now - s[-1] > SUGGESTIONS_WITHIN]:
                del self._spent[window]
        spent = self._spent.setdefault(caller.window, deque())
        while spent and now - spent[0] > SUGGESTIONS_WITHIN:
            spent.popleft()
        if len(spent) >= SUGGESTIONS:
            return None
        spent.append(now)
        names = self._names.get(caller)
        if names is None:
            names = [n for n in self._core.registry.names()
                     if command_permissions(n)[0] in allowed]
            self._names[caller] = names
            if len(self._names) > self.CALLERS:
                self._names.popitem(last=False)
        if len(names) > SUGGEST_AMONG:
            return None
        import difflib  # (here: only a misspelt name needs it)

        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        return close[0] if close else None


def authorize(authority: Authority) -> Stage:
    def stage(next_: Handler) -> Handler:
        async def handler(request: Request) -> Any:
            kind = "listen" if request.kind == "unlisten" else request.kind
            # The name as sent (check_shape made sure it is text), not its shortened display.
            name = request.body.get("cmd") if kind == "invoke" else request.body.get("event")
            scope = authority.authorize(
                request.caller,
                kind,
                str(name),
                has_target=request.body.get("target") is not None,
            )
            request.scope = scope
            return await next_(request)

        return handler

    return stage


def route(core: Core) -> Handler:
    async def handler(request: Request) -> Any:
        body = request.body
        if request.kind == "invoke":
            # check_shape found it (authorize refuses unknown ones it let through).
            assert request.command is not None
            return await core.dispatcher.call(
                request.command, body.get("args"), request, core.registry.injectors
            )
        if request.kind == "emit":
            # Refused (InvalidArgs) if windows listen and the payload cannot reach them: the
            # page hears so, instead of an ok for an event nobody gets.
            window = request.caller.window
            await core.events.publish_from_page(
                body["event"],
                body.get("payload"),
                target=body.get("target"),
                source=window,
                timeout=core.dispatcher.timeout,
            )
            return None
        if request.session is None:
            raise ProtocolError("Only a window connection can listen to events.")
        if request.kind == "listen":
            core.events.subscribe(body["event"], request.session)
        else:
            core.events.unsubscribe(body["event"], request.session)
        return None

    return handler


def build_pipeline(core: Core) -> tuple[Handler, Handler]:
    """Compose the stages: the windows' pipeline, with the isolation stage first when the
    pattern is on, and the same without that stage (for the in-process test client)."""
    checked = check_shape(core)(authorize(core.authority)(route(core)))
    if core.isolation is not None:
        return core.isolation.unseal_stage(checked), checked
    return checked, checked


def encode_answer(message: dict[str, Any], what: str, window: str) -> Encoded:
    """Encode a reply (or notice) for the page. One that cannot be sent still goes, as an error:
    an error whose data cannot be sent goes without it; a value that cannot be sent becomes an
    ``internal`` error. The log has why (and a failed serializer's traceback)."""
    try:
        value = message.get("value")
        if type(value) is Prepared:  # (a sync command's, encoded on its thread)
            return encode_prepared(message, value)
        return encode(message)
    except TypeError as exc:
        log.error("reply %s to %s cannot be serialized: %s", message.get("id"), window, exc,
                  exc_info=exc.__cause__)
        failed = message.get("error")
        if failed is not None:
            error = {"code": failed["code"], "message": f"{failed['message']} (Its data "
                     f"cannot be sent to the page: {exc}.)"}
        else:
            error = InternalError(
                f"The return value of '{what}' cannot be sent to the page: {exc}."
            ).to_wire()
        return encode({**message, "ok": False, "value": None, "error": error})


async def settle(handler: Handler, request: Request) -> dict[str, Any]:
    """Run ``request`` through ``handler`` and return exactly one reply, resolved or rejected."""
    try:
        value = await handler(request)
    except IpcError as exc:
        return {"kind": "reply", "id": request.id, "ok": False, "error": exc.to_wire()}
    except Exception:
        log.exception("unexpected failure handling %s '%s'", request.kind, request.name)
        error = InternalError(f"The core failed while handling '{request.name}'; see its log.")
        return {"kind": "reply", "id": request.id, "ok": False, "error": error.to_wire()}
    return {"kind": "reply", "id": request.id, "ok": True, "value": value}
