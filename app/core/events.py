"""Events: fire-and-forget messages between Python and the windows, in both directions.

An event reaches exactly its targets: ``emit`` reaches Python listeners and every window that
listens; ``emit_to`` reaches the listeners of one window only.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .commands import is_async
from .config import LABEL_PATTERN
from .errors import CallTimeout, InvalidArgs, shown
from .protocol import Encoded, encode
from .transport.backlog import await_readers, wait_for_readers
from .workers import WorkerPool

if TYPE_CHECKING:
    from .transport.backlog import Backlog

__all__ = ["MAX_LISTENED", "Event", "EventBus", "Subscriber", "check_event_name", "event_message"]

log = logging.getLogger("app.core.events")

_EVENT_NAME = re.compile(r"[A-Za-z0-9\-/:_.]{1,256}")

_WINDOW_LABEL = re.compile(LABEL_PATTERN)

MAX_LISTENED = 4096
"""The most event names one page connection may listen to at once."""


def check_event_name(name: Any) -> str:
    """Event names are 1-256 of letters, digits and ``- / : _ .``; raise ``InvalidArgs``."""
    return _checked(name, _EVENT_NAME, "Event name",
                    "use 1 to 256 letters, digits, '-', '/', ':', '_' or '.'")


def check_window_label(label: Any) -> str:
    """A target window's label, as the config's labels are written; raise ``InvalidArgs``."""
    return _checked(label, _WINDOW_LABEL, "Window label",
                    "a label is made of letters, digits, '_', '-', '/' and ':'")


def _checked(value: Any, form: re.Pattern[str], what: str, rule: str) -> str:
    if not isinstance(value, str) or not form.fullmatch(value):
        raise InvalidArgs(f"{what} '{shown(value, 100)}' is not valid: {rule}.")
    return value


def event_message(event: str, payload: Any, source: str | None) -> Encoded:
    """The event as it goes to the windows, encoded once for all of them; raise ``InvalidArgs``
    if the payload cannot reach a page (a value the wire cannot carry, or one nested too deep
    for the encoder), so that whoever emitted it hears so instead of a log line."""
    message = {"kind": "event", "event": event, "payload": payload, "source": source}
    try:
        return encode(message)
    except TypeError as exc:  # orjson's errors are TypeErrors too
        raise InvalidArgs(
            f"The payload of event '{event}' cannot be sent to the windows: {exc}."
        ) from None


@dataclass(frozen=True)
class Event:
    """What a Python listener receives."""

    event: str
    payload: Any
    source: str | None
    """Label of the window that emitted it, or ``None`` when Python did."""


class Subscriber(Protocol):
    """A window connection that can receive events."""

    label: str
    backlog: Backlog
    """What waits for its page (see ``EventBus.wait_for_readers``)."""
    patience: float

    def deliver_encoded(self, encoded: Encoded) -> None: ...


Handler = Callable[[Event], Any] | Callable[[Event], Awaitable[Any]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._listening: dict[Subscriber, set[str]] = {}  # the same, by subscriber
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: WorkerPool | None = None
        self._failures = _Failures()
        self._places: dict[str, tuple[asyncio.Semaphore, asyncio.Semaphore]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop, workers: WorkerPool) -> None:
        """A run of the core starts: its loop and threads. (The windows' places are a run's:
        a semaphore that has waited is bound to its loop.)"""
        self._loop, self._workers = loop, workers
        self._places.clear()

    # Python listeners ------------------------------------------------------------------------

    def listen(self, event: str, handler: Handler) -> Callable[[], None]:
        check_event_name(event)
        if not callable(handler):
            raise TypeError(
                f"the listener of event {event!r} must be a function taking the event, "
                f"not {type(handler).__name__}"
            )
        self._handlers.setdefault(event, []).append(handler)
        removed = False

        def unlisten() -> None:
            # This registration's, once: called again, it took another registration of the
            # same handler away.
            nonlocal removed
            handlers = self._handlers.get(event, [])
            if not removed and handler in handlers:
                removed = True
                handlers.remove(handler)
                if not handlers:  # names come and go: those nobody listens to are not kept
                    del self._handlers[event]

        return unlisten

    # Window subscriptions --------------------------------------------------------------------

    def subscribe(self, event: str, subscriber: Subscriber) -> None:
        if subscriber.backlog.closed:
            # Its connection ended while the message waited its turn, and was dropped from
            # the bus then: kept now, it would be for good.
            return
        listening = self._listening.setdefault(subscriber, set())
        if event not in listening and len(listening) >= MAX_LISTENED:
            raise InvalidArgs(
                f"A page listens to {MAX_LISTENED} events at most; unlisten some before "
                f"listening to '{shown(event)}'."
            )
        listening.add(event)
        self._subscribers.setdefault(event, set()).add(subscriber)

    def unsubscribe(self, event: str, subscriber: Subscriber) -> None:
        listening = self._listening.get(subscriber)
        if listening is not None:
            listening.discard(event)
            if not listening:
                del self._listening[subscriber]
        subscribers = self._subscribers.get(event)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:  # pages come and go: names nobody listens to are not kept
                del self._subscribers[event]

    def drop(self, subscriber: Subscriber) -> None:
        for event in list(self._listening.get(subscriber, ())):
            self.unsubscribe(event, subscriber)

    def listened(self) -> set[str]:
        """The events some window listens to now."""
        return set(self._subscribers)

    def reaches_windows(self, event: str, target: str | None = None) -> bool:
        """Whether a window listens to ``event`` (``target`` only, if given). A plain read, fit
        for other threads: a window that subscribes just after is handled by ``publish``."""
        subscribers = self._subscribers.get(event)
        if not subscribers:
            return False
        return target is None or any(s.label == target for s in list(subscribers))

    def wait_for_readers(self, event: str, target: str | None = None) -> None:
        """Wait (on a thread emitting ``event``, before it is handed to the loop) for the
        windows it goes to that are far behind but reading (see ``backlog.wait_for_readers``):
        a thread that emits faster than a page reads goes at the page's pace, instead of piling
        up what the page has not read until it is cut off. Emits on the loop never wait."""
        subscribers = self._targets(event, target)
        if subscribers:
            wait_for_readers([s.backlog for s in subscribers],
                             max(s.patience for s in subscribers))

    def _targets(self, event: str, target: str | None) -> list[Subscriber]:
        """The windows' connections that listen to ``event`` (``target``'s only, if given);
        a copy, fit for other threads as ``reaches_windows`` is."""
        return [s for s in list(self._subscribers.get(event, ()))
                if target is None or s.label == target]

    # Delivery (on the core's loop) -----------------------------------------------------------

    def publish(
        self,
        event: str,
        payload: Any,
        *,
        target: str | None = None,
        source: str | None = None,
        encoded: Encoded | None = None,
        listeners: bool = True,
    ) -> None:
        """Deliver to the targets: all listeners, or the windows labelled ``target`` only
        (``listeners``: Python's too).

        ``event`` was checked by the caller (``App.emit`` or the pipeline's shape check), and
        ``encoded`` is its ``event_message`` when the caller made it already. Raise
        ``InvalidArgs`` (delivering to no one) if windows listen and the payload cannot reach
        them."""
        subscribers = self._targets(event, target)
        if subscribers:
            if encoded is None:
                encoded = event_message(event, payload, source)
            for subscriber in subscribers:
                subscriber.deliver_encoded(encoded)
        if target is None and listeners:
            for handler in list(self._handlers.get(event, ())):
                self._run_handler(handler, Event(event, payload, source))

    async def publish_from_page(
        self,
        event: str,
        payload: Any,
        *,
        target: str | None,
        source: str,
        timeout: float,
    ) -> None:
        """A page's emit, delivered as ``publish`` does. Each Python listener it runs takes a
        place of its window's (half the pool's kept threads for sync ones, ``LISTENER_TASKS``
        async ones), waiting for one (all of them together, up to ``timeout``): a page that emits
        faster than they run waits for them, instead of queueing jobs without end on the
        threads every window's commands use (100,000 emits to a sync listener that took 10 ms
        held every window's sync commands up for seconds; to an async one, 2 KB of memory each
        until they ended). It waits, too, for the windows it goes to that are far behind but
        reading, as a thread's emit does (one page's emits cut another off, and took the core's
        memory up by hundreds of megabytes)."""
        backlogs = [s.backlog for s in self._targets(event, target)]
        if backlogs:
            await await_readers(backlogs, timeout)
        self.publish(event, payload, target=target, source=source, listeners=False)
        handlers = list(self._handlers.get(event, ())) if target is None else []
        if not handlers:  # (no time limit to set up for none)
            return
        threads, tasks = self._places_of(source)
        try:
            async with asyncio.timeout(timeout):
                for handler in handlers:
                    places = tasks if is_async(handler) else threads
                    await places.acquire()
                    self._run_handler(handler, Event(event, payload, source), then=places.release)
        except TimeoutError:
            raise CallTimeout(
                f"The Python listeners of '{event}' could not all start within {timeout:g} s: "
                f"the listeners of the events of window '{source}' are all busy; the event reached "
                "the windows, and the listeners that started."
            ) from None

    def forget(self, window: str) -> None:
        """Window ``window`` closed: its places go (listeners still running keep theirs)."""
        self._places.pop(window, None)

    def _places_of(self, window: str) -> tuple[asyncio.Semaphore, asyncio.Semaphore]:
        """Window ``window``'s places for the Python listeners of its events: threads, tasks."""
        places = self._places.get(window)
        if places is None:
            assert self._workers is not None
            threads = asyncio.Semaphore(max(1, self._workers.size // 2))
            places = self._places[window] = (threads, asyncio.Semaphore(LISTENER_TASKS))
        return places

    def _run_handler(
        self, handler: Handler, event: Event, then: Callable[[], object] | None = None
    ) -> None:
        loop = self._loop
        assert loop is not None and self._workers is not None

        def report(future: asyncio.Future[Any]) -> None:
            if future.cancelled():
                return
            if future.exception() is not None:
                self._failures.failed(handler, event.event, future.exception())
            elif inspect.iscoroutine(result := future.result()):
                # A plain function that returned a coroutine (a lambda around an async one):
                # not run (it would have no place among the window's async listeners, and a
                # page's emits could start them without end). Said, with what to write.
                result.close()
                self._failures.failed(handler, event.event, TypeError(
                    "it returned a coroutine without being an async function; define it with "
                    "'async def' (or an async __call__) for it to run on the core's loop"))

        if is_async(handler):
            task = loop.create_task(_contained(handler(event)))
            task.add_done_callback(report)
            if then is not None:
                task.add_done_callback(lambda _: then())
        elif then is None:
            self._workers.submit(handler, event).add_done_callback(report)
        else:
            job = self._workers.submit_then(then, functools.partial(handler, event))
            job.add_done_callback(report)


LISTENER_TASKS = 256
"""Async Python listeners of one window's events that may run at once; its pages' emits wait
for a place. (Sync ones: half the threads the pool keeps, ``app.ipc.threads``.)"""

LOGGED_FAILURES = 3
"""The failures of one listener that are logged with their traceback; then a count, now and
then (``FAILURES_EVERY`` seconds): a page that emits thousands of events to a listener that
raises would otherwise fill the log."""

FAILURES_EVERY = 10.0


class _Failures:
    """What the Python listeners raised, logged in measure (on the core's loop)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[Handler, str], int] = {}
        self._unsaid: dict[tuple[Handler, str], tuple[int, BaseException | None]] = {}
        """Failures since the last line, and the last of them."""
        self._said: dict[tuple[Handler, str], float] = {}  # when that line was written
        self._due: set[tuple[Handler, str]] = set()  # a line is due later

    def failed(self, handler: Handler, event: str, exc: BaseException | None) -> None:
        key = (handler, event)
        count = self._counts[key] = self._counts.get(key, 0) + 1
        if count <= LOGGED_FAILURES:
            last = count == LOGGED_FAILURES
            more = " (its later failures are counted, not shown)" if last else ""
            log.error("listener %r of event %r raised%s", handler, event, more, exc_info=exc)
            self._said[key] = time.monotonic()
            return
        self._unsaid[key] = (self._unsaid.get(key, (0, None))[0] + 1, exc)
        wait = self._said.get(key, 0.0) + FAILURES_EVERY - time.monotonic()
        if wait <= 0:
            self._say(key)
        elif key not in self._due:  # said at the latest when its time comes, even with no more
            self._due.add(key)
            asyncio.get_running_loop().call_later(wait, self._say, key)

    def _say(self, key: tuple[Handler, str]) -> None:
        self._due.discard(key)
        unsaid = self._unsaid.pop(key, None)
        if unsaid is None:
            return
        handler, event = key
        log.error(
            "listener %r of event %r raised %d more times (%d in all); the last: %r",
            handler, event, unsaid[0], self._counts[key], unsaid[1],
        )
        self._said[key] = time.monotonic()


async def _contained(listening: Awaitable[Any]) -> Any:
    """Run an async listener so that whatever it raises ends it alone: a task passes
    ``SystemExit`` and ``KeyboardInterrupt`` on to the loop, which would stop the core."""
    try:
        return await listening
    except (Exception, asyncio.CancelledError):
        raise
    except BaseException as exc:
        raise RuntimeError(f"the listener raised {type(exc).__name__}") from exc
