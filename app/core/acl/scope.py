"""The permission scope a command receives: the ``allow``/``deny`` entries that granted it.

A command declares ``scope: Scope`` and asks it before touching a path::

    @app.command
    def read_file(path: str, scope: Scope) -> str:
        return scope.check_path(path).read_text()   # raises Forbidden outside the scope

Path entries (``{"path": "$APP/data/**"}``) are globs (see :mod:`app.core.acl.glob`). A path is
checked after it is resolved (``..``, symlinks, repeated separators) and deny entries win. An
entry whose pattern cannot be used allows nothing and, as a deny entry, denies everything.
Entries of other kinds (``{"url": ...}``) are the command's own to read from ``allow``/``deny``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import Forbidden, shown
from ..paths import user_dirs
from .glob import PathGlob, PatternError, compile_path_glob, folder_of, match_form

__all__ = ["Scope", "ScopeEntry"]

log = logging.getLogger("app.core.acl")

SHOWN_PATH = 300
"""Characters of a refused path that its message and log line show."""

Variables = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ScopeEntry:
    """One scope entry and where it was written (for messages that point at it)."""

    value: Mapping[str, Any]
    capability: str = ""
    location: str = ""
    """``file $.json.path`` of the entry."""


def _compiled(pattern: str, variables: Variables) -> PathGlob | PatternError:
    """The pattern compiled, as its folder resolves now: compiling resolves the links in the
    folder it names (see glob.py), and a link made or changed since must count."""
    return _compiled_at(pattern, variables, folder_of(pattern, dict(variables)))


@functools.lru_cache(maxsize=1024)
def _compiled_at(pattern: str, variables: Variables, folder: str | None) -> PathGlob | PatternError:
    try:
        return compile_path_glob(pattern, dict(variables))
    except PatternError as exc:
        return exc


def _forms(form: str) -> set[str]:
    """A path as written and in both Unicode normal forms: a file system may take "café" in
    one form and in the other for the same file (macOS's APFS does), so deny entries are
    matched against all three."""
    return {form, unicodedata.normalize("NFC", form), unicodedata.normalize("NFD", form)}


def _entries(items: Iterable[ScopeEntry | Mapping[str, Any]]) -> tuple[ScopeEntry, ...]:
    return tuple(i if isinstance(i, ScopeEntry) else ScopeEntry(i) for i in items)


@dataclass(frozen=True)
class _Verdict:
    resolved: str | None
    allowed: bool
    entry: ScopeEntry | None = None
    broken: str | None = None


@dataclass(frozen=True)
class Scope:
    """Inject with a ``scope: Scope`` parameter. Deny entries win over allow entries."""

    allow: tuple[ScopeEntry, ...] = ()
    deny: tuple[ScopeEntry, ...] = ()
    variables: Mapping[str, str] = field(default_factory=dict)
    """Values of ``$APP``, ``$APPDATA``, ``$HOME``, ``$TEMP`` (the core fills them in)."""
    command: str = ""
    """The command this scope was granted for (for messages)."""
    caller: str = ""
    """Who it was granted to, as messages name them: ``window 'main' (the local frontend, ...)``."""
    denial_data: Mapping[str, Any] = field(default_factory=dict)
    """What a denial's ``data`` says of the grant besides the path: the permission, the window,
    its origin and origin kind (the core fills them in)."""
    granted_in: str = ""
    """Where the permission was granted, as messages name it: ``capability 'main' (file ...)``."""
    _key: Variables = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Plain dicts are accepted for convenience, e.g. Scope(allow=[{"path": "/srv/**"}]).
        object.__setattr__(self, "allow", _entries(self.allow))
        object.__setattr__(self, "deny", _entries(self.deny))
        merged = {**user_dirs(), **self.variables}
        object.__setattr__(self, "_key", tuple(sorted(merged.items())))

    def with_variables(self, variables: Mapping[str, str]) -> Scope:
        """This scope with the folders that ``$APP``... stand for."""
        return replace(self, variables=dict(variables))

    def _glob(self, entry: ScopeEntry) -> PathGlob | PatternError | None:
        pattern = entry.value.get("path")
        if pattern is None and "path" not in entry.value:
            return None
        if not isinstance(pattern, str):
            return PatternError("'path' must be a string")
        return _compiled(pattern, self._key)

    def _verdict(self, path: str | os.PathLike[str]) -> _Verdict:
        try:
            resolved = os.path.realpath(os.fspath(path))
        except (TypeError, ValueError, OSError):
            return _Verdict(None, False)
        form = match_form(resolved)
        forms = _forms(form)
        for entry in self.deny:
            glob = self._glob(entry)
            if isinstance(glob, PatternError):
                return _Verdict(resolved, False, entry, str(glob))
            if glob is not None and any(glob.matches(f) for f in forms):
                return _Verdict(resolved, False, entry)
        for entry in self.allow:
            glob = self._glob(entry)
            if isinstance(glob, PathGlob) and glob.matches(form):
                return _Verdict(resolved, True, entry)
        return _Verdict(resolved, False)

    def allows_path(self, path: str | os.PathLike[str]) -> bool:
        """True when the resolved ``path`` matches an allow entry and no deny entry."""
        return self._verdict(path).allowed

    def check_path(self, path: str | os.PathLike[str]) -> Path:
        """The resolved ``path`` when the scope allows it; otherwise raise ``Forbidden``.

        Use the returned path: it is the one that was checked.
        """
        verdict = self._verdict(path)
        if verdict.allowed and verdict.resolved is not None:
            return Path(verdict.resolved)
        message = self._explain(str(path), verdict)
        resolved = "" if verdict.resolved is None else (
            f" (resolved to '{shown(verdict.resolved, SHOWN_PATH)}')")
        log.warning("scope denied: %s%s", message, resolved)
        data = {"path": str(path), "command": self.command or None, **self.denial_data}
        # The capability of the deny entry that refused it, or of the allow entries it is
        # outside of (the one the message says to add to).
        entry = verdict.entry or next((e for e in self.allow if e.capability), None)
        if entry is not None and entry.capability:
            data["capability"] = entry.capability
        raise Forbidden(message, data)

    def _explain(self, path: str, verdict: _Verdict) -> str:
        what = f"'{self.command}'" if self.command else "This command"
        path_shown = f"'{shown(path, SHOWN_PATH)}'"  # (a page may send megabytes of it)
        if self.caller:
            what += f" in {self.caller}"
        if verdict.resolved is None:
            return f"{what} may not use {path_shown}: it is not a usable path."
        entry = verdict.entry
        if entry is not None:
            where = f" ({entry.location})" if entry.location else ""
            by = f"capability '{entry.capability}'" if entry.capability else "its scope"
            pattern = entry.value.get("path")
            if verdict.broken:
                return (
                    f"{what} may not use any path: the deny entry {pattern!r} of {by}{where} "
                    f"cannot be used ({verdict.broken}); fix it (python -m app check)."
                )
            followed = _FOLLOWED if _was_followed(path, verdict.resolved) else ""
            return f"{what} may not use {path_shown}{followed}: {by} denies {pattern}{where}."
        allowed = [e.value["path"] for e in self.allow if isinstance(e.value.get("path"), str)]
        hint = json.dumps({"path": "..."})
        permission = self.denial_data.get("permission")
        if not allowed:
            named = f" '{permission}'" if permission else ""
            where = f" in {self.granted_in}" if self.granted_in else ""
            return (
                f"{what} may not use {path_shown}: its permission{named} was granted{where} "
                f"without allow entries, so no path is allowed. Add {hint} entries to its allow "
                "list."
            )
        first = next((e for e in self.allow if e.capability), None)
        where = f" in capability '{first.capability}' ({first.location})" if first else ""
        if permission:
            where = f" of '{permission}'{where}"
        if not os.path.isabs(path):
            how = (" (a relative path is taken from the app's working directory; the command "
                   "can join it to a folder of its own first, such as app.config.root)")
        elif _was_followed(path, verdict.resolved):
            how = _FOLLOWED
        else:
            how = ""
        return (
            f"{what} may not use {path_shown}: it is outside the allowed paths "
            f"({', '.join(allowed)}){how}. To allow it, add {hint} to the allow entries{where}."
        )


_FOLLOWED = " (once its links and '..' are followed)"


def _was_followed(path: str, resolved: str) -> bool:
    """Whether absolute ``path`` reads as another place than where its links lead."""
    return os.path.isabs(path) and resolved != os.path.normpath(path)
