// Passes every message through unchanged, so the benchmark measures what isolation itself
// costs (the extra frame hop and the encryption), not a hook's own work.
window.__ISOLATION_HOOK__ = (payload) => payload;
