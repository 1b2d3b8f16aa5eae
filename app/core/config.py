"""``app.conf.json``: pydantic models, loading, and problems reported as JSON paths.

Paths inside the file are relative to the folder that holds it. Capabilities are either inline
objects or names of files ``capabilities/<identifier>.json`` beside the config; with no
``capabilities`` key at all, every file in ``capabilities/`` is used.
"""

from __future__ import annotations

import collections
import copy
import functools
import ipaddress
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AfterValidator, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from .acl.model import IDENTIFIER_PATTERN, Capability
from .acl.origin import origin_of
from .errors import ConfigError
from .models import ConfigModel
from .transport.credentials import TAB_PARAM

__all__ = [
    "AppConfig",
    "CapabilitySource",
    "Config",
    "IsolationOptions",
    "WindowConfig",
    "load_config",
    "window_config",
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


def _header_value(value: str) -> str:
    if any(c in value for c in "\r\n"):
        raise ValueError("a header's value must be one line")
    if not all(c == "\t" or " " <= c <= "~" for c in value):
        raise ValueError(
            "a header's value must be printable ASCII (a browser and the server refuse "
            "control characters, and other characters are not read alike)"
        )
    return value


HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[str, AfterValidator(_header_value)]


class SecurityConfig(ConfigModel):
    pattern: Pattern = Field(default_factory=BrownfieldPattern)
    csp: str | dict[str, str | list[str]] | None = None
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


class IpcConfig(ConfigModel):
    max_message_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    command_timeout_ms: int = Field(default=30_000, ge=1)
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


def json_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """Render a pydantic ``loc`` as a JSON path: ``$.app.windows[0].width``."""
    out = "$"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


def window_config(**fields: Any) -> WindowConfig:
    """A window's config made in Python (``App.open_window``), or a ``ValueError`` that says
    what is wrong with it, a field at a time."""
    try:
        return WindowConfig(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{path.removeprefix('$.')}: {message}" for path, message in _problems(exc, fields)
        )
        raise ValueError(f"cannot open window {fields.get('label')!r}: {problems}") from None


def _problems(error: ValidationError, data: Any) -> list[tuple[str, str]]:
    by_path: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = _unknown_key(item["loc"][-1] if item["loc"] else "")
        elif item["type"] == "missing":
            message = "required key is missing"
        elif item["type"] == "value_error":  # the config's own checks: their words only
            message = str(item["ctx"]["error"])
        elif item["type"] == "string_pattern_mismatch":  # in words, not as a regex
            expected = _PATTERN_WORDS.get(item["ctx"]["pattern"])
            if expected is not None:
                message = f"{str(item['input'])[:80]!r} is not {expected}"
        loc = _input_path(item["loc"], data, keep_last=item["type"] == "missing")
        if item["type"] == "union_tag_invalid":  # the value of "use" names no pattern
            tag = item["ctx"]["discriminator"].strip("'")
            loc += (tag,)
            expected = " or ".join(
                json.dumps(t.strip("'")) for t in item["ctx"]["expected_tags"].split(", ")
            )
            message = f"{_SHOULD_BE}{expected}"
        found = by_path.setdefault(json_path(loc), [])
        if message not in found:
            found.append(message)
    return [
        (path, _one_of(messages))
        for path, messages in by_path.items()
        # A value of a union that failed inside one of its types: the other types' "should be
        # a valid ..." at the value itself is noise next to what is wrong inside it.
        if not (
            all(m.startswith(_SHOULD_BE) for m in messages)
            and any(other.startswith((path + ".", path + "[")) for other in by_path)
        )
    ]


def _unknown_key(key: Any) -> str:
    """What to say of a key no model here has: its camelCase form, or the closest known key."""
    if isinstance(key, str) and "_" in key.strip("_") and to_camel(key) != key:
        return f"unknown key; keys are camelCase: {to_camel(key)!r}"
    import difflib  # (here: only a config with a mistake needs it)

    close = difflib.get_close_matches(str(key), [k for k in _known_keys() if k != key], 1, 0.75)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return "unknown key; remove it or check its spelling"


@functools.cache
def _known_keys() -> list[str]:
    """Every key of the config's and capabilities' objects, for a misspelt one's suggestion."""
    keys: set[str] = set()
    models: list[type[ConfigModel]] = [ConfigModel]
    while models:
        model = models.pop()
        models += model.__subclasses__()
        keys.update(f.alias or name for name, f in model.model_fields.items())
    return sorted(keys)


_SHOULD_BE = "Input should be "
_PATTERN_WORDS = {
    LABEL_PATTERN: "a window label: use ASCII letters, digits, '_', '-', '/' and ':'",
    IDENTIFIER_PATTERN: "an identifier: use ASCII letters, digits, '_', '-', '.' and ':'",
    SET_PATTERN: "a permission set identifier: 'prefix:name' in lower-case letters, digits "
    "and '-', such as 'files:default'",
    APP_ID_PATTERN: "an app identifier: a reverse domain name such as 'com.example.app'",
}
_INSTANCE_OF = re.compile(r" or instance of \w+")


def _one_of(messages: list[str]) -> str:
    """One line for a value that matched none of a union's types (pydantic says each)."""
    messages = [_INSTANCE_OF.sub("", m) for m in messages]
    if len(messages) > 1 and all(m.startswith(_SHOULD_BE) for m in messages):
        return _SHOULD_BE + " or ".join(m[len(_SHOULD_BE) :] for m in messages)
    return "; ".join(messages)


def _input_path(loc: tuple[int | str, ...], data: Any, *, keep_last: bool) -> tuple[int | str, ...]:
    """The parts of pydantic's ``loc`` that lead through the input: unions add their tags and
    type names to it, which mean nothing to a user. A missing key is kept at the end."""
    path: list[int | str] = []
    value = data
    for i, part in enumerate(loc):
        if isinstance(value, dict) and isinstance(part, str) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        elif keep_last and i == len(loc) - 1:
            pass
        else:
            continue
        path.append(part)
    return tuple(path)


def _read_json(path: Path) -> tuple[Any, list[tuple[str, str]], list[tuple[str, str]]]:
    """The file's JSON and what keeps it from being read (then ``None``), and where a key is
    given twice in one object: JSON allows it and readers keep the last one, so an edit to the
    first one would change nothing; no reason not to read the file, but a problem all the same."""
    try:
        if path.exists() and not path.is_file():  # a folder, a pipe, a device: never read
            return None, [("$", f"not a regular file: {path}")], []
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark some editors write
    except FileNotFoundError:
        return None, [("$", f"file not found: {path}")], []
    except (OSError, UnicodeDecodeError) as exc:
        return None, [("$", f"cannot read the file: {exc}")], []
    repeats: dict[int, list[str]] = {}  # id() of an object -> its keys given again

    def object_of(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        made = dict(pairs)
        if len(made) < len(pairs):
            seen: set[str] = set()
            again = repeats[id(made)] = []
            for key, _ in pairs:
                if key in seen:
                    again.append(key)
                seen.add(key)
        return made

    try:
        data = json.loads(text, object_pairs_hook=object_of)
    except json.JSONDecodeError as exc:
        why = f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        if text[exc.pos:exc.pos + 2] in ("//", "/*"):
            why += " (a comment: JSON has none)"
        return None, [("$", why)], []
    except RecursionError:
        return None, [("$", "not valid JSON here: its arrays and objects nest too deeply")], []
    return data, [], _repeated_keys(data, repeats) if repeats else []


def _repeated_keys(data: Any, repeats: dict[int, list[str]]) -> list[tuple[str, str]]:
    """Where the keys that ``repeats`` lists (by their object's id()) are in ``data``, in the
    file's order, level by level."""
    found: list[tuple[str, str]] = []
    todo: collections.deque[tuple[Any, tuple[int | str, ...]]] = collections.deque([(data, ())])
    while todo:
        value, loc = todo.popleft()
        if isinstance(value, dict):
            found += [(json_path((*loc, key)), "given twice in its object (JSON readers keep "
                       "only the last one); give it once") for key in repeats.get(id(value), ())]
            todo.extend((item, (*loc, key)) for key, item in value.items())
        elif isinstance(value, list):
            todo.extend((item, (*loc, i)) for i, item in enumerate(value))
    return list(dict.fromkeys(found))


def _load_capabilities(
    declared: list[Any] | None, root: Path, source: Path
) -> tuple[list[CapabilitySource], list[CapabilitySource], list[Path], list[tuple[str, str]]]:
    """The capabilities, those that are invalid in part (what of them is valid, to be checked
    further), the unused capability files, and the problems found."""
    cap_dir = root / "capabilities"
    # Hidden files (an editor's, say) are not the app's capabilities.
    files = (
        sorted(f for f in cap_dir.glob("*.json") if not f.name.startswith("."))
        if cap_dir.is_dir()
        else []
    )
    loaded: list[CapabilitySource] = []
    partial: list[CapabilitySource] = []
    named: list[tuple[str, str]] = []  # each identifier, and where the config gives it
    problems: list[tuple[str, str]] = []
    used: set[Path] = set()
    refs: list[Any] = [f.stem for f in files] if declared is None else list(declared)
    for index, ref in enumerate(refs):
        where = json_path(("app", "security", "capabilities", index))
        if isinstance(ref, dict):  # inline, in a config that is wrong elsewhere: checked alone
            try:
                ref = Capability.model_validate(ref, by_alias=True, by_name=False)
            except ValidationError as exc:  # reported with the rest of the config
                salvaged, own_identifier = _salvage(ref, exc)
                if salvaged is not None:
                    partial.append(CapabilitySource(salvaged, source, where))
                    if own_identifier:
                        named.append((salvaged.identifier, f"{where}.identifier"))
                continue
        if isinstance(ref, Capability):
            loaded.append(CapabilitySource(ref, source, where))
            named.append((ref.identifier, f"{where}.identifier"))
            continue
        if not isinstance(ref, str):  # an invalid inline capability, already reported
            continue
        if ref.endswith(".json"):
            problems.append((where, f"name the capability without '.json': {ref[:-5]!r}"))
            continue
        if not ref or any(c in ref for c in "/\\") or ref.startswith("."):
            problems.append(
                (
                    where,
                    f"{ref!r} is not a capability name: name a file of capabilities/ "
                    "by its identifier, without a folder or '.json'",
                )
            )
            continue
        file = cap_dir / f"{ref}.json"
        data, read_problems, repeated = _read_json(file)
        if read_problems:
            if declared is None:  # found in the folder: the file is what is wrong
                problems += [(f"capabilities/{file.name}: $", what) for _, what in read_problems]
            else:
                problems += [
                    (where, f"capability {ref!r} (capabilities/{file.name}): {what}")
                    for _, what in read_problems
                ]
            continue
        used.add(file)
        problems += [(f"capabilities/{file.name}: {p}", w) for p, w in repeated]
        whole = True
        try:
            capability: Capability | None = Capability.model_validate(
                data, by_alias=True, by_name=False
            )
            own_identifier = True
        except ValidationError as exc:
            problems += [(f"capabilities/{file.name}: {p}", w) for p, w in _problems(exc, data)]
            capability, own_identifier = _salvage(data, exc)
            whole = False
        if capability is None:
            continue
        if own_identifier and capability.identifier != ref:
            problems.append(
                (
                    f"capabilities/{file.name}: $.identifier",
                    f"must be {ref!r}, the name the file is referenced by",
                )
            )
            whole = False  # not used, but checked for the rest
        (loaded if whole else partial).append(CapabilitySource(capability, file, "$"))
        # (A file named in the config is repeated where it is named: its name is its identifier.)
        named.append((ref, where if declared is not None else f"capabilities/{file.name}: $"))
    seen: set[str] = set()
    for identifier, where in named:
        if identifier in seen:
            problems.append((where, f"capability {identifier!r} is defined twice"))
        seen.add(identifier)
    unused = [f for f in files if f not in used] if declared is not None else []
    return loaded, partial, unused, problems


_STAND_INS: dict[str, Any] = {
    "windows": "*",
    "urls": "/",
    "permissions": "-",
    "allow": {},
    "deny": {},
    "platforms": "linux",
}
"""What a refused item of a capability's list is replaced with, by the list's key: a value of
the item's type in which nothing is found wrong, so that the items after it keep their places
(their indexes are in the paths of their problems)."""


def _salvage(data: Any, error: ValidationError) -> tuple[Capability | None, bool]:
    """What of an invalid capability's ``data`` can still be checked (its window globs, URL
    patterns and scope entries: each a problem of its own), and whether its identifier is its
    own. Each value in ``error`` is replaced, by a stand-in in a list or by its default
    elsewhere; ``None`` if that is not a capability either."""
    if not isinstance(data, dict):
        return None, False
    refused = {
        _input_path(item["loc"], data, keep_last=item["type"] == "missing")
        for item in error.errors(include_url=False)
    }
    # A permission object refused by both forms of the union is refused as a string at the
    # object itself: what is wrong is inside it, the rest of it can be checked.
    refused = {p for p in refused if not any(len(o) > len(p) and o[: len(p)] == p for o in refused)}
    try:
        data = copy.deepcopy(data)
    except RecursionError:  # nested deeper than Python's stack: pydantic said what is wrong
        return None, False
    for path in refused:
        if not path:
            return None, False
        holder: Any = data
        for part in path[:-1]:
            holder = holder[part]
        last = path[-1]
        if isinstance(holder, list) and isinstance(last, int):
            key = path[-2] if len(path) > 1 else None
            if key not in _STAND_INS:
                return None, False
            holder[last] = copy.deepcopy(_STAND_INS[key])
        elif last == "identifier":  # required: a capability's or a permission object's
            holder[last] = "-"
        else:
            del holder[last]
    try:
        capability = Capability.model_validate(data, by_alias=True, by_name=False)
    except ValidationError:
        return None, False
    return capability, ("identifier",) not in refused


def _check_paths(data: Any, root: Path) -> list[tuple[str, str]]:
    """The folders the config names exist (read from the file's data, so that they are checked
    even when other values are wrong)."""
    problems = []
    build = _get(data, "build")
    frontend_dist = _get(build, "frontendDist", "frontend")
    if isinstance(frontend_dist, str) and _get(build, "devUrl") is None:
        frontend = root / frontend_dist
        if not frontend.is_dir():
            problems.append(
                ("$.build.frontendDist", f"a folder of the frontend; {frontend} is none")
            )
    pattern = _get(_get(_get(data, "app"), "security"), "pattern")
    options_dir = _get(_get(pattern, "options"), "dir")
    if _get(pattern, "use") == "isolation" and isinstance(options_dir, str) and options_dir:
        index = root / options_dir / "index.html"
        if not index.is_file():
            problems.append(
                (
                    "$.app.security.pattern.options.dir",
                    f"a folder with the isolation app's index.html; {index} does not exist",
                )
            )
    return problems


def load_config(path: str | Path) -> Config:
    """Load and validate ``app.conf.json`` with its capability files; raise ``ConfigError``."""
    path = Path(path).resolve()
    data, problems, repeated = _read_json(path)
    if problems:
        raise ConfigError(str(path), problems)
    model: AppConfig | None = None
    try:
        model = AppConfig.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        problems = _problems(exc, data)
    problems += _repeated(data)
    problems += repeated
    # What the file names is checked even when values in it are wrong: every problem at once.
    problems += _check_paths(data, path.parent)
    if model is not None:
        declared: Any = model.app.security.capabilities
    else:
        declared = _get(_get(_get(data, "app"), "security"), "capabilities")
        declared = declared if isinstance(declared, list) or declared is None else []
    capabilities, partial, unused, cap_problems = _load_capabilities(
        declared, path.parent, path
    )
    problems += cap_problems
    if model is not None:
        problems += _check_together(model)
    problems += _unusable_values(path, capabilities + partial, model, data)
    if problems or model is None:
        raise ConfigError(str(path), problems)
    return Config(model, path, capabilities, unused)


def _unusable_values(
    path: Path, capabilities: list[CapabilitySource], model: AppConfig | None, data: Any
) -> list[tuple[str, str]]:
    """The capabilities' values that are well formed JSON but cannot be used as written: what
    compiling them finds (a window glob or a remote URL pattern that does not parse, ``allow``
    entries on a ``deny-`` permission), and a scope entry's path that is not a path pattern.
    Checked in every capability, whatever else is wrong in the config (its ``model``, ``None``
    then) or in the capability (what of it is valid, then). (Built without this check, as a
    test may, such a value fails closed.)"""
    from .acl.compiled import compile_capability
    from .acl.glob import PatternError, compile_path_glob
    from .acl.model import PermissionEntry
    from .acl.permissions import PermissionSets
    from .paths import dirs_of

    if model is not None:
        identifier, members = model.identifier, model.app.security.set_members()
    else:  # the variables' values only have to exist for a pattern to be checked
        identifier, members = str(_get(data, "identifier", "")), {}
    variables = dirs_of(path.parent, identifier)
    sets = PermissionSets(members)
    problems: list[tuple[str, str]] = []
    for source in capabilities:
        capability, base = source.capability, source.json_path
        prefix = "" if source.file == path else f"capabilities/{source.file.name}: "
        found = [(p.json_path, p.message) for p in compile_capability(source, sets).problems]
        for i, entry in enumerate(capability.permissions):
            if not isinstance(entry, PermissionEntry):
                continue
            for kind, entries in (("allow", entry.allow), ("deny", entry.deny)):
                for j, value in enumerate(entries):
                    if "path" not in value:
                        continue  # an entry of the app's own kind (check looks at its keys)
                    where = f"{base}.permissions[{i}].{kind}[{j}].path"
                    pattern = value["path"]
                    if not isinstance(pattern, str):
                        found.append((where, "must be a string such as '$APP/data/**'"))
                        continue
                    try:
                        compile_path_glob(pattern, variables, ignore_case=False)
                    except PatternError as exc:
                        found.append((where, f"invalid path pattern: {exc}"))
        problems += [(prefix + where, what) for where, what in found]
    return problems


ISOLATION_MIN_MESSAGE_BYTES = 4096
"""A sealed message carries up to 1 KiB besides its content (app/core/js/isolation.js)."""


def _check_together(config: AppConfig) -> list[tuple[str, str]]:
    """Values that are fine alone but not together."""
    ipc = config.app.ipc
    if (
        isinstance(config.app.security.pattern, IsolationPattern)
        and ipc.max_message_bytes < ISOLATION_MIN_MESSAGE_BYTES
    ):
        return [(
            "$.app.ipc.maxMessageBytes",
            f"at least {ISOLATION_MIN_MESSAGE_BYTES} under the isolation pattern (a sealed "
            "message carries up to 1 KiB besides its content)",
        )]
    return []


def _get(data: Any, key: str, default: Any = None) -> Any:
    return data.get(key, default) if isinstance(data, dict) else default


def _repeated(data: Any) -> list[tuple[str, str]]:
    """Window labels and header names used again, each at its repeat, read from the file's
    data: pydantic would check them together only once every window and header is valid, and
    could not point at the repeat."""
    problems = []
    windows = _get(_get(data, "app"), "windows")
    labels: set[str] = set()
    for i, window in enumerate(windows if isinstance(windows, list) else []):
        label = _get(window, "label", "main")  # (a window with no label is "main")
        if not isinstance(window, dict) or not isinstance(label, str):
            continue
        if label in labels:
            where = json_path(("app", "windows", i, "label"))
            problems.append((where, f"window labels must be unique; {label!r} repeats"))
        labels.add(label)
    headers = _get(_get(_get(data, "app"), "security"), "headers")
    names: dict[str, str] = {}
    for name in headers if isinstance(headers, dict) else {}:
        if name.lower() in names:
            where = json_path(("app", "security", "headers", name))
            problems.append(
                (where, f"{name!r} repeats {names[name.lower()]!r} (header names ignore case)")
            )
        names[name.lower()] = name
    return problems
