from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Served, serving
from tests.xdisplay import virtual_display

from .limits_app import LIMITS_COMMANDS

ALL_DEMO = [
    "allow-greet",
    "allow-process-data",
    "allow-process-file",
    "allow-reset-demo",
    "allow-create-user",
    "allow-list-items",
    "allow-delete-item",
    "allow-read-config",
    "allow-save-settings",
    "allow-echo",
    "allow-divide",
    "allow-wait",
    "allow-block",
    "allow-crash",
    "allow-count",
    "allow-unserializable",
    "allow-open-settings",
    "allow-close-window",
    {
        "identifier": "allow-read-file",
        "allow": [{"path": "$APP/frontend/**"}],
        "deny": [{"path": "$APP/frontend/secret/**"}],
    },
    "core:event:default",
]


def brownfield_config(app_dir: Path, **ipc: int) -> Path:
    """The demo with two windows in the brownfield pattern: "main" may do everything,
    "settings" may only greet and use events."""
    path = app_dir / "app.conf.json"
    config = json.loads(path.read_text())
    config["app"]["windows"] = [
        {"label": "main", "title": "Main", "url": "index.html"},
        {"label": "settings", "title": "Settings", "url": "index.html"},
    ]
    config["app"]["security"] = {
        "pattern": {"use": "brownfield"},
        "capabilities": [
            {"identifier": "main-window", "windows": ["main"], "permissions": ALL_DEMO},
            {
                "identifier": "settings-window",
                "windows": ["settings"],
                "permissions": ["allow-greet", "core:event:default"],
            },
        ],
    }
    if ipc:
        config["app"]["ipc"] = ipc
    path.write_text(json.dumps(config))
    return path


def main_window_config(app_dir: Path, *settings_may: str) -> Path:
    """``brownfield_config`` with window "main" alone at the start ("settings" opens later, with
    its capability, plus the permissions ``settings_may``)."""
    path = brownfield_config(app_dir)
    config = json.loads(path.read_text())
    config["app"]["windows"] = config["app"]["windows"][:1]
    config["app"]["security"]["capabilities"][1]["permissions"].extend(settings_may)
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(params=["brownfield", "isolation"])
def either_pattern(request: pytest.FixtureRequest, app_dir: Path) -> Iterator[Served]:
    """The demo served in each pattern in turn (brownfield_config, isolation_config)."""
    from .test_isolation_core import isolation_config  # (that module imports this one)

    config = isolation_config(app_dir) if request.param == "isolation" else brownfield_config(
        app_dir
    )
    with serving(config) as served:
        yield served


@pytest.fixture
def two_windows(app_dir: Path) -> Iterator[Served]:
    with serving(
        brownfield_config(app_dir, maxMessageBytes=65536, commandTimeoutMs=2000), windows=2
    ) as served:
        yield served


# An init script (it runs before the runtime, as a browser extension's could; the page's own
# scripts come too late, since the runtime keeps MessagePort's methods as they were): records
# the ports the runtime posts on, and the last requests it hands the isolation frame, so that a
# test can hand the frame requests of its own.
TAKE_PORTS = """(() => {
    const post = MessagePort.prototype.postMessage;
    window.__taken = { ports: [], requests: null };
    MessagePort.prototype.postMessage = function (message, ...rest) {
        if (!window.__taken.ports.includes(this)) window.__taken.ports.push(this);
        if (message && message.requests) window.__taken.requests = message.requests;
        return post.call(this, message, ...rest);
    };
})();"""


# Run in a page: from then on ``window.sent`` records each frame the page sends on its socket,
# as [kind, size]: "text" (size in characters), "binary" (an ArrayBuffer) or "blob" (bytes).
RECORD_SENDS = """() => {
    window.sent = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
        window.sent.push(typeof data === 'string' ? ['text', data.length]
                         : data instanceof Blob ? ['blob', data.size]
                         : ['binary', data.byteLength]);
        return send.call(this, data);
    };
}"""


# Calls echo with ever larger values, from `start` bytes, until the page refuses one as too big:
# every call it let through must come back whole (had the page let a frame over the core's limit
# through, the core would close the connection and the call would fail with "internal").
UP_TO_THE_LIMIT = """async ([start, binary]) => {
    const passed = [];
    for (let n = start; n < start + 400; n++) {
        const value = binary ? new Uint8Array(n) : 'x'.repeat(n);
        try {
            const back = await window.__APP__.core.invoke('echo', { value });
            if (back.length !== n) return { broken: n };
            passed.push(n);
        } catch (e) {
            return { passed, refused: n, code: e.code, message: e.message };
        }
    }
    return { passed, refused: null };
}"""


LIMITS_ENV = {"APP_MODULE": "tests.e2e.limits_app"}
"""Serves the demo with the commands of limits_app.py added."""


def limits_config(app_dir: Path, **ipc: int) -> Path:
    """brownfield_config, with window "main" also allowed the commands of limits_app.py."""
    path = brownfield_config(app_dir, **ipc)
    config = json.loads(path.read_text())
    config["app"]["security"]["capabilities"][0]["permissions"] += LIMITS_COMMANDS
    path.write_text(json.dumps(config))
    return path


def greet(n: int) -> dict:
    return {"id": n, "kind": "invoke", "cmd": "greet", "args": {"name": str(n)}}


LOOKALIKES = """async () => {
    // The app's own data shaped like the wire's marker of a binary value, sent and returned
    // with bytes in the same message: it comes back as it was, both ways.
    const value = [new Uint8Array([1, 2]), { "$__b": 0 }, { "$$__b": "x", k: { "$__b": 7 } },
                   { "$__b": "a" }];
    const back = await window.__APP__.core.invoke('echo', { value });
    return [back[0] instanceof Uint8Array, Array.from(back[0]), back.slice(1)];
}"""
LOOKALIKES_BACK = [True, [1, 2], [{"$__b": 0}, {"$$__b": "x", "k": {"$__b": 7}}, {"$__b": "a"}]]


@pytest.fixture
def display() -> Iterator[str]:
    """A virtual X display for the real window (``DISPLAY``), with xdotool."""
    with virtual_display() as number:
        yield number
