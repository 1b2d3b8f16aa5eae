// The shell: invoke() and listen() of the page's runtime (brownfield or isolation alike).
(function () {
  "use strict";
  const { invoke } = window.__APP__.core;
  const { listen } = window.__APP__.event;
  let sink = null;
  const listening = listen("bench-event", (e) => { if (sink) sink(e.payload); });
  window.__BENCH__.use({
    name: "shell",
    ready: () => Promise.resolve(),  // invoke() queues until the socket is open
    call: (value) => invoke("echo", { value }),
    clock: () => invoke("clock"),
    upload: (data) => invoke("upload", { data }),
    download: (size) => invoke("download", { size }),
    events: async (count, s, intervalMs) => {
      await listening;
      sink = s;
      return invoke("emit_events", { count, intervalMs });
    },
    variants: { async: (value) => invoke("echo_async", { value }) },
  });
})();
