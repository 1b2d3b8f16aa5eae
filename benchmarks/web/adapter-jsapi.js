// pywebview's own bridge: window.pywebview.api (a thread per call, results via evaluate_js).
// It has no binary values; Python pushes events with evaluate_js("__benchSink(...)").
(function () {
  "use strict";
  const api = () => window.pywebview.api;
  const ready = new Promise((resolve) => {
    if (window.pywebview && window.pywebview.api && window.pywebview.api.echo) resolve();
    else window.addEventListener("pywebviewready", () => resolve(), { once: true });
  });
  window.__BENCH__.use({
    name: "jsapi",
    ready: () => ready,
    call: (value) => api().echo(value),
    clock: () => api().clock(),
    events: (count, sink, intervalMs) => {
      window.__benchSink = sink;
      return api().emit_events(count, intervalMs);
    },
  });
})();
