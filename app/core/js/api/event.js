// ES module view of window.__APP__.event, which the shell's init script defines in every page.
const event = window.__APP__.event;

export const listen = event.listen;
export const once = event.once;
export const emit = event.emit;
export const emitTo = event.emitTo;
