"""A hostile script in the main frame tries every way around the isolation hook, in Chromium.

The script has the page's full power: it patches WebSocket.prototype.send to find the
runtime's socket and see every frame, listens to the frame's replies, sends whatever it likes
on the socket, and adds frames of its own. Each attempt fails, and legitimate calls keep working.
The app runs the demo's own hook, which refuses reset_demo (a command the capability allows),
and a CSP that lets the page connect and frame anywhere, so that no attempt is stopped by the
page's own policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import Served, serving

from .conftest import TAKE_PORTS
from .test_isolation_core import isolation_config

# Installed in the page after it loaded, as a malicious dependency would run.
HOSTILE = """() => {
  const realSend = WebSocket.prototype.send;
  const h = { socket: null, sent: [], holding: false, held: [], results: [] };
  WebSocket.prototype.send = function (data) {
    h.socket = this;
    if (typeof data === 'string') h.sent.push(...JSON.parse(data));
    if (h.holding) { h.held.push(data); return; }
    return realSend.call(this, data);
  };
  // Results posted to the page, as far as the page's own scripts can see them (the runtime
  // reads the frame's with the getter as it was, and no other listener hears them).
  const data = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data').get;
  Object.defineProperty(MessageEvent.prototype, 'data', { get() {
    const value = data.call(this);
    if (value && Array.isArray(value.results)) h.results.push(...value.results);
    return value;
  } });
  window.addEventListener('message', (e) => e.data);  // and every message the window gets
  h.sealed = () => h.sent.filter((m) => m.kind === 'sealed');
  // Send raw messages on the runtime's socket; resolve with the answers to their ids.
  h.send = (messages) => new Promise((resolve) => {
    const want = new Set(messages.map((m) => m.id));
    const got = new Map();
    const hear = (e) => {
      if (typeof e.data !== 'string') return;
      for (const m of JSON.parse(e.data)) {
        if (m.kind === 'reply' && want.has(m.id)) got.set(m.id, m);
        if (m.kind === 'notice') got.set('notice' + got.size, m);
      }
      if (messages.every((m) => got.has(m.id))) {
        h.socket.removeEventListener('message', hear);
        resolve(messages.map((m) => got.get(m.id)));
      }
    };
    h.socket.addEventListener('message', hear);
    realSend.call(h.socket, JSON.stringify(messages));
  });
  h.release = () => { h.holding = false; const held = h.held; h.held = [];
                      for (const d of held) realSend.call(h.socket, d); };
  window.hostile = h;
}"""

# Posts forged readiness, failures, refusals and results to its parent, every 5 ms.
FORGE = """
const forged = [];
for (let n = 1; n <= 250; n++) {
  forged.push({ n, error: { code: 'blocked', message: 'forged refusal' } });
  forged.push({ n, seq: n, ct: 'AAAAAAAAAAAAAAAAAAAAAA==' });
}
const blast = () => {
  parent.postMessage({ ready: true }, '*');
  parent.postMessage({ failed: 'a forged failure' }, '*');
  parent.postMessage({ results: forged }, '*');
};
blast();
setInterval(blast, 5);
"""

# Loaded by a page of the app's own, after the runtime: takes whatever port a message hands
# over and closes it (from its own listener, which no stopImmediatePropagation() stops, and from
# the event's ports getter, whoever reads it), makes every port's postMessage, addEventListener
# and start do nothing, and has messages lie about where they come from.
CUT_OFF = """
window.stolen = 0;
const close = MessagePort.prototype.close;
const take = (ports) => { for (const port of ports) { close.call(port); window.stolen++; } };
window.addEventListener('message', (e) => take(e.ports), true);
Event.prototype.stopImmediatePropagation = function () {};
const ports = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'ports').get;
Object.defineProperty(MessageEvent.prototype, 'ports', {
  get() { const given = ports.call(this); take(given); return given; } });
Object.defineProperty(MessageEvent.prototype, 'source', { get() { return null; } });
Object.defineProperty(Object.prototype, 'then', { configurable: true,
  get() { return this && this.kind === 'sealed' ? () => {} : undefined; } });
MessagePort.prototype.postMessage = function () {};
MessagePort.prototype.addEventListener = function () {};
MessagePort.prototype.start = function () {};
"""

# Two calls from that page: one the hook lets through, one it blocks; each answered (or not).
CUT_OFF_CALLS = """() => Promise.all(['greet', 'reset_demo'].map((cmd) =>
    Promise.race([window.__APP__.core.invoke(cmd, { name: 'x' }).catch((e) => e.code),
                  new Promise((r) => setTimeout(() => r('no answer in 10 s'), 10000))])))"""


def add_cut_off_page(frontend: Path) -> None:
    (frontend / "cut-off.html").write_text(
        '<!doctype html><html><head><script src="cut-off.js"></script></head></html>'
    )
    (frontend / "cut-off.js").write_text(CUT_OFF)


INVOKE = "([cmd, args]) => window.__APP__.core.invoke(cmd, args)"


@pytest.fixture
def served(app_dir: Path) -> Iterator[Served]:
    frontend = app_dir / "frontend"
    # A page of the app's own origin that forges the isolation frame's messages to its parent.
    (frontend / "forge.html").write_text(
        '<!doctype html><html><head><script src="forge.js"></script></head></html>'
    )
    (frontend / "forge.js").write_text(FORGE)
    add_cut_off_page(frontend)
    config = isolation_config(app_dir)
    # The page's own CSP would stop some attempts early; open it up so they reach the core.
    data = json.loads(config.read_text())
    data["app"]["security"]["csp"] = "default-src 'self'; connect-src *; frame-src *"
    config.write_text(json.dumps(data))
    with serving(config, windows=2) as served:
        yield served


def hostile_page(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.dismiss())  # nobody confirms anything
    page.goto(url)
    page.wait_for_function("() => window.__APP__ !== undefined")
    page.evaluate(HOSTILE)
    # One legitimate call shows the hostile script the runtime's socket.
    assert page.evaluate(INVOKE, ["greet", {"name": "first"}]) == "Hello, first!"
    return page


def taking_ports(browser: Browser) -> BrowserContext:
    """A context whose pages take the runtime's channel to the frame (``TAKE_PORTS``)."""
    context = browser.new_context()
    context.add_init_script(TAKE_PORTS)
    return context


def codes(replies: list[dict[str, Any]]) -> list[str]:
    return [r["error"]["code"] if not r.get("ok") else "ok" for r in replies]


def items(page: Page) -> list[int]:
    return [item["id"] for item in page.evaluate(INVOKE, ["list_items", {}])]


def test_sending_on_the_transport_directly_gets_nothing_run(
    browser: Browser, served: Served
) -> None:
    page = hostile_page(browser.new_context(), served.urls["main"])
    captured = page.evaluate("window.hostile.sealed()[0]")
    attempts = [
        # plaintext, as in the brownfield pattern, with and without arguments
        {"id": 900001, "kind": "invoke", "cmd": "delete_item", "args": {"id": 1}},
        {"id": 900010, "kind": "invoke", "cmd": "reset_demo", "args": {}},
        {"id": 900002, "kind": "invoke", "cmd": "read_config", "args": {}},
        {"id": 900003, "kind": "invoke", "cmd": "read_config"},
        {
            "id": 900004,
            "kind": "invoke",
            "cmd": "read_file",
            "args": {"path": "frontend/secret/key.txt"},
        },
        {"id": 900005, "kind": "emit", "event": "ping", "payload": "plain"},
        # empty bodies, and sealed messages without a ciphertext that opens
        {"id": 900006},
        {"id": 900007, "kind": "sealed"},
        {"id": 900008, "kind": "sealed", "kid": captured["kid"], "seq": captured["seq"] + 1},
        {
            "id": 900009,
            "kind": "sealed",
            "kid": captured["kid"],
            "seq": captured["seq"] + 1,
            "ct": "",
        },
    ]
    replies = page.evaluate("(m) => window.hostile.send(m)", attempts)
    assert codes(replies) == ["protocol"] * len(attempts), replies
    # Nothing of it ran: the item is still there, and the page's calls go on in sequence.
    assert 1 in items(page)
    # The hook still has its say (reset_demo), and so do the capabilities (the secret path).
    refused = page.evaluate(
        """async () => [
            await window.__APP__.core.invoke('reset_demo', {}).catch((e) => e.code),
            await window.__APP__.core.invoke('read_file', {path: 'frontend/secret/key.txt'})
                .catch((e) => e.code)]"""
    )
    assert refused == ["blocked", "forbidden"]
    assert page.evaluate(INVOKE, ["greet", {"name": "still"}]) == "Hello, still!"


def test_captured_ciphertexts_cannot_be_replayed_modified_or_reordered(
    browser: Browser, served: Served
) -> None:
    page = hostile_page(browser.new_context(), served.urls["main"])
    # Replayed as sent on the socket, and under another id. (What the frame posts to the page
    # no script of the page sees: the runtime reads it with MessageEvent's getters as they were.)
    sent = page.evaluate("window.hostile.sealed()[0]")
    assert page.evaluate("window.hostile.results") == []
    again = [sent, {**sent, "id": 900100}]
    assert codes(page.evaluate("(m) => window.hostile.send(m)", again)) == ["protocol"] * 2
    # Held back on their way out, then altered or swapped before they reach the core.
    page.evaluate(
        """() => {
            window.hostile.holding = true;
            window.pair = Promise.all([
                window.__APP__.core.invoke('greet', { name: 'one' }),
                window.__APP__.core.invoke('greet', { name: 'two' })]);
        }"""
    )
    page.wait_for_function("() => window.hostile.held.length > 0")
    one, two = page.evaluate("window.hostile.held.flatMap((d) => JSON.parse(d))")
    flipped = one["ct"][:8] + ("A" if one["ct"][8] != "A" else "B") + one["ct"][9:]
    tampered = [{**one, "id": 900200, "ct": flipped}]
    assert codes(page.evaluate("(m) => window.hostile.send(m)", tampered)) == ["protocol"]
    swapped = [{**two, "id": 900201}]
    assert codes(page.evaluate("(m) => window.hostile.send(m)", swapped)) == ["protocol"]
    # In order and untouched they still go through: delayed, not lost.
    page.evaluate("window.hostile.release()")
    assert page.evaluate("window.pair") == ["Hello, one!", "Hello, two!"]
    assert page.evaluate(INVOKE, ["greet", {"name": "on"}]) == "Hello, on!"


def test_a_call_whose_sealed_message_was_altered_is_refused_naming_it(
    browser: Browser, served: Served
) -> None:
    """The core refuses a sealed message that does not open without reading what it was for;
    the page's error names the call all the same."""
    page = hostile_page(browser.new_context(), served.urls["main"])
    page.evaluate(
        """() => {
            window.hostile.holding = true;
            window.refused = window.__APP__.core.invoke('greet', { name: 'x' })
                .then(() => null, (e) => ({ code: e.code, message: e.message }));
        }"""
    )
    page.wait_for_function("() => window.hostile.held.length > 0")
    page.evaluate(
        """() => {
            const [m] = JSON.parse(window.hostile.held[0]);
            m.ct = (m.ct[0] === 'A' ? 'B' : 'A') + m.ct.slice(1);
            window.hostile.held[0] = JSON.stringify([m]);
            window.hostile.release();
        }"""
    )
    refused = page.evaluate("window.refused")
    assert refused["code"] == "protocol", refused
    assert refused["message"].startswith("'greet': A sealed message did not decrypt"), refused


def test_a_message_that_overtook_one_held_back_is_refused_and_later_ones_go_on(
    browser: Browser, served: Served
) -> None:
    """A is held back on its way; B, sealed after it, reaches the core first and is refused;
    then A comes and runs. B's number is passed over: the page does not send B again, and its
    later calls went on being refused for want of it."""
    page = hostile_page(browser.new_context(), served.urls["main"])
    page.evaluate(
        """() => { window.hostile.holding = true;
                   window.held = window.__APP__.core.invoke('greet', { name: 'held' }); }"""
    )
    page.wait_for_function("() => window.hostile.held.length > 0")
    overtaking = page.evaluate(
        """async () => { window.hostile.holding = false;
            return await window.__APP__.core.invoke('greet', { name: 'early' }).then(
                (v) => v, (e) => e.code + ': ' + e.message); }"""
    )
    assert overtaking.startswith("protocol: 'greet': Sealed message number "), overtaking
    assert "reordered or dropped on the way" in overtaking
    page.evaluate("window.hostile.release()")
    assert page.evaluate("window.held") == "Hello, held!"
    after = page.evaluate(
        """() => Promise.all(['one', 'two', 'three'].map((name) =>
            window.__APP__.core.invoke('greet', { name })))"""
    )
    assert after == ["Hello, one!", "Hello, two!", "Hello, three!"]


def test_a_ciphertext_from_another_window_is_refused(browser: Browser, served: Served) -> None:
    context = browser.new_context()
    main = hostile_page(context, served.urls["main"])
    other = hostile_page(context, served.urls["other"])
    # Sealed in the other window, and held back there, so it is still unused.
    other.evaluate(
        """() => { window.hostile.holding = true;
                   window.__APP__.core.invoke('list_items', {}); }"""
    )
    other.wait_for_function("() => window.hostile.held.length > 0")
    stolen = other.evaluate("JSON.parse(window.hostile.held[0])[0]")
    main_kid = main.evaluate("window.hostile.sealed()[0].kid")
    attempts = [{**stolen, "id": 900300}, {**stolen, "id": 900301, "kid": main_kid}]
    assert codes(main.evaluate("(m) => window.hostile.send(m)", attempts)) == ["protocol"] * 2
    assert main.evaluate(INVOKE, ["greet", {"name": "main"}]) == "Hello, main!"


def test_the_key_cannot_be_read_from_the_page(browser: Browser, served: Served) -> None:
    context = browser.new_context()
    # Instrument WebCrypto in every frame to see how the key is imported.
    context.add_init_script(
        """(() => {
            const importKey = crypto.subtle && crypto.subtle.importKey.bind(crypto.subtle);
            if (!importKey) return;
            crypto.subtle.importKey = async (...args) => {
                const key = await importKey(...args);
                window.importedKey = { extractable: args[3], usages: args[4], key };
                return key;
            };
        })()"""
    )
    page = hostile_page(context, served.urls["main"])
    attempts = page.evaluate(
        """async () => {
            const frame = document.querySelector('iframe');
            const out = {};
            out.contentDocument = frame.contentDocument === null;
            try { frame.contentWindow.document; out.document = 'readable'; }
            catch (e) { out.document = e.name; }
            try { await (await fetch(frame.src)).text(); out.fetch = 'read'; }
            catch (e) { out.fetch = e.name; }
            const opaque = await fetch(frame.src, { mode: 'no-cors' }).catch((e) => null);
            out.noCors = opaque && opaque.type;
            // Embedded again, without a sandbox: the link is spent, and the page is not readable.
            const copy = document.createElement('iframe');
            await new Promise((r) => { copy.onload = r; copy.src = frame.src;
                                       document.body.appendChild(copy); });
            out.copyDocument = copy.contentDocument === null;
            out.pageHasKey = document.documentElement.outerHTML.includes('"key"');
            return out;
        }"""
    )
    assert attempts == {
        "contentDocument": True,
        "document": "SecurityError",
        "fetch": "TypeError",
        "noCors": "opaque",
        "copyDocument": True,
        "pageHasKey": False,
    }
    # Inside the frame (which only this test's privileged access can look into): the key is not
    # in its document, and it is non-extractable and can only encrypt.
    frame = next(f for f in page.frames if "/frame/" in f.url)
    inside = frame.evaluate(
        """async () => ({
            html: document.documentElement.outerHTML.includes('"key"'),
            extractable: window.importedKey.extractable,
            usages: window.importedKey.usages,
            keyExtractable: window.importedKey.key.extractable,
            exported: await crypto.subtle.exportKey('raw', window.importedKey.key)
                .then(() => 'exported', (e) => e.name),
        })"""
    )
    assert inside == {
        "html": False,
        "extractable": False,
        "usages": ["encrypt"],
        "keyExtractable": False,
        "exported": "InvalidAccessError",
    }
    assert page.evaluate(INVOKE, ["greet", {"name": "safe"}]) == "Hello, safe!"


@pytest.mark.parametrize("sandboxed", [False, True])
def test_forged_frame_messages_from_a_sub_frame_are_ignored(
    browser: Browser, served: Served, sandboxed: bool
) -> None:
    page = hostile_page(browser.new_context(), served.urls["main"])
    # A frame of the app's origin, or a sandboxed one, whose origin is "null" like the real
    # isolation frame's (it gets its script past the page's CSP with the page's own nonce).
    page.evaluate(
        """([sandboxed, forge]) => new Promise((resolve) => {
            const forger = document.createElement('iframe');
            forger.onload = resolve;
            if (sandboxed) {
                const nonce = document.querySelector('script[nonce]').nonce;
                forger.setAttribute('sandbox', 'allow-scripts');
                forger.srcdoc = `<script nonce="${nonce}">${forge}<` + '/script>';
            } else {
                forger.src = '/forge.html';
            }
            document.body.appendChild(forger);
        })""",
        [sandboxed, FORGE],
    )
    page.wait_for_function(
        "() => window.hostile.results.some((r) => r.error && r.error.message === 'forged refusal')"
    )
    answers = page.evaluate(
        """() => Promise.all(Array.from({ length: 200 }, (_, i) =>
            window.__APP__.core.invoke('greet', { name: String(i) }).catch((e) => e.message)))"""
    )
    assert answers == [f"Hello, {i}!" for i in range(200)]
    assert page.evaluate(INVOKE, ["read_config", {}])["theme"] == "light"


def test_taking_the_frame_away_fails_closed(browser: Browser, served: Served) -> None:
    page = hostile_page(browser.new_context(), served.urls["main"])
    before = page.evaluate("window.hostile.sent.length")
    navigated = page.evaluate(
        """() => new Promise((resolve) => {
            const frame = document.querySelector('iframe');
            frame.addEventListener('load', () => resolve(
                window.__APP__.core.invoke('greet', { name: 'x' }).catch((e) => e.code)));
            frame.src = '/forge.html';  // a page of the hostile script's choosing
        })"""
    )
    assert navigated == "blocked"
    assert page.evaluate("window.hostile.sent.length") == before
    assert 1 in items_after_reload(page)


def test_a_script_cannot_cut_the_page_off_from_its_frame(
    browser: Browser, served: Served
) -> None:
    """A page script that took the frame's channel from its ready message and closed it, or
    stopped what is posted on channels, left every later call waiting for ever (the clock of a
    call starts once the hook let it through). It gets neither: calls go through the hook."""
    page = browser.new_context().new_page()
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.goto(served.urls["main"])
    page.wait_for_function("() => window.__APP__ !== undefined")
    page.goto(page.url.rsplit("/", 1)[0] + "/cut-off.html")
    assert page.evaluate(CUT_OFF_CALLS) == ["Hello, x!", "blocked"]
    assert page.evaluate("window.stolen") == 0


def items_after_reload(page: Page) -> list[int]:
    page.reload()
    page.wait_for_function("() => window.__APP__ !== undefined")
    return items(page)


def own_request(n: int, call: str) -> str:
    """The start of a script that takes the runtime's channel to the isolation frame (as the
    legitimate ``call`` posts on it; the page needs ``TAKE_PORTS``) and waits for the frame's
    answer to request ``n``, which the rest of the script hands the frame on ``port``: the
    script's own."""
    return """async () => {
  await @CALL@;
  const port = window.__taken.ports[0];
  const n = @N@;
  const answer = new Promise((resolve) => port.addEventListener('message', (e) => {
    const mine = e.data && e.data.results && e.data.results.find((r) => r.n === n);
    if (mine) resolve(mine);
  }));
""".replace("@CALL@", call).replace("@N@", str(n))


# Hands the frame `reset_demo`, which the demo's hook refuses, written as a binary value's marker
# with a String object in place of the bytes. Resolves with the frame's answer.
SMUGGLE = own_request(900300, "window.__APP__.core.invoke('greet', { name: 'to find it' })") + """
  const json = JSON.stringify({ id: n, kind: 'invoke', cmd: { $__b: 0 }, args: {} });
  port.postMessage({ requests: [{ n, json, blobs: [new String('reset_demo')], texts: [] }] });
  return answer;
}"""

# Hands the frame `greet` with its text blobs listed wrongly (the runtime lists each once, and
# only blobs it sends), as @TEXTS@.
BAD_TEXTS = own_request(900350, "window.__APP__.core.invoke('greet', { name: 'to find it' })") + """
  const json = JSON.stringify({ id: n, kind: 'invoke', cmd: 'greet', args: { name: { $__b: 0 } } });
  const bytes = new TextEncoder().encode('text');
  port.postMessage({ requests: [{ n, json, blobs: [bytes], texts: @TEXTS@ }] });
  return answer;
}"""


def test_values_of_other_types_handed_to_the_frame_are_refused(
    browser: Browser, served: Served
) -> None:
    """A String object passes no `===` check of a hook, and JSON seals it as the plain string:
    the frame takes binary values as byte arrays only."""
    page = hostile_page(taking_ports(browser), served.urls["main"])
    answer = page.evaluate(SMUGGLE)
    assert "ct" not in answer and answer["error"]["code"] == "invalid_args", answer
    assert page.evaluate(
        "window.__APP__.core.invoke('reset_demo', {}).catch((e) => e.code)"
    ) == "blocked"
    # The page's own binary values still pass.
    assert page.evaluate(
        "window.__APP__.core.invoke('echo', { value: new Uint8Array([1, 2]) })"
        ".then((v) => Array.from(v))"
    ) == [1, 2]


@pytest.mark.parametrize("texts", ["[1]", "[0, 0]", "[-1]", "['0']", "undefined", "0"])
def test_text_blobs_listed_wrongly_are_refused(
    browser: Browser, served: Served, texts: str
) -> None:
    page = hostile_page(taking_ports(browser), served.urls["main"])
    answer = page.evaluate(BAD_TEXTS.replace("@TEXTS@", texts))
    assert "ct" not in answer and answer["error"]["code"] == "invalid_args", answer
    # Listed rightly, the text reaches the hook, and the command, as a string.
    answer = page.evaluate(BAD_TEXTS.replace("@TEXTS@", "[0]").replace("900350", "900351"))
    assert "ct" in answer, answer


# A hook that lets an echo through only when its value says it is safe.
SAFE_ONLY = """
window.__ISOLATION_HOOK__ = (payload) => {
  if (payload.cmd === "invoke" && payload.message.cmd === "echo") {
    const value = payload.message.args.value;
    return value && value.safe === true ? payload : null;
  }
  return payload;
};
"""

# Hands the frame a request of the script's own through the runtime's channel (as SMUGGLE),
# whose value has a "__proto__" key: rebuilt with an assignment, it became the object's
# prototype, the hook read `safe` through it, and the sealed JSON left it out.
PROTO = own_request(900400, "window.__APP__.core.invoke('echo', { value: { safe: true } })") + """
  const json = '{"id":' + n + ',"kind":"invoke","cmd":"echo","args":{"value":{"$$__b":0,'
    + '"target":"/etc/passwd","__proto__":{"safe":true},"b":{"$__b":0}}}}';
  port.postMessage({ requests: [{ n, json, blobs: [new Uint8Array(1)], texts: [] }] });
  return answer;
}"""


# A hostile script that rewrites what the runtime hands the frame (through Array.prototype
# .flatMap, which the runtime calls on the batch): markers that name no value, such as
# {"$__b": "at"}, gave the hook the frame's own Array.prototype.at as a toJSON, which the frame
# then sealed in place of what its hook had checked ("approved").
MARKER_TRICK = """async () => {
  const flatMap = Array.prototype.flatMap;
  Array.prototype.flatMap = function (...args) {
    for (const request of this) {
      if (request && typeof request.json === 'string' && request.json.includes('approved')) {
        request.json = request.json.split('{"value":"approved"}').join('{"value":"approved",'
          + '"length":1,"0":{"value":"never approved"},"toJSON":{"$__b":"at"}}');
        if (!request.blobs.length) request.blobs = [new Uint8Array(1)];
      }
    }
    return flatMap.apply(this, args);
  };
  const said = (e) => e.code;
  const sent = await window.__APP__.core.invoke('echo', { value: 'approved' }).catch(said);
  Array.prototype.flatMap = flatMap;
  return [sent, await window.__APP__.core.invoke('echo', { value: 'approved' })];
}"""


def test_a_marker_that_names_no_value_shows_the_hook_nothing_else(
    browser: Browser, app_dir: Path
) -> None:
    with serving(isolation_config(app_dir, APPROVED_ONLY)) as served:
        page = browser.new_context().new_page()
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        refused, fine = page.evaluate(MARKER_TRICK)
        assert refused == "internal", refused  # the frame could not read the request
        assert fine == "approved"


# A hook that lets an echo through only when its value is "approved".
APPROVED_ONLY = """
window.__ISOLATION_HOOK__ = (payload) => {
  if (payload.cmd === "invoke" && payload.message.cmd === "echo") {
    return payload.message.args.value === "approved" ? payload : null;
  }
  return payload;
};
"""


def test_a_proto_key_cannot_show_the_hook_what_is_not_sent(
    browser: Browser, app_dir: Path
) -> None:
    with serving(isolation_config(app_dir, SAFE_ONLY)) as served:
        page = taking_ports(browser).new_page()
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        answer = page.evaluate(PROTO)
        assert "ct" not in answer and answer["error"]["code"] == "blocked", answer
        # An own "__proto__" key of the app's data still travels as a key, both ways.
        back = page.evaluate(
            """async () => {
              const value = [JSON.parse('{"__proto__": {"a": 1}, "$__b": 2, "safe": true}'),
                             new Uint8Array([7])];
              const got = await window.__APP__.core.invoke('echo', { value: { safe: true,
                                                                               list: value } });
              const first = got.list[0];
              return [Object.keys(first), first.a === undefined, got.list[1][0]];
            }"""
        )
        assert back == [["__proto__", "$__b", "safe"], True, 7]


# A script of the page hides the frame's next load from every listener after its own (which
# the runtime's load counter was), then loads the frame again: put back at once, or navigated.
HIDE_A_RELOAD = """async (how) => {
  const frame = document.querySelector('iframe');
  let seen;
  const loaded = new Promise((resolve) => { seen = resolve; });
  document.addEventListener('load', (e) => {
    if (e.target === frame) { seen(); e.stopImmediatePropagation(); }
  }, true);
  if (how === 'reinsert') {
    const parent = frame.parentNode;
    parent.removeChild(frame);
    parent.appendChild(frame);
  } else {
    frame.src = frame.src;
  }
  await loaded;
  return Promise.race([
    window.__APP__.core.invoke('greet', { name: 'x' }).then(() => 'ran', (e) => e.code),
    new Promise((resolve) => setTimeout(resolve, 20000, 'still waiting')),
  ]);
}"""


@pytest.mark.parametrize("how", ["reinsert", "navigate"])
def test_a_reload_of_the_frame_hidden_from_the_page_s_listeners_still_fails_closed(
    browser: Browser, served: Served, how: str
) -> None:
    """Calls waited for ever (past their own deadline, which starts once the hook has let them
    through) after a page script kept the frame's second load from the runtime's listener, or
    took the frame out and put it back within one task (the removal went unseen)."""
    page = hostile_page(browser.new_context(), served.urls["main"])
    assert page.evaluate(HIDE_A_RELOAD, how) == "blocked"


def test_a_then_on_every_object_does_not_leave_calls_waiting(
    browser: Browser, served: Served
) -> None:
    """A page script that gives every object a then() made each call answered with an object
    wait for ever (the promise took the value for a promise of its own); one that made a
    built-in the runtime uses throw had the call rejected with no code."""
    page = browser.new_context().new_page()
    page.goto(served.urls["main"])
    page.wait_for_function("() => window.__APP__ !== undefined")
    outcome = page.evaluate(
        """async () => {
          // (Nothing here awaits an object while every object has a then().)
          const got = [];
          Object.prototype.then = function () {};
          await new Promise((resolve) => {
            let left = 3;
            const put = (i, v) => { got[i] = v; if (--left === 0) resolve(); };
            window.__APP__.core.invoke('read_config', {})
              .then(() => put(0, 'ok'), (e) => put(0, [e.code, e.message]));
            window.__APP__.core.invoke('greet', { name: 'x' })
              .then(() => put(1, 'ok'), (e) => put(1, [e.code, e.message]));
            window.__APP__.event.listen('tick', () => {})
              .then((unlisten) => put(2, typeof unlisten), (e) => put(2, e.code));
          });
          delete Object.prototype.then;
          // One that says "none" to the first look, and gives a then() to the next.
          let looks = 0;
          Object.defineProperty(Object.prototype, 'then', { configurable: true,
            get() { looks += 1; return looks > 1 ? function () {} : undefined; } });
          await new Promise((resolve) => {
            window.__APP__.core.invoke('read_config', {})
              .then(() => { got.push('ok'); resolve(); },
                    (e) => { got.push([e.code, e.message]); resolve(); });
          });
          delete Object.prototype.then;
          const settled = (p) => p.then(() => 'ok', (e) => [e.code, e.message]);
          const set = Map.prototype.set;
          Map.prototype.set = () => { throw new Error('no'); };
          got.push(await settled(window.__APP__.core.invoke('greet', { name: 'x' })));
          Map.prototype.set = set;
          return got;
        }"""
    )
    (code, message), greeted, listened, (sly_code, _), (broken_code, _) = outcome
    assert code == "internal" and "Object.prototype.then" in message
    assert greeted == "ok"  # a string is no thenable
    assert listened == "function"  # listen() hands its unlisten function over all the same
    assert sly_code == "internal"
    assert broken_code == "internal"
