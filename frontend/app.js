// The demo page: each card calls the Python side through the shell's JS API.
import { invoke, Channel } from "/__app__/api/core.js";
import { listen, emit } from "/__app__/api/event.js";
import { setupGallery, errorView } from "./errors.js";
import { $, el, brief, hex, kindOf, renderValue, timeOfDay, toast } from "./ui.js";

const label = window.__APP__.window.label;

/** Run `work` with `button` disabled, so a slow call cannot be fired twice by accident. */
async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function showError(target, error) {
  target.replaceChildren(errorView(error, { compact: true }));
}

// ---- header ---------------------------------------------------------------------------------

$("window-label").textContent = label;
document.title = `Demo · ${label}`;
document.documentElement.dataset.window = label;

// ---- event log ------------------------------------------------------------------------------

const LOG_SIZE = 8;
const log = $("event-log");

/** Add a row to the log; repeated clock ticks fold into one row that counts them. */
function logEvent(direction, name, payload, source) {
  const top = log.firstElementChild;
  if (name === "clock" && top && top.dataset.event === "clock") {
    const times = Number(top.dataset.times) + 1;
    top.dataset.times = String(times);
    top.querySelector(".log-payload").textContent = brief(payload);
    top.querySelector(".log-times").textContent = `×${times}`;
    top.querySelector(".log-time").textContent = timeOfDay();
    return;
  }
  const from = direction === "out" ? `from ${label}` : source ? `from ${source}` : "from Python";
  const row = el("li", { "data-event": name, "data-dir": direction, "data-times": "1" },
    el("span", { class: "log-dir", "aria-label": direction === "out" ? "sent" : "received" },
      direction === "out" ? "↑" : "↓"),
    el("span", { class: "log-name" }, name),
    el("span", { class: "log-times" }),
    el("span", { class: "log-time" }, timeOfDay()),
    el("span", { class: "log-payload", title: from }, brief(payload)));
  log.prepend(row);
  while (log.children.length > LOG_SIZE) log.lastElementChild.remove();
}

$("log-clear").addEventListener("click", () => log.replaceChildren());

// ---- clock ----------------------------------------------------------------------------------

let ticks = 0;
let lastTick = 0;
const live = $("live");

function setLive(state, text) {
  live.dataset.state = state;
  $("live-text").textContent = text;
}

function onClock({ payload }) {
  ticks += 1;
  lastTick = Date.now();
  const now = String(payload && payload.now);
  const date = new Date(now);
  $("clock").textContent = now.includes("T") ? now.slice(11, 19) : now;
  $("clock").setAttribute("datetime", now);
  $("clock-date").textContent = Number.isNaN(date.getTime()) ? ""
    : date.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });
  $("clock-ticks").textContent = `${ticks} tick${ticks === 1 ? "" : "s"}`;
  setLive("live", "live");
}

setInterval(() => {
  if (!lastTick) return;
  const quiet = Math.round((Date.now() - lastTick) / 1000);
  if (quiet >= 3) setLive("stale", `no clock for ${quiet} s`);
}, 1000);

// ---- ping / pong ----------------------------------------------------------------------------

let pings = 0;
const sentAt = new Map();

$("ping").addEventListener("click", async (e) => {
  const n = ++pings;
  const payload = { n, text: `ping #${n}` };
  $("ping-count").textContent = `${n} sent`;
  sentAt.set(n, performance.now());
  logEvent("out", "ping", payload); // before the pong, which may overtake emit's own reply
  try {
    await busy(e.currentTarget, () => emit("ping", payload));
  } catch (error) {
    showError($("pong"), error);
  }
});

function onPong({ payload }) {
  const received = (payload && payload.received) || {};
  const started = sentAt.get(received.n);
  sentAt.delete(received.n);
  const rtt = started === undefined ? "" : ` · ${(performance.now() - started).toFixed(1)} ms`;
  const out = $("pong");
  out.dataset.n = String(received.n);
  out.replaceChildren(
    el("span", { class: "pong-word" }, "pong"),
    ` #${received.n} for window ${payload.from}${rtt}`);
}

// ---- settings and theme -----------------------------------------------------------------------

let settings = null;
const form = $("settings-form");

// Settings are whatever object save_settings was given last (another window or script may
// have saved any keys): the form shows the keys it knows, with defaults for missing ones.
function applySettings(next) {
  settings = next && typeof next === "object" ? next : {};
  const dark = settings.theme === "dark";
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  $("theme-toggle").textContent = dark ? "Light theme" : "Dark theme";
  form.elements.theme.value = dark ? "dark" : "light";
  form.elements.notifications.checked = settings.notifications !== false;
  const language = form.elements.language;
  const code = typeof settings.language === "string" && settings.language ? settings.language
    : "en";
  if (![...language.options].some((o) => o.value === code)) {
    language.append(el("option", { value: code }, code));
  }
  language.value = code;
}

function readForm() {
  return {
    ...settings,
    theme: form.elements.theme.value,
    notifications: form.elements.notifications.checked,
    language: form.elements.language.value,
  };
}

async function saveSettings(next, button) {
  const status = $("settings-status");
  status.textContent = "Saving…";
  try {
    const saved = await busy(button, () => invoke("save_settings", { settings: next }));
    applySettings(saved);
    status.textContent = `Saved by ${label} at ${timeOfDay()}`;
  } catch (error) {
    status.textContent = "";
    showError(status, error);
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  saveSettings(readForm(), $("settings-save"));
});

$("theme-toggle").addEventListener("click", (e) => {
  const current = settings || readForm();
  saveSettings({ ...current, theme: current.theme === "dark" ? "light" : "dark" },
    e.currentTarget);
});

function onSettingsChanged({ payload, source }) {
  // Saved settings are announced by Python (no source); an event of that name that a page
  // sent (emitTo) is not taken for them, whatever its payload says.
  if (source != null || !payload || !payload.settings) return;
  applySettings(payload.settings);
  $("settings-status").textContent = `Changed by ${payload.by} at ${timeOfDay()}`;
  if (settings.notifications !== false) toast(`Settings changed by window ${payload.by}`);
}

async function loadSettings() {
  try {
    applySettings(await invoke("read_config"));
  } catch (error) {
    showError($("settings-status"), error);
  }
}

// ---- greet ----------------------------------------------------------------------------------

$("greet-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = $("greet-result");
  try {
    const name = $("greet-name").value;
    out.textContent = await busy($("greet-submit"), () => invoke("greet", { name }));
  } catch (error) {
    showError(out, error);
  }
});

// ---- items ----------------------------------------------------------------------------------

const items = $("items");

function renderItems(list) {
  items.replaceChildren(...list.map((item) => {
    const button = el("button", {
      type: "button",
      class: "icon danger",
      "data-testid": `delete-item-${item.id}`,
      "aria-label": `Delete ${item.name}`,
      title: `delete_item(${item.id})`,
    }, "Delete");
    button.addEventListener("click", () => deleteItem(item, button));
    return el("li", { "data-id": item.id, "data-testid": "item" },
      el("span", { class: "item-id" }, `#${item.id}`),
      el("span", { class: "item-name" }, item.name),
      button);
  }));
  if (list.length === 0) {
    items.append(el("li", { class: "empty" }, "No items left. Restart the app to get them back."));
  }
}

async function loadItems() {
  const status = $("items-status");
  try {
    renderItems(await busy($("items-reload"), () => invoke("list_items")));
    status.textContent = "";
  } catch (error) {
    showError(status, error);
  }
}

async function deleteItem(item, button) {
  const status = $("items-status");
  try {
    const result = await busy(button, () => invoke("delete_item", { id: item.id }));
    status.textContent = `Deleted ${result.name}.`;
    const row = items.querySelector(`li[data-id="${item.id}"]`);
    if (row) row.remove();
    if (!items.querySelector("li[data-id]")) renderItems([]);
  } catch (error) {
    showError(status, error);
  }
}

$("items-reload").addEventListener("click", loadItems);

// ---- echo -----------------------------------------------------------------------------------

$("echo-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const mode = e.currentTarget.elements.mode.value;
  const text = $("echo-input").value;
  const type = $("echo-type");
  const out = $("echo-value");
  let value = text;
  if (mode === "bytes") value = new TextEncoder().encode(text);
  if (mode === "json") {
    try { value = JSON.parse(text); } catch (error) {
      type.hidden = true;
      showError(out, { code: "invalid_args", message: `Not valid JSON: ${error.message}` });
      return;
    }
  }
  try {
    const back = await busy($("echo-send"), () => invoke("echo", { value }));
    type.hidden = false;
    type.textContent = kindOf(back);
    if (back instanceof Uint8Array) {
      out.replaceChildren(el("span", {}, hex(back)),
        el("span", { class: "muted" }, `  “${new TextDecoder().decode(back)}”`));
    } else {
      out.replaceChildren(typeof back === "string" ? back : JSON.stringify(back));
    }
  } catch (error) {
    type.hidden = true;
    showError(out, error);
  }
});

// ---- channel --------------------------------------------------------------------------------

let counting = null;

$("count-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const to = Number($("count-to").value);
  const progress = $("count-progress");
  const value = $("count-value");
  const result = $("count-result");
  if (counting) counting.close();
  let last = 0;
  let queued = false;
  const paint = () => {
    queued = false;
    progress.value = last;
    value.textContent = String(last);
  };
  const channel = new Channel((n) => {
    last = n;
    if (!queued) { queued = true; requestAnimationFrame(paint); }
  });
  counting = channel;
  progress.max = Math.max(to, 1);
  progress.value = 0;
  value.textContent = "0";
  result.textContent = "counting…";
  const started = performance.now();
  try {
    const returned = await busy($("count-start"),
      () => invoke("count", { to, progress: channel }));
    result.textContent = `returned ${returned} in ${Math.round(performance.now() - started)} ms`;
  } catch (error) {
    showError(result, error);
  }
});

// ---- create user ----------------------------------------------------------------------------

$("user-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = $("user-result");
  const userForm = e.currentTarget;
  const fields = userForm.querySelectorAll(".field-error");
  for (const f of fields) f.textContent = "";
  for (const input of userForm.querySelectorAll("input")) {
    input.removeAttribute("aria-invalid");
  }
  const args = { name: $("user-name").value, email: $("user-email").value };
  try {
    const user = await busy($("user-submit"), () => invoke("create_user", { args }));
    out.replaceChildren(el("span", { class: "ok" }, "✓ "),
      `Created user #${user.id}: ${user.name} <${user.email}>`);
  } catch (error) {
    showError(out, error);
    if (error.code !== "invalid_args" || !Array.isArray(error.data)) return;
    for (const { field, message } of error.data) {
      const slot = userForm.querySelector(`.field-error[data-field="${CSS.escape(field)}"]`);
      if (!slot) continue;
      slot.textContent = message;
      slot.parentElement.querySelector("input").setAttribute("aria-invalid", "true");
    }
  }
});

// ---- read file ------------------------------------------------------------------------------

$("file-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = $("file-result");
  try {
    const path = $("file-path").value;
    const text = await busy($("file-read"), () => invoke("read_file", { path }));
    out.replaceChildren(renderValue(text));
  } catch (error) {
    showError(out, error);
  }
});

// ---- start ----------------------------------------------------------------------------------

setupGallery($("error-buttons"), $("error-result"));

async function listenAll() {
  const problems = [];
  const subscriptions = {
    clock: (e) => { onClock(e); logEvent("in", e.event, e.payload, e.source); },
    pong: (e) => { onPong(e); logEvent("in", e.event, e.payload, e.source); },
    "settings-changed": (e) => { onSettingsChanged(e); logEvent("in", e.event, e.payload, e.source); },
  };
  await Promise.all(Object.entries(subscriptions).map(([name, handler]) =>
    listen(name, handler).catch((error) => problems.push(`${name}: ${error.message}`))));
  if (problems.length) {
    const box = $("events-error");
    box.hidden = false;
    box.textContent = `This window cannot receive some events. ${problems.join(" ")}`;
    if (problems.length === Object.keys(subscriptions).length) setLive("off", "no events");
  }
}

listenAll();
loadSettings();
loadItems();
