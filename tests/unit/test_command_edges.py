"""Commands written in less usual ways: parameter names, injected types behind Optional or
Annotated, channels nested in arguments, commands that cancel or will not be cancelled, start
hooks that fail, values JSON would change, and errors of the app's own classes."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
import typing
from typing import Annotated, Any, Optional

import pytest
from pydantic import Base64Bytes, BaseModel, Field, field_serializer, field_validator

from app.core import (
    App,
    Channel,
    CommandError,
    InternalError,
    InvalidArgs,
    StartError,
    Window,
    load_config,
)
from app.core.testing import Client

from .conftest import grant_all


def new_app(write_config, *commands: str, timeout_ms: int = 30_000) -> App:
    data = grant_all(*(f"allow-{c.replace('_', '-')}" for c in commands))
    data["app"]["ipc"] = {"commandTimeoutMs": timeout_ms}
    return App(load_config(write_config(data)))


async def test_sync_commands_may_name_parameters_func_and_self(write_config) -> None:
    # They once collided with the worker pool's own parameters: every call failed.
    app = new_app(write_config, "run", "method_like")

    @app.command
    def run(func: str) -> str:
        return func

    @app.command
    def method_like(self: int) -> int:
        return self

    async with Client(app) as client:
        assert await client.invoke("run", {"func": "f"}) == "f"
        assert await client.invoke("method_like", {"self": 3}) == 3


def test_names_pydantic_keeps_are_refused_at_registration(write_config) -> None:
    app = new_app(write_config)
    for name in ("model_config", "model_extra", "model_dump"):
        with pytest.raises(TypeError, match=f"parameter '{name}' cannot be an argument"):
            app.command(name="c_" + name)(eval(f"lambda {name}: {name}"))


def test_a_name_and_its_camel_case_twin_are_refused(write_config) -> None:
    app = new_app(write_config)

    def twins(first_name: str, firstName: str = "?") -> str:
        return first_name + firstName

    with pytest.raises(TypeError, match="'first_name' and 'firstName' would both take"):
        app.command(twins)


class Plain(typing.TypedDict):  # typing's, which pydantic refuses before Python 3.12
    a: int


async def test_a_type_pydantic_cannot_validate_names_its_command(write_config) -> None:
    app = new_app(write_config, "td")

    @app.command
    def td(t: Plain) -> Any:
        return t

    with pytest.raises(TypeError, match="command 'td': its arguments cannot be validated"):
        async with Client(app):
            pass
    assert app.core is None


class Order(BaseModel):
    lines: list[OrderLnie]  # type: ignore[name-defined]  # noqa: F821 (misspelt, on purpose)


class Basket(BaseModel):
    items: list[Item]  # defined below: resolved by the time the app starts


class Item(BaseModel):
    name: str


async def test_a_type_that_names_no_type_is_found_as_the_app_starts(write_config) -> None:
    """A misspelt forward reference in an argument's model passed the start and 'check', and
    failed every call with 'internal'."""
    app = new_app(write_config, "place")

    @app.command
    def place(order: Order) -> None: ...

    with pytest.raises(TypeError, match="command 'place': its arguments cannot be validated "
                                        "from their type hints: name 'OrderLnie' is not defined"):
        async with Client(app):
            pass
    assert app.core is None
    app = new_app(write_config, "fill")

    @app.command
    def fill(basket: Basket) -> list[str]:
        return [item.name for item in basket.items]

    async with Client(app) as client:
        assert await client.invoke("fill", {"basket": {"items": [{"name": "a"}]}}) == ["a"]


class Store:
    def __init__(self) -> None:
        self.items = ["a"]


async def test_injected_types_behind_optional_or_annotated_are_injected(write_config) -> None:
    app = new_app(write_config, "optional_window", "annotated_window", "optional_state")
    app.manage(Store())

    @app.command
    def optional_window(window: Optional[Window] = None) -> str:  # noqa: UP045 (typing's spelling, on purpose)
        return window.label if window else "none"

    @app.command
    def annotated_window(window: Annotated[Window, "the caller"]) -> str:
        return window.label

    @app.command
    def optional_state(store: Store | None = None) -> list[str]:
        return store.items if store else []

    async with Client(app) as client:
        assert await client.invoke("optional_window") == "main"
        assert await client.invoke("annotated_window") == "main"
        assert await client.invoke("optional_state") == ["a"]


class Job(BaseModel, arbitrary_types_allowed=True):
    name: str
    progress: Channel


async def test_channels_anywhere_in_the_arguments_reach_the_page(write_config) -> None:
    app = new_app(write_config, "many", "in_model")

    @app.command
    def many(channels: list[Channel]) -> int:
        for i, channel in enumerate(channels):
            channel.send(i)
        return len(channels)

    @app.command
    async def in_model(job: Job) -> str:
        job.progress.send(job.name)
        return "done"

    async with Client(app) as client:
        first, second, third = client.channel(), client.channel(), client.channel()
        assert await client.invoke("many", {"channels": [first, second]}) == 2
        assert await client.invoke("in_model", {"job": {"name": "j", "progress": third}}) == "done"
        assert client.channels == {1: [0], 2: [1], 3: ["j"]}


async def test_an_async_command_that_cancels_itself_is_answered(write_config) -> None:
    app = new_app(write_config, "self_cancel")

    @app.command
    async def self_cancel() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(1)

    async with Client(app) as client:
        for _ in range(2):  # answered each time, and the core goes on
            with pytest.raises(InternalError, match="'self_cancel' failed with an unexpected"):
                await client.invoke("self_cancel")


async def test_an_async_command_that_will_not_stop_is_answered_after_its_limit(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    app = new_app(write_config, "stubborn", timeout_ms=200)
    stop = asyncio.Event()

    @app.command
    async def stubborn() -> None:
        while not stop.is_set():
            try:
                await stop.wait()
            except asyncio.CancelledError:
                pass  # as a careless command does

    async with Client(app) as client:
        with caplog.at_level(logging.ERROR, logger="app.core.dispatch"):
            with pytest.raises(Exception) as info:
                await client.invoke("stubborn")
        stop.set()  # let it end, so that the test's loop can
    assert getattr(info.value, "code", None) == "timeout"
    assert "did not stop when it was cancelled" in str(info.value)
    assert any("did not stop when cancelled" in r.getMessage() for r in caplog.records)


async def test_a_start_hook_that_fails_stops_the_start_and_leaves_nothing_running(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    app = new_app(write_config)

    @app.on_start
    def connect(app: App) -> None:
        raise ConnectionError("no database")

    with caplog.at_level(logging.ERROR, logger="app.core.app"):
        with pytest.raises(StartError, match=r"on_start function .*connect failed"):
            async with Client(app):
                pass
    assert app.core is None
    assert "on_start function" in caplog.text and "no database" in caplog.text


def test_a_start_hook_that_cannot_take_the_app_is_refused_as_it_is_registered(
    write_config,
) -> None:
    app = new_app(write_config)

    def zero() -> None:
        pass

    def two(app: App, other: int) -> None:
        pass

    for func in (zero, two):
        with pytest.raises(TypeError, match=rf"define it as def {func.__name__}\(app\)"):
            app.on_start(func)
    with pytest.raises(TypeError, match="takes a function, not int"):
        app.on_start(5)  # type: ignore[arg-type]
    app.on_start(lambda app, extra=1: None)  # one with a default for the rest is fine
    app.on_start(print)  # one Python cannot look into is taken as it is
    assert len(app._on_start) == 2


def test_a_listener_that_cannot_take_the_event_is_refused_as_it_is_registered(
    write_config,
) -> None:
    """As on_start is: it failed only when an event came, with a TypeError in the log."""
    app = new_app(write_config)
    with pytest.raises(TypeError, match=r"the listener of event 'x' is called as <lambda>\(\) "
                       r"with the event as its one argument; define it as def <lambda>\(event\)"):
        app.listen("x", lambda: None)

    async def two(event: object, other: int) -> None:
        pass

    with pytest.raises(TypeError, match=r"define it as def two\(event\)"):
        app.listen("x", two)
    app.listen("x", lambda event, extra=1: None)
    app.listen("x", print)
    assert len(app.events._handlers["x"]) == 2


async def test_a_plain_start_hook_runs_on_a_thread_and_says_so_if_it_wants_asyncio(
    write_config,
) -> None:
    app = new_app(write_config)
    threads: list[str] = []

    @app.on_start
    def prepare(app: App) -> None:
        threads.append(threading.current_thread().name)
        asyncio.get_event_loop().create_task(asyncio.sleep(0))

    with pytest.raises(StartError, match="runs on a worker thread, which has no event loop: "
                       "make it 'async def' to use asyncio"):
        async with Client(app):
            pass
    assert threads and threads[0] != threading.main_thread().name


async def test_a_start_given_up_during_a_plain_start_hook_leaves_nothing_running(
    write_config,
) -> None:
    app = new_app(write_config)
    release = threading.Event()
    app.on_start(lambda app: release.wait(10))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(app.start(), 0.3)
    release.set()
    assert app.core is None  # and it starts again
    async with Client(app):
        assert app.core is not None


async def test_an_async_start_hooks_task_is_named_after_it(write_config) -> None:
    """As the log names a task that will not end when cancelled as the app ends."""
    app = new_app(write_config)

    @app.on_start
    async def clock(app: App) -> None:
        await asyncio.Event().wait()

    async with Client(app):
        assert app.core is not None
        names = [task.get_name() for task in app.core.background]  # type: ignore[attr-defined]
    assert names == ["on_start function test_an_async_start_hooks_task_is_named_after_it."
                     "<locals>.clock"]


async def test_an_async_start_hook_that_fails_is_logged(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    app = new_app(write_config, "ping")
    failed = asyncio.Event()

    @app.on_start
    async def clock(app: App) -> None:
        failed.set()
        raise ValueError("the clock broke")

    @app.command
    def ping() -> str:
        return "pong"

    with caplog.at_level(logging.ERROR, logger="app.core.app"):
        async with Client(app) as client:
            await failed.wait()
            assert await client.invoke("ping") == "pong"  # the app goes on
    records = [r for r in caplog.records if "on_start function" in r.getMessage()]
    assert len(records) == 1
    assert records[0].exc_info is not None and "the clock broke" in str(records[0].exc_info[1])


async def test_large_integers_go_both_ways_as_json_has_them(write_config) -> None:
    # 2**60 is a number a page holds exactly and may send; what it sent comes back.
    app = new_app(write_config, "echo_number")

    @app.command
    def echo_number(value: int) -> list[int]:
        return [value, -value, 2**53 - 1]

    async with Client(app) as client:
        assert await client.invoke("echo_number", {"value": 2**60}) == [2**60, -(2**60), 2**53 - 1]


class Broken(BaseModel):
    x: int

    @field_serializer("x")
    def _boom(self, value: int) -> int:
        raise ValueError("serializer boom")


async def test_a_failing_serializer_is_logged_with_its_cause(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    """The page is told what raised (not orjson's "Type is not JSON serializable: Broken",
    which sent the app's author after the wrong cause); its words stay in the log."""
    app = new_app(write_config, "broken", "broken_async")

    @app.command
    def broken() -> Broken:
        return Broken(x=1)

    @app.command
    async def broken_async() -> Broken:
        return Broken(x=1)

    async with Client(app) as client:
        with caplog.at_level(logging.ERROR):
            for name in ("broken", "broken_async"):
                with pytest.raises(InternalError) as info:
                    await client.invoke(name)
                assert info.value.message == (
                    f"The return value of '{name}' cannot be sent to the page: making its "
                    "Broken JSON raised ValueError."), info.value.message
    records = [r for r in caplog.records if "cannot be serialized" in r.getMessage()]
    assert len(records) == 2, records
    for record in records:
        assert record.exc_info is not None and "serializer boom" in str(record.exc_info[1])


async def test_an_error_whose_data_cannot_be_sent_keeps_its_code(write_config) -> None:
    app = new_app(write_config, "refuse")

    @app.command
    def refuse() -> None:
        raise CommandError("nope", object())

    async with Client(app) as client:
        with pytest.raises(CommandError) as info:
            await client.invoke("refuse")
    assert info.value.code == "command_failed"
    assert "nope (Its data cannot be sent to the page" in info.value.message


class MissingField(InvalidArgs):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is missing", {"field": field})


async def test_an_apps_own_error_class_keeps_its_code(write_config) -> None:
    app = new_app(write_config, "strict")

    @app.command
    def strict() -> None:
        raise MissingField("name")

    async with Client(app) as client:
        with pytest.raises(InvalidArgs) as info:
            await client.invoke("strict")
    assert info.value.message == "'strict' failed: name is missing"
    assert info.value.data == {"field": "name"}


class Greeter:
    def __call__(self, name: str) -> str:
        return f"Hi {name}"


class AsyncGreeter:
    async def __call__(self, name: str) -> str:
        return f"Hey {name}"


async def test_objects_with_call_can_be_commands(write_config) -> None:
    app = new_app(write_config, "greeter", "async_greeter")
    app.command(name="greeter")(Greeter())
    app.command(name="async_greeter")(AsyncGreeter())
    async with Client(app) as client:
        assert await client.invoke("greeter", {"name": "a"}) == "Hi a"
        assert await client.invoke("async_greeter", {"name": "b"}) == "Hey b"
    assert app.registry["async_greeter"].is_async


async def test_a_test_that_stops_waiting_for_a_call_cancels_its_command(write_config) -> None:
    app = new_app(write_config, "slow")
    started, cancelled = asyncio.Event(), asyncio.Event()

    @app.command
    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with Client(app) as client:
        call = asyncio.ensure_future(client.invoke("slow"))
        await started.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await cancelled.wait()  # the command was cancelled, not left to run its 30 s


async def test_serving_from_inside_a_running_loop_says_what_to_do(write_config) -> None:
    app = new_app(write_config)
    with pytest.raises(RuntimeError, match=r"await app\.start\(\) and app\.stop\(\)"):
        app.serve()
    assert app.core is None


async def test_open_window_says_what_is_wrong_with_a_window(write_config) -> None:
    """Bad values raise a ValueError naming the field (not pydantic's own report), and a label
    already open says where the open ones are listed; the core goes on serving."""
    app = new_app(write_config)
    async with Client(app):
        url = await app.open_window("tool-1")
        assert "/__app__/launch" in url and "tool-1" in app.window_labels()
        cases = [
            ({"label": "bad label"}, "cannot open window 'bad label': label: 'bad label' is not"),
            ({"label": ""}, "cannot open window '': label:"),
            ({"label": "t2", "url": "https://example.com/"}, "url: a page of the frontend"),
            ({"label": "t2", "width": 5}, "width: Input should be greater than or equal to 100"),
            ({"label": "tool-1"}, "already a window labelled 'tool-1'; app.window_labels()"),
        ]
        for fields, message in cases:
            label = fields.pop("label")
            with pytest.raises(ValueError) as info:
                await app.open_window(label, **fields)
            assert message in str(info.value), str(info.value)
            assert "pydantic" not in str(info.value)
        assert sorted(app.window_labels()) == ["main", "tool-1"]


async def test_an_async_start_hook_ends_before_the_core_it_uses_stops(write_config) -> None:
    """An on_start coroutine cancelled as the app stops ends before the core does: its last
    steps (a goodbye, a file closed) ran after the core had stopped, or not at all if the
    app's loop ended first."""
    app = App(load_config(write_config(grant_all("core:event:default"))))
    seen: list[str] = []
    running = asyncio.Event()

    @app.on_start
    async def clock(app: App) -> None:
        try:
            running.set()
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.05)  # its cleanup takes a moment
            # The app is still up: its windows are there, a last emit reaches them.
            seen.append(f"cleaned up, windows {app.window_labels()}")

    async with Client(app):
        assert app.core is not None
        core = app.core
        assert len(core.background) == 1
        await running.wait()
    assert seen == ["cleaned up, windows ['main']"]
    assert not core.background  # done, and let go


async def test_an_on_start_task_that_stops_the_app_itself_ends_the_core(write_config) -> None:
    """A task cancelled itself in waiting for the tasks to end, and the core ran on."""
    app = new_app(write_config)
    stopped = asyncio.Event()

    @app.on_start
    async def quit_at_once(app: App) -> None:
        await app.stop()
        stopped.set()

    await app.start()
    assert app.core is not None
    port = app.core.server.window_port("main")
    await asyncio.wait_for(stopped.wait(), 10)
    assert app.core is None
    with pytest.raises(ConnectionRefusedError):  # its listener closed: the core stopped
        await asyncio.open_connection("127.0.0.1", port)


async def test_a_second_stop_returns_once_the_app_has_stopped(write_config) -> None:
    """A stop made while another waited for the on_start tasks returned at once, the app still
    up (its listener open, start() refused as 'already running')."""
    app = new_app(write_config)
    running = asyncio.Event()

    @app.on_start
    async def slow_to_end(app: App) -> None:
        try:
            running.set()
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.2)

    await app.start()
    assert app.core is not None
    port = app.core.server.window_port("main")
    await running.wait()
    first = asyncio.create_task(app.stop())
    await asyncio.sleep(0)  # the first stop is under way, waiting for the task's cleanup
    assert app.core.stopping is not None and not first.done()
    await app.stop()
    assert app.core is None
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await first


async def test_on_start_functions_after_one_that_stopped_the_app_do_not_run(
    write_config,
) -> None:
    app = new_app(write_config)
    ran: list[str] = []

    @app.on_start
    async def quit_at_once(app: App) -> None:
        await app.stop()

    @app.on_start
    def slow(app: App) -> None:
        time.sleep(0.3)  # the first stops the app meanwhile
        ran.append("slow")

    @app.on_start
    async def later(app: App) -> None:
        ran.append("later")

    await app.start()
    for _ in range(3):  # turns of the loop in which a task made by start() would have run
        await asyncio.sleep(0)
    assert ran == ["slow"] and app.core is None, ran


async def test_parameters_named_as_model_methods_work_without_warnings(
    write_config, recwarn: pytest.WarningsRecorder
) -> None:
    app = new_app(write_config, "shadowing")

    @app.command
    def shadowing(json: str, copy: int, schema: bool, validate: list[int], dict: str) -> list:
        return [json, copy, schema, validate, dict]

    async with Client(app) as client:
        args = {"json": "j", "copy": 1, "schema": True, "validate": [2], "dict": "d"}
        assert await client.invoke("shadowing", args) == ["j", 1, True, [2], "d"]
    said = [str(w.message) for w in recwarn]
    assert not [s for s in said if "shadows" in s], said


async def test_a_command_returning_an_endless_iterator_fails_at_once(write_config) -> None:
    """An iterator is known only once read to its end: itertools.count() was read on and on,
    holding the GIL, until the process ran out of memory. Every iterator is refused, saying
    so, and the core goes on."""
    app = new_app(write_config, "endless", "endless_async", "finite", "greet")

    @app.command
    def endless() -> object:
        return itertools.count()

    @app.command
    async def endless_async() -> object:
        return itertools.repeat(0)

    @app.command
    def finite() -> object:
        return {"values": (i for i in range(3))}

    @app.command
    def greet(name: str) -> str:
        return f"Hello, {name}!"

    async with Client(app) as client:
        for name, kind in [("endless", "count"), ("endless_async", "repeat"),
                           ("finite", "generator")]:
            with pytest.raises(InternalError) as info:
                await asyncio.wait_for(client.invoke(name), 10)
            assert info.value.message == (
                f"The return value of '{name}' cannot be sent to the page: a {kind} cannot be "
                "sent: an iterator is only known once it is read to its end, which may be "
                "never; send a list."), info.value.message
        assert await client.invoke("greet", {"name": "still here"}) == "Hello, still here!"


async def test_a_default_or_alias_in_annotated_field_stands(write_config) -> None:
    """``Annotated[int, Field(default=5)]`` was required, and ``Field(alias="uid")`` gave way
    to the camelCase name, as pydantic's own validate_call does not."""
    app = new_app(write_config, "page")

    @app.command
    def page(
        size: Annotated[int, Field(default=5, ge=1)],
        user_id: Annotated[int, Field(alias="uid")] = 0,
    ) -> list[int]:
        return [size, user_id]

    async with Client(app) as client:
        assert await client.invoke("page", {}) == [5, 0]
        assert await client.invoke("page", {"size": 2, "uid": 7}) == [2, 7]
        assert await client.invoke("page", {"user_id": 8}) == [5, 8]
        with pytest.raises(InvalidArgs, match="size: Input should be greater than or equal"):
            await client.invoke("page", {"size": 0})
        with pytest.raises(InvalidArgs, match="userId: Extra inputs are not permitted"):
            await client.invoke("page", {"userId": 8})


async def test_bytearray_memoryview_and_base64_parameters_take_what_a_page_sends(
    write_config,
) -> None:
    """bytearray and memoryview parameters took nothing a page can send (pydantic wanted those
    very types), and Base64Bytes refused base64 text (the strict bytes came before its
    decoder)."""
    app = new_app(write_config, "blobs")

    @app.command
    def blobs(
        buffer: bytearray, view: memoryview, text: Base64Bytes, many: list[bytearray]
    ) -> list[str]:
        return [type(buffer).__name__, bytes(view).decode(), text.decode(),
                type(many[0]).__name__]

    async with Client(app) as client:
        args = {"buffer": b"a", "view": b"b", "text": "aGk=", "many": [b"c"]}
        assert await client.invoke("blobs", args) == ["bytearray", "b", "hi", "bytearray"]
        with pytest.raises(InvalidArgs, match="buffer: Input should be a valid bytes"):
            await client.invoke("blobs", {**args, "buffer": "a"})  # text is not bytes


class _Odd(BaseException):
    """A library's own base exception."""


class _Checked(BaseModel):
    value: int

    @field_validator("value")
    @classmethod
    def _check(cls, value: int) -> int:
        if value == -1:
            raise SystemExit(3)
        if value == -2:
            raise _Odd("odd")
        if value == -3:
            raise RuntimeError("broken validator")
        return value


async def test_what_an_arguments_own_check_raises_fails_that_call_alone(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    """Validation ran outside the call's guard: sys.exit() in a validator ended the core's
    loop (every window's IPC with it), and a BaseException of a library's own left the call
    unanswered."""
    app = new_app(write_config, "checked")

    @app.command
    def checked(item: _Checked) -> int:
        return item.value

    async with Client(app) as client:
        for value, raised in ((-1, "SystemExit"), (-2, "_Odd"), (-3, "RuntimeError")):
            with pytest.raises(InternalError, match="'checked' failed as its arguments were "
                                                    "checked, with an unexpected error"):
                await asyncio.wait_for(client.invoke("checked", {"item": {"value": value}}), 5)
            assert raised in caplog.text
        assert await client.invoke("checked", {"item": {"value": 7}}) == 7


async def test_a_client_call_running_as_the_app_stops_is_answered(write_config) -> None:
    """A page's calls are cancelled as the app stops, and the page told; a testing client's
    call in flight then waited for ever (its time limit's timer had gone with the core)."""
    app = new_app(write_config, "hang", timeout_ms=60_000)
    started = asyncio.Event()

    @app.command
    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    client = Client(app)
    await client.__aenter__()
    call = asyncio.ensure_future(client.invoke("hang"))
    await asyncio.wait_for(started.wait(), 5)
    await app.stop()
    with pytest.raises(InternalError, match="The app stopped before 'hang' was answered"):
        await asyncio.wait_for(call, 5)
    await client.__aexit__(None, None, None)


async def test_arguments_that_are_not_an_object_are_named_as_a_page_knows_them(
    write_config,
) -> None:
    """Not Python's type names ("not str", "not list"), which a page's author never wrote."""
    app = new_app(write_config, "greet")

    @app.command
    def greet(name: str) -> str:
        return f"Hello, {name}!"

    async with Client(app) as client:
        for args, kind in [("World", "text"), ([1], "an array"), (7, "a number"),
                           (2.5, "a number"), (True, "true or false"), (b"x", "binary data")]:
            with pytest.raises(InvalidArgs) as info:
                await client.invoke("greet", args)  # type: ignore[arg-type]
            assert info.value.message == (
                f"The arguments of 'greet' must be an object of named values, not {kind}.")
