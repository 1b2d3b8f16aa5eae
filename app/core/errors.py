"""Errors of the IPC core, each with the code the frontend sees.

::

    IpcError                  (base; never raised as such)
     ├── NotFound             not_found       no such command
     ├── Forbidden            forbidden       no capability allows it here
     ├── Blocked              blocked         the isolation hook refused it
     ├── InvalidArgs          invalid_args    arguments failed validation
     │    └── Unsendable      (internal)      Python sent what cannot reach a page; raised
     │                                        out of a command, its call fails with internal
     ├── CommandError         command_failed  the command raised it on purpose
     ├── CallTimeout          timeout         the command did not finish in time
     ├── ProtocolError        protocol        malformed, undecryptable or replayed message
     └── InternalError        internal        anything else; detail only in the log

``ConfigError`` is not an IPC error: it stops the program before any window opens.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any, ClassVar

__all__ = [
    "Blocked",
    "CallTimeout",
    "CommandError",
    "ConfigError",
    "Forbidden",
    "InternalError",
    "InvalidArgs",
    "IpcError",
    "NotFound",
    "ProtocolError",
    "StartError",
    "Unsendable",
    "shown",
]


def shown(value: Any, limit: int = 200) -> str:
    """A caller's name as it goes into messages and logs: text cut to ``limit`` characters, its
    control characters and line separators escaped (a name with a line break in it could forge
    a line of the log), and only its type when it is not text (``str()`` of a value nested a
    thousand deep would not even finish)."""
    if isinstance(value, str):
        text: str = value if len(value) <= limit else value[: limit - 1] + "…"
        return text if text.isprintable() else text.translate(_ESCAPED)
    return f"<{type(value).__name__}>"


_ESCAPED = {c: repr(chr(c))[1:-1] for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]}
"""What ``shown`` writes for the characters that are not printable and end or change lines:
``\\n``, ``\\x1b`` and the like."""


class IpcError(Exception):
    """An error that reaches the frontend as a rejection with ``code``, ``message`` and ``data``."""

    code: ClassVar[str] = "internal"

    def __init__(self, message: str, data: Any = None) -> None:
        message = message if isinstance(message, str) else str(message)  # CommandError(42)
        super().__init__(message)
        self.message = message
        self.data = data

    def to_wire(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class NotFound(IpcError):
    code = "not_found"


class Forbidden(IpcError):
    code = "forbidden"


class Blocked(IpcError):
    code = "blocked"


class InvalidArgs(IpcError):
    code = "invalid_args"


class Unsendable(InvalidArgs):
    """Python tried to send a page what cannot go (an event's name or payload, a channel's
    value): the sender's mistake. Raised out of a command, its call fails with ``internal``
    (the message kept): ``invalid_args`` would tell the page that its arguments were wrong."""


class CommandError(IpcError):
    """Raise from a command to reject the call with ``command_failed``.

    ``message`` is shown to the user; ``data`` (any JSON-like value) travels with it.
    """

    code = "command_failed"


class CallTimeout(IpcError):
    code = "timeout"


class ProtocolError(IpcError):
    code = "protocol"


class InternalError(IpcError):
    code = "internal"


class StartError(Exception):
    """The app cannot start (its address is taken, ...): the message says why, in one line."""


def _clipped(text: str, limit: int) -> str:
    """``text``, its middle left out past ``limit`` characters (saying how many)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}…({len(text) - 2 * half} characters left out)…{text[-half:]}"


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` has one ``(json_path, expected)`` each."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        # (A validator run twice says it twice; a value of megabytes quoted would make a line
        # of megabytes: its middle goes, the rule after it stays.)
        self.problems = list(dict.fromkeys(
            (_clipped(where, 300), _clipped(what, 1000)) for where, what in problems
        ))
        super().__init__("\n".join(self.lines()))
        _end_quietly_if_uncaught()

    def lines(self) -> list[str]:
        return [f"{self.source}: {path}: {what}" for path, what in self.problems]


_hook_before: Any = None


def _end_quietly_if_uncaught() -> None:
    """An app's own program that loads a bad config (``App.from_config``) and does not catch
    the ``ConfigError`` ends as ``python -m app`` does: one line per problem on stderr, exit
    status 2, no traceback."""
    global _hook_before
    if sys.excepthook is not _config_hook:
        _hook_before = sys.excepthook
        sys.excepthook = _config_hook


def _config_hook(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    if not isinstance(value, ConfigError):
        (_hook_before or sys.__excepthook__)(kind, value, traceback)
        return
    for line in value.lines():
        print(line, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(2)  # the program ends here either way; 2 is what the CLI gives a bad config
