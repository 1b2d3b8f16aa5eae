"""URL patterns of ``remote.urls``: the pages besides the local frontend a capability covers.

Two forms:

- ``https://docs.example.com/guide/**`` names pages by scheme (``http`` or ``https``), host, port
  and path. The host may be ``*.example.com`` (any subdomain; not ``example.com`` itself) or
  ``*`` (any host); the port may be a number or ``*``, and when left out is the scheme's default.
  With no path, every page of that origin matches.
- ``/widgets/**`` names sub-frames that the core serves itself from the frontend folder, on
  whatever port the window got.

Paths use ``*`` (inside a segment) and ``**`` (any number of segments). They are compared after
percent-decoding and resolving ``.`` and ``..``, the way the server finds the file; query and
fragment are never compared.
"""

from __future__ import annotations

import posixpath
import re
import sys
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .glob import PatternError, path_regex
from .origin import Origin

__all__ = ["UrlPattern", "compile_url_pattern", "url_form"]

DEFAULT_PORTS = {"http": 80, "https": 443}
SERVED_HOST = "127.0.0.1"
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)(?P<rest>.*)",
    re.DOTALL,
)
HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*")
_EXAMPLES = "such as https://example.com/** or /widgets/**"


def _normal_path(path: str) -> str:
    """Decoded, with ``.``, ``..`` and repeated ``/`` resolved, and no ``/`` at the end."""
    path = re.sub(r"/+", "/", "/" + unquote(path))
    return posixpath.normpath(path).rstrip("/")


_AMBIGUOUS = re.compile(r"%2f|%5c|%25|%3b|\\\\|;", re.IGNORECASE)
"""What servers read in different ways in a path: an encoded separator (a folder's end to some,
not to others: ``/u/..%2Fdocs`` is ``/docs`` decoded, and in ``/u/`` to a server routing on the
raw path), ``\\`` (``/`` to Windows' servers), ``;parameters`` (dropped from segments by Java's:
``/docs/..;/u`` is ``/u``), and ``%25`` (decoded twice by some)."""


@dataclass(frozen=True)
class UrlForm:
    """A page URL as patterns see it."""

    scheme: str
    host: str
    port: int
    path: str
    ambiguous: bool = False
    """Whether servers may read the path in different ways (see ``_AMBIGUOUS``): then only a
    pattern that names every path of its origin names it."""

    def full(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"


def url_form(url: str) -> UrlForm | None:
    """Parse a page's URL for matching; ``None`` when it is not an http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return UrlForm(scheme, host, port or DEFAULT_PORTS[scheme], _normal_path(parts.path),
                   _AMBIGUOUS.search(parts.path) is not None)


@dataclass(frozen=True)
class UrlPattern:
    """A compiled ``remote.urls`` entry."""

    text: str
    served: bool
    """``/path`` form: matches sub-frames the core serves, on any of its ports."""
    regex: re.Pattern[str]
    any_path: bool = False
    """Whether it names every path (none written, or ``/**``)."""

    def matches(self, origin: Origin) -> bool:
        """Whether a page at ``origin`` is one this pattern names (never the local frontend)."""
        if origin.kind == "local":
            return False
        form = url_form(origin.url)
        if form is None or (form.ambiguous and not self.any_path):
            return False
        if self.served:
            return (
                origin.kind == "subframe"
                and form.host == SERVED_HOST
                and self.regex.match(form.path) is not None
            )
        return self.regex.match(form.full()) is not None


def _path(text: str) -> str:
    if not text:
        return ".*"
    # Decoded, as page paths are (a pattern pasted from the address bar has %20 for spaces).
    decoded = unquote(text)
    if any(decoded.count(c) != text.count(c) for c in "*?[]{}\\"):
        raise PatternError(
            f"{text!r} has a wildcard character written as %XX; patterns match decoded paths, "
            "so write the character itself (wildcards cannot be matched literally)"
        )
    return path_regex(decoded)


def _host(host: str) -> str:
    if host == "*":
        return r"[^/:]+"
    if host.startswith("*."):
        domain = host[2:]
        if not HOST_NAME.fullmatch(domain):
            raise PatternError(f"{domain!r} after '*.' is not a host name")
        return r"(?:[^/:.]+\.)+" + re.escape(domain)
    if "*" in host:
        raise PatternError("a host may only be '*' or start with '*.', as in https://*.example.com")
    if host.startswith("[") and host.endswith("]"):
        return re.escape(host)
    if not HOST_NAME.fullmatch(host):
        raise PatternError(f"{host!r} is not a host name")
    return re.escape(host)


def _authority(authority: str, scheme: str) -> tuple[str, str]:
    if "@" in authority:
        raise PatternError("a URL pattern cannot hold a user name or password")
    if authority.startswith("["):
        end = authority.find("]")
        host, port = authority[: end + 1], authority[end + 1 :]
        if end < 0 or (port and not port.startswith(":")):
            raise PatternError(f"{authority!r} is not a host and port")
        port = port[1:]
    elif ":" in authority:
        host, port = authority.rsplit(":", 1)
    else:
        host, port = authority, ""
    if not host:
        raise PatternError(f"the pattern names no host; write one, {_EXAMPLES}")
    if port == "*":
        port_regex = r"\d+"
    elif port == "":
        port_regex = str(DEFAULT_PORTS[scheme])
    elif port.isdigit() and 0 < int(port) < 65536:
        port_regex = str(int(port))
    else:
        raise PatternError(f"port {port!r} must be a number from 1 to 65535, or '*'")
    return _host(host.lower()), port_regex


def _no_query(rest: str) -> None:
    if rest:
        raise PatternError(f"remove {rest!r}: queries and fragments are not compared, only paths")


def compile_url_pattern(text: str) -> UrlPattern:
    """Compile a ``remote.urls`` entry; raise ``PatternError`` saying what is wrong with it."""
    if not isinstance(text, str) or not text:
        raise PatternError(f"a URL pattern must be a non-empty string, {_EXAMPLES}")
    if text.startswith("//"):  # (a path would not start with an empty segment)
        raise PatternError(
            f"{text!r} names no scheme: write {'https:' + text!r} for pages of that site, or "
            "a path such as '/widgets/**' for the app's own pages"
        )
    if text.startswith("/"):
        cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=len(text))
        path = text[:cut]
        _no_query(text[cut:])
        # The frontend folder may sit on a file system that ignores case; then so must we.
        flags = re.IGNORECASE if sys.platform in ("darwin", "win32") else 0
        return UrlPattern(text, True, re.compile(_path(path) + r"\Z", flags), path == "/**")
    match = _URL.fullmatch(text)
    if match is None:
        raise PatternError(f"{text!r} is not a URL pattern {_EXAMPLES}")
    scheme, path = match["scheme"].lower(), match["path"]
    if scheme not in DEFAULT_PORTS:
        raise PatternError(f"scheme {scheme!r} is not served to windows; use http:// or https://")
    _no_query(match["rest"])
    host_regex, port_regex = _authority(match["authority"], scheme)
    regex = f"{re.escape(scheme)}://{host_regex}:{port_regex}{_path(path)}"
    return UrlPattern(text, False, re.compile(regex + r"\Z"), path in ("", "/**"))
