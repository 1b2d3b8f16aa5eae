// ES module view of window.__APP__.core, which the shell's init script defines in every page.
const core = window.__APP__.core;

/** Call a Python command; resolves to its result or rejects with an IpcError that has a `code`. */
export const invoke = core.invoke;
/** A stream the Python command can send values to, many times, while it runs. */
export const Channel = core.Channel;
export const IpcError = core.IpcError;
