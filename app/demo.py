"""The demo app: the example commands, a clock event, and one command per error code."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field

from app.core import App, Channel, CommandError, Event, Scope, Window

Milliseconds = Annotated[int, Field(ge=0, le=600_000)]


def default_settings() -> dict[str, Any]:
    return {"theme": "light", "notifications": True, "language": "en"}


def default_items() -> dict[int, str]:
    return {1: "Apples", 2: "Pears", 3: "Plums", 4: "Figs"}


class CreateUserArgs(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)


@dataclass
class User:
    id: int
    name: str
    email: str


@dataclass
class Store:
    """The demo's managed state."""

    settings: dict[str, Any] = field(default_factory=default_settings)
    """A JSON object: what ``save_settings`` saved last, as it was sent."""
    users: dict[int, User] = field(default_factory=dict)
    items: dict[int, str] = field(default_factory=default_items)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def create_app(config: str | Path = "app.conf.json") -> App:
    app = App.from_config(config)
    app.manage(Store())
    register(app)
    return app


def register(app: App) -> None:
    @app.command
    def greet(name: str) -> str:
        """Say hello."""
        return f"Hello, {name}!"

    @app.command
    def process_data(input: str) -> str:
        return f"Processed: {input}"

    @app.command
    def read_file(path: str, scope: Scope) -> str:
        """Read a text file, if the permission's scope allows its path."""
        target = Path(path)
        if not target.is_absolute():
            target = app.config.root / target
        resolved = scope.check_path(target)  # raises Forbidden, naming the entry that refuses
        try:
            return resolved.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"There is no file {path}.", {"path": path}) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}.", {"path": path}) from None

    @app.command
    def create_user(args: CreateUserArgs, store: Store) -> User:
        # Sync commands run on several threads at once: take the next id under a lock.
        with store.lock:
            user = User(len(store.users) + 1, args.name, args.email)
            store.users[user.id] = user
        return user

    @app.command
    def list_items(store: Store) -> list[dict[str, Any]]:
        with store.lock:  # (reset_demo replaces them meanwhile, delete_item takes one away)
            return [{"id": k, "name": v} for k, v in sorted(store.items.items())]

    @app.command
    def delete_item(id: int, store: Store) -> dict[str, Any]:
        with store.lock:
            name = store.items.pop(id, None)
        if name is None:
            raise CommandError(f"There is no item {id} to delete.", {"id": id})
        return {"deleted": id, "name": name}

    @app.command
    def read_config(store: Store) -> dict[str, Any]:
        """The current settings: exactly what save_settings saved last (defaults until then)."""
        with store.lock:
            return dict(store.settings)

    @app.command
    def save_settings(settings: dict[str, Any], store: Store, window: Window) -> dict[str, Any]:
        """Replace the settings with this object as it is; every window hears of it."""
        with store.lock:
            store.settings = dict(settings)
        app.emit("settings-changed", {"settings": settings, "by": window.label})
        return settings

    @app.command
    def process_file(path: str) -> str:
        """The seed document's input check: refuse a path that climbs out or reaches /etc."""
        if ".." in path or path.startswith("/etc"):
            raise CommandError(
                f"Invalid path {path!r}: it may not contain '..' or start with /etc.",
                {"path": path},
            )
        return "Done"

    @app.command
    def reset_demo(store: Store, window: Window) -> dict[str, int]:
        """Put the demo's items, users and settings back as they were at start.

        The capability allows it; the demo's isolation hook refuses it (dist-isolation/index.js).
        """
        with store.lock:
            store.items = default_items()
            store.users.clear()
            store.settings = default_settings()
            settings = dict(store.settings)
        app.emit("settings-changed", {"settings": settings, "by": window.label})
        return {"items": len(store.items)}

    @app.command
    def echo(value: Any) -> Any:
        """Return what was sent: strings, JSON values, bytes."""
        return value

    @app.command
    def divide(a: float, b: float) -> float:
        if b == 0:
            raise CommandError("Cannot divide by zero.", {"a": a, "b": b})
        return a / b

    @app.command
    async def wait(ms: Milliseconds) -> int:
        """Sleep asynchronously (to show timeouts and that other calls go on meanwhile)."""
        await asyncio.sleep(ms / 1000)
        return ms

    @app.command
    def block(ms: Annotated[int, Field(ge=0, le=10_000)]) -> int:
        """Sleep on a worker thread: the loop and other calls are not held up."""
        time.sleep(ms / 1000)
        return ms

    @app.command
    def crash() -> None:
        """A bug: the page gets 'internal' and no traceback; the log gets the detail."""
        raise RuntimeError("a bug in a command")

    @app.command
    def count(to: Annotated[int, Field(ge=0, le=100_000)], progress: Channel) -> int:
        """Send 1, 2... up to ``to`` (at most 100,000) on ``progress``."""
        # (Bounded: a page has no need to keep a command thread counting to a trillion, which
        # stops only at its next send once its call is abandoned at the time limit.)
        for i in range(1, to + 1):
            progress.send(i)
        return to

    @app.command
    async def open_settings() -> dict[str, Any]:
        """Open the settings window, which holds fewer permissions than the main one."""
        if "settings" in app.window_labels():
            raise CommandError("The settings window is already open.")
        url = await app.open_window(
            "settings", url="index.html", title="Settings", width=560, height=700
        )
        # Without native windows (serve), the page opens the launch URL itself; a native window
        # opens it, and the page has no use for it.
        native = bool(app.native_windows)
        return {"label": "settings", "url": None if native else url, "native": native}

    @app.command
    def close_window(window: Window) -> None:
        """Close the calling window; closing the last one ends the app."""
        try:
            window.close()
        except RuntimeError as exc:
            raise CommandError(f"This window cannot be closed from here: {exc}.") from None

    @app.command
    def unserializable() -> object:
        return object()

    app.listen("ping", lambda event: _pong(app, event))

    @app.on_start
    async def clock(app: App) -> None:
        while True:
            app.emit("clock", {"now": datetime.now().isoformat(timespec="seconds")})
            await asyncio.sleep(1)


def _pong(app: App, event: Event) -> None:
    target = event.source or "main"
    app.emit_to(target, "pong", {"received": event.payload, "from": target})
