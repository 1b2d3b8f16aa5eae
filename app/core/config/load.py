"""Reading ``app.conf.json`` and its capability files: every problem found at once, the values
of a wrong file checked as far as they can be (a capability that is wrong in part still has its
globs and scopes checked), and the folders it names looked for."""

from __future__ import annotations

import collections
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..acl.model import Capability
from ..errors import ConfigError
from .model import (
    ISOLATION_MIN_MESSAGE_BYTES,
    AppConfig,
    CapabilitySource,
    Config,
    IsolationPattern,
    WindowConfig,
)
from .problems import input_path, json_path, problems_of

__all__ = ["load_config", "window_config"]


def window_config(**fields: Any) -> WindowConfig:
    """A window's config made in Python (``App.open_window``), or a ``ValueError`` that says
    what is wrong with it, a field at a time."""
    try:
        return WindowConfig(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{path.removeprefix('$.')}: {message}" for path, message in problems_of(exc, fields)
        )
        raise ValueError(f"cannot open window {fields.get('label')!r}: {problems}") from None


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
    except (OSError, ValueError) as exc:  # (a name too long; undecodable text)
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
    except ValueError as exc:  # an integer of more digits than Python reads from text
        return None, [("$", f"not usable JSON: {exc}")], []
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
        if (not ref or any(c in ref for c in "/\\") or ref.startswith(".")
                or not ref.isprintable()):
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
            problems += [(f"capabilities/{file.name}: {p}", w) for p, w in problems_of(exc, data)]
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
        input_path(item["loc"], data, keep_last=item["type"] == "missing")
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
        if not _is(frontend, Path.is_dir):
            problems.append(
                ("$.build.frontendDist", f"a folder of the frontend; {frontend} is none")
            )
    pattern = _get(_get(_get(data, "app"), "security"), "pattern")
    options_dir = _get(_get(pattern, "options"), "dir")
    if _get(pattern, "use") == "isolation" and isinstance(options_dir, str) and options_dir:
        index = root / options_dir / "index.html"
        if not _is(index, Path.is_file):
            problems.append(
                (
                    "$.app.security.pattern.options.dir",
                    f"a folder with the isolation app's index.html; {index} does not exist",
                )
            )
    return problems


def _is(path: Path, kind: Callable[[Path], bool]) -> bool:
    """``kind(path)``, and False for a path the system cannot look up (a name too long, a NUL
    character in it)."""
    try:
        return kind(path)
    except (OSError, ValueError):
        return False


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
        problems = problems_of(exc, data)
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
    from ..acl.compiled import compile_capability
    from ..acl.glob import PatternError, compile_path_glob
    from ..acl.model import PermissionEntry
    from ..acl.permissions import PermissionSets
    from ..paths import dirs_of

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
