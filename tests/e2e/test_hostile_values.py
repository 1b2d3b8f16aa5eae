"""Values with bytes, long strings and Channels in them, sent as they were looked at, whatever a
hostile page script does to them or to the built-ins the runtime uses; and what an isolation
hook sees of a value's bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.conftest import Served, serving

from .test_isolation_browser import open_page
from .test_isolation_core import isolation_config


@pytest.fixture
def served(either_pattern: Served) -> Served:
    return either_pattern


# Each case: a message built in the page, echoed, and described back (bytes as lists).
ROUND_TRIPS = """async () => {
  const { invoke, Channel } = window.__APP__.core;
  const d = (v) => {
    if (v instanceof Uint8Array) return { bytes: Array.from(v) };
    if (typeof v === "string" && v.length > 100) return { long: v.length, head: v.slice(0, 3) };
    if (Array.isArray(v)) return v.map(d);
    if (v && typeof v === "object") {
      const o = {};
      for (const k of Object.keys(v)) Object.defineProperty(o, k, { value: d(v[k]),
        enumerable: true, writable: true, configurable: true });
      return o;
    }
    return v;
  };
  const out = (p) => p.then((v) => ({ v: d(v) }), (e) => ({ code: e.code, message: e.message }));
  const b = new Uint8Array([1, 2, 3]);
  const long = "L".repeat(70000);
  const buf = new ArrayBuffer(4); new Uint8Array(buf).set([9, 8, 7, 6]);
  const holes = [1, , 3]; holes[5] = b;
  const proto = JSON.parse('{"__proto__": {"x": 1}}'); proto.__proto__.y = b;
  const ch = new Channel(() => {});
  const cases = {
    protoKey: proto,
    markerKey: { "$__b": 0, v: b },
    markerKey2: { "$$__b": "x", v: b },
    markerKeyLong: { "$__b": 1, v: long },
    sameTwice: [b, b, { b }],
    bufferAndView: [buf, new Uint8Array(buf, 1, 2)],
    holes,
    date: [new Date(0), b],
    intKeys: { z: b, 2: b.subarray(1), 1: long, a: "s" },
    longKeyOnly: { ["K".repeat(70000)]: 1 },
    boxedLong: [new String(long), b],
    boxedBool: [new Boolean(false), new Number(3), b],
    channelAndBytes: { ch, b },
    nestedToJSON: { t: { toJSON: () => b }, b },
  };
  const results = {};
  for (const [name, value] of Object.entries(cases)) {
    results[name] = await out(invoke("echo", { value }, { timeoutMs: 10000 }));
  }
  results.protoKey = { v: JSON.stringify(results.protoKey.v) };  // (Playwright drops __proto__)
  results.nanBox = await out(invoke("echo", { value: [new Number(NaN), b] }, { timeoutMs: 10000 }));
  results.loneLong = await out(invoke("echo", { value: ["\\ud800" + long, b] },
                                     { timeoutMs: 10000 }));
  results.loneKey = await out(invoke("echo", { value: { ["\\ud800"]: b } }, { timeoutMs: 10000 }));
  const gone = new ArrayBuffer(4); structuredClone(gone, { transfer: [gone] });
  results.detached = await out(invoke("echo", { value: [gone, long] }, { timeoutMs: 10000 }));
  results.after = await out(invoke("echo", { value: b }, { timeoutMs: 10000 }));
  return results;
}"""


def test_round_trips(browser: Browser, served: Served) -> None:
    page = open_page(browser, served.urls["main"])
    r = page.evaluate(ROUND_TRIPS)
    b = {"bytes": [1, 2, 3]}
    long = {"long": 70000, "head": "LLL"}
    assert r["protoKey"] == {"v": '{"__proto__":{"x":1,"y":{"bytes":[1,2,3]}}}'}
    assert r["markerKey"] == {"v": {"$__b": 0, "v": b}}
    assert r["markerKey2"] == {"v": {"$$__b": "x", "v": b}}
    assert r["markerKeyLong"] == {"v": {"$__b": 1, "v": long}}
    assert r["sameTwice"] == {"v": [b, b, {"b": b}]}
    assert r["bufferAndView"] == {"v": [{"bytes": [9, 8, 7, 6]}, {"bytes": [8, 7]}]}
    assert r["holes"] == {"v": [1, None, 3, None, None, b]}
    assert r["date"] == {"v": ["1970-01-01T00:00:00.000Z", b]}
    assert r["intKeys"] == {"v": {"1": long, "2": {"bytes": [2, 3]}, "z": b, "a": "s"}}
    assert list(r["longKeyOnly"]["v"].values()) == [1]
    assert r["boxedLong"] == {"v": [long, b]}
    assert r["boxedBool"] == {"v": [False, 3, b]}
    assert r["channelAndBytes"]["v"]["b"] == b
    assert r["nestedToJSON"] == {"v": {"t": b, "b": b}}
    for name in ("nanBox", "loneLong", "loneKey", "detached"):
        assert r[name]["code"] == "invalid_args", (name, r[name])
    assert r["after"] == {"v": b}


# A getter that answers each read differently: what is sent is a value the runtime looked at
# (a copy made with a spread reads it once more), never bytes that reach the core unchecked.
GETTER = """async () => {
  const { invoke } = window.__APP__.core;
  let reads = 0;
  const value = { a: new Uint8Array([1]) };
  Object.defineProperty(value, "b", { enumerable: true, get() {
    reads++;
    return reads === 2 ? new Uint8Array([9, 9]) : 5;
  } });
  const back = await invoke("echo", { value }, { timeoutMs: 10000 }).then(
    (v) => ({ b: v.b instanceof Uint8Array ? { bytes: Array.from(v.b) } : v.b }),
    (e) => ({ code: e.code }));
  return { back, reads };
}"""


def test_a_getter_s_value_is_sent_as_what_was_looked_at(browser: Browser, served: Served) -> None:
    page = open_page(browser, served.urls["main"])
    r = page.evaluate(GETTER)
    # The bytes read by the spread arrive as an object of their elements, unseen by lift().
    assert r["back"]["b"] in (5, {"bytes": [9, 9]}), r


# A Channel whose id is a getter: safe integer on the first read, a deep value on the second.
CHANNEL_ID = """async () => {
  const { invoke, Channel } = window.__APP__.core;
  const ch = new Channel(() => {});
  let reads = 0;
  let deep = 1; for (let i = 0; i < 400; i++) deep = [deep];
  Object.defineProperty(ch, "id", { get() { return ++reads === 1 ? 7 : deep; } });
  return invoke("echo", { value: { ch, b: new Uint8Array(1) } }, { timeoutMs: 10000 }).then(
    () => "ok", (e) => ({ code: e.code, message: e.message.slice(0, 200) }));
}"""


def test_a_channel_with_an_id_getter_is_depth_checked(browser: Browser, served: Served) -> None:
    page = open_page(browser, served.urls["main"])
    r = page.evaluate(CHANNEL_ID)
    assert r != "ok"
    # The page's own check, not the core's (which would refuse the frame, calls beside it too).
    assert "nested more than 250" in r["message"], r


# ---- isolation: the hook and the shared buffer of packed() -----------------------------------

BUFFER_HOOK = """
const PNG = [0x89, 0x50, 0x4e, 0x47];
window.__ISOLATION_HOOK__ = (payload) => {
  if (payload.cmd !== "invoke" || payload.message.cmd !== "echo") return payload;
  const image = (payload.message.args.value || [])[1];
  if (!(image instanceof Uint8Array)) return null;
  // A check on the value's buffer (a common idiom: hash/sniff `x.buffer`).
  const whole = new Uint8Array(image.buffer);
  if (!PNG.every((b, i) => whole[i] === b)) return null;
  return payload;
};
"""


@pytest.fixture
def buffer_hooked(app_dir: Path) -> Iterator[Served]:
    with serving(isolation_config(app_dir, BUFFER_HOOK)) as served:
        yield served


SMUGGLE = """async () => {
  const { invoke } = window.__APP__.core;
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
  const evil = new TextEncoder().encode("#!/bin/sh evil");
  const out = (p) => p.then((v) => Array.from(v[1]), (e) => e.code);
  return {
    alone: await out(invoke("echo", { value: [evil, evil] })),
    smuggled: await out(invoke("echo", { value: [png, evil] })),
  };
}"""


def test_the_hook_s_view_of_a_value_s_buffer_is_that_value(
    browser: Browser, buffer_hooked: Served
) -> None:
    page = open_page(browser, buffer_hooked.urls["main"])
    r = page.evaluate(SMUGGLE)
    assert r["alone"] == "blocked"
    assert r["smuggled"] == "blocked", r


# Hostile page scripts that rewrite the built-ins the runtime uses to copy and hand over bytes:
# every call settles, and once the built-ins are put back, calls work again.
PATCHES = {
    "subarray-same": """(() => { const one = new Uint8Array(4);
        const real = Uint8Array.prototype.subarray;
        window.__undo = () => { Uint8Array.prototype.subarray = real; };
        Uint8Array.prototype.subarray = function () { return one; }; })""",
    "buffer-throws": """(() => {
        const proto = Object.getPrototypeOf(Uint8Array.prototype);
        const d = Object.getOwnPropertyDescriptor(proto, "buffer");
        window.__undo = () => Object.defineProperty(proto, "buffer", d);
        Object.defineProperty(proto, "buffer", { configurable: true,
          get() { throw new Error("no"); } }); })""",
    "buffer-shared-ish": """(() => {
        const proto = Object.getPrototypeOf(Uint8Array.prototype);
        const d = Object.getOwnPropertyDescriptor(proto, "buffer");
        window.__undo = () => Object.defineProperty(proto, "buffer", d);
        const other = new ArrayBuffer(8);
        Object.defineProperty(proto, "buffer", { configurable: true,
          get() { return other; } }); })""",
    "map-throws": """(() => { const real = Array.prototype.map;
        window.__undo = () => { Array.prototype.map = real; };
        Array.prototype.map = function (f) {
          if (this.length && this[0] instanceof Uint8Array) throw new Error("no");
          return real.call(this, f); }; })""",
    "set-noop": """(() => { const proto = Object.getPrototypeOf(Uint8Array.prototype);
        const real = proto.set;
        window.__undo = () => { proto.set = real; };
        proto.set = function () {}; })""",
    "flatMap-dup": """(() => { const real = Array.prototype.flatMap;
        window.__undo = () => { Array.prototype.flatMap = real; };
        Array.prototype.flatMap = function (f) { const r = real.call(this, f);
          return r.length ? [...r, r[0]] : r; }; })""",
}

HOSTILE_CALLS = """async (patch) => {
  const { invoke } = window.__APP__.core;
  await invoke("greet", { name: "first" });
  (0, eval)(patch)();
  const out = (p) => p.then((v) => "ok", (e) => e.code);
  const race = (p) => Promise.race([out(p),
    new Promise((r) => setTimeout(() => r("HUNG"), 8000))]);
  const calls = [
    invoke("echo", { value: [new Uint8Array([1, 2]), "x".repeat(70000)] }),
    invoke("echo", { value: new Uint8Array([3]) }),
    invoke("greet", { name: "beside" }),
  ];
  const during = await Promise.all(calls.map(race));
  window.__undo();
  const after = await race(invoke("echo", { value: new Uint8Array([4]) }));
  return { during, after };
}"""


@pytest.mark.parametrize("patch", list(PATCHES))
def test_hostile_patches_settle_every_call(browser: Browser, app_dir: Path, patch: str) -> None:
    with serving(isolation_config(app_dir)) as served:
        page = open_page(browser, served.urls["main"])
        r = page.evaluate(HOSTILE_CALLS, PATCHES[patch])
        assert "HUNG" not in r["during"], r
        assert r["after"] == "ok", r


# An array whose constructor names a species: a copy made with Array.prototype.slice would be
# what the species made, and JSON would write that, not the array.
SPECIES = """async () => {
  const { invoke } = window.__APP__.core;
  const list = [new Uint8Array([1]), 2];
  list.constructor = { [Symbol.species]: function () { return {}; } };
  const plain = [3, 4];
  plain.constructor = list.constructor;
  return Promise.all([
    invoke("echo", { value: list }, { timeoutMs: 10000 }).then(
      (v) => (Array.isArray(v) ? "array" : JSON.stringify(v)), (e) => e.code),
    invoke("echo", { value: [plain, "L".repeat(70000)] }, { timeoutMs: 10000 }).then(
      (v) => (Array.isArray(v[0]) ? "array" : JSON.stringify(v[0])), (e) => e.code),
  ]);
}"""


def test_an_array_arrives_as_an_array_whatever_its_species(
    browser: Browser, served: Served
) -> None:
    page = open_page(browser, served.urls["main"])
    assert page.evaluate(SPECIES) == ["array", "array"]


LOOKALIKE = """async () => {
  const { invoke } = window.__APP__.core;
  const b = new Uint8Array([5]);
  const back = await Promise.all([
    invoke("echo", { value: [{ "$__b": 0 }, b] }),
    invoke("echo", { value: [{ "$__b": 0 }, { "$$__b": 1 }, "L".repeat(70000)] }),
    invoke("echo", { value: { "$__b": 0 } }),
    invoke("echo", { value: [{ "$__ch": 1 }, b] }),
  ]);
  return JSON.stringify(back, (k, v) => (v instanceof Uint8Array ? { u8: Array.from(v) }
    : typeof v === "string" && v.length > 100 ? "LONG" : v));
}"""


def test_marker_lookalikes_arrive_as_sent(browser: Browser, served: Served) -> None:
    page = open_page(browser, served.urls["main"])
    assert page.evaluate(LOOKALIKE) == (
        '[[{"$__b":0},{"u8":[5]}],[{"$__b":0},{"$$__b":1},"LONG"],{"$__b":0},'
        '[{"$__ch":1},{"u8":[5]}]]'
    )


# The hook of each message sees a buffer holding that message's values only, however many
# messages are posted to the frame together.
OWN_BUFFER_HOOK = """
window.__ISOLATION_HOOK__ = (payload) => {
  if (payload.cmd === "invoke" && payload.message.cmd === "echo") {
    const v = payload.message.args.value;
    if (v instanceof Uint8Array) {
      payload.message.args.value = Array.from(new Uint8Array(v.buffer));
    }
  }
  return payload;
};
"""


def test_a_hook_cannot_read_another_message_s_bytes(browser: Browser, app_dir: Path) -> None:
    with serving(isolation_config(app_dir, OWN_BUFFER_HOOK)) as served:
        page = open_page(browser, served.urls["main"])
        r = page.evaluate("""async () => {
          const { invoke } = window.__APP__.core;
          return Promise.all([1, 2, 3].map((n) => invoke("echo", { value: new Uint8Array([n]) })));
        }""")
        assert r == [[1], [2], [3]]


# A page script makes packed() hand out views of one buffer of its own for every request of a
# batch (and the transfer list distinct buffers): in the frame, the values of two messages are
# then views of one buffer, and what one message's hook does to its own value (here: clears
# it in place, a plausible redaction) changes the other's after its hook approved it.
ALIAS_HOOK = """
window.__ISOLATION_HOOK__ = (payload) => {
  if (payload.cmd !== "invoke" || payload.message.cmd !== "echo") return payload;
  const v = payload.message.args.value;
  if (!(v instanceof Uint8Array)) return payload;
  if (v.includes(0)) return null;            // no zero bytes may reach the core
  if (v[0] === 0x52) v.fill(0);              // "R...": scrubbed, in place
  return payload;
};
"""

ALIAS = """async () => {
  const { invoke } = window.__APP__.core;
  await invoke("greet", { name: "first" });
  const proto = Object.getPrototypeOf(Uint8Array.prototype);
  const realSub = proto.subarray;
  const realSlice = proto.slice;
  const d = Object.getOwnPropertyDescriptor(proto, "buffer");
  const common = new Uint8Array(6);
  let n = 0;
  const spare = new Map();
  // (Whichever of the two the runtime copies a value with.)
  proto.subarray = proto.slice = function (a, b) {
    const view = new Uint8Array(common.buffer, 2 * n++, 4);  // A: bytes 0-3, B: bytes 2-5
    view.set(realSub.call(this, a, b));
    spare.set(view, new ArrayBuffer(1));
    return view;
  };
  Object.defineProperty(proto, "buffer", { configurable: true, get() {
    return spare.get(this) || d.get.call(this); } });
  const a = invoke("echo", { value: new Uint8Array([0x41, 0x41, 0x41, 0x41]) });  // AARR
  // (packed() copies each message into views of `common`, A at 0-3, B at 2-5: A is "AARR")
  const b = invoke("echo", { value: new Uint8Array([0x52, 0x52, 0x52, 0x52]) });
  await new Promise((r) => setTimeout(r, 0));  // post() has run
  proto.subarray = realSub;
  proto.slice = realSlice;
  Object.defineProperty(proto, "buffer", d);
  const out = (p) => p.then((v) => Array.from(v), (e) => e.code);
  return [await out(a), await out(b)];
}"""


def test_a_hook_s_change_to_its_message_does_not_reach_another(
    browser: Browser, app_dir: Path
) -> None:
    with serving(isolation_config(app_dir, ALIAS_HOOK)) as served:
        page = open_page(browser, served.urls["main"])
        r = page.evaluate(ALIAS)
        # A's hook saw "AARR" (no zero byte) and let it through.
        assert r[0] in ("blocked", "invalid_args", [0x41, 0x41, 0x52, 0x52]), r


# A Date whose toJSON() is not the Date's own goes as what that toJSON() gives, checked as any
# value is (it was taken for a plain Date, and its output went unchecked).
DATE_TO_JSON = """async () => {
  const { invoke } = window.__APP__.core;
  const out = (p) => p.then((v) => v instanceof Uint8Array ? Array.from(v) : v, (e) => e.code);
  const bytes = new Date(0);
  bytes.toJSON = () => new Uint8Array([1, 2]);
  const nan = new Date(0);
  nan.toJSON = () => NaN;
  return [await out(invoke("echo", { value: bytes })), await out(invoke("echo", { value: nan })),
          await out(invoke("echo", { value: [new Date(0)] }))];
}"""


def test_a_date_with_a_tojson_of_its_own_goes_as_what_it_gives(
    browser: Browser, served: Served
) -> None:
    page = open_page(browser, served.urls["main"])
    assert page.evaluate(DATE_TO_JSON) == [[1, 2], "invalid_args", ["1970-01-01T00:00:00.000Z"]]
