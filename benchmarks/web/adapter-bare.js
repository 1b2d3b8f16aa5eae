// The transport's floor: one WebSocket, one frame per call, a server that echoes each text
// frame back unread. Only requests that start with {"op" are parsed by the server.
(function () {
  "use strict";
  const pending = new Map();
  let nextId = 1;
  let sink = null;
  const ws = new WebSocket(`ws://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  const opened = new Promise((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("the bare echo socket failed"));
  });

  function settle(id, value) {
    const resolve = pending.get(id);
    pending.delete(id);
    if (resolve) resolve(value);
  }

  ws.onmessage = (e) => {
    if (typeof e.data !== "string") {
      settle(new DataView(e.data).getUint32(0, true), new Uint8Array(e.data, 4));
      return;
    }
    const m = JSON.parse(e.data);
    if (m.e) { if (sink) sink(m); return; }
    settle(m.id, m.v);
  };

  function request(message) {
    return new Promise((resolve) => {
      message.id = nextId++;
      pending.set(message.id, resolve);
      ws.send(JSON.stringify(message));
    });
  }

  window.__BENCH__.use({
    name: "bare",
    ready: () => opened,
    call: (value) => request({ v: value }),
    clock: () => request({ op: "clock" }),
    upload: (data) => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      const frame = new Uint8Array(4 + data.byteLength);
      new DataView(frame.buffer).setUint32(0, id, true);
      frame.set(data, 4);
      ws.send(frame);
    }),
    download: (size) => request({ op: "download", n: size }),
    events: (count, s, intervalMs) => {
      sink = s;
      return request({ op: "events", n: count, interval: intervalMs });
    },
  });
})();
