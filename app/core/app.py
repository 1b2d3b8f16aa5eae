"""``App``: what a user of the shell writes against."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import decimal
import functools
import inspect
import logging
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..starting import resume_collector
from .acl.origin import Caller
from .acl.scope import Scope
from .commands import Command, Registry, is_async
from .config import Config, WindowConfig, load_config, window_config
from .errors import InvalidArgs, StartError, Unsendable
from .events import Event, EventBus, check_event_name, check_window_label, event_message
from .looprun import END_GRACE, running_loop
from .transport.backlog import size_of

if TYPE_CHECKING:
    from .runtime import Core

__all__ = ["App", "Window"]

log = logging.getLogger("app.core.app")

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
S = TypeVar("S", bound=Callable[["App"], Any])
"""An on_start function, its type kept."""

_VALUE_TYPES = (
    datetime.date,
    datetime.time,
    datetime.timedelta,
    decimal.Decimal,
    uuid.UUID,
    PurePath,
)
"""Values that commands take as arguments, as they take the builtins: not to be managed."""


class Window:
    """The window a command was called from (inject with a ``window: Window`` parameter).

    It stays that window: once it has closed, a window opened since with its label is another,
    which this one neither emits to nor closes."""

    def __init__(self, app: App, label: str) -> None:
        self.app = app
        self.label = label
        core = app.core
        self._opened = core.windows.get(label) if core is not None else None

    @property
    def is_open(self) -> bool:
        """Whether this window is still open (not closed, nor closed and opened again)."""
        core = self.app.core
        return (core is not None and self._opened is not None
                and core.windows.get(self.label) is self._opened)

    def emit(self, event: str, payload: Any = None) -> None:
        """Send an event to this window's listeners only (once it has closed, to no one)."""
        if self.is_open:
            self.app.emit_to(self.label, event, payload)
        else:  # checked all the same, as an event that reaches no one is
            with _sendable():
                event_message(check_event_name(event), payload, None)
            log.debug("event %r for window %r, which has closed: no one received it", event,
                      self.label)

    def close(self) -> None:
        """Close this window's native window (the app ends when its last window closes)."""
        if not self.is_open:
            raise RuntimeError(
                f"window {self.label!r} has closed already (a window opened since with that "
                "label is another: app.close_window closes it)"
            )
        self.app.close_window(self.label)

    def __repr__(self) -> str:
        return f"Window({self.label!r})"


class App:
    """A desktop app: its configuration, its commands, its events and its windows.

    >>> app = App.from_config("app.conf.json")
    >>> @app.command
    ... def greet(name: str) -> str:
    ...     return f"Hello, {name}!"
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.registry = Registry()
        self.events = EventBus()
        self._state: dict[type, Any] = {}
        self._on_start: list[Callable[[App], Any]] = []
        self.core: Core | None = None
        self._starting = False  # a start() is under way: a second one meanwhile is refused
        self.native_windows: dict[str, Any] = {}
        """The pywebview windows by label, while ``run()`` shows them."""
        self._native_lock = threading.Lock()
        self._native_later: list[tuple[WindowConfig, str]] | None = None
        """While ``run()`` starts, before it has opened the configured windows: the windows
        ``open_window`` opened meanwhile (from ``on_start``), to be shown right after them."""
        injectors = self.registry.injectors
        injectors[App] = lambda request: self
        injectors[Window] = lambda request: Window(self, request.caller.window)
        injectors[Caller] = lambda request: request.caller
        # Authorized requests carry their scope, with its variables filled in by the Authority.
        injectors[Scope] = lambda request: request.scope or Scope(variables=self.scope_variables())

    @classmethod
    def from_config(cls, path: str | Path = "app.conf.json") -> App:
        """Load ``app.conf.json`` (raises ``ConfigError`` listing every problem)."""
        return cls(load_config(path))

    # Commands ------------------------------------------------------------------------------

    @overload
    def command(self, func: F) -> F: ...
    @overload
    def command(self, *, name: str | None = None) -> Callable[[F], F]: ...

    def command(self, func: F | None = None, *, name: str | None = None) -> Any:
        """Register a function as a command (``@app.command`` or ``@app.command(name=...)``)."""
        # The names of the function that registers it: a command defined in a function may be
        # annotated with that function's own classes, which the hints (strings, under
        # ``from __future__ import annotations``) can only name from there.
        frame = sys._getframe(1)
        caller = (frame.f_code, frame.f_locals)
        del frame

        def register(f: F) -> F:
            self.registry.add(Command.from_function(f, name, caller))
            return f

        return register(func) if func is not None else register

    def manage(self, obj: Any) -> None:
        """Make ``obj`` injectable into commands by a parameter annotated with its type."""
        kind = type(obj)
        if kind.__module__ == "builtins" or isinstance(obj, _VALUE_TYPES):
            # Injection goes by annotation: every parameter of that type, in every command,
            # would get this object instead of the page's argument.
            raise TypeError(
                f"app.manage() takes an object of a class of your own, not "
                f"{'an' if kind.__name__[:1] in 'aeiouAEIOU' else 'a'} {kind.__name__}: "
                f"every command parameter annotated {kind.__name__} would get it instead of the "
                "page's argument. Put it in a class (a dataclass will do) and manage that."
            )
        if kind in self.registry.injectors and kind not in self._state:
            raise TypeError(f"{kind.__name__} is injected by the core and cannot be managed")
        self._state[kind] = obj
        self.registry.injectors[kind] = lambda request: obj

    def state(self, kind: type[T]) -> T:
        """The managed object of type ``kind``."""
        try:
            return self._state[kind]  # type: ignore[no-any-return]
        except KeyError:
            raise LookupError(
                f"no managed state of type {kind.__name__}; call app.manage()"
            ) from None

    def scope_variables(self) -> dict[str, str]:
        """What ``$APP``, ``$APPDATA``, ``$HOME`` and ``$TEMP`` stand for in this app's scopes."""
        if self.core is not None:
            return self.core.authority.variables
        from .paths import app_dirs

        return app_dirs(self.config)

    def on_start(self, func: S) -> S:
        """Run ``func(app)`` once the core serves: a plain function on a worker thread, as sync
        commands run (the start waits for it), a coroutine function as a task on the core's
        loop (use one for asyncio: a worker thread has no event loop)."""
        if not callable(func):
            raise TypeError(f"on_start takes a function, not {type(func).__name__}")
        _takes_one(func, "on_start calls {} with the app as its one argument", "app")
        self._on_start.append(func)
        return func

    # Events --------------------------------------------------------------------------------

    def listen(self, event: str, handler: Callable[[Event], Any]) -> Callable[[], None]:
        """Call ``handler(Event)`` for each ``event`` emitted to all (by a page's ``emit`` or
        Python's ``app.emit``; ``emitTo``/``emit_to`` go to a window's page only). Returns a
        function that removes the handler."""
        if callable(handler):
            _takes_one(handler, f"the listener of event {event!r} is called as {{}} with the "
                       "event as its one argument", "event")
        return self.events.listen(event, handler)

    def emit(self, event: str, payload: Any = None) -> None:
        """Send ``event`` to every window that listens and to Python listeners (thread-safe).

        Before the app has started there is no one to receive it, and it goes nowhere.
        """
        self._publish(event, payload, None)

    def emit_to(self, label: str, event: str, payload: Any = None) -> None:
        """Send ``event`` to the listeners of window ``label`` only (thread-safe)."""
        if label is None:  # (an event's source, when Python emitted it): not every window
            raise InvalidArgs(
                "emit_to() needs a window's label, not None; app.emit() sends to every window."
            )
        self._publish(event, payload, label)

    def _publish(self, event: str, payload: Any, target: str | None) -> None:
        # Checked (and encoded, once for every window) here, on the caller's thread, so a bad
        # name or a payload no window could get raises where it was emitted, not in a log.
        with _sendable():
            check_event_name(event)
            if target is not None:
                check_window_label(target)
            core = self.core
            if core is None or core.loop is None or core.inbox is None:
                # No window is open and no listener can run yet: nobody to tell.
                log.debug("event %r emitted before the app started: no one received it", event)
                return
            encoded = (
                event_message(event, payload, None)
                if self.events.reaches_windows(event, target)
                else None
            )

        def publish() -> None:
            try:
                self.events.publish(event, payload, target=target, encoded=encoded)
            except InvalidArgs as exc:  # a window began listening after the check above
                log.error("%s", exc.message)

        if running_loop() is core.loop:
            publish()
        else:
            if encoded is not None:
                self.events.wait_for_readers(event, target)
            core.inbox.put(publish, size=size_of(encoded) if encoded is not None else 0)

    # Running -------------------------------------------------------------------------------

    async def start(self, ports: dict[str, int] | None = None) -> Core:
        """Start the core on the running loop (no native window); ``stop()`` ends it."""
        if self.core is not None or self._starting:
            raise RuntimeError("the app is already running")
        # Imported here: the transport (aiohttp) loads on the core's thread, while the native
        # window starts up on the main one.
        from .runtime import Core

        core = Core(self)
        self._starting = True
        try:
            await core.start(ports)
        except BaseException:
            await core.stop()  # what did start (threads, listeners) must not outlive the error
            raise
        finally:
            self._starting = False
        self.core = core
        if self._on_start:  # the app's own work may make garbage (see app/starting.py)
            resume_collector()
        for func in self._on_start:
            if core.stopping is not None:  # an earlier one stopped the app: the rest do not run
                break
            name = getattr(func, "__qualname__", repr(func))
            try:
                if is_async(func):
                    result = func(self)
                else:  # on a thread, as sync commands run: the loop serves meanwhile
                    result = await core.workers.submit(func, self)
            except asyncio.CancelledError:  # the start was given up (a stop): nothing stays up
                await self.stop()
                raise
            except Exception as exc:
                log.exception("the app's on_start function %s failed", name)
                await self.stop()  # a Client, or a later start(), begins from nothing
                hint = (
                    "; a plain on_start function runs on a worker thread, which has no event "
                    "loop: make it 'async def' to use asyncio"
                    if isinstance(exc, RuntimeError) and "event loop" in str(exc) else ""
                )
                raise StartError(
                    f"the app's on_start function {name} failed: {exc!r}{hint} (the log has "
                    "its traceback)"
                ) from exc
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                if isinstance(task, asyncio.Task):  # named in the log (one that will not end)
                    task.set_name(f"on_start function {name}")
                core.background.add(task)
                task.add_done_callback(core.background.discard)
                task.add_done_callback(functools.partial(_report_background, name))
        return core

    async def stop(self) -> None:
        core = self.core
        if core is None:
            return
        caller = asyncio.current_task()
        if core.stopping is not None:  # stopping already: done when that stop is
            if caller not in core.background:  # (else it would wait on itself)
                await asyncio.shield(core.stopping)
            return
        # A task of its own, which the caller waits for: a command that stops the app is
        # cancelled as its connection closes, and its stop must not be cut short with it.
        core.stopping = asyncio.ensure_future(self._stop(core, caller))
        await asyncio.shield(core.stopping)

    async def _stop(self, core: Core, caller: asyncio.Task[Any] | None) -> None:
        try:
            # The on_start tasks end first (at most END_GRACE), with the app still up: what
            # they do as they end (a last emit, say) reaches it. (Not the task that stops the
            # app, if it is one of them: it goes on as it returns from stop().)
            tasks = [t for t in core.background if t is not caller]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=END_GRACE)
        finally:
            self.core = None
            await core.stop(spare=caller)

    def launch_url(self, label: str) -> str:
        """A one-time URL that opens window ``label`` with its credentials."""
        if self.core is None:
            raise RuntimeError("the app is not running")
        return self.core.server.launch_url(label)

    async def open_window(
        self,
        label: str,
        *,
        url: str = "index.html",
        title: str = "",
        width: int = 800,
        height: int = 600,
    ) -> str:
        """Open another window (call on the core's loop, e.g. from an async command).

        It gets exactly the capabilities whose window globs match ``label``. Returns its launch
        URL; when the app runs with native windows, the native window is opened too (right
        after the configured ones when they are not up yet, as in an ``on_start`` function).
        ``ValueError`` for a label, url or size that cannot be a window's, or a label already
        open (``window_labels()``).
        """
        core = self.core
        if core is None:
            raise RuntimeError("the app is not running")
        window = window_config(label=label, url=url, title=title, width=width, height=height)
        await core.add_window(window)
        launch = core.server.launch_url(label)
        with self._native_lock:
            if self._native_later is not None:  # run() shows it after the configured windows
                self._native_later.append((window, launch))
                return launch
        if self.native_windows:
            from .native import open_native

            try:
                open_native(self, window, launch)
            except BaseException:
                await core.remove_window(label)
                raise
        return launch

    def window_labels(self) -> list[str]:
        """The labels of the windows the core serves now."""
        return list(self.core.windows) if self.core is not None else []

    def close_window(self, label: str) -> None:
        """Close window ``label`` (thread-safe); without a native window this is an error."""
        native = self.native_windows.get(label)
        if native is None:
            if label not in self.window_labels():
                raise RuntimeError(f"window {label!r} is not open (app.window_labels() lists "
                                   "the open ones)")
            raise RuntimeError(f"window {label!r} has no native window to close")
        core = self.core
        if core is not None and core.loop is not None and running_loop() is core.loop:
            # On the core's loop (an async command): pywebview's destroy() waits for the window
            # to be shown (up to 20 s) and for the GUI thread, which may itself wait for this
            # loop; every window's calls would wait meanwhile. The window closes just after.
            threading.Thread(target=_destroy, args=(label, native), name="app-close",
                             daemon=True).start()
            return
        native.destroy()

    def run(self, *, debug: bool = False) -> None:
        """Open the configured windows and block until the last one closes (or Ctrl-C)."""
        from .native import run_native

        _not_while_loading("run")
        run_native(self, debug=debug)

    def serve(
        self,
        port: int | None = None,
        *,
        on_ready: Callable[[dict[str, str]], Any] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Run the core without a native window until SIGINT/SIGTERM (or ``stop`` is set)."""
        from .serve import serve

        _not_while_loading("serve")
        serve(self, port=port, on_ready=on_ready, stop=stop)


_loading: list[str] = []
"""The ``APP_MODULE`` that the command line is importing, if it is (see ``loading_module``)."""


@contextlib.contextmanager
def loading_module(name: str) -> Iterator[None]:
    """While the command line imports module ``name`` for its ``create_app``: an app that runs
    as its module is imported would open its windows before the command line had what it asked
    for (and ``check`` would open them), and then find no ``create_app``."""
    _loading.append(name)
    try:
        yield
    finally:
        _loading.pop()


def _not_while_loading(how: str) -> None:
    if _loading:
        raise StartError(
            f"APP_MODULE={_loading[-1]!r} calls app.{how}() as it is imported; the command line "
            "makes the app with the module's create_app(config_path) and runs it itself: define "
            "create_app to return the App, and call run() only under "
            "'if __name__ == \"__main__\":'"
        )


def _destroy(label: str, native: Any) -> None:
    """Close a native window (on a thread of its own), saying in the log if it could not be."""
    try:
        native.destroy()
    except Exception:
        log.exception("window %s could not be closed", label)


def _report_background(name: str, task: asyncio.Future[object]) -> None:
    """An async on_start function ended: its failure goes to the log (nothing awaits it)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the app's on_start function %s failed", name, exc_info=task.exception())


@contextlib.contextmanager
def _sendable() -> Iterator[None]:
    """What Python emits is checked where it is emitted: a bad name or a payload no page could
    get raises ``Unsendable`` there (an ``InvalidArgs``, for a command to catch)."""
    try:
        yield
    except InvalidArgs as exc:
        raise Unsendable(exc.message, exc.data) from None


def _takes_one(func: Callable[..., Any], said: str, argument: str) -> None:
    """Raise ``TypeError`` (``said`` with the function's signature, and how to define it) if
    ``func`` cannot be called with one argument; one Python cannot look into passes."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(None)
    except TypeError:
        name = getattr(func, "__name__", "func")
        raise TypeError(
            said.format(f"{name}{signature}") + f"; define it as def {name}({argument}): ..."
        ) from None
