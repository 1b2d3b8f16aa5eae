// The error gallery: one call per error code, and how a failed call is shown to a person.
import { invoke } from "/__app__/api/core.js";
import { el, renderValue } from "./ui.js";

/**
 * Every code a rejected call can carry: what it means, and (when a page can cause it) a call
 * that fails with it. `protocol` has no call: only a malformed or tampered message causes it.
 */
export const CODES = [
  {
    code: "not_found",
    title: "No such command",
    about: "The page asked for a command that Python does not have.",
    call: ["launch_rockets", { count: 3 }],
  },
  {
    code: "forbidden",
    title: "Not allowed here",
    about: "No capability lets this window do it: the file is outside read_file's scope.",
    call: ["read_file", { path: "app.conf.json" }],
  },
  {
    code: "blocked",
    title: "Refused by the isolation hook",
    about: "The capability allows reset_demo, but the demo's isolation hook refuses it " +
      "before it leaves the page. Without a hook (brownfield) it goes through, and resets " +
      "the demo's items, users and settings.",
    call: ["reset_demo", {}],
  },
  {
    code: "invalid_args",
    title: "Wrong arguments",
    about: "The arguments do not match the command's types; it did not run. " +
      "data lists the fields.",
    call: ["divide", { a: "ten" }],
  },
  {
    code: "command_failed",
    title: "The command said no",
    about: "The command ran and raised an error on purpose; data carries its details.",
    call: ["divide", { a: 1, b: 0 }],
  },
  {
    code: "timeout",
    title: "No answer in time",
    about: "The call did not settle within its timeout (here 400 ms for a 3 s wait).",
    call: ["wait", { ms: 3000 }, { timeoutMs: 400 }],
  },
  {
    code: "internal",
    title: "A bug in the app",
    about: "Something broke inside; the page gets a plain sentence, the app's log the details.",
    call: ["crash", {}],
  },
  {
    code: "protocol",
    title: "Malformed message",
    about: "A message that is malformed, cannot be decrypted, or is replayed is refused " +
      "before any command runs. The page's own runtime never sends one, so there is no " +
      "button: it is what a tampering script would get.",
    call: null,
  },
];

const byCode = new Map(CODES.map((c) => [c.code, c]));

function describeCall([cmd, args, options]) {
  const parts = [JSON.stringify(cmd), JSON.stringify(args)];
  if (options) parts.push(JSON.stringify(options));
  return `invoke(${parts.join(", ")})`;
}

/**
 * A failed call as a person should see it: code, message, and the data when there is any.
 * `compact` (for errors shown inside a card) folds the data away behind a "details" toggle.
 */
export function errorView(error, { compact = false } = {}) {
  const code = error && error.code ? error.code : "internal";
  const info = byCode.get(code);
  const view = el("div", { class: "error-view", "data-code": code },
    el("div", { class: "error-head" },
      el("span", { class: `code code-${code}`, "data-testid": "error-code" }, code),
      info ? el("span", { class: "error-title" }, info.title) : null),
    el("p", { class: "error-message", "data-testid": "error-message" },
      (error && error.message) || String(error)));
  const data = error ? error.data : undefined;
  if (data !== undefined && data !== null) {
    view.append(compact
      ? el("details", { class: "error-data", "data-testid": "error-data" },
        el("summary", { class: "label" }, "details"), dataView(data))
      : el("div", { class: "error-data", "data-testid": "error-data" },
        el("span", { class: "label" }, "data"), dataView(data)));
  }
  if (compact) view.classList.add("compact");
  return view;
}

function dataView(data) {
  const isFieldList = Array.isArray(data) && data.length > 0 &&
    data.every((d) => d && typeof d === "object" && "field" in d && "message" in d);
  if (!isFieldList) return renderValue(data);
  return el("ul", { class: "fields" },
    ...data.map((d) => el("li", {}, el("code", {}, d.field), " ", d.message)));
}

/** Build the gallery's buttons and show each call's outcome in `panel`. */
export function setupGallery(buttons, panel) {
  let run = 0;
  const show = (...nodes) => panel.replaceChildren(...nodes);

  for (const info of CODES) {
    const button = el("button", {
      type: "button",
      class: `chip code-${info.code}`,
      "data-testid": `error-${info.code}`,
      "data-code": info.code,
    }, info.code);
    buttons.append(button);

    button.addEventListener("click", async () => {
      const mine = ++run;
      for (const b of buttons.querySelectorAll("button")) b.removeAttribute("aria-pressed");
      button.setAttribute("aria-pressed", "true");
      if (!info.call) {
        show(el("div", { class: "error-view", "data-code": info.code },
          el("div", { class: "error-head" },
            el("span", { class: `code code-${info.code}`, "data-testid": "error-code" },
              info.code),
            el("span", { class: "error-title" }, info.title)),
          el("p", { class: "error-about", "data-testid": "error-about" }, info.about)));
        return;
      }
      const callText = el("code", { class: "call", "data-testid": "error-call" },
        describeCall(info.call));
      show(callText, el("p", { class: "muted pending" }, "Calling…"));
      const [cmd, args, options] = info.call;
      let outcome;
      try {
        const value = await invoke(cmd, args, options);
        outcome = el("div", { class: "error-view", "data-code": "ok" },
          el("div", { class: "error-head" },
            el("span", { class: "code code-ok", "data-testid": "error-code" }, "resolved")),
          renderValue(value));
        if (info.code === "blocked") {
          outcome.append(el("p", { class: "note", "data-testid": "error-note" },
            "This window runs without an isolation hook, so nothing refused the call."));
        }
      } catch (error) {
        outcome = errorView(error);
        if (error.code !== info.code) {
          outcome.append(el("p", { class: "note", "data-testid": "error-note" },
            `Expected ${info.code}, got ${error.code}. The call was stopped at an earlier ` +
            "check."));
        }
      }
      if (mine !== run) return; // a later click owns the panel now
      show(callText, outcome, el("p", { class: "error-about", "data-testid": "error-about" },
        info.about));
    });
  }
}
