// Small DOM helpers shared by the demo's cards. Text always goes in as text, never as HTML.

/** `el("p", { class: "x" }, "text", child)`: an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

/** Bytes as hex pairs, at most `max` of them. */
export function hex(bytes, max = 24) {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, "0"));
  return shown.join(" ") + (bytes.length > max ? ` … (+${bytes.length - max})` : "");
}

/** What kind of value came back, in words a person reads at a glance. */
export function kindOf(value) {
  if (value instanceof Uint8Array) return `Uint8Array · ${value.length} bytes`;
  if (value === null) return "null";
  if (Array.isArray(value)) return `array · ${value.length}`;
  return typeof value;
}

/** Any result as a readable block: text as text, bytes as hex, the rest as indented JSON. */
export function renderValue(value) {
  if (value instanceof Uint8Array) return el("code", { class: "mono block" }, hex(value));
  if (typeof value === "string") return el("code", { class: "mono block" }, value);
  return el("pre", { class: "mono block" }, JSON.stringify(value, null, 2));
}

/** One line of JSON, shortened to fit a log row. */
export function brief(value, max = 80) {
  let text;
  try { text = JSON.stringify(value); } catch { text = String(value); }
  if (text === undefined) text = String(value);
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

export function timeOfDay(date = new Date()) {
  return date.toLocaleTimeString([], { hour12: false });
}

/** A short message in the corner that goes away by itself. */
export function toast(text, kind = "info") {
  const box = $("toasts");
  const item = el("div", { class: `toast toast-${kind}`, role: "status", "data-testid": "toast" },
    text);
  box.append(item);
  setTimeout(() => {
    item.classList.add("leaving");
    item.addEventListener("animationend", () => item.remove(), { once: true });
    setTimeout(() => item.remove(), 600); // in case animations are off
  }, 3000);
}
