// The measuring script: one copy, loaded by the page of every subject. The subject's adapter
// script registers how to reach Python (window.__BENCH__.use(adapter)); the runner then asks for
// one measurement at a time over CDP with __BENCH__.run(spec), and reads __BENCH__.status().
//
// An adapter is { name, ready(), call(value), clock(), upload?(bytes), download?(size),
// events(count, sink, intervalMs), variants?: { name: call } }: call resolves with the echoed
// value, clock with Python's wall clock in ms (time.time() * 1000), upload with the byte count,
// download with a Uint8Array, and events asks Python to push `count` events, `intervalMs` apart
// (0: as fast as it can), each of which the adapter hands to sink({ i, t }) where t is Python's
// wall clock in ms at the send.
(function () {
  "use strict";

  const now = () => performance.now();
  // Wall-clock ms by the page's clock. Chromium derives timeOrigin from clocks of its own,
  // which need not agree with Python's time.time(), so what is compared with Python's clock is
  // first put on it, where the two can be told apart (see clockOffset).
  const epoch = () => performance.timeOrigin + performance.now();

  let adapter = null;
  let first = null;   // { at, ms, clockOffsetMs }: when the first call resolved (page's clock)
  let failure = null;

  function percentile(sorted, p) {
    if (sorted.length === 0) return null;
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
  }

  function median(values) {
    return percentile([...values].sort((a, b) => a - b), 50);
  }

  // ---- payloads (made once per size, outside the timed part) --------------------------------

  const payloads = new Map();

  function makeString(bytes) {
    const block = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\n";
    return block.repeat(Math.ceil(bytes / block.length)).slice(0, bytes);
  }

  function makeJson(bytes) {
    // Records of mixed types, as an app would send; stops once the JSON reaches `bytes`.
    const records = [];
    let size = 2;
    for (let i = 0; size < bytes; i++) {
      const record = { id: i, name: "record-" + i, tags: ["alpha", "beta"], score: i * 0.5,
                       active: i % 2 === 0 };
      size += JSON.stringify(record).length + 1;
      records.push(record);
    }
    return records;
  }

  function makeBytes(bytes) {
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) out[i] = i & 0xff;
    return out;
  }

  function payload(kind, bytes) {
    const key = kind + ":" + bytes;
    if (!payloads.has(key)) {
      payloads.clear();  // keep one large payload alive at a time
      const make = { string: makeString, json: makeJson, bytes: makeBytes }[kind];
      payloads.set(key, make(bytes));
    }
    return payloads.get(key);
  }

  function same(kind, sent, got) {
    if (kind === "string") return got === sent;
    return Array.isArray(got) && got.length === sent.length
      && (sent.length === 0 || got[got.length - 1].id === sent[sent.length - 1].id);
  }

  // ---- measurements ----------------------------------------------------------------------------

  // A measurement of small calls may name one of the adapter's variants of `call` (the shell's
  // "async" one invokes an async command, which skips the thread pool).
  function caller(variant) {
    if (!variant) return adapter.call;
    const call = adapter.variants && adapter.variants[variant];
    if (!call) throw new Error(`${adapter.name} has no call variant named ${variant}`);
    return call;
  }

  async function latency({ calls, warmup, variant }) {
    const call = caller(variant);
    for (let i = 0; i < warmup; i++) await call("ping");
    const times = new Array(calls);
    const start = now();
    for (let i = 0; i < calls; i++) {
      const t = now();
      const got = await call("ping");
      times[i] = now() - t;
      if (got !== "ping") throw new Error(`echo returned ${JSON.stringify(got)}`);
    }
    const total = now() - start;
    times.sort((a, b) => a - b);
    // performance.now() is clamped to 0.1 ms in pages that are not cross-origin isolated (to
    // 5 µs in those that are), so p50/p99 come in such steps; the mean has no such steps.
    return { p50: percentile(times, 50), p99: percentile(times, 99), mean: total / calls, calls,
             clockStepMs: self.crossOriginIsolated ? 0.005 : 0.1 };
  }

  // `inflight` callers, each issuing its next call as soon as its last one resolves, for
  // `seconds` (and at least `inflight` calls in all, so a slow subject still gets measured).
  async function closedLoop(call, inflight, seconds) {
    let completed = 0;
    let issued = 0;
    const start = now();
    const deadline = start + seconds * 1000;
    async function loop() {
      while (now() < deadline || issued < inflight) {
        issued++;
        await call("ping");
        completed++;
      }
    }
    await Promise.all(Array.from({ length: inflight }, loop));
    return { completed, ms: now() - start };
  }

  async function throughput({ inflight, seconds, variant }) {
    const call = caller(variant);
    await closedLoop(call, inflight, seconds / 4);  // warm-up: threads, buffers, JIT
    const { completed, ms } = await closedLoop(call, inflight, seconds);
    return { rate: completed / (ms / 1000), calls: completed, ms };
  }

  async function echo({ payload: kind, bytes, repeat }) {
    const value = payload(kind, bytes);
    const times = [];
    for (let i = 0; i < repeat; i++) {
      const t = now();
      const got = await adapter.call(value);
      times.push(now() - t);
      if (!same(kind, value, got)) throw new Error(`echo of ${bytes} bytes of ${kind} came back different`);
    }
    return { ms: median(times), repeat };
  }

  async function upload({ bytes, repeat }) {
    if (!adapter.upload) throw new Error(`${adapter.name} cannot send binary values`);
    const value = payload("bytes", bytes);
    const times = [];
    for (let i = 0; i < repeat; i++) {
      const t = now();
      const got = await adapter.upload(value);
      times.push(now() - t);
      if (got !== bytes) throw new Error(`upload of ${bytes} bytes arrived as ${got}`);
    }
    return { ms: median(times), repeat };
  }

  async function download({ bytes, repeat }) {
    if (!adapter.download) throw new Error(`${adapter.name} cannot receive binary values`);
    const times = [];
    for (let i = 0; i < repeat; i++) {
      const t = now();
      const got = await adapter.download(bytes);
      times.push(now() - t);
      if (!(got instanceof Uint8Array) || got.byteLength !== bytes) {
        throw new Error(`download of ${bytes} bytes came as ${got && got.byteLength} bytes`);
      }
    }
    return { ms: median(times), repeat };
  }

  // How far Python's clock is ahead of the page's (ms), from the quickest of five round trips
  // that ask Python for the time, taken at their middle. That is right within half the trip:
  // it takes both ways for equally long, and under isolation the way there, through the frame,
  // is the longer by 0.5-0.7 ms, which put the clocks 0.3-0.36 ms apart in headless Chromium
  // where they agreed within 0.1 ms by brownfield's calls (and events then seemed to take
  // 0.3 ms longer under isolation; read by the page's own clock they took the same). Both are
  // this machine's wall clock: an offset within half the trip is taken for none.
  async function clockOffset() {
    let best = null;
    for (let i = 0; i < 5; i++) {
      const sent = epoch();
      const python = await adapter.clock();
      const back = epoch();
      if (typeof python !== "number") throw new Error(`clock() returned ${python}`);
      if (best === null || back - sent < best.trip) {
        best = { trip: back - sent, offset: python - (sent + back) / 2 };
      }
    }
    return Math.abs(best.offset) > best.trip / 2 ? best.offset : 0;
  }

  // intervalMs: Python waits this long between two events (0: a burst, as fast as it can).
  async function events({ count, intervalMs = 0 }) {
    const offset = await clockOffset();
    const latencies = new Array(count);
    let received = 0;
    let last = 0;
    let done;
    const all = new Promise((resolve) => { done = resolve; });
    const sink = (event) => {
      const at = epoch();
      if (received < count) latencies[received] = at + offset - event.t;
      received++;
      last = at;
      if (received === count) done();
    };
    const start = epoch();
    await Promise.all([adapter.events(count, sink, intervalMs), all]);
    latencies.sort((a, b) => a - b);
    return {
      rate: count / ((last - start) / 1000),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      count,
    };
  }

  const measurements = { latency, throughput, echo, upload, download, events };

  // ---- the runner's entry points --------------------------------------------------------------

  async function use(impl) {
    adapter = impl;
    try {
      await adapter.ready();
      const got = await adapter.call("first");
      if (got !== "first") throw new Error(`the first call returned ${JSON.stringify(got)}`);
      const at = epoch();
      first = { at, ms: now(), clockOffsetMs: await clockOffset() };
    } catch (err) {
      failure = String((err && err.stack) || err);
    }
  }

  async function run(spec) {
    if (!first) throw new Error("the subject's first call has not resolved");
    const measure = measurements[spec.kind];
    if (!measure) throw new Error(`no measurement named ${spec.kind}`);
    return measure(spec);
  }

  function status() {
    return {
      adapter: adapter && adapter.name,
      first,
      failure,
      timeOrigin: performance.timeOrigin,
    };
  }

  window.__BENCH__ = Object.freeze({ use, run, status });
})();
