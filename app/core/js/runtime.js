function (boot) {
  "use strict";
  // The page's side of the IPC core. The shell inlines this into every page it serves, called
  // with that page's boot data; it defines window.__APP__ and owns the page's one WebSocket.
  // A remote page that a capability names gets it too, run by the native window once loaded.
  if (Object.prototype.hasOwnProperty.call(window, "__APP__")) return;  // one runtime per page

  const BYTES_KEY = "$__b";
  const BLOB_FROM = 1024 * 1024;  // a message this large leaves as a Blob (see blobFrame)
  const TEXT_FROM = 64 * 1024;     // a string this long goes as UTF-8 bytes (see withBlobs)
  const FRAME_MESSAGES = 1024;     // messages a frame carries at most (the core takes 4096)
  const CHANNEL_KEY = "$__ch";
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const fetchFrame = window.fetch.bind(window);  // as it was when the runtime started
  // The timers and the microtask queue as they were too: a page script that replaces them must
  // not leave calls waiting for ever.
  const setTimeout = window.setTimeout.bind(window);
  const clearTimeout = window.clearTimeout.bind(window);
  const queueMicrotask = window.queueMicrotask.bind(window);
  // And the isolation frame's channel (a MessagePort), and the messages that come from it,
  // are used with their methods as they were.
  const apply = Reflect.apply;
  const Port = { post: MessagePort.prototype.postMessage, listen: MessagePort.prototype
    .addEventListener, start: MessagePort.prototype.start, close: MessagePort.prototype.close };
  const ownDescriptor = Reflect.getOwnPropertyDescriptor;
  const getter = (proto, name) => ownDescriptor(proto, name).get;
  const Message = {
    data: getter(MessageEvent.prototype, "data"),
    origin: getter(MessageEvent.prototype, "origin"),
    source: getter(MessageEvent.prototype, "source"),
    ports: getter(MessageEvent.prototype, "ports"),
    stop: Event.prototype.stopImmediatePropagation,
  };
  const read = (event, name) => apply(Message[name], event, []);
  // The copying of bytes into the frames the page writes, as it was: a page script that made it
  // copy nothing would break the isolation frame's sequence of sealed messages for the page's
  // lifetime (each would reach the core as nothing it can open).
  const setBytes = Uint8Array.prototype.set;
  // What a value is handed over as, as they were too (see settle and listen).
  const getPrototypeOf = Object.getPrototypeOf;
  const defineProperty = Object.defineProperty;
  // And what tells where the isolation frame is, and whether it loaded again.
  const Dom = {
    target: getter(Event.prototype, "target"),
    connected: getter(Node.prototype, "isConnected"),
    removed: getter(MutationRecord.prototype, "removedNodes"),
    length: getter(NodeList.prototype, "length"),
    item: NodeList.prototype.item,
    contains: Node.prototype.contains,
  };

  class IpcError extends Error {
    constructor(code, message, data) {
      super(message);
      this.name = "IpcError";
      this.code = code;
      if (data !== undefined) this.data = data;
    }
  }
  const fail = (code, message, data) => new IpcError(code, message, data);

  // ---- wire format (see app/core/protocol.py) ----------------------------------------------

  const Shared = typeof SharedArrayBuffer === "function" ? SharedArrayBuffer : null;
  function isBinary(value) {
    return value instanceof ArrayBuffer || ArrayBuffer.isView(value)
      || (Shared !== null && value instanceof Shared);
  }

  // A Date whose toJSON() is the Date's own: it goes as its ISO text.
  const DATE_TO_JSON = Date.prototype.toJSON;
  function isDate(value) {
    return value instanceof Date && value.toJSON === DATE_TO_JSON;
  }

  // A String, Number or Boolean object, which JSON writes as its primitive value. (Its
  // characters are not enumerated: a String object has a key for each, and one of 1M characters
  // made a million keys, twice, and took 400 ms to send, against 40 as a string.)
  function isBoxed(value) {
    return value instanceof String || value instanceof Number || value instanceof Boolean;
  }

  // A copy of an object's own keys, renamed: each one made an own property, "__proto__" too
  // (assigned, that key would set the copy's prototype, and a hook would read through to
  // values that are not sent).
  function renamed(value, keys, rename) {
    const out = {};
    for (const k of keys) {
      Object.defineProperty(out, rename(k), { value: value[k], enumerable: true, writable: true,
        configurable: true });
    }
    return out;
  }

  // How a value must be written, found without a replacer on every key so that plain messages
  // take JSON.stringify's fast path: PLAIN, or with flags SLOW (too deep to look through, or a
  // toJSON() whose output may hold binary data: the replacer's path, which sees that output),
  // CHECK (its depth must be measured on the text: it is deep, or holds a toJSON() whose output
  // this cannot see, or was not looked through) and LIFT (binary data or long strings, in a
  // value otherwise plain and looked through: see lifted).
  const PLAIN = 0;
  const SLOW = 1;
  const CHECK = 2;
  const LIFT = 4;
  function scan(value, depth) {
    refuseChanged(value);
    if (typeof value === "string") return value.length >= TEXT_FROM ? LIFT : PLAIN;
    if (value === null || typeof value !== "object") return PLAIN;
    if (isBinary(value)) return LIFT;
    if (depth > 64) return SLOW | CHECK;
    if (typeof value.toJSON === "function") {
      return isDate(value) ? PLAIN : channelId(value) !== null ? LIFT : SLOW | CHECK;
    }
    if (isBoxed(value)) return PLAIN;
    let found = PLAIN;
    if (Array.isArray(value)) {
      for (const item of value) if ((found |= scan(item, depth + 1)) & SLOW) return found;
      return found;
    }
    for (const key in value) if ((found |= scan(value[key], depth + 1)) & SLOW) return found;
    return found;
  }

  function wellFormed(text) {
    return text.isWellFormed ? text.isWellFormed() : !LONE_SURROGATE_TEXT.test(text);
  }

  // What a value that is not an object of named values is, in the words the core uses.
  const KINDS = { string: "text", number: "a number", boolean: "true or false" };
  function kindOf(value) {
    if (Array.isArray(value)) return "an array";
    if (typeof value !== "object") return KINDS[typeof value] || `a ${typeof value}`;
    if (isBinary(value)) return "binary data";
    const name = (value.constructor && value.constructor.name) || "Object";
    return (/^[AEIOU]/.test(name) ? "an " : "a ") + name;
  }

  // Objects JSON writes as {}, and what to send instead.
  const AS_EMPTY = [
    [Promise, "a Promise", "await it first"],
    [Error, "an Error", "send what you need of it: its message, say"],
    [RegExp, "a RegExp", "send its text: String(regexp)"],
    [WeakMap, "a WeakMap", "it cannot be read through"],
    [WeakSet, "a WeakSet", "it cannot be read through"],
    [Node, "a DOM Node", "send what you need of it: its textContent or value, say"],
  ];

  // Values JSON would change without a word: refused, so that what the command gets is what
  // the page sent (undefined, functions and symbols are left out, as JSON leaves them).
  function refuseChanged(value) {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new Error("a number in them is NaN or Infinity, which JSON cannot carry (it would "
        + "arrive as null)");
    }
    if (value === null || typeof value !== "object") return;
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === Array.prototype || proto === null) return;
    // (Binary values go as their bytes. Their elements are not enumerated: Object.keys of 10 MB
    // makes ten million strings, and took a second.)
    if (isBinary(value)) return;
    if (isBoxed(value)) {
      if (value instanceof Number) refuseChanged(Number(value));
      return;
    }
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) {
        throw new Error("an invalid Date in them would arrive as null");
      }
      return;
    }
    // (One with a toJSON() of its own, or fields of its own, goes as JSON writes them.)
    if (typeof value.toJSON !== "function" && Object.keys(value).length === 0) {
      for (const [kind, named, instead] of AS_EMPTY) {
        if (value instanceof kind) {
          throw new Error(`${named} in them would arrive as {} (${instead})`);
        }
      }
    }
    if (value instanceof Blob) {
      throw new Error("a Blob or File in them would arrive as {} (send its bytes instead: "
        + "new Uint8Array(await blob.arrayBuffer()))");
    }
    if (value instanceof Map || value instanceof Set) {
      const kind = value instanceof Map ? "Map" : "Set";
      throw new Error(`a ${kind} in them would arrive as {} (send ${kind === "Map"
        ? "Object.fromEntries(map) or [...map]" : "[...set]"} instead)`);
    }
  }

  // What the core can take and give back: its parser refuses lone surrogates (JSON.stringify
  // writes them as \ud800-\udfff escapes: a backslash run of even length before one means a
  // real escape), and it answers values nested at most about 250 deep.
  const MAX_DEPTH = 250;
  const LONE_SURROGATE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;
  const LONE_SURROGATE_TEXT = /\p{Cs}/u;  // in a string (a pair is one code point with "u")
  const NOT_UNICODE = "a string in them holds a lone UTF-16 surrogate, which is not valid "
    + "Unicode (was text cut in the middle of a character?)";

  // Serialize a message for the wire: { json, blobs, texts } (see withBlobs); throw an Error
  // saying what in it cannot be sent.
  function serialize(message) {
    let how = scan(message, 0);
    let encoded = how & SLOW ? null
      : how & LIFT ? lifted(message)
      : { json: JSON.stringify(message), blobs: [], texts: [] };
    if (encoded === null) {  // (lifted() leaves a message with keys like the marker's, say)
      encoded = withBlobs(message);
      how |= CHECK;
    }
    const json = encoded.json;
    if (json.includes("\\ud") && LONE_SURROGATE.test(json)) throw new Error(NOT_UNICODE);
    if (how & CHECK && depthOf(json) > MAX_DEPTH) {
      throw new Error(`they are nested more than ${MAX_DEPTH} levels deep`);
    }
    return encoded;
  }

  // How deep the arrays and objects of a JSON text go (strings skipped).
  function depthOf(json) {
    let depth = 0;
    let most = 0;
    for (let i = 0; i < json.length; i++) {
      const c = json.charCodeAt(i);
      if (c === 34) {  // a string: on to its closing quote, one not escaped by a backslash
        for (;;) {
          i = json.indexOf('"', i + 1);
          if (i < 0) return most;
          let slashes = 0;
          while (json.charCodeAt(i - 1 - slashes) === 92) slashes++;
          if (slashes % 2 === 0) break;
        }
      } else if (c === 91 || c === 123) {
        if (++depth > most) most = depth;
      } else if (c === 93 || c === 125) {
        depth--;
      }
    }
    return most;
  }

  // The replacer's path: binary values become markers, their bytes go in `blobs`; so do long
  // strings, as their UTF-8 bytes, the indices of which go in `texts` (JSON.stringify, a
  // check for lone surrogates and the core's parse cost more than the bytes themselves). In a
  // message with markers, keys of the app's own data that look like the marker's ("$__b",
  // "$$__b", ...) get one more "$", which restore() takes off (app/core/protocol.py alike).
  function withBlobs(message) {
    const blobs = [];
    const texts = [];
    const markers = (escape) => (key, value) => {
      refuseChanged(value);
      if (typeof value === "string" && value.length >= TEXT_FROM) {
        return textMarker(value, blobs, texts);
      }
      if (value === null || typeof value !== "object") return value;
      if (isBinary(value)) return bytesMarker(value, blobs);
      if (!escape || Array.isArray(value) || isBoxed(value)) return value;
      const keys = Object.keys(value);
      if (!keys.some((k) => LIKE_MARKER.test(k))) return value;
      return renamed(value, keys, (k) => (LIKE_MARKER.test(k) ? "$" + k : k));
    };
    // A Channel becomes its marker through its toJSON(), before the replacer sees it.
    let json = JSON.stringify(message, markers(false));
    if (!markersAreTheBlobs(json, blobs)) {
      blobs.length = texts.length = 0;
      json = JSON.stringify(message, markers(true));
    }
    return { json, blobs, texts };
  }
  const LIKE_MARKER = /^\$+__b$/;

  // A Channel's id, if `value` is a Channel whose toJSON() is the runtime's own (its output is
  // then known: the marker with the id); null for any other value. (Set once Channel is defined;
  // the isolation frame's codec has none.)
  let channelId = () => null;

  // A long string's marker; its UTF-8 bytes go in `blobs`, their index in `texts`.
  function textMarker(value, blobs, texts) {
    if (!wellFormed(value)) {
      throw new Error(NOT_UNICODE);
    }
    texts.push(blobs.length);
    blobs.push(utf8Within(value, value.length * 3));
    return { [BYTES_KEY]: blobs.length - 1 };
  }

  // A binary value's marker; its bytes go in `blobs`.
  function bytesMarker(value, blobs) {
    const whole = !ArrayBuffer.isView(value);
    const buffer = whole ? value : value.buffer;
    if (buffer.detached) {
      throw new Error("a binary value in them is detached (transferred elsewhere), so it "
        + "holds no bytes");
    }
    const bytes = whole ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    // Shared memory may change under the call, and neither it nor a resizable buffer goes
    // into a Blob: such bytes are copied now.
    blobs.push((Shared !== null && buffer instanceof Shared) || buffer.resizable
      || buffer.growable ? bytes.slice() : bytes);
    return { [BYTES_KEY]: blobs.length - 1 };
  }

  // withBlobs() for a message that scan() looked through, all of it plain but its binary values
  // and long strings (LIFT): each of those becomes its marker in a copy of the arrays and
  // objects on the way to it (the others are not copied), which JSON.stringify writes on its
  // fast path. Through the replacer, every value of the message paid for one binary value in it
  // (a million numbers and 4 bytes: 300 ms to write, against 40; its text, a rope, cost as much
  // again to encode). null for a message with keys like the marker's, or one whose values
  // changed since scan() looked (a getter's doing): serialize() then uses withBlobs().
  const UNSURE = {};
  function lifted(message) {
    const blobs = [];
    const texts = [];
    const lift = (value) => {
      if (typeof value === "string") {
        return value.length >= TEXT_FROM ? textMarker(value, blobs, texts) : value;
      }
      if (value === null || typeof value !== "object") return value;
      if (isBinary(value)) return bytesMarker(value, blobs);
      if (isBoxed(value)) return value;
      if (typeof value.toJSON === "function") {  // a Date or a Channel (see scan)
        if (isDate(value)) return value;
        const id = channelId(value);
        // (Not so a moment ago, when scan() looked: a getter's doing. Through withBlobs.)
        if (id === null) throw UNSURE;
        return { [CHANNEL_KEY]: id };
      }
      let copy = null;
      if (Array.isArray(value)) {
        const length = value.length;
        for (let i = 0; i < length; i++) {
          const item = value[i];
          const out = item === null || (typeof item !== "object" && typeof item !== "string")
            ? item : lift(item);
          if (copy === null) {
            if (out === item) continue;
            // (A plain array, whatever the value's constructor[Symbol.species] makes; a hole
            // read as undefined is written as null, as JSON writes a hole.)
            copy = new Array(length);
            for (let j = 0; j < i; j++) copy[j] = value[j];
          }
          copy[i] = out;  // (from here on, each item as lift() saw it)
        }
        return copy === null ? value : copy;
      }
      for (const key of Object.keys(value)) {
        const item = value[key];
        const out = item === null || (typeof item !== "object" && typeof item !== "string")
          ? item : lift(item);
        if (copy === null) {
          if (out === item) continue;
          // (A spread defines its keys, "__proto__" too, as renamed() does.)
          copy = { ...value };
        }
        // Each key from here on as lift() saw it (the spread read a getter once more), defined,
        // not set: it may be no own key of the copy ("__proto__", or a Proxy's keys, which may
        // differ each time), and a setter a page script put on Object.prototype would take it.
        defineProperty(copy, key, { value: out, enumerable: true, writable: true,
          configurable: true });
      }
      return copy === null ? value : copy;
    };
    let json;
    try {
      json = JSON.stringify(lift(message));
    } catch (err) {
      if (err === UNSURE) return null;
      throw err;
    }
    return markersAreTheBlobs(json, blobs) ? { json, blobs, texts } : null;
  }
  const MARKER_KEY = `"${BYTES_KEY}":`;
  const ESCAPED_KEY = `$${BYTES_KEY}":`;

  // Whether every marker-like key of a message's JSON is one of its blobs' markers: else the
  // app's own data has such keys, and they must be escaped.
  function markersAreTheBlobs(json, blobs) {
    return !blobs.length || (json.split(MARKER_KEY).length - 1 === blobs.length
                             && !json.includes(ESCAPED_KEY));
  }

  // The header's end: the blobs' lengths, and which of them are text.
  function headerTail(blobs, texts) {
    return '],"a":' + JSON.stringify(blobs.map((b) => b.byteLength))
      + (texts.length ? ',"t":' + JSON.stringify(texts) : "") + "}";
  }

  function binaryFrame(json, blobs, texts) {
    const header = encoder.encode('{"m":[' + json + headerTail(blobs, texts));
    let size = 4 + header.byteLength;
    for (const b of blobs) size += b.byteLength;
    const out = new Uint8Array(size);
    new DataView(out.buffer).setUint32(0, header.byteLength, true);
    apply(setBytes, out, [header, 4]);
    let at = 4 + header.byteLength;
    for (const b of blobs) { apply(setBytes, out, [b, at]); at += b.byteLength; }
    return out.buffer;
  }

  // The same binary frame as a Blob, for large messages: Chromium hands a Blob to its network
  // side in one piece, where an ArrayBuffer or a string goes through the socket's small pipe
  // (10 MB: about 80 ms against 170-250 ms, measured in Qt WebEngine and Chromium). The JSON
  // goes in as its UTF-8 bytes (see utf8Within), given or made here.
  function blobFrame(json, blobs, texts, utf8) {
    const text = utf8 || utf8Within(json, json.length * 3);
    const tail = headerTail(blobs, texts);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, 6 + text.byteLength + tail.length, true);
    return new Blob([length, '{"m":[', text, tail, ...blobs]);
  }

  // The UTF-8 bytes of a text, or null when they are more than `most`. encodeInto() a buffer
  // of the most they can be is about twice as fast as encode(), or as a Blob made of the
  // string (10 MB: 20-45 ms against 45-90 ms, measured in Chromium); the buffer's pages that
  // are not written to are never touched.
  function utf8Within(text, most) {
    const room = new Uint8Array(Math.min(text.length * 3, most + 1));
    const { read, written } = encoder.encodeInto(text, room);
    return read < text.length ? null : room.subarray(0, written);
  }

  function parseFrame(data) {
    if (typeof data === "string") return JSON.parse(data);
    const view = new DataView(data);
    const size = view.getUint32(0, true);
    const header = JSON.parse(decoder.decode(new Uint8Array(data, 4, size)));
    const blobs = [];
    let at = 4 + size;
    for (const n of header.a) { blobs.push(new Uint8Array(data, at, n)); at += n; }
    const values = valuesOf(blobs, header.t || []);
    // (With more than one message, "o" says where each one's blobs begin: its markers count
    // from there.)
    const firsts = header.o;
    return header.m.map((m, i) => restore(m, values, firsts ? firsts[i] : 0));
  }

  // The values that a message's markers stand for: its blobs, those that `texts` lists
  // decoded to strings (invalid UTF-8 would become U+FFFD).
  function valuesOf(blobs, texts) {
    const values = blobs.slice();
    for (const i of texts) values[i] = decoder.decode(values[i]);
    return values;
  }

  // Put the binary values (and long strings) back in place of their markers in a parsed
  // message (and the app's keys that withBlobs() escaped back to their names); its markers
  // count from `blobs[first]`.
  function restore(value, blobs, first = 0) {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) {  // (in place, the parser's own; its numbers and strings skipped)
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (item !== null && typeof item === "object") value[i] = restore(item, blobs, first);
      }
      return value;
    }
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === BYTES_KEY) {
      // A marker names one of the values by its place, or the message is refused: the
      // isolation frame reads what the page's scripts could write ("$__b": "at" gave its hook
      // Array.prototype.at, a toJSON that sealed another value than the one it checked).
      const at = value[BYTES_KEY];
      if (!Number.isSafeInteger(at) || at < 0 || first + at >= blobs.length) {
        throw new Error(`a binary value's marker names no value (${JSON.stringify(at)})`);
      }
      return blobs[first + at];
    }
    let escaped = false;
    for (const k of keys) {
      value[k] = restore(value[k], blobs, first);
      if (k.endsWith("__b") && LIKE_ESCAPED.test(k)) escaped = true;
    }
    if (!escaped) return value;
    return renamed(value, keys, (k) => (LIKE_ESCAPED.test(k) ? k.slice(1) : k));
  }
  const LIKE_ESCAPED = /^\$\$+__b$/;

  // The isolation frame encodes what its hook lets through exactly as a page would: it runs
  // this function for the wire format alone (see app/core/isolation/page.py).
  if (boot.codecOnly) return Object.freeze({ serialize, binaryFrame, restore, valuesOf });

  // ---- connection ---------------------------------------------------------------------------

  const pending = new Map();     // id -> { resolve, reject, timer, what }
  const handlers = new Map();    // event -> Map(handlerId -> fn)
  const channels = new Map();    // channel id -> Channel
  let nextId = 1;
  let outbox = [];               // { json, blobs, id } ready to send
  let flushQueued = false;
  let socket = null;
  let framesSent = 0;            // on this socket: the core numbers the frames it gets alike
  let handover = true;           // large frames may come over HTTP (see fetchOver)
  let open = false;
  let resume = null;
  let lost = null;               // why, once the connection cannot come back
  const unanswered = new Set();  // under isolation: ids of sealed messages sent, not answered
  let lostFor = (what) => fail("internal", `'${what}' cannot be answered: ${lost}`);
  // A document whose origin is opaque (in a frame sandboxed without allow-same-origin, or
  // sandboxed by its own policy) gets no IPC: no capability can name its origin, and the core
  // refuses its socket. Its calls are refused at once, saying so; it still connects, for the
  // core to log the refusal.
  const opaque = window.origin === "null";
  if (opaque) {
    lost = "opaque";
    // Its address without the query, which may hold what the page was given.
    const at = location.protocol + "//" + location.host + location.pathname;
    const framed = window.top !== window;
    const where = framed ? `a sandboxed frame at ${at}` : `a sandboxed page, ${at}`;
    lostFor = (what) => fail("forbidden", `'${what}' is not allowed in window '${boot.label}' `
      + `from ${where}: its origin is opaque, so no capability can allow it, and such a `
      + "document gets no IPC. Call it from the window's page, or from a frame of the page's "
      + "own origin that a capability allows.",
      { window: boot.label, origin: at, originKind: framed ? "subframe" : "local", opaque: true });
  }

  function settle(id, ok, valueOrError) {
    const call = pending.get(id);
    if (!call) return;           // settled already (timeout, or a second reply): ignore
    pending.delete(id);
    if (!ok) {
      call.reject(valueOrError);
    } else if (valueOrError !== null && typeof valueOrError === "object"
        && inheritsThen(valueOrError)) {
      // (JSON never makes a function: a page script set one on Object.prototype, say, and
      // the promise would wait on the value for ever as on a promise of its own.)
      call.reject(fail("internal", `'${call.what}' was answered, but its value cannot be `
        + "handed over: it has a then() function, which a script of this page gave every "
        + "object (Object.prototype.then)."));
    } else {
      call.resolve(valueOrError);
    }
  }

  // Whether a promise would take `value` for a promise of its own, and wait on it for ever: a
  // page script gave every object a then() (JSON makes none). Looked up without reading it: a
  // getter could say "none" to this look, and give one to the promise's.
  function inheritsThen(value) {
    for (let proto = getPrototypeOf(value); proto !== null; proto = getPrototypeOf(proto)) {
      if (ownDescriptor(proto, "then") !== undefined) return true;
    }
    return false;
  }

  // A function the promise hands over as it is, whatever a page script gave every object.
  function handedOver(fn) {
    defineProperty(fn, "then", { value: undefined });
    return fn;
  }

  // The window's tab secret (see app/core/transport/credentials.py): the launch URL leads to
  // the first page with it in the address, and every connection shows it. It moves into
  // localStorage, this origin's alone (reloads, the window's other pages, the pages it opens
  // and its same-origin frames read it there), and out of the address before the page's own
  // scripts see it.
  const TAB_PARAM = "__app_tab";
  const TAB_KEY = TAB_PARAM + ":" + boot.label;
  let tab = null;
  if (boot.tabs) {
    // Taken out as text, so that the rest of the query stays as the app wrote it.
    const search = location.search;
    const given = new RegExp("([?&])" + TAB_PARAM + "=([^&#]*)(&?)").exec(search);
    if (given) {
      tab = decodeURIComponent(given[2]);
      const kept = given[3] ? (given[1] === "?" ? "?" : "&") : "";
      const rest = search.slice(0, given.index) + kept + search.slice(given.index + given[0].length);
      try {
        history.replaceState(history.state, "", location.pathname + rest + location.hash);
      } catch (err) { /* the address keeps it */ }
    }
    try {
      if (tab) localStorage.setItem(TAB_KEY, tab);
      else tab = localStorage.getItem(TAB_KEY);
    } catch (err) { /* storage off: this page only */ }
  }

  function connect(ticket) {
    // A page that could not fetch a frame handed over HTTP (its own policy may forbid it) has
    // every later one sent over the socket.
    const frames = handover ? "" : "&frames=socket";
    const shown = tab ? "&tab=" + encodeURIComponent(tab) : "";
    const ws = new WebSocket(boot.ws + "?ticket=" + encodeURIComponent(ticket) + shown + frames);
    ws.binaryType = "arraybuffer";
    socket = ws;
    ws.onopen = () => { open = true; framesSent = 0; flush(); };
    // Frames are read in the order they came; while a large one handed over HTTP is on its
    // way, those after it wait.
    let inbox = null;
    let waiting = 0;
    const queued = (later) => {
      waiting++;
      inbox = later.then(null, (err) => console.error("[app] a frame could not be read", err))
        .finally(() => { waiting--; });
    };
    ws.onmessage = (e) => {
      const data = read(e, "data");
      if (waiting > 0) { queued(inbox.then(() => take(ws, data))); return; }
      const later = take(ws, data);
      if (later) queued(later);
    };
    ws.onclose = (e) => {
      if (opaque) return;  // refused, as it was bound to be: its calls were refused already
      const wasOpen = open;
      open = false;
      socket = null;
      // The core refused it, saying why (too many connections: CROWDED in server.py).
      if (e.code === 4429) {
        lost = `the app core refused this page's connection: ${e.reason}.`;
        for (const [id, call] of [...pending]) settle(id, false, lostFor(call.what));
        return;
      }
      const reason = e.code === 1009
        ? "a message was larger than the core accepts"
        : "the connection to the app core closed";
      // Under isolation every message is sealed with the next number of a sequence the core
      // opens strictly in order. One that was sent and may be lost (its call still waiting, or
      // timed out already) leaves a gap no later message can pass: reconnecting would only get
      // every call refused.
      const gap = unanswered.size > 0;
      unanswered.clear();
      for (const [id, call] of [...pending]) {
        if (!call.sent) continue;
        settle(id, false, fail("internal", `'${call.what}' got no answer: ${reason}. The core `
          + "had it, and may have run it or be running it still: check before calling again."));
      }
      if (gap) {
        lost = "the connection to the app core closed while sealed messages were on their "
          + "way; under the isolation pattern the page cannot go on after that. Reload the page.";
        for (const [id, call] of [...pending]) settle(id, false, lostFor(call.what));
      } else if (wasOpen && resume) {
        const ticket = resume;
        resume = null;
        setTimeout(() => connect(ticket), 50);
      } else {
        lost = !wasOpen && boot.tabs && !tab
          // The core refuses a connection without it, and a reload cannot bring it back.
          ? "this page does not have its window's tab secret (the app's launch URL gives it, "
            + "and the window's pages keep it in localStorage, which has been cleared or is "
            + "off), so the app core refuses it; start the app again."
          : "the connection to the app core is lost; reload the page to reconnect.";
        for (const [id, call] of [...pending]) settle(id, false, lostFor(call.what));
      }
    };
  }

  // Read one frame; a large one is handed over HTTP (see app/core/transport/handover.py):
  // this frame then only names it, and the promise returned settles once it is read.
  function take(ws, data) {
    // From a connection that is closing or closed since: stale.
    if (ws.readyState !== WebSocket.OPEN) return null;
    let messages;
    try { messages = parseFrame(data); } catch (err) {
      console.error("[app] unreadable frame from the core", err);
      return null;
    }
    if (messages.length === 1 && messages[0] && messages[0].kind === "frame") {
      return fetchOver(ws, messages[0]);
    }
    for (const m of messages) {
      try { receive(m); } catch (err) { console.error(err); }  // one bad message only
    }
    return null;
  }

  function fetchOver(ws, m) {
    const url = new URL(m.path, location.origin).href;  // whatever the document's <base>
    return fetchFrame(url, { cache: "no-store" })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.arrayBuffer();
      })
      .then((data) => { take(ws, m.binary ? data : decoder.decode(data)); }, (err) => {
        // What it held is lost: the connection starts over, and the calls it answered fail.
        console.error("[app] a large frame from the core could not be fetched", err);
        // Refused while the connection was up (not cut off with it): the page cannot fetch.
        if (ws.readyState === WebSocket.OPEN) handover = false;
        ws.close(4000, "a frame could not be fetched");
      });
  }

  // An error's message names the call it answers. The core's do, but for a message it refused
  // without reading it (a sealed one that did not open, say), which only this page can name.
  function named(id, message) {
    const call = pending.get(id);
    if (!call || typeof message !== "string") return message;
    // (The core quotes a long name cut short: its first 99 characters are in it then.)
    const name = escaped(call.name);
    const long = typeof name === "string" && name.length > 100;
    const quoted = long ? `'${name.slice(0, 99)}` : `'${name}'`;
    return message.includes(quoted) ? message : `'${call.what}': ${message}`;
  }

  function receive(m) {
    switch (m.kind) {
      case "reply":
        unanswered.delete(m.id);
        if (m.ok) settle(m.id, true, m.value);
        else settle(m.id, false, fail(m.error.code, named(m.id, m.error.message), m.error.data));
        break;
      case "event": {
        const listeners = handlers.get(m.event);
        if (!listeners) break;
        const event = { event: m.event, payload: m.payload, source: m.source };
        for (const [id, fn] of [...listeners]) {
          // One that an earlier listener removed meanwhile hears no more (as in the DOM).
          if (!listeners.has(id)) continue;
          try { fn({ ...event, id }); } catch (err) { console.error(err); }
        }
        break;
      }
      case "channel": {
        const channel = channels.get(m.channel);
        if (channel && channel.onmessage) {
          try { channel.onmessage(m.value); } catch (err) { console.error(err); }
        }
        break;
      }
      case "hello":
        resume = m.resume;
        // A new connection has no subscriptions: the page's listeners subscribe again. One
        // whose listen message is still on its way subscribes with it (it goes on this
        // connection: one sent on a closed one failed), not twice.
        for (const event of handlers.keys()) {
          if (subscribing.has(event)) continue;
          send({ kind: "listen", event }, "listen " + event).catch(() => {});
        }
        break;
      case "notice":
        console.error("[app] the core refused a frame:", m.error && m.error.message);
        // None of that frame's calls will be answered: they fail now, not at their timeout.
        if (typeof m.frame === "number" && m.error) {
          for (const [id, call] of [...pending]) {
            if (call.frame === m.frame) {
              settle(id, false, fail(m.error.code,
                `'${call.what}' was refused with the frame it went in: ${m.error.message}`));
            }
          }
        }
        break;
      default:
        break;
    }
  }

  function flush() {
    flushQueued = false;
    // A socket that is closing takes nothing more: what waits goes on the next one.
    if (!open || outbox.length === 0 || socket.readyState !== WebSocket.OPEN) return;
    const batch = outbox;
    outbox = [];
    let parts = [];
    let calls = [];              // the calls of the text being gathered
    let size = 2;
    const sendText = () => {
      if (parts.length) {
        for (const call of calls) call.frame = framesSent;
        socket.send("[" + parts.join(",") + "]");
        framesSent++;
      }
      parts = [];
      calls = [];
      size = 2;
    };
    for (const item of batch) {
      const call = pending.get(item.id);
      if (call) call.sent = true;
      if (isolation) unanswered.add(item.id);
      // Frames leave in the order of their messages (sealed ones must reach the core in
      // sequence): what text was gathered goes first.
      if (item.frame) {
        sendText();
        if (call) call.frame = framesSent;
        socket.send(item.frame);
        framesSent++;
        continue;
      }
      if (size + item.size > boot.maxMessageBytes || parts.length === FRAME_MESSAGES) sendText();
      if (call) calls.push(call);
      parts.push(item.json);
      size += item.size + 1;
    }
    sendText();
  }

  function enqueue(item) {
    // A message with binary values or a large one is framed now: its bytes are copied as they
    // are when it is sent (as its JSON is), so a buffer the app transfers to a worker or
    // changes in the same tick changes nothing of it.
    if (item.bulk >= BLOB_FROM || item.blobs.length) {
      item.frame = item.bulk >= BLOB_FROM
        ? blobFrame(item.json, item.blobs, item.texts, item.utf8)
        : binaryFrame(item.json, item.blobs, item.texts);
      item.blobs = item.texts = item.utf8 = null;
    }
    outbox.push(item);
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  }

  // The size in bytes of the frame that carries the message alone, or an upper bound of it
  // (3 bytes a UTF-16 unit) when that bound is within the limit: frames are packed by it, so
  // they never exceed the limit. The frame around the message costs at most 20 bytes, 11 for
  // each binary value's length, and 7, with 11 for each, for the list of those that are long
  // strings (see binaryFrame). Past the bound, the JSON's UTF-8 bytes are counted, and kept
  // for blobFrame.
  function sizeOf(json, blobs, texts) {
    let size = 20 + 11 * blobs.length + (texts.length ? 7 + 11 * texts.length : 0);
    for (const b of blobs) size += b.byteLength;
    if (size + json.length * 3 <= boot.maxMessageBytes) {
      return { size: size + json.length * 3, utf8: null };
    }
    const utf8 = utf8Within(json, Math.max(0, boot.maxMessageBytes - size));
    // Over the limit: counted all the same, for the message that says so.
    if (utf8 === null) return { size: size + encoder.encode(json).byteLength, utf8 };
    return { size: size + utf8.byteLength, utf8 };
  }

  // A name as the page's messages quote it: a long one cut short, as the core's messages do.
  function shortened(text) {
    return typeof text === "string" && text.length > 200 ? text.slice(0, 199) + "\u2026" : text;
  }

  // A name with its control characters, line separators and lone surrogates written as escapes,
  // as the core writes them in its messages (a raw one would break a message's line, hide in
  // it, or make it text that is not Unicode).
  const ESCAPES = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };
  const ESCAPED = /[\x00-\x1f\x7f-\x9f\u2028\u2029]|\p{Cs}/gu;  // and lone surrogates
  function escaped(text) {
    return typeof text !== "string" ? text : text.replace(ESCAPED, (c) => ESCAPES[c]
      || (c.charCodeAt(0) < 0x100 ? "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0")
        : "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")));
  }

  // Serialize a message for the wire, or throw the IpcError that tells why it cannot go.
  function encode(message, what) {
    let encoded;
    try { encoded = serialize(message); } catch (err) {
      const why = String(err && err.message);
      const field = refusedAt(message);
      throw fail("invalid_args", `The arguments of '${what}' cannot be sent: ${why}`
        + (field ? ` (at ${field}).` : "."), [{ field, message: why }]);
    }
    const { size, utf8 } = sizeOf(encoded.json, encoded.blobs, encoded.texts);
    if (size > boot.maxMessageBytes) {
      throw fail("invalid_args",
        `'${what}' is ${size} bytes, over the limit of ${boot.maxMessageBytes} bytes `
        + (boot.uncovered ? "for a page that no capability covers, whose calls are all denied."
          : "(app.ipc.maxMessageBytes in the config)."));
    }
    // At least its size in bytes: what decides whether it leaves as a Blob.
    let bulk = encoded.json.length;
    for (const b of encoded.blobs) bulk += b.byteLength;
    return { json: encoded.json, blobs: encoded.blobs, texts: encoded.texts, size, bulk, utf8 };
  }

  // Where in a message serialize() refused something, named as the core names fields (for an
  // invoke, from its arguments: "note.tags.2"; for an event, "payload..."), or null when it
  // cannot be told. Only walked once a message has been refused.
  function refusedAt(message) {
    const seen = new Set();
    const at = (value, path) => {
      try {
        if (typeof value === "bigint") return path;
        refuseChanged(value);
        if (typeof value === "string") return wellFormed(value) ? null : path;
        if (value === null || typeof value !== "object" || isBinary(value) || isBoxed(value)) {
          return null;
        }
        if (seen.has(value) || path.length > MAX_DEPTH) return path;
        if (typeof value.toJSON === "function" && !(value instanceof Channel)) {
          value = value.toJSON();
          if (value === null || typeof value !== "object") return at(value, path);
        }
        seen.add(value);
        for (const key of Object.keys(value)) {
          if (!wellFormed(key)) return path;  // (a key of the arguments: no field to name)
          let item;
          try { item = value[key]; } catch (err) { return [...path, key]; }  // a getter
          const found = at(item, [...path, key]);
          if (found) return found;
        }
        seen.delete(value);
        return null;
      } catch (err) {
        return path;
      }
    };
    const root = message.kind === "invoke" ? message.args : message;
    const found = at(root, []);
    return found && found.length ? found.join(".") : null;
  }

  // Every request, of any kind, goes through here and settles exactly once.
  // One timer watches every call's deadline (a timer per call costs more than the call).
  let sweepAt = Infinity;
  let sweepTimer = null;

  function armSweep(deadline) {
    if (deadline >= sweepAt) return;
    if (sweepTimer !== null) clearTimeout(sweepTimer);
    sweepAt = deadline;
    // A timer of more than 2^31-1 ms fires at once: a later deadline is swept in steps.
    const delay = Math.max(0, deadline - performance.now());
    sweepTimer = setTimeout(sweep, Math.min(2 ** 31 - 1, delay));
  }

  // A sweep this late (ms) ran after the page's thread was held up (a long task, a dialog):
  // answers that came meanwhile may still wait behind it to be read, and calls made in the task
  // that held it up have only now left (their requests go out after it). A call then past its
  // time gets a moment more (ms), once, before it times out: time for a round trip to the core
  // on a busy machine (100 ms was seen to fall short).
  const SWEPT_LATE = 50;
  const LATE_GRACE = 500;

  function sweep() {
    const due = sweepAt;
    sweepTimer = null;
    sweepAt = Infinity;
    const now = performance.now();
    const late = now - due > SWEPT_LATE;
    let next = Infinity;
    for (const [id, call] of [...pending]) {
      if (late && call.deadline <= now && !call.graced) {
        call.graced = true;
        call.deadline = now + LATE_GRACE;
      }
      if (call.deadline <= now) {
        settle(id, false, fail("timeout", `'${call.what}' got no answer within ${call.limit} ms `
          + (call.invoked ? "(the page's wait: invoke's timeoutMs, by default the core's limit "
            + "plus 5 s)." : "(the page's wait: the core's limit plus 5 s).")));
      } else if (call.deadline < next) {
        next = call.deadline;
      }
    }
    if (next !== Infinity) armSweep(next);
  }

  function send(message, what, timeoutMs) {
    what = shortened(escaped(what));
    return new Promise((resolve, reject) => {
      try {
        start(message, what, timeoutMs, resolve, reject);
      } catch (err) {  // a built-in a page script replaced threw: still an IpcError, with a code
        reject(err instanceof IpcError ? err
          : fail("internal", `'${what}' could not be sent: ${err && err.message}`));
      }
    });
  }

  function start(message, what, timeoutMs, resolve, reject) {
    if (lost) { reject(lostFor(what)); return; }
    if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && Number.isFinite(timeoutMs)
        && timeoutMs >= 0)) {
      reject(fail("invalid_args", `The timeoutMs of '${what}' must be a finite number of `
        + `milliseconds, 0 or more, not ${typeof timeoutMs === "number" ? timeoutMs
          : timeoutMs === null ? "null" : typeof timeoutMs}.`));
      return;
    }
    const id = nextId++;
    message.id = id;
    const limit = timeoutMs === undefined ? boot.timeoutMs : timeoutMs;
    // Under isolation the clock starts once the hook has let the call through: the frame
    // answers every request (an async hook within hookTimeoutMs), and a synchronous hook (a
    // confirm(), say) takes as long as its user. A call timed out while its hook was still
    // deciding would have run all the same once let through.
    const deadline = isolation ? Infinity : performance.now() + limit;
    // (name: the command or event it is for, as the core's messages quote it)
    const name = message.kind === "invoke" ? message.cmd : message.event;
    const invoked = message.kind === "invoke";
    pending.set(id, { resolve, reject, deadline, limit, what, name, invoked, sent: false });
    if (!isolation) armSweep(deadline);
    let encoded;
    try {
      encoded = encode(message, what);
      if (!isolation) { enqueue({ id, ...encoded }); return; }
    } catch (err) {
      settle(id, false, err instanceof IpcError ? err
        : fail("internal", `'${what}' could not be sent: ${err && err.message}`));
      return;
    }
    // Once sealed, a message goes out even if its caller stopped waiting: the core opens
    // sealed messages strictly in sequence, so one left out would stop all that follow.
    isolation.seal(id, encoded, what).then(
      (sealed) => {
        const call = pending.get(id);
        if (call) {
          call.deadline = performance.now() + call.limit;
          armSweep(call.deadline);
        }
        enqueue({ id, ...encode(sealed, what) });
      }).catch((err) => settle(id, false, err instanceof IpcError ? err
        : fail("internal", `'${what}' could not be sent: ${err && err.message}`)));
  }

  // ---- isolation (set up when the pattern is on) --------------------------------------------

  const isolation = boot.isolation ? createIsolationClient(boot.isolation) : null;

  // Under the isolation pattern each request goes to the isolation frame first: a hidden,
  // sandboxed iframe from another origin, where the app's hook sees it and the frame seals
  // what the hook lets through under a key this page never holds. The core opens only sealed
  // messages, so a script of this page that skips this path gets nothing run.
  // config: { frame: one-time URL of the frame, kid: the key's id, startMs, hookMs }.
  function createIsolationClient(config) {
    const frame = document.createElement("iframe");
    frame.setAttribute("sandbox", "allow-scripts allow-modals");
    frame.setAttribute("aria-hidden", "true");
    frame.tabIndex = -1;
    // Hidden from sight, not from layout: Chromium slows the timers of a cross-origin frame
    // that is not rendered (display: none, or in <head>) to one a second, which held every
    // call whose hook awaits a timer for a second. A child of <html>, outside <body>: code that
    // rebuilds the body must not take the frame with it.
    // Pinned against the page's style sheets, which could move or clip it out of sight.
    for (const [name, value] of [["position", "fixed"], ["left", "0"], ["top", "0"],
      ["width", "1px"], ["height", "1px"], ["margin", "0"], ["padding", "0"], ["border", "0"],
      ["transform", "none"], ["translate", "none"], ["rotate", "none"], ["scale", "none"],
      ["clip-path", "none"], ["mask", "none"], ["filter", "none"], ["zoom", "1"],
      ["opacity", "0"], ["pointer-events", "none"], ["display", "block"],
      ["visibility", "visible"], ["content-visibility", "visible"]]) {
      frame.style.setProperty(name, value, "important");
    }
    frame.src = config.frame;
    document.documentElement.appendChild(frame);
    const target = frame.contentWindow;
    let port = null;             // the frame's channel, handed over with its ready message
    const waiting = new Map();   // id -> { resolve, reject, what }
    let requests = [];           // for the frame, posted together once per tick
    let postQueued = false;
    let ready = false;
    let broken = null;           // why no request can pass any more
    let loads = 0;

    function breakDown(reason) {
      if (broken) return;
      broken = reason;
      if (port) apply(Port.close, port, []);
      requests = [];
      for (const call of waiting.values()) call.reject(fail("blocked", `'${call.what}' ${reason}`));
      waiting.clear();
    }

    const startTimer = setTimeout(() => {
      if (!ready) breakDown(`cannot pass the isolation hook: the isolation frame did not start `
        + `within ${config.startMs} ms. See the app's log, then reload the page.`);
    }, config.startMs);
    // Heard on the document, capturing, and before any page script can listen: a listener of
    // the page's there could otherwise stop a load's event on its way to the frame, and the
    // frame, reloaded without the key, would leave every call waiting for it.
    document.addEventListener("load", (event) => {
      if (apply(Dom.target, event, []) === frame && ++loads > 1) {
        breakDown("cannot pass the isolation hook: the isolation frame was reloaded, and "
          + "only its first load holds the key. Reload the page.");
      }
    }, true);
    // Removed, even if put back at once (a new frame then, whose load could be kept from
    // being heard): it no longer holds the key. (A child of <html>: only the document's and
    // <html>'s own children are watched, not every change of the page.)
    const takenAway = (records) => {
      for (let r = 0; r < records.length; r++) {
        const removed = apply(Dom.removed, records[r], []);
        for (let i = 0; i < apply(Dom.length, removed, []); i++) {
          const node = apply(Dom.item, removed, [i]);
          if (node === frame || apply(Dom.contains, node, [frame])) return true;
        }
      }
      return !apply(Dom.connected, frame, []);
    };
    const watch = new MutationObserver((records) => {
      if (takenAway(records)) breakDown("cannot pass the isolation hook: the isolation frame "
        + "was removed from the page. Reload the page.");
    });
    watch.observe(document, { childList: true });
    watch.observe(document.documentElement, { childList: true });

    // Only the frame itself is heard: a sandboxed document's origin is "null", so the source
    // is what tells it apart from any other frame. After its ready message, the frame speaks
    // only on the channel it handed over, which no other frame holds an end of. (Capturing,
    // and added first: no listener of the page's can hide the frame's messages from this one.)
    window.addEventListener("message", (event) => {
      if (read(event, "source") !== target || read(event, "origin") !== "null") return;
      // The frame's messages are for this runtime alone: no listener of the page's hears
      // them, nor gets the channel its ready message hands over (to close it, say, which
      // would leave every later call waiting for the frame).
      apply(Message.stop, event, []);
      if (broken) return;
      const data = read(event, "data");
      if (data === null || typeof data !== "object") return;
      const ports = read(event, "ports");
      if (data.ready === true && !ready && ports.length === 1) {
        ready = true;
        clearTimeout(startTimer);
        port = ports[0];
        apply(Port.listen, port, ["message", (e) => {
          // In the frame's order, which is the sequence order the core expects.
          const results = read(e, "data");
          if (!broken && results && Array.isArray(results.results)) results.results.forEach(finish);
        }]);
        apply(Port.start, port, []);
        post();
      } else if (typeof data.failed === "string") {
        breakDown(`cannot pass the isolation hook: ${data.failed}`);
      }
    }, true);

    function finish(result) {
      const call = waiting.get(result.n);
      if (!call) return;
      waiting.delete(result.n);
      if (result.error) {
        call.reject(fail(result.error.code, result.error.message));
      } else {
        // With no prototype: an Object.prototype.then of a page script's would make it a
        // thenable, which the promise would wait on for ever.
        call.resolve(Object.assign(Object.create(null), { id: result.n, kind: "sealed",
          kid: config.kid, seq: result.seq, ct: result.ct }));
      }
    }

    function post() {
      postQueued = false;
      if (!ready || broken || requests.length === 0) return;
      const batch = requests;
      requests = [];
      try {
        // The bytes are the batch's own copies (see seal): moved to the frame, not copied, a
        // buffer a request.
        apply(Port.post, port, [{ requests: batch },
          batch.flatMap((r) => (r.blobs.length ? [r.blobs[0].buffer] : []))]);
      } catch (err) {  // nothing of the batch reached the frame: each of its calls fails now
        for (const r of batch) {
          finish({ n: r.n, error: { code: "internal", message: `'${waiting.get(r.n)?.what}' `
            + `could not be handed to the isolation frame: ${err && err.message}` } });
        }
        return;
      }
      // The frame times its async hooks, but a hidden frame's timers may be throttled (to a
      // second in Qt WebEngine): this page, whose timers are not, tells it when time may be
      // up, again and again while the calls wait. The frame ends the wait of a hook that has
      // run that long by its own clock: one held up behind another hook (a confirm() the user
      // reads, say) has not.
      const remind = () => setTimeout(() => {
        const late = batch.map((r) => r.n).filter((n) => waiting.has(n));
        if (!late.length || !port || broken) return;
        apply(Port.post, port, [{ expire: late }]);
        remind();
      }, config.hookMs + 20);
      remind();
    }

    // Resolves to the sealed message for request `id` (already encoded), or rejects with an
    // IpcError: "blocked" by the hook or a missing frame, "invalid_args" for what cannot be sent.
    function seal(id, encoded, what) {
      return new Promise((resolve, reject) => {
        if (broken) { reject(fail("blocked", `'${what}' ${broken}`)); return; }
        waiting.set(id, { resolve, reject, what });
        // Copied now, as the JSON was made now: the frame gets them in a later microtask.
        requests.push({ n: id, json: encoded.json, blobs: packed(encoded.blobs),
          texts: encoded.texts });
        if (ready && !postQueued) { postQueued = true; queueMicrotask(post); }
      });
    }

    // A copy of a message's binary values in one buffer of their own, as views of it: each
    // buffer handed to the frame costs the move (100,000 small values, each in a buffer of its
    // own, took postMessage 2 s; in one, 50 ms). (A page's received values are views of one
    // buffer alike: see parseFrame.) One value is copied as it is, into a buffer of its size.
    function packed(blobs) {
      if (blobs.length === 1) return [blobs[0].slice()];
      let size = 0;
      for (const b of blobs) size += b.byteLength;
      const joint = new Uint8Array(size);
      let at = 0;
      return blobs.map((b) => {
        joint.set(b, at);
        at += b.byteLength;
        return joint.subarray(at - b.byteLength, at);
      });
    }

    return { seal };
  }

  // ---- public API -----------------------------------------------------------------------------

  class Channel {
    constructor(onmessage) {
      this.id = nextId++;
      this.onmessage = typeof onmessage === "function" ? onmessage : null;
      channels.set(this.id, this);
    }
    close() { channels.delete(this.id); }
    toJSON() { return { [CHANNEL_KEY]: this.id }; }
  }
  const channelToJSON = Channel.prototype.toJSON;
  channelId = (value) => {
    if (!(value instanceof Channel) || value.toJSON !== channelToJSON) return null;
    const id = value.id;  // (read once: a getter may answer each read differently)
    return Number.isSafeInteger(id) ? id : null;
  };

  // Always a promise: whatever the arguments do when read, the caller's promise says so.
  function invoke(cmd, args, options) {
    if (typeof cmd !== "string" || cmd === "") {
      return Promise.reject(fail("invalid_args", "invoke() needs a command name (a string)."));
    }
    if (!wellFormed(cmd)) {
      return Promise.reject(fail("invalid_args", `The command name '${escaped(shortened(cmd))}' `
        + "holds a lone UTF-16 surrogate, which is not valid Unicode: no command has such a name."));
    }
    let timeout;
    try {
      // No arguments: undefined or null (as Python's None comes through a test tool).
      if (args !== undefined && args !== null && (typeof args !== "object"
          || Array.isArray(args) || isBinary(args) || args instanceof Date)) {
        return Promise.reject(fail("invalid_args",
          `The arguments of '${cmd}' must be an object of named values, not ${kindOf(args)}.`));
      }
      if (options !== undefined && options !== null) {
        if (typeof options !== "object" || Array.isArray(options)) {
          return Promise.reject(fail("invalid_args", `The options of '${cmd}' must be an object `
            + `such as { timeoutMs: 5000 }, not ${Array.isArray(options) ? "an array"
              : typeof options}.`));
        }
        const unknown = Object.keys(options).find((key) => key !== "timeoutMs");
        if (unknown !== undefined) {
          return Promise.reject(fail("invalid_args", `invoke() has no option ${
            JSON.stringify(unknown)} (in the call of '${cmd}'); its one option is timeoutMs.`));
        }
        timeout = options.timeoutMs;
      }
    } catch (err) {
      return Promise.reject(fail("invalid_args",
        `The arguments or options of '${cmd}' cannot be read: ${err && err.message}.`));
    }
    return send({ kind: "invoke", cmd, args: args || {} }, cmd, timeout);
  }

  let nextHandler = 1;
  // An event name must be text; the core checks the rest (see app/core/events.py).
  function badEventName(event, call) {
    if (typeof event === "string") {
      return wellFormed(event) ? null : fail("invalid_args", `${call} needs an event name of `
        + `valid Unicode: '${escaped(shortened(event))}' holds a lone UTF-16 surrogate.`);
    }
    return fail("invalid_args", `${call} needs an event name (a string), not ${typeof event}.`);
  }

  const subscribing = new Map();  // event -> its listen message on its way
  async function listen(event, handler) {
    const bad = badEventName(event, "listen()");
    if (bad) throw bad;
    if (typeof handler !== "function") {
      throw fail("invalid_args", `listen('${event}') needs a handler function.`);
    }
    // The handler is in place before the listen message leaves: an event the core sends
    // from its subscription on (one the page emits right after listen(), without waiting,
    // or one in the frame of the reply) reaches it.
    let listeners = handlers.get(event);
    if (!listeners) { listeners = new Map(); handlers.set(event, listeners); }
    const id = nextHandler++;
    listeners.set(id, handler);
    let subscribed = subscribing.get(event);
    if (!subscribed && listeners.size === 1) {
      subscribed = send({ kind: "listen", event }, "listen " + event);
      subscribing.set(event, subscribed);
      const done = () => { if (subscribing.get(event) === subscribed) subscribing.delete(event); };
      subscribed.then(done, done);
    }
    if (subscribed) {
      try {
        await subscribed;
      } catch (err) {
        const current = handlers.get(event);
        if (current) {
          current.delete(id);
          if (!current.size) handlers.delete(event);
        }
        throw err;
      }
    }
    return handedOver(function unlisten() {
      const current = handlers.get(event);
      if (!current || !current.delete(id) || current.size) return;
      handlers.delete(event);
      send({ kind: "unlisten", event }, "unlisten " + event).catch(() => {});
    });
  }

  async function once(event, handler) {
    const bad = badEventName(event, "once()");
    if (bad) throw bad;
    if (typeof handler !== "function") {
      throw fail("invalid_args", `once('${event}') needs a handler function.`);
    }
    let unlisten = null;
    let fired = false;
    unlisten = await listen(event, (e) => {
      if (fired) return;
      fired = true;
      if (unlisten) unlisten();
      handler(e);
    });
    if (fired) unlisten();
    return unlisten;
  }

  function emit(event, payload) {
    const bad = badEventName(event, "emit()");
    if (bad) return Promise.reject(bad);
    return send({ kind: "emit", event, payload }, "emit " + event).then(() => undefined);
  }

  function emitTo(target, event, payload) {
    if (typeof target !== "string" || target === "") {
      return Promise.reject(fail("invalid_args", "emitTo() needs a window label (a string "
        + `that is not empty), not ${target === "" ? "an empty string" : typeof target}.`));
    }
    const bad = badEventName(event, "emitTo()");
    if (bad) return Promise.reject(bad);
    return send({ kind: "emit", event, payload, target }, "emit " + event).then(() => undefined);
  }

  const api = Object.freeze({
    core: Object.freeze({ invoke, Channel, IpcError }),
    event: Object.freeze({ listen, once, emit, emitTo }),
    window: Object.freeze({ label: boot.label }),
  });
  Object.defineProperty(window, "__APP__", { value: api, enumerable: false });

  connect(boot.ticket);
  // Served pages have the API before their own scripts run. A remote page gets it after it
  // loaded, so its scripts wait for this event (or check window.__APP__ first).
  window.dispatchEvent(new Event("app:ready"));
}
