"""The models of ``app.conf.json`` (pydantic), and what a loaded configuration holds."""

from __future__ import annotations

import ipaddress
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AfterValidator, Field, field_validator

from ..acl.model import Capability
from ..acl.origin import origin_of
from ..models import ConfigModel
from ..transport.credentials import TAB_PARAM

__all__ = [
    "APP_ID_PATTERN", "HEADER_NAME_PATTERN", "ISOLATION_MIN_MESSAGE_BYTES", "LABEL_PATTERN",
    "OWN_HEADERS", "SET_PATTERN", "AppConfig", "AppSection", "BrownfieldPattern", "BuildConfig",
    "CapabilitySource", "Config", "IpcConfig", "IsolationOptions", "IsolationPattern",
    "PermissionSet", "SecurityConfig", "WindowConfig", "page_path"
]

LABEL_PATTERN = r"^[A-Za-z0-9_\-/:]+$"
SET_PATTERN = r"^[a-z0-9][a-z0-9\-]*:[a-z0-9][a-z0-9\-]*$"
APP_ID_PATTERN = r"^[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$"


class WindowConfig(ConfigModel):
    label: str = Field(default="main", pattern=LABEL_PATTERN)
    title: str = ""
    url: str = "index.html"
    width: int = Field(default=800, ge=100, le=16384)
    height: int = Field(default=600, ge=100, le=16384)
    resizable: bool = True
    fullscreen: bool = False

    @field_validator("url")
    @classmethod
    def _frontend_page(cls, url: str) -> str:
        """A page of the frontend (or of the dev server), by its path: the window opens
        ``/<url>`` on the window's own origin, so nothing else can ever load there."""
        path = page_path(url)
        if _SCHEME.match(url) or url.startswith(("//", "\\")) or "\\" in path:
            raise ValueError(
                f"a page of the frontend by its path, such as index.html or "
                f"pages/settings.html?tab=2, not {url!r}"
            )
        if ".." in path.split("/"):
            inside = posixpath.normpath(path)
            if inside == ".." or inside.startswith("../"):
                raise ValueError(f"a page inside the frontend; {url!r} climbs out of it")
            raise ValueError(
                f"a page of the frontend by a path with no '..' in it: {inside!r}, not {url!r}"
            )
        # As the page's runtime looks for it: after any "?" or "&" of the address.
        if re.search(f"[?&]{TAB_PARAM}(?:[=&]|$)", url.split("#", 1)[0]):
            # The launch URL adds it to the window's first page; the page would read the one
            # written here instead, and the core would refuse its connection.
            raise ValueError(f"a page whose query has no {TAB_PARAM} (the shell's own); "
                             f"{url!r} has one")
        return url


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def page_path(url: str) -> str:
    """The path of a window's ``url`` inside the frontend: no query, no fragment, decoded."""
    return unquote(url.split("#", 1)[0].split("?", 1)[0]).lstrip("/")


class BuildConfig(ConfigModel):
    frontend_dist: str = "frontend"
    dev_url: str | None = None

    @field_validator("dev_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and origin_of(url) is None:
            raise ValueError(
                f"an http:// or https:// URL such as http://localhost:5173, not {url!r}"
            )
        if url is not None and (problem := _dev_server_problem(url)):
            raise ValueError(f"{problem}, as in http://localhost:5173, not {url!r}")
        if url is not None and urlsplit(url).path.strip("/"):
            # The window's paths are the dev server's: a base path goes in the windows' url.
            raise ValueError(
                f"the dev server's origin only, such as {origin_of(url)}; a base path such as "
                f"{urlsplit(url).path!r} goes in each window's url (\"url\": "
                f"\"{urlsplit(url).path.strip('/')}/index.html\")"
            )
        return url


_DEV_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_.\-]*[a-z0-9_.])?")


def _dev_server_problem(url: str) -> str | None:
    """What is wrong with the host or port of the dev server's http(s) URL ``url``, if any."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # (A dev server may be a container's service name, with "_", or end with a ".".)
        if not _DEV_HOST.fullmatch(host):
            return f"a host name or IP address after '{parts.scheme}://'"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        return "a port from 1 to 65535 after the host's ':'"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "no query or fragment"
    return None


class BrownfieldPattern(ConfigModel):
    use: Literal["brownfield"] = "brownfield"


class IsolationOptions(ConfigModel):
    dir: str = Field(min_length=1)
    hook_timeout_ms: int = Field(default=5000, ge=1, le=600_000)


class IsolationPattern(ConfigModel):
    use: Literal["isolation"]
    options: IsolationOptions


Pattern = Annotated[BrownfieldPattern | IsolationPattern, Field(discriminator="use")]


class PermissionSet(ConfigModel):
    """A named list of permissions a capability can grant by its identifier."""

    identifier: str = Field(pattern=SET_PATTERN)
    description: str = ""
    permissions: list[str] = Field(min_length=1)

    @field_validator("permissions", mode="before")
    @classmethod
    def _names_only(cls, permissions: Any) -> Any:
        if isinstance(permissions, list) and any(isinstance(p, dict) for p in permissions):
            raise ValueError(
                "a permission set lists permission names only; a permission with allow or "
                "deny entries goes in a capability's permissions"
            )
        return permissions


HEADER_NAME_PATTERN = r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$"
"""A header's name: an HTTP token."""
_TOKEN = re.compile(HEADER_NAME_PATTERN)

OWN_HEADERS = frozenset(
    name.lower()
    for name in (
        "Content-Security-Policy",  # app.security.csp: the shell adds its own sources to it
        "Content-Type",
        "Content-Length",
        "Content-Encoding",
        "Transfer-Encoding",
        "Connection",
        "Location",
        "Set-Cookie",
        "Cache-Control",
        "Date",
        "Server",
    )
)
"""Headers the core writes itself, which ``app.security.headers`` may not set (it may replace
the pages' ``X-Content-Type-Options`` and ``Referrer-Policy``, which are defaults)."""


# Each header is checked on its own (a problem each, at its own path); a name repeated (in
# another case) is found in the file's data, with the other repeats (see ``_repeated``).
def _header_name(name: str) -> str:
    if not _TOKEN.match(name):
        raise ValueError(
            f"{name[:80]!r} is not a header name (letters, digits and !#$%&'*+-.^_`|~)"
        )
    if name.lower() in OWN_HEADERS:
        hint = " (use app.security.csp)" if name.lower() == "content-security-policy" else ""
        raise ValueError(f"{name!r} is a header the core sets itself{hint}")
    return name


def _not_printable_ascii(value: str) -> str | None:
    """The first character of ``value`` that a header cannot carry as it is (tabs it can)."""
    return next((c for c in value if not (c == "\t" or " " <= c <= "~")), None)


def _header_value(value: str) -> str:
    if any(c in value for c in "\r\n"):
        raise ValueError("a header's value must be one line")
    if _not_printable_ascii(value) is not None:
        raise ValueError(
            "a header's value must be printable ASCII (a browser and the server refuse "
            "control characters, and other characters are not read alike)"
        )
    return value


def _policy_text(value: str) -> str:
    odd = _not_printable_ascii(value)
    if odd is None:
        return value
    if odd.isspace() and odd not in "\u2028\u2029\x85" and odd >= " ":
        why = ("a space other than ' ' (a no-break space, pasted from a web page, say) is not "
               "read as one, so the directive after it is lost")
    elif not odd.isprintable():
        why = "a control character or line separator in it breaks every page's policy header"
    else:
        why = (f"{odd!r} is not read by browsers; write a host name in its ASCII form "
               "(xn--..., as the address bar shows it)")
    raise ValueError(f"a policy must be printable ASCII: {why}")


HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[str, AfterValidator(_header_value)]
PolicyText = Annotated[str, AfterValidator(_policy_text)]


class SecurityConfig(ConfigModel):
    pattern: Pattern = Field(default_factory=BrownfieldPattern)
    csp: PolicyText | dict[PolicyText, PolicyText | list[PolicyText]] | None = None
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    """Response headers of the frontend's pages and files (Cross-Origin-Opener-Policy and
    Cross-Origin-Embedder-Policy, to make the pages cross-origin isolated, say)."""
    capabilities: list[str | Capability] | None = None
    permission_sets: list[PermissionSet] = Field(default_factory=list)

    @field_validator("pattern", mode="before")
    @classmethod
    def _brownfield_by_default(cls, pattern: Any) -> Any:
        # "use" may be left out: brownfield is the default pattern.
        if isinstance(pattern, dict) and "use" not in pattern:
            return {"use": "brownfield", **pattern}
        return pattern

    def set_members(self) -> dict[str, list[str]]:
        """Each app-defined permission set's identifier and its members."""
        return {s.identifier: s.permissions for s in self.permission_sets}


JS_SAFE_INT = 2**53 - 1
"""The largest integer a page's JavaScript holds exactly: sizes and times the pages get are at
most this (beyond 64 bits the page's boot data could not even be written)."""


class IpcConfig(ConfigModel):
    max_message_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, le=JS_SAFE_INT)
    command_timeout_ms: int = Field(default=30_000, ge=1, le=JS_SAFE_INT)
    threads: int = Field(default=8, ge=1, le=256)


class AppSection(ConfigModel):
    windows: list[WindowConfig] = Field(
        default_factory=lambda: [WindowConfig()], json_schema_extra={"minItems": 1}
    )
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    ipc: IpcConfig = Field(default_factory=IpcConfig)

    @field_validator("windows")
    @classmethod
    def _some_window(cls, windows: list[WindowConfig]) -> list[WindowConfig]:
        if not windows:  # nothing would open, and no page could ever call
            raise ValueError("an app opens at least one window: list it here")
        return windows  # (a repeated label: see _repeated)


class AppConfig(ConfigModel):
    schema_: str | None = Field(default=None, alias="$schema")
    product_name: str = "App"
    identifier: str = Field(
        default="com.example.app", pattern=APP_ID_PATTERN
    )
    version: str = "0.1.0"
    build: BuildConfig = Field(default_factory=BuildConfig)
    app: AppSection = Field(default_factory=AppSection)


@dataclass(frozen=True)
class CapabilitySource:
    """A capability and where it was written (for messages that point at the right file)."""

    capability: Capability
    file: Path
    json_path: str


@dataclass(frozen=True)
class Config:
    """A loaded, validated configuration with its paths resolved."""

    model: AppConfig
    path: Path
    capabilities: list[CapabilitySource] = field(default_factory=list)
    unused_capability_files: list[Path] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def frontend_dir(self) -> Path:
        return (self.root / self.model.build.frontend_dist).resolve()

    @property
    def isolation(self) -> IsolationOptions | None:
        pattern = self.model.app.security.pattern
        return pattern.options if isinstance(pattern, IsolationPattern) else None

    @property
    def isolation_dir(self) -> Path | None:
        options = self.isolation
        return (self.root / options.dir).resolve() if options else None


ISOLATION_MIN_MESSAGE_BYTES = 4096
"""A sealed message carries up to 1 KiB besides its content (app/core/js/isolation.js)."""

