function (config, wire) {
  "use strict";
  // The isolation frame's runtime. The core inlines it into the isolation app's page, ahead of
  // the app's own scripts, with this document's config: { key (base64, once), kid, window,
  // origin (the frontend's), hookTimeoutMs, maxMessageBytes, problems, sources } and the page
  // runtime's wire codec. It takes requests from the page, runs the app's hook on each, and
  // seals what the hook lets through. The app's scripts only define the hook.

  // The key sat in this script's text; take the text out of the document.
  if (document.currentScript) document.currentScript.remove();

  const context = Object.freeze({ window: config.window, origin: config.origin });
  const encoder = new TextEncoder();
  const SEALED_FIELDS_BYTES = 1024;  // room for the sealed message's other fields on the wire
  // A ciphertext travels as base64 text while it is small, so that many sealed calls still go
  // in one text frame, and as bytes (a binary frame of its own, no base64) from this size on,
  // or when its base64 would not fit in a message.
  const BYTES_FROM = 16 * 1024;
  // Messages sealed together at most (as a page's frame carries; the core takes 4096).
  const GROUP_MESSAGES = 1024;
  // The largest plaintext: its ciphertext is 16 bytes longer.
  const limit = config.maxMessageBytes - SEALED_FIELDS_BYTES - 16;
  const TIMED_OUT = {};
  const timing = new Map();          // n -> { since, end }: when its async hook began, and
                                     // what ends the wait for it, as timed out
  let key = null;
  let nextSeq = 0;
  let approved = [];                 // let through in this turn: { n, plain: {json, blobs}, what }
  let sealing = Promise.resolve();   // the last sealed results to leave
  let refused = [];                  // results with an error, to leave at the end of the turn

  // What went wrong as the app's scripts ran (a syntax error, say): said when they leave no
  // hook, so that its author learns why.
  const scriptErrors = [];
  window.addEventListener("error", (event) => {
    if (document.readyState === "loading" && scriptErrors.length < 3) {
      scriptErrors.push(`${event.message} (${where(event)})`);
    }
  });

  // The file and line of an error as the app's scripts ran. An error thrown as a script runs
  // has its file's line, and the file by its sourceURL (see isolation/page.py); a syntax error
  // has the page's line, and the page's address (in a frame; else its file): config.sources
  // says which file's lines those are. A named file's line past its end is the page's.
  function where(event) {
    const named = event.filename && !/^[a-z]+:/i.test(event.filename);
    for (const [name, first, last] of config.sources) {
      const inside = event.lineno >= first && event.lineno <= last;
      if (inside && (!named || (name === event.filename && event.lineno > last - first + 1))) {
        return `${name}:${event.lineno - first + 1}`;
      }
    }
    return named ? `${event.filename}:${event.lineno}` : `line ${event.lineno}`;
  }

  const secret = Uint8Array.from(atob(config.key), (c) => c.charCodeAt(0));
  config.key = null;
  // Requests and results travel on a channel of their own, which only the page holds the other
  // end of: it goes to the page with the ready message, which only the frontend origin can get.
  const channel = new MessageChannel();
  channel.port1.addEventListener("message", (event) => {
    const expire = event.data && event.data.expire;
    if (Array.isArray(expire)) {  // the page says time may be up for these (see hookTimeoutMs)
      const now = performance.now();
      for (const n of expire) {
        const hook = timing.get(n);
        if (hook && now - hook.since >= config.hookTimeoutMs) hook.end();
      }
      return;
    }
    const requests = event.data && event.data.requests;
    if (!Array.isArray(requests)) return;
    const buffers = new Set();  // of this batch's requests: one each (see packed)
    for (const request of requests) {
      try { handle(request, buffers); } catch (err) {
        refuse({ n: request && request.n, error: { code: "internal",
          message: `The isolation frame could not handle a request: ${err && err.message}.` } });
      }
    }
  });

  crypto.subtle.importKey("raw", secret, { name: "AES-GCM" }, false, ["encrypt"]).then((k) => {
    key = k;
    secret.fill(0);
    whenParsed(() => {
      channel.port1.start();
      window.parent.postMessage({ ready: true }, config.origin, [channel.port2]);
    });
  }, (err) => {
    window.parent.postMessage({ failed: `the isolation frame cannot use its key (${err}).` },
      config.origin);
  });

  function whenParsed(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  // ---- one request ----------------------------------------------------------------------------

  // Nothing the page sends is trusted: its scripts run where its runtime does, and can reach
  // this channel. A request is what the runtime sends, or it is refused: a safe integer `n`,
  // the message's JSON text, its binary values as byte arrays only, and which of those are
  // long strings' UTF-8 bytes (distinct indices). Any other object in their place would reach
  // the hook as what JSON never makes (a String object passes no `===` check), and be sealed
  // as what JSON makes of it (the plain string).
  function wellFormed(request) {
    return request !== null && typeof request === "object" && Number.isSafeInteger(request.n)
      && typeof request.json === "string" && Array.isArray(request.blobs)
      && request.blobs.every((b) => Object.getPrototypeOf(b) === Uint8Array.prototype)
      && Array.isArray(request.texts) && request.texts.every((i, at) => Number.isSafeInteger(i)
        && i >= 0 && i < request.blobs.length && request.texts.indexOf(i) === at);
  }

  const shared = (buffer) => Object.prototype.toString.call(buffer) === "[object SharedArrayBuffer]";

  // The request's message with its values in place of their markers.
  function messageOf(request) {
    const parsed = JSON.parse(request.json);
    if (!request.blobs.length) return parsed;
    return wire.restore(parsed, wire.valuesOf(request.blobs, request.texts));
  }

  // Whether a request's values are as packed() lays them out: views, in order and end to end,
  // of one buffer of their own that no other request of the batch has. Else a page script that
  // rewrote the copying made values of two messages (or two values of one) share bytes, and a
  // hook that changes one value in place would change another after its hook approved it.
  function ownBuffer(blobs, buffers) {
    if (!blobs.length) return true;
    const buffer = blobs[0].buffer;
    if (buffers.has(buffer) || shared(buffer)) return false;
    buffers.add(buffer);
    let at = 0;
    for (const b of blobs) {
      if (b.buffer !== buffer || b.byteOffset !== at) return false;
      at += b.byteLength;
    }
    return at === buffer.byteLength;
  }

  function handle(request, buffers) {
    if (!wellFormed(request) || !ownBuffer(request.blobs, buffers)) {
      refuse({ n: request && request.n, error: { code: "invalid_args",
        message: "The isolation frame refused a request that its page's runtime did not make." } });
      return;
    }
    // Each value in a buffer of its own: a hook may read a value's whole `.buffer`, which must
    // then be that value's bytes, not its neighbours' too. (One value has the request's buffer
    // to itself, and a large one is not copied.)
    if (request.blobs.length > 1) request.blobs = request.blobs.map((b) => new Uint8Array(b));
    const message = messageOf(request);
    const block = (why) => refuse({ n: request.n, error: { code: "blocked",
      message: `'${nameOf(message)}' was blocked by the isolation hook: `
        + `${String(why).replace(/\.$/, "")}.` } });
    if (config.problems.length) { block(config.problems.join(" ")); return; }
    const hook = window.__ISOLATION_HOOK__ || window.__TAURI_ISOLATION_HOOK__;
    if (typeof hook !== "function") {
      block("the isolation app defines no hook; set window.__ISOLATION_HOOK__ to a function"
        + (scriptErrors.length ? ` (its scripts failed as they ran: ${scriptErrors.join("; ")})`
          : ""));
      return;
    }
    let verdict;
    try { verdict = hook(toPayload(message), context); } catch (err) {
      block(`the hook threw ${describe(err)}`);
      return;
    }
    let thenable;
    try {  // (reading `then` runs the hook's code: a getter, or a Proxy's trap)
      thenable = verdict !== null && typeof verdict === "object"
        && typeof verdict.then === "function";
    } catch (err) {
      block(`what it returned could not be read (${describe(err)})`);
      return;
    }
    if (!thenable) {
      seal(request.n, message, verdict, block);
      return;
    }
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, config.hookTimeoutMs, TIMED_OUT);
      timing.set(request.n, { since: performance.now(), end: () => resolve(TIMED_OUT) });
    });
    const done = () => { clearTimeout(timer); timing.delete(request.n); };
    // Whatever the hook's promise settles with, and however odd, the call is answered.
    Promise.race([verdict, late]).then((value) => {
      done();
      if (value === TIMED_OUT) block(`the hook did not answer within ${config.hookTimeoutMs} ms`);
      else seal(request.n, message, value, block);
    }, (err) => {
      done();
      block(`the hook threw ${describe(err)}`);
    }).catch((err) => block(`what the hook returned could not be read (${describe(err)})`));
  }

  function seal(n, original, verdict, block) {
    if (verdict === null || verdict === undefined || verdict === false) {
      block(`it returned ${verdict}`);
      return;
    }
    let message;
    try {
      message = typeof verdict === "object" ? toMessage(verdict, original.id) : null;
    } catch (err) {  // a getter of the hook's own that throws, say
      block(`what it returned could not be read (${describe(err)})`);
      return;
    }
    if (message === null) {
      block(`it returned ${describe(verdict)}, not a message; return the payload (changed or `
        + "not) to let it through");
      return;
    }
    if (message.kind === "invoke" && (typeof message.cmd !== "string" || !message.cmd)) {
      block("it returned an invoke with no command name in message.cmd");
      return;
    }
    let plain;
    try {
      plain = wire.serialize(message);
    } catch (err) {
      refuse({ n, error: { code: "invalid_args",
        message: `What the isolation hook returned for '${nameOf(original)}' cannot be sent: `
          + `${err && err.message}.` } });
      return;
    }
    if (plainSize(plain, plain.json.length * 3) > limit) {
      const size = plainSize(plain, encoder.encode(plain.json).byteLength);
      if (size > limit) {
        refuse({ n, error: { code: "invalid_args", message: `'${nameOf(original)}' is ${size} `
          + `bytes after the isolation hook, over the limit of ${limit} bytes for a sealed `
          + "message (app.ipc.maxMessageBytes in the config, less room for the seal)." } });
        return;
      }
    }
    approved.push({ n, plain, what: nameOf(original) });
    if (approved.length === 1) queueMicrotask(sealApproved);
  }

  // What the hook let through in one turn is sealed together, as few groups as the size limit
  // allows (a message with bytes goes alone), and leaves in one message after what was sealed
  // before it: the page sends in the order it hears, and the core opens in sequence order.
  function sealApproved() {
    const groups = [];
    let texts = null;
    for (const item of approved.splice(0)) {
      if (item.plain.blobs.length) {  // alone, and what comes after it in a group after it
        groups.push({ members: [item], binary: true });
        texts = null;
        continue;
      }
      const size = item.plain.json.length * 3 + 1;
      if (texts === null || texts.size + size > limit
          || texts.members.length >= GROUP_MESSAGES) {
        texts = { members: [], size: 3 };
        groups.push(texts);
      }
      texts.members.push(item);
      texts.size += size;
    }
    // The numbers are taken only now, when the messages will surely be sealed and sent.
    for (const group of groups) {
      group.seq = nextSeq++;
      group.ct = crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce(group.seq), additionalData: encoder.encode(
          `app-isolation/1 ${config.kid} ${group.seq}`) }, key, plaintextOf(group));
    }
    sealing = sealing.then(() => Promise.all(groups.map((g) => g.ct))).then((cts) => {
      const results = [];
      const transfer = [];
      groups.forEach((group, i) => group.members.forEach((item, j) => {
        // The group's first message carries its ciphertext; the others only its number.
        const result = { n: item.n, seq: group.seq };
        if (j === 0) result.ct = asSent(cts[i], transfer);
        results.push(result);
      }));
      post({ results }, transfer);
    }, (err) => {
      // Their numbers are spent, and the core opens numbers strictly in order: nothing sealed
      // from now on could be opened. Every later call is blocked, saying so.
      config.problems.push(`sealing failed earlier (${err}), so the core can no longer open `
        + "this page's messages; reload the page.");
      post({ results: groups.flatMap((g) => g.members.map((item) => ({ n: item.n,
        error: { code: "internal",
          message: `The isolation frame could not seal '${item.what}': ${err}.` } }))) });
    });
  }

  // One tag byte, then the group: "J" and the JSON array of its messages, or "B" and the
  // binary frame the page would send for its one message (see app/core/protocol.py).
  function plaintextOf(group) {
    if (!group.binary) {
      return encoder.encode("J[" + group.members.map((item) => item.plain.json).join(",") + "]");
    }
    const { json, blobs, texts } = group.members[0].plain;
    const frame = new Uint8Array(wire.binaryFrame(json, blobs, texts));
    const plaintext = new Uint8Array(1 + frame.byteLength);
    plaintext[0] = 0x42;  // "B"
    plaintext.set(frame, 1);
    return plaintext;
  }

  // At most the size of a message's plaintext, given its JSON's size in bytes (the binary
  // frame's header adds its blob sizes to the JSON).
  function plainSize(plain, jsonBytes) {
    const blobs = plain.blobs;
    return 32 + jsonBytes + blobs.reduce((sum, b) => sum + 16 + b.byteLength, 0);
  }

  // A ciphertext as it goes to the page: base64 text, or its bytes (handed over, not copied).
  function asSent(buffer, transfer) {
    const text = Math.ceil(buffer.byteLength / 3) * 4;
    if (buffer.byteLength < BYTES_FROM && text + SEALED_FIELDS_BYTES <= config.maxMessageBytes) {
      return base64(buffer);
    }
    transfer.push(buffer);
    return new Uint8Array(buffer);
  }

  function base64(buffer) {
    const bytes = new Uint8Array(buffer);
    if (bytes.toBase64) return bytes.toBase64();
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }

  // 4 zero bytes, then the sequence number as 64-bit big-endian (see app/core/isolation/keys.py).
  // One buffer will do: encrypt() copies its arguments when it is called.
  const iv = new Uint8Array(12);
  const ivView = new DataView(iv.buffer);
  function nonce(seq) {
    ivView.setUint32(4, Math.floor(seq / 2 ** 32));
    ivView.setUint32(8, seq >>> 0);
    return iv;
  }

  // Refusals need no order; they leave together at the end of the turn.
  function refuse(result) {
    refused.push(result);
    if (refused.length === 1) {
      queueMicrotask(() => {
        const results = refused;
        refused = [];
        post({ results });
      });
    }
  }

  function post(message, transfer) {
    channel.port1.postMessage(message, transfer || []);
  }

  // ---- the hook's payload (the README's "The hook") ---------------------------------------------

  function toPayload(m) {
    if (m.kind === "invoke") return { cmd: "invoke", message: { cmd: m.cmd, args: m.args } };
    if (m.kind === "emit") {
      const payload = { cmd: "emit", event: m.event, payload: m.payload };
      if (m.target !== undefined) payload.target = m.target;
      return payload;
    }
    return { cmd: m.kind, event: m.event };
  }

  function toMessage(p, id) {
    if (p.cmd === "invoke") {
      const inner = p.message !== null && typeof p.message === "object" ? p.message : {};
      const args = inner.args === undefined ? {} : inner.args;
      return { id, kind: "invoke", cmd: inner.cmd, args };
    }
    if (p.cmd === "emit") {
      const message = { id, kind: "emit", event: p.event, payload: p.payload };
      if (p.target !== undefined && p.target !== null) message.target = p.target;
      return message;
    }
    if (p.cmd === "listen" || p.cmd === "unlisten") return { id, kind: p.cmd, event: p.event };
    return null;
  }

  function nameOf(m) {
    return m.kind === "invoke" ? String(m.cmd) : `${m.kind} ${m.event}`;
  }

  function describe(value) {
    try {
      if (value instanceof Error) return `${value.name}: ${value.message}`;
      return String(JSON.stringify(value)).slice(0, 80);
    } catch (err) {
      try { return String(value).slice(0, 80); } catch (again) {
        return "a value that cannot be shown";
      }
    }
  }
}
