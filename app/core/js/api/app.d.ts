/**
 * `window.__APP__`, which every page the core serves gets before its own scripts run.
 * Include this file (or `/// <reference path="app.d.ts" />`) to type the global; import
 * core.js and event.js for the same functions as ES modules.
 */
import type { Channel, IpcError, invoke } from "./core";
import type { emit, emitTo, listen, once } from "./event";

export interface AppApi {
  readonly core: {
    readonly invoke: typeof invoke;
    readonly Channel: typeof Channel;
    readonly IpcError: typeof IpcError;
  };
  readonly event: {
    readonly listen: typeof listen;
    readonly once: typeof once;
    readonly emit: typeof emit;
    readonly emitTo: typeof emitTo;
  };
  readonly window: {
    /** This window's label, as in app.conf.json. */
    readonly label: string;
  };
}

declare global {
  interface Window {
    readonly __APP__: AppApi;
  }
  interface WindowEventMap {
    /** On a remote page the runtime arrives after the page loaded: wait for this event. */
    "app:ready": globalThis.Event;
  }
}
