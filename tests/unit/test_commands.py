"""The registry, argument binding and dispatch, through the in-process client."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NewType

import pytest
from pydantic import BaseModel, ConfigDict, Field, Strict
from typing_extensions import TypedDict

from app.core import (
    App,
    Blocked,
    Caller,
    CallTimeout,
    Channel,
    CommandError,
    Forbidden,
    InternalError,
    InvalidArgs,
    IpcError,
    NotFound,
    ProtocolError,
    Scope,
    Window,
    load_config,
    pipeline,
)
from app.core.commands import LISTED_PROBLEMS, Command
from app.core.protocol import prepare
from app.core.testing import Client

from . import plugin_commands
from .conftest import grant_all


class Point(BaseModel):
    x: int
    y: int


@dataclass
class Pair:
    left: str
    right: str


class Counter:
    def __init__(self) -> None:
        self.value = 0


class Gate:
    """Holds a sync command in its worker thread until the test lets it go."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()


def make_app(write_config, *permissions: str, timeout_ms: int = 10_000) -> App:
    """An app with ``commandTimeoutMs`` of ``timeout_ms`` (10 s: on a loaded machine a call's
    thread may take its time to start; tests of the limit itself pass a short one)."""
    config = load_config(
        write_config(
            {
                **grant_all(*permissions),
                "app": {
                    **grant_all(*permissions)["app"],
                    "ipc": {"commandTimeoutMs": timeout_ms, "threads": 4},
                },
            }
        )
    )
    app = App(config)

    @app.command
    def greet(name: str) -> str:
        return f"Hello, {name}!"

    @app.command
    def add(first_number: int, second_number: int = 1) -> int:
        return first_number + second_number

    @app.command
    def point(p: Point) -> Point:
        return Point(x=p.x * 2, y=p.y * 2)

    @app.command
    def pair() -> Pair:
        return Pair("a", "b")

    @app.command
    def raw(data: bytes) -> bytes:
        return data[::-1]

    @app.command
    def fail() -> None:
        raise CommandError("It did not work.", {"why": "testing"})

    @app.command
    def fail_named() -> None:
        raise CommandError("'fail_named' needs a name.")

    @app.command
    def fail_shared() -> None:
        raise SHARED_ERROR

    @app.command
    def bug() -> None:
        raise ValueError("secret detail")

    @app.command
    async def slow(ms: Annotated[int, Field(ge=0)]) -> int:
        await asyncio.sleep(ms / 1000)
        return ms

    @app.command
    def blocking(gate: Gate) -> str:
        gate.entered.set()
        if not gate.release.wait(10):
            raise CommandError("The test never released the gate.")
        return threading.current_thread().name

    @app.command
    def who(window: Window, caller: Caller, the_app: App, counter: Counter) -> dict[str, Any]:
        counter.value += 1
        return {
            "window": window.label,
            "origin": caller.origin.kind,
            "same_app": the_app is app,
            "count": counter.value,
        }

    @app.command
    def weird() -> object:
        return object()

    app.manage(Counter())
    app.manage(Gate())
    return app


SHARED_ERROR = CommandError("Out of stock.")

ALL = [
    "allow-greet",
    "allow-add",
    "allow-point",
    "allow-pair",
    "allow-raw",
    "allow-fail",
    "allow-fail-named",
    "allow-fail-shared",
    "allow-bug",
    "allow-slow",
    "allow-blocking",
    "allow-who",
    "allow-weird",
]


@pytest.fixture
def client(write_config) -> Client:
    """A client of an app allowing every command (enter it with ``async with``)."""
    return Client(make_app(write_config, *ALL))


async def test_arguments_by_name_with_camel_case_keys(client: Client) -> None:
    async with client:
        assert await client.invoke("greet", {"name": "World"}) == "Hello, World!"
        assert await client.invoke("add", {"firstNumber": 2, "secondNumber": 3}) == 5
        assert await client.invoke("add", {"first_number": 2}) == 3
        # Both names at once: refused, so a hook that checked one cannot be passed by the other.
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("add", {"first_number": 2, "firstNumber": 9})
        assert "first_number: given twice, as first_number and as firstNumber" in str(info.value)
        # A key that is no name of a parameter is not a second name of one ("Name" is not
        # greet's name, in any case).
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("greet", {"name": "a", "Name": "b"})
        assert info.value.data == [{"field": "Name", "message": "Extra inputs are not permitted"}]
        # A camelCase name in a message comes with the Python name of the parameter.
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("add", {"secondNumber": 9})
        assert info.value.data == [
            {"field": "firstNumber", "message": "Field required (the parameter first_number)"}
        ]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x", "extra": 1}, "extra"),
    ],
)
async def test_bad_arguments_name_the_field(client: Client, args: dict, field: str) -> None:
    async with client:
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("greet", args)
        assert info.value.data[0]["field"] == field
        assert "'greet'" in info.value.message


async def test_arguments_must_be_an_object(client: Client) -> None:
    async with client:
        with pytest.raises(InvalidArgs, match="must be an object"):
            await client.request({"kind": "invoke", "cmd": "greet", "args": [1, 2]})


async def test_the_client_refuses_nan_and_infinity_as_a_page_does(client: Client) -> None:
    """JSON has no NaN: sent, it would arrive as null, so a page refuses to send it, and the
    testing client does the same rather than pass a test a page would fail."""
    async with client:
        for bad in (math.nan, math.inf, -math.inf):
            with pytest.raises(InvalidArgs, match=r"NaN or Infinity.*\(at args\.name\.1\.x\)"):
                await client.invoke("greet", {"name": ["a", {"x": bad}]})
        looped: list = []
        looped.append(looped)  # a value holding itself: the codec's own refusal, no hang
        with pytest.raises(InvalidArgs, match="cannot be sent"):
            await client.invoke("greet", {"name": looped})
        assert await client.invoke("greet", {"name": "World"}) == "Hello, World!"


async def test_arguments_with_very_many_problems_are_counted_not_listed(write_config) -> None:
    """A million keys greet takes no parameter of held the core's loop 11 s: pydantic checked
    each, then made each an error, and each was turned into the page's form."""
    app = make_app(write_config, "allow-greet", "allow-total", "allow-tally")

    @app.command
    def total(values: list[int]) -> int:
        return sum(values)

    @app.command
    def tally(counts: dict[str, int]) -> int:
        return sum(counts.values())

    extra = {f"k{i}": 0 for i in range(LISTED_PROBLEMS + 1)}
    async with Client(app) as client:
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("greet", {"name": "x", **extra})
        assert info.value.message == (
            f"Invalid arguments for 'greet': {LISTED_PROBLEMS + 1} keys it takes no parameter "
            "of ('k0', 'k1', 'k2', 'k3', 'k4'...); its parameters are name."
        )
        assert info.value.data == [
            {"field": f"k{i}", "message": "Extra inputs are not permitted"} for i in range(5)
        ]
        # Inside an argument: counted.
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("tally", {"counts": {
                f"k{i}": "no" for i in range(LISTED_PROBLEMS + 1)}})
        assert info.value.message == (
            f"Invalid arguments for 'tally': {LISTED_PROBLEMS + 1} problems, too many to list "
            "(counts holds many values that do not fit it)."
        )
        assert info.value.data == [{"field": "counts", "message": "1001 problems"}]
        # Fewer: each worked out, the first ten said.
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("tally", {"counts": {f"k{i}": "no" for i in range(12)}})
        assert info.value.message.endswith("; and 2 more.")
        assert len(info.value.data) == 12
        # A list (a tuple, a set) stops at its first value that does not fit: pydantic went
        # through a million of them on the core's loop (0.3 s) to say the same thing.
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("total", {"values": [1, "no", *(["no"] * 10**6)]})
        assert info.value.data == [
            {"field": "values.1", "message": "Input should be a valid integer"}
        ], info.value.data
        assert await client.invoke("greet", {"name": "World"}) == "Hello, World!"


async def test_models_dataclasses_and_bytes_round_trip(client: Client) -> None:
    async with client:
        assert await client.invoke("point", {"p": {"x": 1, "y": 2}}) == {"x": 2, "y": 4}
        assert await client.invoke("pair") == {"left": "a", "right": "b"}
        assert await client.invoke("raw", {"data": b"\x00\x01\x02"}) == b"\x02\x01\x00"


async def test_error_codes(client: Client, write_config) -> None:
    async with client:
        with pytest.raises(NotFound, match="no command named 'nope'"):
            await client.invoke("nope")
        with pytest.raises(CommandError) as info:
            await client.invoke("fail")
        # The message names the command, as every message does, once.
        assert (info.value.message, info.value.data) == (
            "'fail' failed: It did not work.", {"why": "testing"}
        )
        with pytest.raises(CommandError) as named:
            await client.invoke("fail_named")
        assert named.value.message == "'fail_named' needs a name."
        for _ in range(2):  # a module's one error, raised again: named once each time
            with pytest.raises(CommandError) as shared:
                await client.invoke("fail_shared")
            assert shared.value.message == "'fail_shared' failed: Out of stock."
        assert SHARED_ERROR.message == "Out of stock."
        with pytest.raises(InternalError) as internal:
            await client.invoke("bug")
        assert "secret detail" not in internal.value.message and "'bug'" in internal.value.message
        async with Client(make_app(write_config, *ALL, timeout_ms=300)) as hasty:
            with pytest.raises(CallTimeout, match="'slow'"):
                await hasty.invoke("slow", {"ms": 2000})
        with pytest.raises(InternalError, match="'weird' cannot be sent"):
            await client.invoke("weird")
        with pytest.raises(ProtocolError, match="Unknown message kind"):
            await client.request({"kind": "bogus"})


async def test_the_core_keeps_serving_after_failures(client: Client) -> None:
    async with client:
        for cmd in ("bug", "weird", "fail", "nope"):
            with pytest.raises(IpcError):
                await client.invoke(cmd)
        assert await client.invoke("greet", {"name": "again"}) == "Hello, again!"


async def test_sync_commands_run_off_the_loop_and_do_not_block_it(write_config) -> None:
    client = Client(make_app(write_config, *ALL, timeout_ms=20_000))
    gate = client.app.state(Gate)
    async with client:
        held = asyncio.ensure_future(client.invoke("blocking"))
        assert await asyncio.to_thread(gate.entered.wait, 10), "the sync command never started"
        # While a sync command holds its worker thread, the loop (and another worker) still
        # answers other calls: greet settles while 'blocking' is certainly still running.
        try:
            assert await asyncio.wait_for(
                client.invoke("greet", {"name": "fast"}), 10
            ) == "Hello, fast!"
            assert not held.done()
        finally:
            gate.release.set()
        assert (await held).startswith("app-command")


async def test_injection_by_annotation(client: Client) -> None:
    async with client:
        assert await client.invoke("who") == {
            "window": "main",
            "origin": "local",
            "same_app": True,
            "count": 1,
        }
        assert (await client.invoke("who"))["count"] == 2


@pytest.mark.parametrize(
    "value",
    ["db-password", 7, {"managed": "state"}, ["a"], b"x", datetime.now(), Path("."), Decimal(1)],
)
def test_values_commands_take_as_arguments_cannot_be_managed(write_config, value: Any) -> None:
    """Injection goes by annotation: a managed str would fill every str parameter of every
    command, in place of (and refusing) the page's argument."""
    app = make_app(write_config)
    name = type(value).__name__
    article = "an" if name[0] in "aeiou" else "a"
    with pytest.raises(TypeError, match=f"not {article} {name}: every command parameter"):
        app.manage(value)


async def test_nothing_is_allowed_by_default(write_config) -> None:
    app = make_app(write_config, "allow-add")
    async with Client(app) as c:
        assert await c.invoke("add", {"firstNumber": 1}) == 2
        with pytest.raises(Forbidden) as info:
            await c.invoke("greet", {"name": "x"})
    assert "allow-greet" in info.value.message and "'main'" in info.value.message


def test_registration_errors(write_config) -> None:
    app = make_app(write_config)
    with pytest.raises(ValueError, match="already registered"):
        app.command(name="greet")(lambda: None)
    with pytest.raises(TypeError, match="named parameter"):

        @app.command
        def star(*args: int) -> None: ...

    with pytest.raises(ValueError, match="identifier"):
        app.command(name="bad name")(lambda: None)


def test_commands_describe_themselves(write_config) -> None:
    app = make_app(write_config)
    described = {c.name: c.describe() for c in app.registry}
    add = described["add"]
    assert add["permission"] == "allow-add"
    assert set(add["args"]["properties"]) == {"firstNumber", "secondNumber"}
    assert add["args"]["required"] == ["firstNumber"]
    assert described["who"]["injected"] == {
        "window": "Window",
        "caller": "Caller",
        "the_app": "App",
        "counter": "Counter",
    }


async def test_the_client_works_with_the_shipped_isolation_config() -> None:
    # The README's example: the demo as shipped, which uses the isolation pattern. The client
    # enters after the hook (a page's frame), so its calls are not refused as unsealed.
    from pathlib import Path

    from app.demo import create_app

    app = create_app(Path(__file__).resolve().parents[2] / "app.conf.json")
    assert app.config.isolation is not None
    async with Client(app, window="main") as c:
        assert await c.invoke("greet", {"name": "Ada"}) == "Hello, Ada!"
        with pytest.raises(NotFound):
            await c.invoke("no_such_command")
        assert app.core is not None
        assert app.core.pipeline is not app.core.unsealed_pipeline
        # Its count streams a bounded number of values: a thread cannot be stopped.
        progress = c.channel()
        assert await c.invoke("count", {"to": 3, "progress": progress}) == 3
        with pytest.raises(InvalidArgs, match="to: Input should be less than or equal to 100000"):
            await c.invoke("count", {"to": 10**12, "progress": c.channel()})
    for label in ("bad label", "", None):
        with pytest.raises(ValueError, match="is not valid: a label is made of"):
            Client(app, window=label)  # type: ignore[arg-type]


async def test_a_bad_event_name_raises_where_it_is_emitted(write_config) -> None:
    app = make_app(write_config, *ALL)
    async with Client(app):
        # From a worker thread (as a sync command would), not only on the core's loop.
        with pytest.raises(InvalidArgs, match="bad name!"):
            await asyncio.to_thread(app.emit, "bad name!", 1)
        with pytest.raises(InvalidArgs):
            app.emit_to("main", "", 1)


async def test_a_start_that_fails_leaves_nothing_running(write_config) -> None:
    import socket

    from app.core.errors import StartError

    app = make_app(write_config, *ALL)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        before = {t for t in threading.enumerate() if t.name.startswith("app-command")}
        with pytest.raises(StartError, match="Address already in use"):
            await app.start({"main": taken.getsockname()[1]})
    assert app.core is None
    after = {t for t in threading.enumerate() if t.name.startswith("app-command")}
    deadline = asyncio.get_running_loop().time() + 5
    while after - before and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)  # workers exit once they take their stop marker
        after = {t for t in threading.enumerate() if t.name.startswith("app-command")}
    assert not after - before
    async with Client(app) as c:  # and the app can start again
        assert await c.invoke("greet", {"name": "again"}) == "Hello, again!"


async def test_the_pages_deadline_is_the_commands_limit_with_slack(tmp_path) -> None:
    import json
    import shutil
    from pathlib import Path

    from app.core.acl.origin import Origin
    from app.demo import create_app

    root = Path(__file__).resolve().parents[2]
    for name in ("frontend", "dist-isolation", "capabilities"):
        shutil.copytree(root / name, tmp_path / name)
    data = json.loads((root / "app.conf.json").read_text())
    data["app"]["security"]["pattern"]["options"]["hookTimeoutMs"] = 60_000
    data["app"]["ipc"] = {"commandTimeoutMs": 20_000}
    (tmp_path / "app.conf.json").write_text(json.dumps(data))
    app = create_app(tmp_path / "app.conf.json")
    async with Client(app):
        assert app.core is not None
        boot = app.core.server._boot("main", Origin("local", "http://127.0.0.1"), 1)
    # The page waits for the core's 20 s, and a little more for the reply to come. The hook's
    # time is not in it: under isolation the page's clock starts once the hook let a call
    # through (tests/e2e/test_isolation_browser.py).
    assert boot["timeoutMs"] == 25_000


async def test_a_callers_long_names_are_cut_short_in_messages(write_config) -> None:
    # An unknown command's name, from a window no capability covers, reaches the denial (which
    # says nothing about which names exist) and the log: 100,000 characters must not.
    app = make_app(write_config, *ALL)
    long_name = "x" * 100_000
    async with Client(app, window="uncovered") as stranger:
        with pytest.raises(Forbidden) as denied:
            await stranger.invoke(long_name)
        assert "'xxxxx" in denied.value.message and len(denied.value.message) < 2000
        assert len(denied.value.data["permission"]) <= 120
        # The core keeps serving the windows it covers.
        async with Client(app) as main:
            with pytest.raises(NotFound) as missing:
                await main.invoke(long_name)
            assert len(missing.value.message) < 200, missing.value.message
            assert await main.invoke("greet", {"name": "still here"}) == "Hello, still here!"
    with pytest.raises(InvalidArgs) as bad_event:
        app.emit("bad name " * 10_000, None)
    assert "'bad name" in bad_event.value.message and len(bad_event.value.message) < 300


async def test_a_window_with_no_capability_learns_no_command_names(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    """Denied alike whether the command exists or not; the log tells the developer."""
    app = make_app(write_config, *ALL)
    async with Client(app, window="uncovered") as stranger:
        denials = []
        for name in ("greet", "no_such_cmd"):
            with pytest.raises(Forbidden) as denied:
                await stranger.invoke(name)
            denials.append(denied.value.message.replace(name, "X").replace("no-such-cmd", "X"))
    assert denials[0] == denials[1]
    assert "'no_such_cmd', which is no registered command either" in caplog.text


async def test_names_with_line_breaks_cannot_forge_log_lines(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    """A page names a command (or event) with line breaks and escape codes in it: every line
    the core logs and every message the page gets shows them escaped."""
    app = make_app(write_config, *ALL)
    forged = "x\n2026-01-01 00:00:00,000 CRITICAL app.core: FORGED\r\x1b[2K\u2028y"
    with caplog.at_level(logging.INFO, logger="app"):
        async with Client(app, window="uncovered") as stranger:
            with pytest.raises(Forbidden) as denied:
                await stranger.invoke(forged)
        async with Client(app) as main:
            with pytest.raises(NotFound) as missing:
                await main.invoke(forged)
            with pytest.raises(InvalidArgs) as bad_event:
                await main.emit(forged, 1)
    lines = [r.getMessage() for r in caplog.records]
    assert any("x\\n2026-01-01" in line for line in lines), lines
    for text in [*lines, denied.value.message, missing.value.message, bad_event.value.message]:
        assert not any(c in text for c in "\n\r\x1b\u2028"), text
    assert "x\\n2026-01-01 00:00:00,000 CRITICAL" in missing.value.message


async def test_a_long_command_name_is_authorized_by_its_whole_name(write_config) -> None:
    # Names are cut short for messages only: the capability check sees the name as sent.
    name = "c" * 250
    app = App(load_config(write_config(grant_all(f"allow-{name.replace('_', '-')}"))))
    app.command(name=name)(lambda: "long")
    async with Client(app) as c:
        assert await c.invoke(name) == "long"


async def test_a_value_a_channel_cannot_send_raises_in_the_command(write_config) -> None:
    app = make_app(write_config, "allow-stream")
    sent: list[str] = []

    @app.command
    def stream(progress: Channel) -> str:
        progress.send(1)
        try:
            progress.send(object())
        except InvalidArgs as exc:  # heard here, not only in a log
            sent.append(exc.message)
            raise
        return "unreachable"

    async with Client(app) as c:
        # Uncaught, it is the command's failure, not the page's arguments.
        with pytest.raises(InternalError, match="cannot reach the page"):
            await c.invoke("stream", {"progress": {"$__ch": 1}})
    assert sent and "object" in sent[0]


async def test_a_channel_may_say_what_it_carries(write_config) -> None:
    """``Channel[int]`` types what the command sends (for a type checker); it is the same
    channel argument at run time, alone or in a list."""
    app = make_app(write_config, "allow-count-up")

    @app.command
    def count_up(to: int, progress: Channel[int], notes: list[Channel[str]]) -> int:
        for n in range(to):
            progress.send(n)
        for note in notes:
            note.send("done")
        return to

    async with Client(app) as c:
        progress, note = c.channel(), c.channel()
        assert await c.invoke("count_up", {"to": 3, "progress": progress, "notes": [note]}) == 3
        assert c.channels[progress["$__ch"]] == [0, 1, 2]
        assert c.channels[note["$__ch"]] == ["done"]


async def test_a_channel_id_must_be_a_number(write_config) -> None:
    app = make_app(write_config, "allow-stream")

    @app.command
    def stream(progress: Channel) -> str:
        progress.send(1)
        return "ran"

    async with Client(app) as c:
        for bad in (True, False, "1", 1.0, None, [1]):
            with pytest.raises(InvalidArgs, match="progress") as info:
                await c.invoke("stream", {"progress": {"$__ch": bad}})
            assert "new Channel()" in info.value.message, bad
        assert await c.invoke("stream", {"progress": {"$__ch": 3}}) == "ran"


def test_scalars_are_taken_as_sent_and_other_types_convert_as_usual() -> None:
    def typed(
        text: str, count: int, ratio: float, flag: bool, data: bytes,
        names: list[str], when: datetime | None = None,
    ) -> None:
        pass

    command = Command.from_function(typed)
    command.prepare(frozenset())
    good = {"text": "a", "count": 1, "ratio": 2, "flag": True, "data": b"x", "names": ["n"],
            "when": "2026-01-02T03:04:05"}
    bound = command.bind(good, None, {})
    assert bound["ratio"] == 2.0 and bound["when"] == datetime(2026, 1, 2, 3, 4, 5)
    for field, value in [("text", b"a"), ("count", "7"), ("count", True), ("count", 1.5),
                         ("flag", "yes"), ("flag", 1), ("data", "x"), ("names", [b"n"]),
                         ("text", 5)]:
        with pytest.raises(InvalidArgs) as info:
            command.bind({**good, field: value}, None, {})
        assert info.value.data[0]["field"].startswith(field), (field, value, info.value.data)


UserId = NewType("UserId", int)


def test_optional_and_abstract_containers_are_usable_and_strict() -> None:
    """An optional list, set or tuple (the commonest optional argument) stopped the app as it
    started: ``Union`` hashes its members, and the strict list's marker could not be hashed.
    ``Sequence`` and ``Mapping`` hold strict scalars as ``list`` and ``dict`` do, and a mapping's
    keys convert, since JSON's are always text (a ``dict[int, str]`` could never be called)."""

    def typed(
        tags: list[str] | None = None, ids: set[int] | None = None,
        pair: tuple[int, ...] | int = 0,
        nested: dict[str, list[int] | None] | None = None,
        capped: Annotated[list[int], Field(max_length=3)] | None = None,
        seq: Sequence[int] | None = None, mapping: Mapping[str, int] | None = None,
        by_id: dict[int, str] | None = None, flags: Mapping[bool, bool] | None = None,
        it: Iterable[int] | None = None, coll: Collection[int] | None = None,
        dq: deque[int] | None = None, od: OrderedDict[str, int] | None = None,
        uid: UserId | None = None,
    ) -> None:
        pass

    command = Command.from_function(typed)
    command.prepare(frozenset())
    assert command.bind({}, None, {})["tags"] is None
    good = {"tags": ["a"], "ids": [1, 2], "pair": [1, 2], "nested": {"k": [1], "n": None},
            "capped": [1, 2, 3], "seq": [1, 2], "mapping": {"a": 1}, "byId": {"1": "a"},
            "flags": {"true": False}, "it": [1, 2], "coll": [3], "dq": [4], "od": {"a": 5},
            "uid": 7}
    bound = command.bind(good, None, {})
    assert bound["it"] == [1, 2] and bound["coll"] == [3] and bound["dq"] == deque([4])
    assert bound["od"] == OrderedDict(a=5) and bound["uid"] == 7
    assert bound["ids"] == {1, 2} and bound["pair"] == (1, 2) and list(bound["seq"]) == [1, 2]
    assert bound["by_id"] == {1: "a"} and bound["flags"] == {True: False}
    for field, value in [("tags", [b"a"]), ("ids", ["1"]), ("pair", ["1"]),
                         ("nested", {"k": ["1"]}), ("capped", [1, 2, 3, 4]), ("seq", [1, "2"]),
                         ("mapping", {"a": "1"}), ("byId", {"x": "a"}), ("byId", {"1": 2}),
                         ("it", [1, "x"]), ("coll", ["x"]), ("coll", "abc"), ("dq", ["1"]),
                         ("od", {"a": "1"}), ("uid", "7")]:
        with pytest.raises(InvalidArgs) as info:
            command.bind({**good, field: value}, None, {})
        assert info.value.data[0]["field"].lower().startswith(field.lower()), (field, value)


class Lax(BaseModel):
    path: str
    n: int


class StrictModel(BaseModel):
    model_config = ConfigDict(strict=True)
    path: str
    n: int


@dataclass
class Marked:
    path: Annotated[str, Strict()]


def test_fields_of_models_and_dataclasses_convert_unless_they_say_strict() -> None:
    """Strictness is the parameters' own; a model's or dataclass's fields are its author's to
    make strict (README, Writing commands)."""

    def typed(lax: Lax, strict: StrictModel, marked: Marked) -> None:
        pass

    command = Command.from_function(typed)
    command.prepare(frozenset())
    good = {"lax": {"path": "/a", "n": 1}, "strict": {"path": "/a", "n": 1},
            "marked": {"path": "/a"}}
    assert command.bind(good, None, {})["marked"] == Marked("/a")
    converted = command.bind({**good, "lax": {"path": b"/etc", "n": "7"}}, None, {})["lax"]
    assert converted == Lax(path="/etc", n=7)
    for field, value in [("strict", {"path": b"/etc", "n": 1}),
                         ("strict", {"path": "/a", "n": "7"}), ("marked", {"path": b"/etc"})]:
        with pytest.raises(InvalidArgs) as info:
            command.bind({**good, field: value}, None, {})
        assert info.value.data[0]["field"].startswith(field), (field, value, info.value.data)


@dataclass
class Note:
    created_by: str = "nobody"


class NoteDict(TypedDict):
    created_by: str


class NoteModel(BaseModel):
    created_by: str = "nobody"


def test_camel_case_keys_name_parameters_only() -> None:
    """``createdBy`` fills the parameter ``created_by``, not a field of the same name inside an
    argument's dataclass or TypedDict: there it is an unknown key. (Those took the arguments'
    camelCase aliases as theirs, so a hook that checked ``note.created_by`` could be passed by
    a page that sent ``note.createdBy``.) A pydantic model keeps its own config."""

    def noted(created_by: str, note: Note, entry: NoteDict, model: NoteModel) -> None:
        pass

    command = Command.from_function(noted)
    command.prepare(frozenset())
    good = {"note": {"created_by": "a"}, "entry": {"created_by": "b"},
            "model": {"created_by": "c"}}
    for key in ("created_by", "createdBy"):
        bound = command.bind({key: "x", **good}, None, {})
        assert bound == {"created_by": "x", "note": Note("a"), "entry": {"created_by": "b"},
                         "model": NoteModel(created_by="c")}
    for field in ("note", "entry"):
        with pytest.raises(InvalidArgs) as info:
            command.bind({"createdBy": "x", **good, field: {"createdBy": "y"}}, None, {})
        assert f"{field}.createdBy" in [p["field"] for p in info.value.data], info.value.data
    model = command.bind({"createdBy": "x", **good, "model": {"createdBy": "y"}}, None, {})
    assert model["model"] == NoteModel()  # its own config ignores keys it does not know


def test_what_cannot_be_a_command_is_refused_when_registered(write_config) -> None:
    import functools

    app = make_app(write_config)

    def private(_secret: int) -> int:
        return _secret

    with pytest.raises(TypeError, match="parameter '_secret' cannot be an argument"):
        app.command(private)
    with pytest.raises(ValueError, match="has no name of its own: register it with"):
        app.command(functools.partial(private, 1))
    with pytest.raises(ValueError, match="command name '' must be an identifier"):
        app.command(name="")(private)
    with pytest.raises(ValueError, match="at most one prefix before a ':', as in 'files:read'"):
        app.command(name="has space")(private)
    with pytest.raises(TypeError, match="must be a function, not int"):
        app.command(5)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="listener of event 'tick' must be a function"):
        app.listen("tick", 5)  # type: ignore[arg-type]
    # A partial with a name given is fine.
    app.command(name="bound")(functools.partial(private, 1))

    # What could never work was taken, and failed at every call: a function no page can send
    # (invalid_args, "Input should be callable"), an async generator (internal: its result
    # could not be sent).
    def takes_a_function(key: Callable[[str], str] | None) -> None: ...

    async def streams() -> AsyncIterator[int]:
        yield 1

    with pytest.raises(TypeError, match="parameter 'key' takes a function, which a page cannot"):
        app.command(takes_a_function)
    with pytest.raises(TypeError, match=r"'streams' is an async generator.* on a Channel"):
        app.command(streams)
    with pytest.raises(TypeError, match=r"'streams' is an async generator"):  # decorated
        app.command(functools.wraps(streams)(lambda *a, **k: streams(*a, **k)))

    # A plain generator answered with a list of what it yielded: not what it reads as.
    def counts(n: int) -> Iterator[int]:
        yield from range(n)

    with pytest.raises(TypeError, match=r"'counts' is a generator, and a command answers once: "
                       "return the values as a list, or send them one by one on a Channel"):
        app.command(counts)

    def with_a_default(x: int, key: Callable[[str], str] = str.lower) -> None: ...

    app.command(with_a_default)  # (a page leaves it out)


async def test_commands_may_take_classes_defined_in_the_function_that_registers_them(
    write_config,
) -> None:
    """This module's hints are strings (``from __future__ import annotations``): a class that a
    function defines for its commands could not be named from them, and registering such a
    command raised 'name ... is not defined', decorated, called directly, sync or async."""

    class Tally:
        def __init__(self) -> None:
            self.value = 0

    class Spot(BaseModel):
        x: int

    @dataclass
    class Tag:
        name: str

    app = make_app(write_config, "allow-count", "allow-label", "allow-tag-name")
    app.manage(Tally())

    @app.command
    def count(tally: Tally) -> int:
        tally.value += 1
        return tally.value

    @app.command(name="label")
    async def spot_label(spot: Spot, tag: Tag) -> str:
        return f"{tag.name} at {spot.x}"

    def tag_name(tag: Tag, tally: Tally) -> str:
        return f"{tag.name} {tally.value}"

    app.command(tag_name)
    assert app.registry["count"].injected == {"tally": Tally}
    async with Client(app) as client:
        assert await client.invoke("count") == 1
        assert await client.invoke("count", {}) == 2
        sent = {"spot": {"x": 3}, "tag": {"name": "here"}}
        assert await client.invoke("label", sent) == "here at 3"
        assert await client.invoke("tag_name", {"tag": {"name": "t"}}) == "t 2"
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("label", {"spot": {"x": "three"}, "tag": {}})
        assert [p["field"] for p in info.value.data] == ["spot.x", "tag.name"]
        with pytest.raises(InvalidArgs) as info:  # state is the app's, never the page's
            await client.invoke("count", {"tally": {"value": 9}})
        assert [p["field"] for p in info.value.data] == ["tally"]


def build(app: App) -> None:
    """Named as the function of another module that defines the command it registers."""

    class Point(BaseModel):
        y: str

    for command in plugin_commands.build():
        app.command(command)


def test_a_command_registered_from_another_function_does_not_take_its_classes(
    write_config,
) -> None:
    """Only the function a command is defined in lends it its classes: registered from another
    one, a class of the same name there is not the command's (it names its module's classes,
    and here there is none of that name)."""
    app = make_app(write_config)

    class Point(BaseModel):  # the registering function's, unrelated to the command's own
        x: str
        admin: bool = True

    with pytest.raises(TypeError, match="name 'Point' is not defined"):
        for command in plugin_commands.build():
            app.command(command)
    assert "move" not in app.registry
    with pytest.raises(TypeError, match="name 'Point' is not defined"):
        build(app)  # (a function of the same name as the one that defines the command)


def test_a_hint_names_the_classes_of_where_its_function_is_defined(write_config) -> None:
    app = make_app(write_config)

    class Point(BaseModel):  # this function's own, beside the module's
        label: str

    @app.command
    def local_point(p: Point) -> str:
        return p.label

    app.command(module_point)
    assert app.registry["local_point"].hints["p"] is Point
    assert app.registry["module_point"].hints["p"] is globals()["Point"]
    with pytest.raises(TypeError, match=(
        "command 'lost': cannot resolve its type hints: name 'Nowhere' is not defined"
    )):

        @app.command
        def lost(thing: Nowhere) -> None: ...  # noqa: F821


def module_point(p: Point) -> int:
    """A command of the module: its hints name the module's classes, whoever registers it."""
    return p.x


@dataclass
class Notes:
    items: list[str]


class Theme(BaseModel):
    theme: str


async def test_a_parameter_of_state_never_managed_says_how_to_manage_it(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    """A command taking the app's state that was never managed asked the page for it, and the
    page was told only 'Field required'."""
    app = make_app(write_config, "allow-add-note", "allow-save", "allow-count")

    @app.command
    def add_note(text: str, notes: Notes) -> int:
        return len(notes.items)

    class Ledger:
        value = 0

    @app.command
    def count(ledger: Ledger) -> int:
        return ledger.value

    @app.command
    def save(settings: Theme) -> None: ...

    async with Client(app) as client:
        for _ in range(3):
            with pytest.raises(InvalidArgs) as info:
                await client.invoke("add_note", {"text": "x"})
        assert "Field required (of type Notes: if the command should get the app's own, " \
            "call app.manage(Notes(...)) before the app runs)" in info.value.message
        with pytest.raises(InvalidArgs) as info:  # a value in its place: the same hint
            await client.invoke("count", {"ledger": {"value": 1}})
        assert info.value.message.endswith("(of type Ledger: if the command should get the "
                                           "app's own, call app.manage(Ledger(...)) before the "
                                           "app runs)."), info.value.message
        with pytest.raises(InvalidArgs) as info:  # what pages send is not state: no hint
            await client.invoke("save", {})
        assert "manage" not in info.value.message
        app.manage(Notes(["a", "b"]))
        assert await client.invoke("add_note", {"text": "x"}) == 2
    said = [r.getMessage() for r in caplog.records if "without 'notes'" in r.getMessage()]
    assert len(said) == 1 and "app.manage(Notes(...))" in said[0]


async def test_a_channel_left_out_says_the_page_makes_it(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    """It was taken for state never managed: the page was told to call app.manage()."""
    app = make_app(write_config, "allow-stream")

    @app.command
    def stream(steps: int, progress: Channel[int]) -> None: ...

    async with Client(app) as client:
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("stream", {"steps": 2})
    assert info.value.message == (
        "Invalid arguments for 'stream': progress: Field required (a Channel, which the page "
        "makes: new Channel((message) => ...) in invoke's arguments)."
    )
    assert not [r for r in caplog.records if "without 'progress'" in r.getMessage()]


async def test_the_cores_errors_raised_in_a_command_name_the_command(write_config) -> None:
    """What a command tries to send a page and cannot (an event's name or payload, a channel's
    value) is its own mistake: its call fails with internal, the core's message kept, not with
    invalid_args, which would tell the page its arguments were wrong. In Python it is an
    InvalidArgs, for the command to catch."""
    app = make_app(write_config, "allow-announce", "allow-stream-lone", "core:event:default")
    caught: list[str] = []

    @app.command
    def announce(how: str) -> None:
        if how == "name":
            app.emit("bad name!", 1)
        elif how == "target":
            app.emit_to("a b", "note", 1)
        else:
            try:
                app.emit("note", "\ud800")
            except InvalidArgs as exc:
                caught.append(exc.message)
                raise

    @app.command
    def stream_lone(out: Channel) -> None:
        out.send("\ud800")

    async with Client(app) as client:
        await client.listen("note")
        for how, says in (("name", "bad name!"), ("target", "'a b'"), ("payload", "note")):
            with pytest.raises(InternalError) as info:
                await client.invoke("announce", {"how": how})
            assert info.value.message.startswith("'announce' failed: "), info.value.message
            assert says in info.value.message
        with pytest.raises(InternalError, match="'stream_lone' failed: A value sent on a "
                                                "channel cannot reach the page"):
            await client.invoke("stream_lone", {"out": client.channel()})
    assert caught and "cannot be sent to the windows" in caught[0]


@pytest.mark.parametrize(
    ("raised", "code"),
    [(NotFound, "not_found"), (Forbidden, "forbidden"), (InvalidArgs, "invalid_args"),
     (CallTimeout, "timeout"), (Blocked, "internal"), (ProtocolError, "internal")],
)
async def test_the_cores_error_classes_raised_by_a_command_keep_their_code_but_two(
    write_config, raised: type[IpcError], code: str
) -> None:
    """A command may reject with the codes of the core's classes it raises, but for the
    isolation hook's (blocked) and the wire's (protocol): raised by a command, those would
    tell the page something that did not happen."""
    app = make_app(write_config, "allow-refuse")

    @app.command
    def refuse() -> None:
        raise raised("no, as the command says", {"why": 1})

    async with Client(app) as client:
        with pytest.raises(IpcError) as info:
            await client.invoke("refuse")
    assert info.value.code == code
    assert info.value.message == "'refuse' failed: no, as the command says"


async def test_a_command_error_with_no_sentence_still_reads_as_one(write_config) -> None:
    app = make_app(write_config, "allow-quiet")

    @app.command
    def quiet() -> None:
        raise CommandError("")

    async with Client(app) as client:
        with pytest.raises(CommandError) as info:
            await client.invoke("quiet")
    assert info.value.message == "'quiet' failed."


async def test_what_check_reports_is_logged_as_the_core_starts(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    # A deny entry whose key is misspelt denies nothing; the app runs, and the log says so.
    data = grant_all("allow-greet")
    data["app"]["security"]["capabilities"][0]["permissions"].append(
        {"identifier": "allow-read", "deny": [{"Path": "$APP/secret/**"}]}
    )
    # ... and so does a permission no command has, which grants nothing.
    data["app"]["security"]["capabilities"].append(
        {"identifier": "odd", "windows": ["main"], "permissions": ["allow-gret"]}
    )
    app = App(load_config(write_config(data)))

    @app.command
    def read(path: str, scope: Scope) -> str:
        return str(scope.check_path(path))

    @app.command
    def greet() -> str:
        return "hi"

    def reported() -> list[str]:
        return [r.getMessage() for r in caplog.records if "python -m app check" in r.getMessage()]

    with caplog.at_level(logging.ERROR, logger="app.core"):
        async with Client(app) as client:
            assert await client.invoke("greet") == "hi"  # the app runs all the same
            deadline = asyncio.get_running_loop().time() + 10
            while len(reported()) < 2 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)  # the report is made on a worker thread
    lines = reported()
    assert len(lines) == 2, lines
    assert "$.app.security.capabilities[0].permissions[1].deny[0]" in lines[0]
    assert "'Path' is not a key the core reads; did you mean 'path'?" in lines[0]
    assert "app.conf.json: $.app.security.capabilities[1].permissions[0]:" in lines[1]
    assert "did you mean 'allow-greet'?" in lines[1]


async def test_a_command_named_with_a_prefix_has_the_prefixed_permissions(write_config) -> None:
    app = make_app(write_config, "files:allow-read-text")

    @app.command(name="files:read_text")
    def read_text() -> str:
        return "text"

    @app.command(name="files:remove")
    def remove() -> str:
        return "removed"

    async with Client(app) as c:
        assert await c.invoke("files:read_text") == "text"
        with pytest.raises(Forbidden, match="files:allow-remove"):
            await c.invoke("files:remove")
        with pytest.raises(NotFound) as info:
            await c.invoke("read_text")  # the function's own name is not the command's
        assert info.value.message == (
            "There is no command named 'read_text'; did you mean 'files:read_text'?"
        )
        # Only a command the window may call is named: its capabilities say no more.
        with pytest.raises(NotFound) as info:
            await c.invoke("remove")
        assert info.value.message == (
            "There is no command named 'remove'; check the name against the app's "
            "@app.command functions."
        )
        # A window's stream of misspelt names is told the closest for the first ones only (each
        # is a search through its commands on the core's loop); then as a name with none near.
        said = []
        for _ in range(pipeline.SUGGESTIONS + 5):
            with pytest.raises(NotFound) as info:
                await c.invoke("read_txt")
            said.append("did you mean 'files:read_text'?" in info.value.message)
        assert said == [True] * (pipeline.SUGGESTIONS - 2) + [False] * 7


async def test_a_call_abandoned_at_its_time_limit_ends_its_channels(write_config) -> None:
    """Its thread went on sending for as long as the page stayed open: a page could start
    commands that stream without end and give up on them, each costing the core for good."""
    app = make_app(write_config, "allow-stream", timeout_ms=300)
    stopped = threading.Event()
    sent = []

    @app.command
    def stream(progress: Channel) -> None:
        try:
            while True:
                progress.send(len(sent))
                sent.append(1)
                time.sleep(0.001)
        finally:
            stopped.set()

    async with Client(app) as c:
        with pytest.raises(CallTimeout, match=r"'stream' did not finish within 0\.3 s"):
            await c.invoke("stream", {"progress": c.channel()})
        assert await asyncio.to_thread(stopped.wait, 10)
        assert sent  # it ran, and sent, until then


def _block_and_ping(running: threading.Semaphore, release: threading.Event) -> dict[str, Command]:
    """Commands ``block`` (counts itself in ``running``, then waits for ``release``) and
    ``ping``."""

    def block() -> bool:
        running.release()
        return release.wait(30)

    def ping() -> str:
        return "pong"

    commands = {f.__name__: Command.from_function(f) for f in (block, ping)}
    for command in commands.values():
        command.prepare(frozenset())
    return commands


async def test_a_call_that_no_thread_took_in_time_says_it_did_not_run(caplog) -> None:
    """All threads held up by commands that do not return: a sync call times out waiting for
    one, and says so (not that it ran too long), and the log says why."""
    from app.core.dispatch import Dispatcher
    from app.core.workers import WorkerPool

    pool = WorkerPool(1, name="test-pool", growth=0)
    pool.start(asyncio.get_running_loop())
    dispatcher = Dispatcher(pool, timeout=0.3)
    running, release = threading.Semaphore(0), threading.Event()
    commands = _block_and_ping(running, release)
    try:
        held = asyncio.create_task(dispatcher.call(commands["block"], {}, None, {}))
        assert await asyncio.to_thread(running.acquire, True, 10)
        with caplog.at_level(logging.WARNING, "app.core.dispatch"):
            with pytest.raises(CallTimeout, match=r"'ping' did not start within 0\.3 s: all 1 ") \
                    as info:
                await dispatcher.call(commands["ping"], {}, None, {})
        assert info.value.message.endswith("It did not run.")
        assert "command threads are held up" in caplog.text
        with pytest.raises(CallTimeout, match=r"'block' did not finish within 0\.3 s"):
            await held
        release.set()
        pong = prepare("pong")  # (a sync command's result is encoded on its thread)
        assert await dispatcher.call(commands["ping"], {}, None, {}) == pong
    finally:
        release.set()
        pool.shutdown()


async def test_a_window_whose_sync_calls_block_leaves_threads_for_the_others() -> None:
    """One window may hold all the threads the pool may have but as many as it keeps, until
    its commands return, even once their calls have timed out: its other calls wait (and say so
    if they time out waiting), while another window's calls still run."""
    from types import SimpleNamespace

    from app.core.dispatch import Dispatcher
    from app.core.workers import WorkerPool

    pool = WorkerPool(1, name="test-pool", growth=2, grow_after=0.001)
    pool.start(asyncio.get_running_loop())
    dispatcher = Dispatcher(pool, timeout=0.5)
    assert dispatcher.window_share == 2
    running, release = threading.Semaphore(0), threading.Event()
    commands = _block_and_ping(running, release)

    def caller(window: str) -> SimpleNamespace:
        return SimpleNamespace(session=object(), caller=SimpleNamespace(window=window))

    try:
        held = [asyncio.create_task(dispatcher.call(commands["block"], {}, caller("main"), {}))
                for _ in range(2)]
        for _ in held:
            assert await asyncio.to_thread(running.acquire, True, 10)
        for _ in range(2):  # the second time, the calls that hold the threads have timed out
            with pytest.raises(CallTimeout, match=r"'ping' did not start within 0\.5 s: window "
                               r"'main' has 2 sync commands running, the most one window may, "
                               r"and they have not returned\. It did not run\."):
                await dispatcher.call(commands["ping"], {}, caller("main"), {})
        for task in held:
            with pytest.raises(CallTimeout, match=r"'block' did not finish within 0\.5 s"):
                await task
        pong = prepare("pong")  # (a sync command's result is encoded on its thread)
        assert await dispatcher.call(commands["ping"], {}, caller("settings"), {}) == pong
        release.set()  # the threads are free: so is main's share
        assert await dispatcher.call(commands["ping"], {}, caller("main"), {}) == pong
    finally:
        release.set()
        pool.shutdown()


async def test_a_sync_command_s_result_is_encoded_on_its_thread_not_the_loop(
    write_config,
) -> None:
    """A sync command never holds up the core's loop, its result included: a million models
    returned were encoded on the loop (each model dumped there), and every window's calls
    waited about a second. Models, dataclasses and bytes arrive as they did."""
    from pydantic import BaseModel, field_serializer

    encoded_on: set[int] = set()

    class Point(BaseModel):
        x: int

        @field_serializer("x")
        def _x(self, x: int) -> int:
            encoded_on.add(threading.get_ident())
            return x

    @dataclass
    class Box:
        points: list[Point]
        raw: bytes

    app = make_app(write_config, "allow-points", "allow-apoints")

    @app.command
    def points(n: int) -> Box:
        return Box([Point(x=i) for i in range(n)], b"\x00\xff")

    @app.command
    async def apoints(n: int) -> list[Point]:
        return [Point(x=i) for i in range(n)]

    loop_thread = threading.get_ident()
    async with Client(app) as page:
        assert await page.invoke("points", {"n": 3}) == {
            "points": [{"x": 0}, {"x": 1}, {"x": 2}], "raw": b"\x00\xff"}
        assert encoded_on and loop_thread not in encoded_on
        encoded_on.clear()
        assert await page.invoke("apoints", {"n": 2}) == [{"x": 0}, {"x": 1}]
        assert encoded_on == {loop_thread}  # an async command's, on the loop it runs on


async def test_a_sync_command_s_result_that_cannot_be_sent_is_encoded_once(write_config) -> None:
    """A result that failed to encode on its thread was encoded again on the loop (the same
    stall, and the app's serializers ran twice) before the page was told."""
    from pydantic import BaseModel, field_serializer

    dumped: list[int] = []

    class Point(BaseModel):
        x: int

        @field_serializer("x")
        def _x(self, x: int) -> int:
            dumped.append(threading.get_ident())
            return x

    app = make_app(write_config, "allow-mixed")

    @app.command
    def mixed() -> list[Any]:
        return [Point(x=1), object()]

    async with Client(app) as page:
        with pytest.raises(InternalError, match="The return value of 'mixed' cannot be sent"):
            await page.invoke("mixed")
    assert len(dumped) == 1 and dumped[0] != threading.get_ident()


def test_misspelt_names_are_not_counted_for_windows_gone_quiet(monkeypatch) -> None:
    """The count of each window's suggestions kept an entry for every window that ever made
    a misspelt call: an app that opens window after window gathered them for ever."""
    from types import SimpleNamespace

    from app.core import Origin, pipeline

    clock = [1000.0]
    monkeypatch.setattr(pipeline, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    core = SimpleNamespace(registry=SimpleNamespace(names=lambda: ["greet"]))
    suggest = pipeline._Suggestions(core)  # type: ignore[arg-type]
    allowed = {"allow-greet": True}
    for n in range(200):
        assert suggest(Caller(f"doc-{n}", Origin("local", "http://127.0.0.1")), allowed,
                       "gret") == "greet"
        clock[0] += 1
    assert len(suggest._spent) <= suggest.CALLERS + pipeline.SUGGESTIONS_WITHIN + 1
