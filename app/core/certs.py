"""The system's CA certificates for aiohttp's client contexts, read off the start's path.

aiohttp makes its two default TLS client contexts as it is imported, and each reads the system's
CA certificates then: 35-40 ms of a start of about 500 ms here, on the thread that loads the
core's modules, before the windows open. The core serves pages on plain loopback HTTP and never
uses them; an app's commands may (an ``aiohttp.ClientSession`` to an HTTPS server).

``read_later()`` wraps that import: a context made in it, on its thread, gets its certificates
from a thread of its own as the import ends (OpenSSL lets go of the interpreter's lock while it
reads them, so this overlaps the GUI toolkit's loading). ``wait()`` returns once they are read;
the core waits for it before it starts, so none of the app's code runs while a context lacks
them. Contexts made on other threads meanwhile (an app's own) read theirs at once, as usual. If
the reading fails, the contexts are left without certificates: a TLS connection through them
then fails its check, it does not go unchecked.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Iterator

__all__ = ["read_later", "wait"]

log = logging.getLogger("app.core")

WAIT_SECONDS = 10.0
"""How long ``wait()`` waits at most (a file system that hangs does not stop the app)."""

_read = threading.Event()
_read.set()  # nothing waits to be read


@contextlib.contextmanager
def read_later() -> Iterator[None]:
    """Contexts made in this block, on this thread, read the system's CA certificates on a
    thread of their own as it ends."""
    if "set_default_verify_paths" in vars(ssl.SSLContext) or not _read.is_set():
        yield  # already put off (not expected): as usual
        return
    me = threading.get_ident()
    patched = ssl.SSLContext  # (what is put back, whatever the block does to ``ssl``)
    read_now = patched.set_default_verify_paths
    waiting: list[ssl.SSLContext] = []

    def put_off(context: ssl.SSLContext) -> None:
        if threading.get_ident() == me:
            waiting.append(context)
        else:
            read_now(context)

    patched.set_default_verify_paths = put_off  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        del patched.set_default_verify_paths
        if waiting:
            _read.clear()
            threading.Thread(
                target=_read_all, args=(waiting,), name="app-certificates", daemon=True
            ).start()


def _read_all(contexts: list[ssl.SSLContext]) -> None:
    try:
        for context in contexts:
            try:
                context.set_default_verify_paths()
            except Exception:
                log.exception("the system's CA certificates could not be read into %r: an "
                              "HTTPS request made with it will fail its certificate check",
                              context)
    finally:
        _read.set()


def wait() -> None:
    """Return once the certificates put off are read (at once if none are)."""
    if not _read.wait(WAIT_SECONDS):
        log.warning("the system's CA certificates took over %.0f s to read; going on",
                    WAIT_SECONDS)
