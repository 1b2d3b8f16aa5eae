"""Values and listeners in Debian Chromium, in both patterns: binary values are taken as they
are at the call, what would change on the way is refused, and every call settles."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import Served

from .conftest import RECORD_SENDS
from .test_isolation_browser import open_page


@pytest.fixture
def served(either_pattern: Served) -> Served:
    return either_pattern


def page_of(browser: Browser, served: Served) -> Page:
    return open_page(browser, served.urls["main"])


# Both calls settle, each as it should: a buffer transferred (or shrunk) right after the call
# was made is sent as it was then, and the call beside it is not lost.
AFTER_THE_CALL = """async (how) => {
  const { invoke } = window.__APP__.core;
  const outcome = (p) => p.then((v) => ({ v: v instanceof Uint8Array ? Array.from(v) : v }),
                                (e) => ({ code: e.code, message: e.message }));
  const buffer = how === "resize" ? new ArrayBuffer(4, { maxByteLength: 8 }) : new ArrayBuffer(4);
  new Uint8Array(buffer).set([1, 2, 3, 4]);
  const echo = outcome(invoke("echo", { value: new Uint8Array(buffer) }, { timeoutMs: 10000 }));
  const greet = outcome(invoke("greet", { name: "beside" }, { timeoutMs: 10000 }));
  if (how === "transfer") structuredClone(buffer, { transfer: [buffer] });  // as to a worker
  else if (how === "resize") buffer.resize(1);
  else new Uint8Array(buffer)[0] = 99;
  return [await echo, await greet];
}"""


@pytest.mark.parametrize("how", ["transfer", "resize", "change"])
def test_a_buffer_changed_after_the_call_is_sent_as_it_was(
    browser: Browser, served: Served, how: str
) -> None:
    page = page_of(browser, served)
    echo, greet = page.evaluate(AFTER_THE_CALL, how)
    assert echo == {"v": [1, 2, 3, 4]}, echo
    assert greet == {"v": "Hello, beside!"}, greet


REFUSED = """async (make) => {
  const value = eval(make);
  return window.__APP__.core.invoke("echo", { value }).then(
    (v) => ({ v }), (e) => ({ code: e.code, message: e.message }));
}"""


@pytest.mark.parametrize(
    ("make", "why"),
    [
        ("new Blob(['abc'])", "a Blob or File in them would arrive as {}"),
        ("new File(['abc'], 'a.txt')", "a Blob or File in them would arrive as {}"),
        ("(() => { const b = new ArrayBuffer(4); const view = new Uint8Array(b); "
         "structuredClone(b, { transfer: [b] }); return view; })()", "detached"),
    ],
)
def test_values_that_would_arrive_as_something_else_are_refused(
    browser: Browser, served: Served, make: str, why: str
) -> None:
    page = page_of(browser, served)
    result = page.evaluate(REFUSED, make)
    assert result["code"] == "invalid_args", result
    assert why in result["message"] and "'echo'" in result["message"], result


def test_objects_json_writes_as_nothing_are_refused_and_plain_ones_go(
    browser: Browser, served: Served
) -> None:
    """A Promise not awaited, an Error, a RegExp, a WeakMap or a DOM node arrived as {}, and an
    invalid Date as null, with no word: refused, as a Map is."""
    page = page_of(browser, served)
    said = page.evaluate(
        """async () => {
            const { invoke } = window.__APP__.core;
            const makes = ["Promise.resolve(1)", "new TypeError('x')", "/a+/g", "new WeakMap()",
                           "new WeakSet()", "document.body", "new Date(NaN)"];
            const out = [];
            for (const make of makes) {
                out.push(await invoke("echo", { value: { inner: [eval(make)] } }).then(
                    (v) => ["resolved", v], (e) => [e.code, e.message]));
            }
            const plain = Object.assign(Object.create(null), { a: 1 });
            // An Error with a field of its own, or one that writes its own JSON, goes as JSON
            // writes it.
            class AppError extends Error { toJSON() { return { message: this.message }; } }
            out.push(await invoke("echo", { value: [plain, new Date(0), { b: [2] },
                Object.assign(new Error("m"), { code: 7 }), new AppError("boom")] }));
            return out;
        }"""
    )
    kinds = ["a Promise", "an Error", "a RegExp", "a WeakMap", "a WeakSet", "a DOM Node"]
    for (code, message), kind in zip(said[:6], kinds, strict=True):
        assert code == "invalid_args", said
        assert f"{kind} in them would arrive as {{}}" in message, said
        assert "(at value.inner.0)" in message, said
    assert said[6][0] == "invalid_args" and "an invalid Date in them would arrive as null" in \
        said[6][1], said
    assert said[7] == [{"a": 1}, "1970-01-01T00:00:00.000Z", {"b": [2]}, {"code": 7},
                       {"message": "boom"}], said


def test_once_needs_a_handler_as_listen_does(browser: Browser, served: Served) -> None:
    page = page_of(browser, served)
    result = page.evaluate(
        "window.__APP__.event.once('tick').then(() => 'resolved', (e) => [e.code, e.message])"
    )
    assert result == ["invalid_args", "once('tick') needs a handler function."]


def test_a_listener_removed_by_another_hears_no_more(browser: Browser, served: Served) -> None:
    page = page_of(browser, served)
    heard = page.evaluate(
        """async () => {
          const { listen, emit } = window.__APP__.event;
          const heard = [];
          let unlistenB = null;
          await listen("removal", (e) => { heard.push("a" + e.payload); unlistenB(); });
          unlistenB = await listen("removal", (e) => heard.push("b" + e.payload));
          await emit("removal", 1);
          // Each event is dispatched to all its listeners at once: a's turn ends it.
          while (heard.length < 1) await new Promise((r) => setTimeout(r, 10));
          await emit("removal", 2);
          while (heard.length < 2) await new Promise((r) => setTimeout(r, 10));
          return heard;
        }"""
    )
    assert heard == ["a1", "a2"]


def test_calls_settle_when_page_scripts_replace_timers_and_microtasks(
    browser: Browser, served: Served
) -> None:
    page = page_of(browser, served)
    result = page.evaluate(
        """async () => {
          const { invoke } = window.__APP__.core;
          const wait = (ms) => new Promise((r) => window.realSetTimeout(r, ms));
          window.realSetTimeout = window.setTimeout;
          window.queueMicrotask = () => {};
          window.setTimeout = () => 0;
          window.clearTimeout = () => {};
          const greeted = await invoke("greet", { name: "anyway" });
          // A call the core is slow to answer still times out on the page's own timer.
          const slow = invoke("wait", { ms: 2000 }, { timeoutMs: 200 }).then(
            () => "resolved", (e) => e.code);
          return [greeted, await Promise.race([slow, wait(5000).then(() => "hung")])];
        }"""
    )
    assert result == ["Hello, anyway!", "timeout"]


def test_a_large_resizable_buffer_is_sent(browser: Browser, served: Served) -> None:
    # Large values leave as a Blob, which refuses a view on a resizable buffer.
    page = page_of(browser, served)
    length = page.evaluate(
        """async () => {
          const buffer = new ArrayBuffer(2 << 20, { maxByteLength: 4 << 20 });
          new Uint8Array(buffer)[5] = 5;
          const back = await window.__APP__.core.invoke("echo", { value: new Uint8Array(buffer) });
          return [back.length, back[5]];
        }"""
    )
    assert length == [2 << 20, 5]


# Counts the keys that Object.keys and its kin make while large values are sent: binary values go
# as their bytes, and nothing of the runtime's may enumerate their elements (it did once, in the
# check for objects JSON writes as {}: a 10 MB upload took a second instead of 60 ms), nor the
# characters of a String object (a key each, enumerated twice: 1M characters took 400 ms).
KEYS_MADE = """async () => {
  const { invoke } = window.__APP__.core;
  let made = 0;
  for (const [owner, name] of [[Object, "keys"], [Object, "entries"], [Object, "values"],
                               [Object, "getOwnPropertyNames"], [Reflect, "ownKeys"]]) {
    const real = owner[name];
    owner[name] = function (...args) {
      const out = real.apply(this, args);
      made += out.length;
      return out;
    };
  }
  const bytes = new Uint8Array(2 << 20).fill(7);
  const back = [
    await invoke("echo", { value: bytes }),
    await invoke("echo", { value: { nested: [bytes.buffer] } }),
    await invoke("echo", { value: "x".repeat(2 << 20) }),
    await invoke("echo", { value: new String("y".repeat(2 << 20)) }),
  ];
  return { made, lengths: [back[0].length, back[1].nested[0].byteLength, back[2].length,
                           back[3].length] };
}"""


def test_sending_large_values_does_not_enumerate_them(browser: Browser, served: Served) -> None:
    page = page_of(browser, served)
    result = page.evaluate(KEYS_MADE)
    assert result["lengths"] == [2 << 20, 2 << 20, 2 << 20, 2 << 20], result
    assert result["made"] < 1000, result


# Counts the values that JSON.stringify hands a replacer while a large array goes with one binary
# value, one long string or one Channel in it: those are put in place in a copy, and the rest
# takes JSON.stringify's own path (through the replacer, a million numbers and 4 bytes took
# 300 ms to write, against 40). Under isolation the frame writes what its hook returns alike.
REPLACED = """async () => {
  const { invoke, Channel } = window.__APP__.core;
  const real = JSON.stringify;
  let replaced = 0;
  JSON.stringify = function (value, replacer, ...rest) {
    if (typeof replacer !== "function") return real.call(this, value, replacer, ...rest);
    return real.call(this, value, function (k, v) { replaced++; return replacer.call(this, k, v); },
                     ...rest);
  };
  const numbers = Array.from({ length: 100000 }, (_, i) => i);
  const channel = new Channel(() => {});
  const back = [
    await invoke("echo", { value: [...numbers, new Uint8Array([1, 2])] }),
    await invoke("echo", { value: [...numbers, "x".repeat(70000)] }),
    await invoke("echo", { value: { numbers, at: new Date(0), bytes: new Uint8Array(3) } }),
  ];
  await invoke("echo", { value: [...numbers, channel] }).catch(() => null);
  channel.close();
  JSON.stringify = real;
  return { replaced, lengths: [back[0].length, back[1][100000].length, back[2].bytes.length] };
}"""


def test_one_binary_value_does_not_send_the_whole_message_through_a_replacer(
    browser: Browser, served: Served
) -> None:
    page = page_of(browser, served)
    result = page.evaluate(REPLACED)
    assert result["lengths"] == [100001, 70000, 3], result
    assert result["replaced"] < 1000, result


def test_long_strings_go_as_text_and_come_back_the_same(browser: Browser, served: Served) -> None:
    # A string of 64K characters or more travels as its UTF-8 bytes beside the JSON, both ways.
    page = page_of(browser, served)
    page.evaluate(RECORD_SENDS)
    result = page.evaluate(
        """async () => {
          const { invoke } = window.__APP__.core;
          const long = (c) => c.repeat(70000);
          const shape = (v) => v instanceof Uint8Array ? ["bytes", ...v]
            : Array.isArray(v) ? v.map(shape)
            : v && typeof v === "object" ? Object.fromEntries(
                Object.entries(v).map(([k, x]) => [k, shape(x)]))
            : v;
          const values = [
            long("a"), long("é"), long("😀"),
            { deep: [{ x: long("b") }], "$__b": 1, "$$__b": long("c"), bin: new Uint8Array([7]) },
            [...Array(100).fill("s"), long("z")],
          ];
          const same = [];
          for (const value of values) {
            const back = await invoke("echo", { value });
            same.push(JSON.stringify(shape(back)) === JSON.stringify(shape(value)));
          }
          const lone = await invoke("echo", { value: long("x") + "\\ud800" }).then(
            () => "sent", (e) => [e.code, e.message]);
          return { same, lone, first: window.sent[0] };
        }"""
    )
    assert result["same"] == [True] * 5, result["same"]
    assert result["first"][0] == "binary", result["first"]  # not in a text frame
    code, message = result["lone"]
    assert code == "invalid_args" and "lone UTF-16 surrogate" in message, result["lone"]
