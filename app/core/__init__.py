"""The app shell's core: commands, events, capabilities and the secure IPC behind them.

The public surface is what ``__all__`` lists; everything else is private to the core.
"""

from __future__ import annotations

from .acl.origin import Caller, Origin
from .acl.scope import Scope, ScopeEntry
from .app import App, Window
from .channel import Channel
from .config import Config, load_config
from .errors import (
    Blocked,
    CallTimeout,
    CommandError,
    ConfigError,
    Forbidden,
    InternalError,
    InvalidArgs,
    IpcError,
    NotFound,
    ProtocolError,
    StartError,
)
from .events import Event

__all__ = [
    "App",
    "Blocked",
    "CallTimeout",
    "Caller",
    "Channel",
    "CommandError",
    "Config",
    "ConfigError",
    "Event",
    "Forbidden",
    "InternalError",
    "InvalidArgs",
    "IpcError",
    "NotFound",
    "Origin",
    "ProtocolError",
    "Scope",
    "ScopeEntry",
    "StartError",
    "Window",
    "load_config",
]
