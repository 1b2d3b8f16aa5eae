"""Events through the core, with in-process clients standing in for windows."""

from __future__ import annotations

import asyncio
import re

import pytest

from app.core import App, Event, Forbidden, InvalidArgs, load_config
from app.core.events import MAX_LISTENED, EventBus
from app.core.testing import Client
from app.core.transport.backlog import HIGH_WATER, Backlog

from .conftest import grant_all


def make_app(write_config, *permissions: str) -> App:
    return App(load_config(write_config(grant_all(*permissions, windows=["main", "settings"]))))


async def test_unlisten_stops_delivery_at_the_core(write_config) -> None:
    app = make_app(write_config, "core:event:default")
    async with Client(app) as page:
        await page.listen("tick")
        await page.listen("fence")
        app.emit("tick", 1)
        assert (await page.next_event())["payload"] == 1
        await page.request({"kind": "unlisten", "event": "tick"})
        app.emit("tick", 2)
        app.emit("fence", "after")
        # Delivery keeps order: had the core still sent 'tick', it would come before 'fence'.
        got = await page.next_event()
        assert (got["event"], got["payload"]) == ("fence", "after")
        assert page.events.empty()
        assert app.core is not None and app.core.events.listened() == {"fence"}


async def test_names_nobody_listens_to_are_not_kept(write_config) -> None:
    app = make_app(write_config, "core:event:default")
    async with Client(app, window="settings") as other:
        assert app.core is not None
        async with Client(app) as page:
            for n in range(200):
                await page.listen(f"name-{n}")
                await page.request({"kind": "unlisten", "event": f"name-{n}"})
            await page.listen("kept")
            await other.listen("shared")
            await page.listen("shared")
            assert app.core.events.listened() == {"kept", "shared"}
        # A window that goes away takes its subscriptions with it, and only its own.
        assert app.core.events.listened() == {"shared"}


async def test_a_pages_emit_reaches_python_and_the_windows_it_targets(write_config) -> None:
    app = make_app(write_config, "core:event:default")
    heard: asyncio.Queue[Event] = asyncio.Queue()

    async def on_note(event: Event) -> None:
        heard.put_nowait(event)

    app.listen("note", on_note)
    async with Client(app) as main, Client(app, window="settings") as settings:
        await main.listen("note")
        await settings.listen("note")
        await main.emit("note", {"to": "all"})
        python_side = await asyncio.wait_for(heard.get(), 5)
        assert (python_side.payload, python_side.source) == ({"to": "all"}, "main")
        for page in (main, settings):
            got = await page.next_event()
            assert (got["payload"], got["source"]) == ({"to": "all"}, "main")
        await main.emit("note", "only settings", target="settings")
        got = await settings.next_event()
        assert (got["payload"], got["source"]) == ("only settings", "main")
        # emitTo reaches that window alone: not main, and not Python (a broadcast fence shows
        # what Python heard in between).
        await main.emit("note", "fence")
        assert (await asyncio.wait_for(heard.get(), 5)).payload == "fence"
        assert (await main.next_event())["payload"] == "fence"


@pytest.mark.parametrize("label", ["", "a b", "main\n", "é", 5])
async def test_a_target_that_cannot_be_a_window_label_is_refused(write_config, label) -> None:
    """From Python and from a page alike: an event sent to no possible window is a mistake
    to hear of, not a silent no-op."""
    app = make_app(write_config, "core:event:default")
    with pytest.raises(InvalidArgs, match="is not valid: a label is made of letters"):
        app.emit_to(label, "note", 1)
    async with Client(app) as page:
        with pytest.raises(InvalidArgs, match="is not valid: a label is made of letters"):
            app.emit_to(label, "note", 1)
        if isinstance(label, str):
            with pytest.raises(InvalidArgs, match=re.escape(f"Window label {label!r} is not")):
                await page.emit("note", 1, target=label)
        await page.emit("note", 1, target="settings")  # a label no window has yet: fine


async def test_emit_to_none_is_refused_not_sent_to_every_window(write_config) -> None:
    """``app.emit_to(event.source, ...)`` with an event Python emitted (its source is None)
    sent the payload meant for one window to every window and to Python's listeners."""
    app = make_app(write_config, "core:event:default")
    heard: list[object] = []
    app.listen("note", lambda event: heard.append(event.payload))
    async with Client(app, window="main") as main, Client(app, window="settings") as other:
        await main.listen("note")
        await other.listen("note")
        with pytest.raises(InvalidArgs, match="emit_to\\(\\) needs a window's label, not None"):
            app.emit_to(None, "note", "for one window only")  # type: ignore[arg-type]
        app.emit_to("main", "note", "for main")
        assert (await main.next_event())["payload"] == "for main"
        app.emit("note", "for all")
        assert (await main.next_event())["payload"] == "for all"
        assert (await other.next_event())["payload"] == "for all"
        assert "for one window only" not in heard


async def test_listening_and_emitting_need_their_permissions(write_config) -> None:
    app = make_app(write_config, "core:event:allow-listen")
    async with Client(app) as page:
        await page.listen("open")
        with pytest.raises(Forbidden, match="core:event:allow-emit"):
            await page.emit("open", 1)
        with pytest.raises(Forbidden, match="core:event:allow-emit-to"):
            await page.emit("open", 1, target="settings")
    app = make_app(write_config, "core:event:allow-emit")
    async with Client(app) as page:
        with pytest.raises(Forbidden, match="core:event:allow-listen"):
            await page.listen("open")


async def test_an_event_that_cannot_reach_a_page_is_refused_where_it_is_emitted(
    write_config,
) -> None:
    app = make_app(write_config, "core:event:default")
    deep: object = "leaf"
    for _ in range(300):
        deep = [deep]
    async with Client(app) as page:
        await page.listen("news")
        # From Python: raised on the caller's thread (here a worker's), not logged at delivery.
        for payload in (deep, object()):
            with pytest.raises(InvalidArgs, match="payload of event 'news' cannot be sent"):
                await asyncio.to_thread(app.emit, "news", payload)
        # The client refuses it before sending, as a page does (the core's own check, for a
        # page that sends it anyway, is in tests/e2e/test_credentials.py).
        with pytest.raises(InvalidArgs, match="cannot be sent"):
            await page.emit("news", deep)
        app.emit("news", "fine")
        assert (await page.next_event())["payload"] == "fine"

    # With no window listening, Python listeners get any object, as before.
    heard: asyncio.Queue[Event] = asyncio.Queue()

    async def on_local(event: Event) -> None:
        heard.put_nowait(event)

    app.listen("local", on_local)
    async with Client(app):
        marker = object()
        app.emit("local", marker)
        assert (await asyncio.wait_for(heard.get(), 5)).payload is marker


async def test_emitting_before_the_app_starts_goes_nowhere_and_does_not_raise(
    write_config,
) -> None:
    app = make_app(write_config, "core:event:default")
    heard: asyncio.Queue[Event] = asyncio.Queue()

    async def on_early(event: Event) -> None:
        heard.put_nowait(event)

    app.listen("early", on_early)
    app.emit("early", {"any": "json"})  # as a module might, before app.run()
    app.emit_to("main", "early", 1)
    with pytest.raises(InvalidArgs):
        app.emit("not a valid name!", 1)  # a bad name is still an error
    async with Client(app) as page:
        await page.listen("early")
        app.emit("early", "after")
        got = await page.next_event()
        assert (got["event"], got["payload"]) == ("early", "after")
        assert page.events.empty()
        assert (await asyncio.wait_for(heard.get(), 5)).payload == "after"
        assert heard.empty()


class Page:
    label = "main"
    backlog = Backlog(HIGH_WATER, limit=2**62)

    def deliver_encoded(self, encoded: object) -> None:
        pass


def test_a_page_listens_to_a_bounded_number_of_events() -> None:
    """Names a page listens to are kept while it is connected: a page listening to a million
    names held 500 MB, and every other page's disconnect scanned them all."""
    bus = EventBus()
    page, other = Page(), Page()
    for n in range(MAX_LISTENED):
        bus.subscribe(f"e{n}", page)
    bus.subscribe("e0", page)  # one it listens to already: no more room needed
    with pytest.raises(InvalidArgs, match=f"listens to {MAX_LISTENED} events at most"):
        bus.subscribe("one-more", page)
    bus.subscribe("one-more", other)  # the bound is each page's
    bus.unsubscribe("e1", page)
    bus.subscribe("one-more", page)
    bus.drop(page)
    assert bus.listened() == {"one-more"}  # only the other page's
    bus.drop(other)
    assert bus.listened() == set()


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_pages_emits_wait_for_their_listeners_when_its_places_are_full(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's emits take places of its window's for their Python listeners (sync ones: half
    the threads the pool keeps; async ones: LISTENER_TASKS): one that emits faster than they
    run waits for them (and says so when it times out), instead of queueing jobs without end
    on the threads every window's commands use, or tasks without end on the loop."""
    import threading

    from app.core import events
    from app.core.errors import CallTimeout
    from app.core.workers import WorkerPool

    monkeypatch.setattr(events, "LISTENER_TASKS", 2)
    pool = WorkerPool(4, name="test-pool", growth=2, grow_after=0.001)
    pool.start(asyncio.get_running_loop())
    bus = EventBus()
    bus.bind(asyncio.get_running_loop(), pool)
    started, release = threading.Semaphore(0), threading.Event()
    heard: list[int] = []

    def slow(event: Event) -> None:
        heard.append(event.payload)
        started.release()
        release.wait(10)

    async def slow_async(event: Event) -> None:
        heard.append(event.payload)
        started.release()
        await asyncio.to_thread(release.wait, 10)

    bus.listen("flood", slow if kind == "sync" else slow_async)
    emit = {"target": None, "source": "main", "timeout": 0.3}
    try:
        for n in (1, 2):  # the window's two places
            await bus.publish_from_page("flood", n, **emit)
            assert await asyncio.to_thread(started.acquire, True, 10)
        late = r"listeners of 'flood' could not all start within 0\.3 s"
        with pytest.raises(CallTimeout, match=late):
            await bus.publish_from_page("flood", 3, **emit)
        # Another window's events have places of their own.
        await bus.publish_from_page("flood", 5, **{**emit, "source": "settings"})
        assert await asyncio.to_thread(started.acquire, True, 10)
        waiting = asyncio.create_task(bus.publish_from_page("flood", 4, **{**emit, "timeout": 10}))
        await asyncio.sleep(0.05)
        assert not waiting.done() and heard == [1, 2, 5]
        release.set()  # the listeners return: their places are free again
        await waiting
        assert await asyncio.to_thread(started.acquire, True, 10)
        assert heard == [1, 2, 5, 4]
    finally:
        release.set()
        pool.shutdown()


async def test_a_listener_that_keeps_raising_does_not_fill_the_log(
    write_config, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first failures are logged with their traceback, the rest counted, and the count is
    said when its time comes even if no failure follows: 40 emits to a listener that raises
    wrote 40 tracebacks (a page's 20,000, 160,000 lines)."""
    import logging

    from app.core import events

    monkeypatch.setattr(events, "FAILURES_EVERY", 0.2)

    app = make_app(write_config, "core:event:default")
    done = asyncio.Event()
    calls = 0

    async def broken(event: Event) -> None:
        nonlocal calls
        calls += 1
        if calls == 40:
            done.set()
        raise ValueError(f"broken {event.payload}")

    app.listen("note", broken)
    with caplog.at_level(logging.ERROR, logger="app.core"):
        async with Client(app) as main:
            for n in range(40):
                await main.emit("note", n)
            await asyncio.wait_for(done.wait(), 5)
            for _ in range(250):  # until the count is said, at most 5 s
                if any("(40 in all)" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.02)
    records = [r for r in caplog.records if "of event 'note' raised" in r.getMessage()]
    shown, counted = records[:3], records[3:]
    assert all(r.exc_info is not None for r in shown)
    assert "later failures are counted" in shown[-1].getMessage()
    # A line at most every FAILURES_EVERY: one, or a few on a slow machine; they add up.
    said = [re.search(r"raised (\d+) more times", r.getMessage()) for r in counted]
    assert all(said) and sum(int(m.group(1)) for m in said if m) == 37, counted
    assert "(40 in all)" in counted[-1].getMessage()


def test_removing_a_python_listener_twice_leaves_its_other_registrations() -> None:
    """The function listen() returns took, called again, another registration of the same
    handler away: that one heard nothing more either."""
    bus = EventBus()
    heard: list[object] = []
    first = bus.listen("tick", heard.append)
    second = bus.listen("tick", heard.append)
    first()
    first()
    assert bus._handlers["tick"] == [heard.append]  # the second registration's
    second()
    assert "tick" not in bus._handlers


async def test_async_listeners_of_every_kind_run_on_the_loop(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    """An object whose __call__ is async and a partial of an async function run on the core's
    loop as async listeners (an object's ran on a thread, which dropped its coroutine
    unawaited). A plain function that returns a coroutine is said to be one, with what to
    write (run, it would have no place among the window's async listeners)."""
    import functools
    import threading

    app = make_app(write_config, "core:event:default")
    heard: asyncio.Queue[tuple[str, object, bool]] = asyncio.Queue()
    loop_thread = threading.get_ident()

    class Listener:
        async def __call__(self, event: Event) -> None:
            heard.put_nowait(("object", event.payload, threading.get_ident() == loop_thread))

    async def tagged(tag: str, event: Event) -> None:
        heard.put_nowait((tag, event.payload, threading.get_ident() == loop_thread))

    app.listen("note", Listener())
    app.listen("note", functools.partial(tagged, "partial"))
    app.listen("note", lambda event: tagged("lambda", event))
    async with Client(app) as page:
        app.emit("note", 1)
        await page.emit("note", 2)
        got = sorted([await asyncio.wait_for(heard.get(), 5) for _ in range(4)])

        async def both_said() -> None:  # (the lambda's thread job ends soon after)
            while caplog.text.count("returned a coroutine without being an async function") < 2:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(both_said(), 5)
    assert got == sorted((tag, n, True) for tag in ("object", "partial") for n in (1, 2))
    assert heard.empty()
    assert "define it with 'async def'" in caplog.text


def test_a_pages_emits_still_wait_for_their_listeners_after_the_app_restarts(
    write_config,
) -> None:
    """The places a window's emits take for their Python listeners belong to a run of the
    core: kept by the app, they were bound to the first run's loop, and in the next run a
    page whose emits had to wait for a place failed them with 'internal'."""
    import threading

    app = make_app(write_config, "core:event:default")
    release, started = threading.Event(), threading.Semaphore(0)

    def slow(event: Event) -> None:
        started.release()
        release.wait(10)

    app.listen("flood", slow)

    async def run() -> None:
        release.clear()
        async with Client(app) as page:
            assert app.core is not None
            places = max(1, app.core.workers.size // 2)
            emits = [asyncio.create_task(page.emit("flood", n)) for n in range(places + 2)]
            for _ in range(places):  # the places are all taken: the next emits wait
                assert await asyncio.to_thread(started.acquire, True, 10)
            release.set()
            await asyncio.gather(*emits)

    # Each run on a loop of its own, on a thread of its own: the browser tests' client keeps
    # a loop running on this one.
    import concurrent.futures

    for _ in range(2):
        with concurrent.futures.ThreadPoolExecutor(1) as runner:
            runner.submit(asyncio.run, run()).result(60)


def test_event_names_nobody_listens_to_any_more_are_not_kept(write_config) -> None:
    """Python listeners of names that come and go (one per document, say) left an empty list
    behind each: 10,000 names listened to once, then not, were kept for good."""
    app = make_app(write_config, "core:event:default")
    for n in range(100):
        app.listen(f"doc-{n}", lambda event: None)()
    stop_a, stop_b = app.listen("kept", print), app.listen("kept", repr)
    stop_a()
    assert list(app.events._handlers) == ["kept"]
    stop_b()
    stop_b()  # (again: nothing more to take away)
    assert not app.events._handlers
