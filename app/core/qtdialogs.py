"""The JavaScript dialogs of the shell's Qt windows (alert, confirm, prompt).

A dialog is modal to the whole app (the GUI's thread, which serves every window, waits for it),
so a page that shows dialogs in a loop held the app until the user had answered every one, with
no way to stop it; and pywebview's own ``alert()``, which it puts in place of the page's, does
not wait for its answer: a loop of them opened one dialog inside another, as many as the page
asked for. Here:

- a page shows one dialog at a time: pywebview's ``alert()`` messages that come while one is
  open wait their turn (at most ``WAITING`` of them; more are dropped);
- from a window's second dialog on, the dialog has a check box to stop the dialogs of the
  window's pages, as browsers do. Once checked, they are answered at once without being shown
  (``alert`` as read, ``confirm`` and ``prompt`` as cancelled) until the app ends, whatever page
  the window shows: a page that found its dialogs stopped could reload itself, or go to
  another origin, to start over. The dialogs of sandboxed frames (the isolation hook's
  ``confirm()`` among them: a page's own dialogs being stopped does not silence it) count
  apart, with a check box of their own. Qt gives every sandboxed frame the same opaque origin:
  a sandboxed frame that the page made counts with the hook's, and its dialogs being stopped
  stops the hook's (whose calls are then refused, never let through);
- the page's text is shown as it is (plain text, never Qt's rich text), under a title that
  names the page.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from typing import Any

__all__ = [
    "STOP_LABEL", "WAITING", "WindowDialogs", "alert", "confirm", "message_box", "on_page",
    "prompt",
]

log = logging.getLogger("app.core.native")

WAITING = 100
"""pywebview ``alert()`` messages of one page that may wait for the one shown; more are dropped."""

STOP_LABEL = "&Don't let this page show more dialogs"

TITLES = {
    "alert": "Javascript Alert", "confirm": "Javascript Confirm", "prompt": "Javascript Prompt"
}
"""As Qt WebEngine's own dialogs were titled (followed by the page's address)."""

PAGES = "pages"
SANDBOXED = "sandboxed frames"
"""Whose dialogs a window's are, each stopped apart (see ``source_of``)."""


class WindowDialogs:
    """The dialogs of one window's pages (on the GUI thread), by whose they are (``source_of``)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown: dict[str, int] = {}  # dialogs shown, by source
        self.stopped: set[str] = set()  # sources whose dialogs the user stopped
        self.open = False  # one is showing now
        self.waiting: deque[str] = deque()  # pywebview alert() messages
        self.dropped = 0

    def ask(self, page: Any, kind: str, source: str, message: str | None,
            default: str | None = None) -> tuple[bool, str]:
        """Show a dialog of ``kind`` that a frame of ``page`` asked for, counted with those of
        ``source`` (see ``source_of``): Qt WebEngine's own, which wait for their answer (the page
        waits too). Return whether it was accepted, and the text typed."""
        if source in self.stopped:
            return False, ""
        return self._show(page, kind, source, message or "", default or "")

    def tell(self, page: Any, message: str) -> None:
        """pywebview's ``alert()``, whose page does not wait: shown after the one showing now."""
        source = PAGES  # (a page's own alert(), as pywebview puts it in)
        if source in self.stopped:
            return
        if self.open:
            if len(self.waiting) < WAITING:
                self.waiting.append(message)
            else:
                self.dropped += 1
                if self.dropped == 1:
                    log.warning("window %r: its page showed more than %d alerts at once; the "
                                "rest are dropped", self.label, WAITING)
            return
        self._show(page, "alert", source, message, "")
        while self.waiting and source not in self.stopped:  # in turn, not one in another
            self._show(page, "alert", source, self.waiting.popleft(), "")
        self.waiting.clear()

    def _show(self, page: Any, kind: str, source: str, message: str, default: str
              ) -> tuple[bool, str]:
        from qtpy import QtWebEngineWidgets
        from qtpy.QtCore import Qt
        from qtpy.QtWidgets import (
            QCheckBox,
            QDialog,
            QDialogButtonBox,
            QLabel,
            QLineEdit,
            QVBoxLayout,
        )

        widgets: Any = QtWebEngineWidgets
        view = widgets.QWebEngineView.forPage(page)
        if view is None:  # the window is going
            return False, ""
        dialog = QDialog(view)
        dialog.setWindowTitle(f"{TITLES[kind]} - {page.url().toString()}")
        # Modal to the app, as Qt's own: while it waits, so does the GUI's thread (a loop of its
        # own), which serves every window.
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        layout = QVBoxLayout(dialog)
        text = QLabel(message)
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(text)
        field = QLineEdit(default) if kind == "prompt" else None
        if field is not None:
            field.selectAll()  # as browsers do: typing replaces the page's default
            layout.addWidget(field)
        stop = QCheckBox(STOP_LABEL) if self.shown.get(source) else None
        if stop is not None:
            layout.addWidget(stop)
        choices = QDialogButtonBox.StandardButton.Ok
        if kind != "alert":
            choices |= QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(choices)
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        layout.addWidget(buttons)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setDefault(True)  # Return accepts, even from the prompt's field
        # The field to type in, or the button: not the check box, which would take a space
        # meant for the button.
        focus = field if field is not None else ok
        if focus is not None:
            focus.setFocus()
        self.shown[source] = self.shown.get(source, 0) + 1
        self.open = True
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            typed = field.text() if field is not None else ""
            stopped = stop is not None and stop.isChecked()
        except RuntimeError:  # its window closed while it was up, taking the dialog with it
            return False, ""
        finally:
            self.open = False
        if stopped:
            self.stopped.add(source)
            log.info("window %r: the dialogs of its %s%s are stopped, as the user asked, until "
                     "the app ends", self.label, source,
                     " (the isolation hook's among them)" if source == SANDBOXED else "")
        dialog.deleteLater()
        return accepted, typed


def dialogs_of(page: Any) -> WindowDialogs:
    """The dialogs of ``page`` (one of the shell's windows' pages, or another: a state of its
    own, made on first use)."""
    found = getattr(page, "_app_dialogs", None)
    if not isinstance(found, WindowDialogs):
        found = WindowDialogs("?")
        page._app_dialogs = found
    return found


def on_page(page: Any, label: str) -> None:
    """Give the page of window ``label`` its dialogs' state, for all the pages it shows: what
    the user stopped stays stopped when the page loads again (a page that found its dialogs
    stopped reloaded itself to start over)."""
    page._app_dialogs = WindowDialogs(label)


def source_of(origin: Any) -> str:
    """Whose dialogs a dialog of a frame of ``origin`` (a QUrl) counts with: the window's pages,
    whatever their origin (a page could go from origin to origin, each new one's first dialog
    with no check box), or its sandboxed frames, whose origin is opaque (the isolation hook's:
    a page that gets its own dialogs stopped does not silence the hook's; a sandboxed frame of
    the page's counts with it)."""
    return PAGES if origin.host() else SANDBOXED


def alert(page: Any, origin: Any, message: str | None) -> None:
    """QWebEnginePage.javaScriptAlert."""
    dialogs_of(page).ask(page, "alert", source_of(origin), message)


def confirm(page: Any, origin: Any, message: str | None) -> bool:
    """QWebEnginePage.javaScriptConfirm."""
    return dialogs_of(page).ask(page, "confirm", source_of(origin), message)[0]


def prompt(page: Any, origin: Any, message: str | None, default: str | None) -> tuple[bool, str]:
    """QWebEnginePage.javaScriptPrompt."""
    return dialogs_of(page).ask(page, "prompt", source_of(origin), message, default)


def message_box(base: Any) -> type:
    """pywebview's QMessageBox, whose ``information()`` (its ``alert()``, the only use) shows the
    message as its page's alert instead: in turn, not one inside another, and stoppable."""

    class MessageBox(base):  # type: ignore[misc]
        @staticmethod
        def information(parent: Any, title: Any, text: Any, *args: Any) -> Any:
            page = parent.webview.page()
            dialogs_of(page).tell(page, _as_said(str(text)))
            return base.StandardButton.Ok

    return MessageBox


def _as_said(text: str) -> str:
    """pywebview's page hands its ``alert()`` message over as JSON: a string comes quoted."""
    try:
        said = json.loads(text)
    except ValueError:
        return text
    return said if isinstance(said, str) else text
