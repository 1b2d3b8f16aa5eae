"""What the shell changes in pywebview's Qt windows, so that a page reaches Python only through
the core and cannot take the app down.

pywebview's Qt backend gives every page of its windows a bridge of its own to Python, answers
permission requests in a way that raises, lets any script open windows (and keeps the one page
it gives them all), and hands links of any scheme to the desktop; an exception in one of its Qt
slots aborts the process. ``harden`` replaces what the whole backend does (undone as the
windows' run ends), ``prepare_page`` sets up each window's page as the window is shown (and
loads it again if its process ends), ``page_addresses`` reads a page's address where its
scripts cannot change it.
"""

from __future__ import annotations

import functools
import itertools
import logging
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import qtdialogs
from .acl.urls import SERVED_HOST as HOST
from .errors import shown
from .transport.credentials import WINDOW_HEADER

if TYPE_CHECKING:
    from .app import App

__all__ = ["harden", "prepare_page"]

log = logging.getLogger("app.core.native")

Patch = Callable[[Any, str, Any], None]


def harden(app: App, patch: Patch) -> None:
    """Replace, with ``patch(owner, name, value)`` (which puts them back later), what pywebview's
    Qt backend does for every window."""
    import webview.platforms.qt as qt_backend

    # pywebview's own bridge to Python is in every page of its windows, and reached what no
    # capability grants (moving the window, pywebview's state, attributes of its js_api, with
    # Python's tracebacks): it is switched off; alert() still works.
    patch(qt_backend, "js_bridge_call", functools.partial(_refuse_bridge_call, app))
    # An exception in a Qt slot (pywebview's, as a page calls its bridge with what it cannot
    # read) aborted the process: PyQt calls qFatal() unless sys.excepthook was replaced. It
    # goes to the log instead.
    patch(sys, "excepthook", _log_uncaught)
    # pywebview's answer to a page's permission request raised (it hands PyQt6 a plain number):
    # the page's request never settled, and each one logged an error. Every request is denied
    # instead: a page gets no camera, microphone, location or notifications (pywebview meant to
    # grant the camera and microphone to any page).
    page_class = qt_backend.BrowserView.WebPage
    patch(page_class, "onFeaturePermissionRequested", _deny_permission)
    # pywebview gave every window a page opened the same hidden page of its own, which sent
    # each address it was sent to to the system's browser and stayed: after one click, the
    # opener scripted it (window.open's handle), and its code outlived the page's reloads,
    # kept reaching the window's IPC through its opener, and opened the browser at will. No
    # window is made now (window.open's handle is to one that closes at once, and runs nothing
    # written into it); prepare_page hands a click's http(s) link to the system's browser.
    patch(page_class, "createWindow", _no_window)
    # The browser sends the cookies of 127.0.0.1 to every port of it, and a script in the page
    # can read the window's tab secret: taken together to another local server (the page's
    # going there is same-site), they let a process behind it act as a page of the window, and
    # under isolation fetch a frame and a key of its own, past the hook. Every request the
    # app's windows make to the app's listeners carries a secret the page never sees (see
    # Credentials.window_secret), which the core asks of every request while it runs them.
    interceptor = qt_backend.BrowserView.RequestInterceptor
    intercept: Callable[[Any, Any], None] = interceptor.interceptRequest

    def signed(self: Any, info: Any) -> None:
        _sign(app, info)
        intercept(self, info)

    patch(interceptor, "interceptRequest", signed)
    # Only where the windows' requests are signed: pywebview's own webview elsewhere (macOS,
    # Windows) has no such interceptor, and the core would refuse its every request.
    if app.core is not None:
        app.core.credentials.require_windows()
    # A page could show dialogs without end, and pywebview's alert() one inside another (see
    # qtdialogs): they come one at a time now, and the user may stop them.
    patch(page_class, "javaScriptAlert", qtdialogs.alert)
    patch(page_class, "javaScriptConfirm", qtdialogs.confirm)
    patch(page_class, "javaScriptPrompt", qtdialogs.prompt)
    patch(qt_backend, "QMessageBox", qtdialogs.message_box(vars(qt_backend)["QMessageBox"]))
    # Qt's web channel offers pages the bridge object's inherited deleteLater() too: a page
    # that deleted it made pywebview fail as the window's next page loaded, and Qt then aborted
    # the process. A deleted bridge is made anew instead.
    set_js_api = qt_backend.BrowserView._set_js_api
    patch(qt_backend.BrowserView, "_set_js_api",
          lambda view: _with_a_bridge(view, qt_backend, set_js_api))


def prepare_page(app: App, label: str, window: Any) -> None:
    """(pywebview's before_show, on the GUI thread, before the first page loads) Set up the page
    of window ``label``:

    - A page opens a window only from a user's click or key: pywebview hands every window a page
      opens to the system's browser, and Qt WebEngine let any script, a remote page's too, open
      one at will.
    - Its JavaScript dialogs come one at a time, and the user can stop them (``qtdialogs``).
    - A page whose process ends (it crashed, ran out of memory, was killed) is loaded again, at
      most ``RELOADS`` times in ``RELOADS_WITHIN`` seconds: the window stayed blank for good.
    - Its profile goes when the window does, after the window's page: the profile and its
      request interceptor were Python's, let go whenever nothing held them any more, often
      before the page, and the page pywebview keeps for links to new windows (a second page of
      the profile, which nothing uses now) outlived the window's; Qt WebEngine then warned
      "Release of profile requested but WebEnginePage still not deleted. Expect troubles !"
      as windows closed and as the app ended. That page is deleted here; the warning still
      comes at some closes.
    """
    try:
        from qtpy.QtWebEngineCore import QWebEngineSettings

        view = window.native
        page = view.webview.page()
        page.settings().setAttribute(QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows,
                                     False)
        # An address of another scheme (ssh:, smb:, an app's own) went to the desktop's handler
        # for it from any click, with no question asked.
        page.settings().setUnknownUrlSchemePolicy(
            QWebEngineSettings.UnknownUrlSchemePolicy.DisallowUnknownUrlSchemes)
        page.newWindowRequested.connect(functools.partial(_new_window, label))
    except Exception:  # another GUI, or a pywebview whose window is made otherwise
        log.warning("pages of window %r may open windows without a click, reach the desktop's "
                    "handlers of other schemes, get no runtime as remote pages, and are not "
                    "loaded again if their process ends", label, exc_info=True)
        return
    loads = [0]  # the page's loads started so far (see page_addresses)
    page.loadStarted.connect(lambda: loads.__setitem__(0, loads[0] + 1))
    _prepared[window] = loads
    _on_gui_thread()  # made here, on the GUI thread, for page_addresses
    qtdialogs.on_page(page, label)
    try:
        # Qt's from now on: a widget deletes its children in the order they came, the web
        # view (with its page) first, then these.
        view.profile.setParent(view)
        view.request_interceptor.setParent(view.profile)
        # The page pywebview keeps for windows the page opens, which it opens no more (see
        # harden): one page fewer of the profile's to be let go of in order.
        from qtpy import sip

        nav_handler, page.nav_handler = page.nav_handler, None
        sip.delete(nav_handler)  # (here, on the GUI thread, before the page loads)
    except Exception:  # a pywebview whose window is made otherwise: only Qt's warning at exit
        log.debug("window %r: its profile is left as pywebview made it", label, exc_info=True)
    ended: deque[float] = deque()
    page.renderProcessTerminated.connect(
        lambda status, code: _page_process_ended(app, label, window, ended, status, code)
    )


_prepared: weakref.WeakKeyDictionary[Any, list[int]] = weakref.WeakKeyDictionary()
"""The windows ``prepare_page`` set up, with the count of their pages' loads started."""


def prepared(window: Any) -> bool:
    """Whether ``prepare_page`` set up pywebview window ``window`` (a Qt window)."""
    return window in _prepared


def is_qt(window: Any) -> bool:
    """Whether pywebview window ``window`` is a Qt one."""
    return type(getattr(window, "native", None)).__module__.startswith("webview.platforms.qt")


# The document's address now, and the one it came from (the navigation's, after redirects),
# which a page's script cannot change as it can the first (history.replaceState).
_ADDRESSES_SCRIPT = """[location.href,
  (performance.getEntriesByType("navigation")[0] || {}).name || null]"""

ADDRESS_WAIT = 5.0
"""How long ``page_addresses`` waits for the page to answer."""


def page_addresses(window: Any) -> tuple[str, str, int] | None:
    """(On any thread but the GUI's) The address of the document that pywebview window
    ``window`` shows, the address it came from, and the number of the page's load it is (for
    ``run_in_load``); ``None`` when they cannot be read (no document, or it did not answer in
    time) or may not be the page's for long (another load is under way, or started meanwhile).

    Read in a JavaScript world of the shell's own, apart from the page's: the page's scripts
    cannot change what ``location`` and ``performance`` say there, and both come from one
    document (asked for one after the other, they could be two).
    """
    from qtpy.QtWebEngineCore import QWebEngineScript

    loads = _prepared.get(window)
    if loads is None:
        return None
    answered = threading.Event()
    found: list[Any] = []

    def got(result: Any, load: int) -> None:
        if loads[0] == load:  # (the answer of a page since gone is not this load's)
            found.append((result, load))
        answered.set()

    def ask() -> None:
        load = loads[0]
        try:
            page = window.native.webview.page()
            if page.isLoading():
                # Another load is under way (one that was dropped for it ended): the page
                # shown now may be replaced by it with no new load started; that one is
                # checked when it has loaded.
                answered.set()
                return
            page.runJavaScript(
                _ADDRESSES_SCRIPT, QWebEngineScript.ScriptWorldId.ApplicationWorld,
                lambda result: got(result, load),
            )
        except RuntimeError:  # the window was closed meanwhile
            answered.set()

    _on_gui_thread().call.emit(ask)
    if not answered.wait(ADDRESS_WAIT) or not found:
        return None
    result, load = found[0]
    if (isinstance(result, list) and len(result) == 2
            and all(isinstance(r, str) and r for r in result)):
        return result[0], result[1], load
    return None


def run_in_load(window: Any, script: str, load: int) -> None:
    """Run ``script`` in the page of pywebview window ``window`` if it is still in load
    ``load`` (of ``page_addresses``): not in a page that came after the one checked."""
    loads = _prepared.get(window)

    def run() -> None:
        try:
            page = window.native.webview.page()
            if loads is not None and loads[0] == load and not page.isLoading():
                page.runJavaScript(script)
            else:
                log.info("a page moved on before it got its runtime; the next one is checked "
                         "anew")
        except RuntimeError:  # the window was closed meanwhile
            pass

    _on_gui_thread().call.emit(run)


@functools.cache
def _on_gui_thread() -> Any:
    """An object of the GUI thread whose ``call.emit(f)`` runs ``f()`` there (first made on
    the GUI thread, which it then belongs to)."""
    from qtpy.QtCore import QObject, Signal  # type: ignore[attr-defined]

    class GuiCalls(QObject):
        call = Signal(object)

    calls = GuiCalls()
    calls.call.connect(lambda func: func())
    return calls


def _sign(app: App, info: Any) -> None:
    """(pywebview's request interceptor, on the GUI thread) Put the windows' secret on a request
    to one of the app's listeners (its windows' and its isolation frames'). (Chromium keeps a
    request's headers along a redirect, and Qt changes none of a redirect's: the core sends no
    request of the windows' elsewhere by a redirect; see Server._static.)"""
    url = info.requestUrl()
    core = app.core
    secret = core.credentials.window_secret if core is not None else None
    if core is None or secret is None:
        return
    port = url.port()
    if url.host() == HOST and url.scheme() in ("http", "https", "ws") and (
        port in core.server.labels or (core.isolation is not None and port == core.isolation.port)
    ):
        info.setHttpHeader(WINDOW_HEADER.encode(), secret.encode())


def _no_window(page: Any, kind: Any) -> None:
    """(pywebview's page's createWindow) No window for a page: see ``harden``."""
    return None


def _new_window(label: str, request: Any) -> None:
    """(Qt's newWindowRequested, on the GUI thread) A page of window ``label`` opens a window
    (a link to a new window, ``window.open``): an http(s) address that a user's click or key
    asked for goes to the system's browser, once; anything else, nowhere."""
    url = request.requestedUrl()
    address = shown(url.toString(), 300)
    if not request.isUserInitiated() or url.scheme() not in ("http", "https"):
        log.info("window %r: a page's new window at %s was not opened (only a click's http(s) "
                 "links open, in the system's browser)", label, address)
        return
    log.info("window %r: a page's link to %s opens in the system's browser", label, address)
    import webbrowser  # (here: loading it costs the start 2 ms)

    threading.Thread(target=webbrowser.open, args=(url.toString(),), name="app-browser",
                     daemon=True).start()


RELOADS = 3
"""How many times a window's page is loaded again after its process ended, within
``RELOADS_WITHIN`` seconds; then it is left (a page that takes its process down as it loads would
be loaded for ever)."""

RELOADS_WITHIN = 60.0

GAVE_UP_PAGE = """<!doctype html><meta charset="utf-8"><title>Stopped</title>
<body style="font: 15px system-ui, sans-serif; margin: 3em; color: #333">
<h1 style="font-size: 1.3em">This window's page stopped working</h1>
<p>Its process ended {count} times within {within:g} seconds, so it was not loaded again.
The app's log says more. Start the app again to get the page back.</p>"""


def _page_process_ended(
    app: App, label: str, window: Any, ended: deque[float], status: Any, code: int
) -> None:
    """(Qt's renderProcessTerminated, on the GUI thread) Load the page of window ``label`` again
    after its process ended, unless the window is closing or it happened too often."""
    from qtpy.QtWebEngineCore import QWebEnginePage

    kinds = QWebEnginePage.RenderProcessTerminationStatus
    open_now = app.native_windows.get(label) is window
    if status == kinds.NormalTerminationStatus or not open_now:
        return  # the window is closing, or closed (and its Qt window may be gone)
    view = window.native.webview
    how = {
        kinds.AbnormalTerminationStatus: "ended abnormally",
        kinds.CrashedTerminationStatus: "crashed",
        kinds.KilledTerminationStatus: "was killed",
    }.get(status, "ended")
    now = time.monotonic()
    ended.append(now)
    while now - ended[0] > RELOADS_WITHIN:
        ended.popleft()
    if len(ended) > RELOADS:
        log.error(
            "window %r: its page's process %s (exit status %s), %d times within %g s; the page "
            "is not loaded again (the window says so)", label, how, code, len(ended),
            RELOADS_WITHIN,
        )
        view.setHtml(GAVE_UP_PAGE.format(count=len(ended), within=RELOADS_WITHIN))
        return
    log.warning("window %r: its page's process %s (exit status %s); the page is loaded again",
                label, how, code)
    view.reload()


_bridge_refusals = itertools.count(1)

LOGGED = 20
"""Refused calls of pywebview's bridge, and errors of the GUI thread, that are logged (of each);
the rest go without a word (a page could make them by the thousand)."""


def _refuse_bridge_call(
    app: App, window: Any, func_name: Any, param: Any, value_id: Any
) -> None:
    """In place of pywebview's ``js_bridge_call``: a page reaches Python only through the core,
    under its capabilities. The call gets no answer (pywebview's page API has no errors)."""
    refused = next(_bridge_refusals)
    if refused <= LOGGED:
        log.warning(
            "refused a call of pywebview's own bridge (%s) from a page of window %r: the shell "
            "switches it off; pages call Python with invoke()%s",
            shown(str(func_name)),
            next((label for label, w in app.native_windows.items() if w is window), "?"),
            " (later ones are not logged)" if refused == LOGGED else "",
        )


def _deny_permission(page: Any, url: Any, feature: Any) -> None:
    from qtpy.QtWebEngineCore import QWebEnginePage

    page.setFeaturePermission(url, feature, QWebEnginePage.PermissionPolicy.PermissionDeniedByUser)


_uncaught = itertools.count(1)


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
    """sys.excepthook while the windows run: what a Qt slot raises is logged (the first 20 with
    their traceback), and the app goes on."""
    number = next(_uncaught)
    if number <= LOGGED:
        log.error("an error in the windows' GUI thread (a page's call of pywebview's bridge "
                  "that it could not read, say); the app goes on", exc_info=(kind, exc, tb))


def _with_a_bridge(view: Any, qt_backend: Any, set_js_api: Callable[[Any], None]) -> None:
    """pywebview's set-up of a page that finished loading, with its bridge object made anew if a
    page deleted it."""
    try:
        view.js_bridge.objectName()
    except RuntimeError:  # "wrapped C/C++ object ... has been deleted"
        log.warning("a page of window %r deleted pywebview's bridge object; it is made anew",
                    getattr(view.pywebview_window, "title", "?"))
        view.js_bridge = qt_backend.BrowserView.JSBridge(view)
    set_js_api(view)
