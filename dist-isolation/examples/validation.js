// The seed document's "Validation example (index.js)", adapted to the shell's payload: the
// arguments are in `message.args`, and the commands are named as registered in Python
// (read_file, delete_item). Otherwise as written there.
window.__TAURI_ISOLATION_HOOK__ = (payload) => {
  // Validate command calls
  if (payload.cmd === 'invoke') {
    const { message } = payload;
    // Block unauthorized file system access
    if (message.cmd === 'read_file') {
      const path = message.args.path;
      if (typeof path !== 'string' || !path.startsWith('/allowed/directory/')) {
        console.error('Blocked unauthorized file access:', path);
        return null; // Block the request
      }
    }
    // Validate specific commands
    if (message.cmd === 'delete_item') {
      if (!confirm('Are you sure you want to delete this item?')) {
        return null; // User cancelled
      }
    }
  }
  return payload;
};
