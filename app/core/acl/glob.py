"""Glob patterns of window labels and of file paths, compiled to regular expressions.

Path globs work like a shell's with ``globstar``:

- ``*`` matches any run of characters inside one path segment, never a separator;
- ``?`` matches one character inside a segment, ``[abc]``, ``[a-z]`` and ``[!abc]`` one of a set;
- ``**``, as a whole segment, matches any number of segments, none included: ``$APP/web/**``
  matches ``web`` itself and everything below it, and never the sibling ``web-evil``.

A path pattern starts with ``$APP``, ``$APPDATA``, ``$HOME``, ``$TEMP`` or ``/``. A variable stands
for its folder, resolved (symlinks followed) and taken literally. Empty and ``.`` segments are
dropped and ``..`` removes the segment before it, because patterns are compared with resolved
paths. Where the file system under a pattern ignores case, so does the pattern.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "VARIABLES",
    "PathGlob",
    "PatternError",
    "compile_label_glob",
    "compile_path_glob",
    "folder_of",
    "ignores_case",
    "match_form",
    "path_regex",
]

VARIABLES = ("$APP", "$APPDATA", "$HOME", "$TEMP")
_LABEL_CHARS = re.compile(r"[A-Za-z0-9_\-/:]*")
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_ANY_SEGMENTS = "(?:/[^/]+)*"


class PatternError(ValueError):
    """A glob or URL pattern that cannot be used; the message says why and what to write."""


def _has_magic(segment: str) -> bool:
    return any(c in segment for c in "*?[")


def _char_set(text: str, start: int, *, in_path: bool) -> tuple[str, int]:
    """Translate the ``[...]`` starting at ``text[start]``; return the regex and the end index."""
    j = start + 1
    negate = j < len(text) and text[j] in "!^"
    if negate:
        j += 1
    first = j
    if j < len(text) and text[j] == "]":  # a "]" right after "[" is a member, as in shells
        j += 1
    while j < len(text) and text[j] != "]":
        j += 1
    if j >= len(text):
        raise PatternError(
            f"the '[' of {text[start:]!r} opens a character set that no ']' closes"
        )
    body = text[first:j]
    members = re.sub(r"([\\\[\]^&~|])", r"\\\1", body)
    if negate:
        regex = f"[^/{members}]" if in_path else f"[^{members}]"
    else:
        # A range such as [+-0] could include the separator; a set never matches it.
        regex = f"(?!/)[{members}]" if in_path else f"[{members}]"
    try:
        re.compile(regex)
    except re.error as exc:
        raise PatternError(f"the character set [{body}] is not valid: {exc}") from None
    return regex, j + 1


def _translate(segment: str, *, in_path: bool) -> str:
    """One segment's wildcards as a regex; in a path, nothing matches the separator."""
    one = "[^/]" if in_path else "."
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            if segment[i + 1 : i + 2] == "*":
                raise PatternError(
                    "'**' must be a whole path segment, as in 'data/**/*.json'; "
                    "inside a name, use '*'"
                    if in_path
                    else "'**' is no wildcard of a window glob: '*' matches any characters of "
                    "a label, '/' among them, so write '*'"
                )
            out.append(one + "*")
        elif char == "?":
            out.append(one)
        elif char == "[":
            regex, i = _char_set(segment, i, in_path=in_path)
            out.append(regex)
            continue
        elif char in "{}":
            raise PatternError(
                "'{' and '}' are not pattern syntax here: write one entry per alternative "
                "(or '[{]' for the character itself)"
            )
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def compile_label_glob(glob: str) -> re.Pattern[str]:
    """A window-label glob (``main``, ``tool-*``) as an anchored regex; raise ``PatternError``."""
    if not glob:
        raise PatternError("a window glob may not be empty")
    regex = _translate(glob, in_path=False)
    literal = re.sub(r"\[[^\]]*\]|[*?]", "", glob)
    if not _LABEL_CHARS.fullmatch(literal):
        raise PatternError(
            f"{glob!r} can never match a window label: labels use ASCII letters, digits, "
            "'_', '-', '/' and ':'"
        )
    return re.compile(regex + r"\Z", re.DOTALL)


# Paths -------------------------------------------------------------------------------------


def match_form(path: str) -> str:
    """A resolved path as patterns see it: ``/`` separators, none at the end, ``/`` -> ``""``."""
    if os.sep != "/":
        path = path.replace(os.sep, "/")
    if not path.startswith("/"):
        path = "/" + path  # a Windows drive: C:/x -> /C:/x, the form patterns are built in
    return path.rstrip("/")


def _segments(text: str, fixed: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Split ``text`` after the ``fixed`` segments; each is (text, literal). Resolves . and .."""
    out = list(fixed)
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and not out[-1][1] and _has_magic(out[-1][0]):
                raise PatternError(f"'..' cannot follow the wildcard segment {out[-1][0]!r}")
            if out:
                out.pop()
            continue
        out.append((part, False))
    return out


def _regex(segments: list[tuple[str, bool]]) -> str:
    parts = []
    for text, literal in segments:
        if literal:
            parts.append("/" + re.escape(text))
        elif text == "**":
            parts.append(_ANY_SEGMENTS)
        else:
            parts.append("/" + _translate(text, in_path=True))
    return "".join(parts)


def path_regex(path: str) -> str:
    """The unanchored regex of a ``/``-separated path glob (used for URL paths too)."""
    return _regex(_segments(path, []))


@dataclass(frozen=True)
class PathGlob:
    """A compiled path pattern; ``matches`` takes a path in ``match_form``."""

    pattern: str
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


def _parsed(pattern: str, variables: Mapping[str, str]) -> list[tuple[str, bool]]:
    """A scope path pattern's segments, its variable put in; ``PatternError`` if unusable."""
    if not isinstance(pattern, str) or not pattern:
        raise PatternError("a path pattern must be a non-empty string such as '$APP/data/**'")
    if "\0" in pattern:
        raise PatternError("a path has no NUL character")
    try:
        pattern.encode()
    except UnicodeEncodeError:
        raise PatternError(
            "a path pattern must be valid Unicode (this one holds a lone UTF-16 surrogate)"
        ) from None
    text = pattern.replace("\\", "/") if os.sep == "\\" else pattern
    if text.endswith("/"):  # a folder, written as one: it and all it holds (a deny of
        text += "**"        # "secret/" matched the folder's own path alone, nothing in it)
    fixed: list[tuple[str, bool]] = []
    variable = _VARIABLE.match(text)
    if variable:
        name = variable.group(0)
        if name not in VARIABLES:
            raise PatternError(f"unknown variable {name}; use one of {', '.join(VARIABLES)}")
        text = text[variable.end() :]
        if text and not text.startswith("/"):
            raise PatternError(f"put '/' after {name}, as in '{name}/data/**'")
        value = variables.get(name)
        if not value:
            raise PatternError(f"{name} has no value here")
        folder = match_form(os.path.realpath(value))
        fixed = [(part, True) for part in folder.split("/") if part]
    elif not (text.startswith("/") or (os.sep == "\\" and re.match(r"[A-Za-z]:/", text))):
        raise PatternError(
            f"{pattern!r} is not absolute: start it with {', '.join(VARIABLES)} or '/'"
        )
    later = next((m.group(0) for m in _VARIABLE.finditer(text) if m.group(0) in VARIABLES), None)
    if later:
        # Taken as it is, it would name a folder called "$APP": a deny that denies nothing.
        raise PatternError(f"{later} stands for a folder only at the start of a pattern")
    return _segments(text, fixed)


def _literal_folder(segments: list[tuple[str, bool]]) -> tuple[int, str]:
    """How many segments come before the first wildcard, and the folder they name."""
    count = 0
    for part, literal in segments:
        if not literal and (_has_magic(part) or any(c in part for c in "\\{}")):
            break
        count += 1
    # A Windows drive ("C:") starts the path as it is; POSIX paths start at "/".
    folder = "/".join(part for part, _ in segments[:count])
    return count, folder if re.match(r"[A-Za-z]:", folder) else "/" + folder


def folder_of(pattern: str, variables: Mapping[str, str]) -> str | None:
    """The folder a pattern names before its first wildcard, with its links resolved as they
    are now (what a compiled pattern was built on); None for a pattern that cannot be used."""
    try:
        count, folder = _literal_folder(_parsed(pattern, variables))
    except PatternError:
        return None
    return match_form(os.path.realpath(folder)) if count else folder


def compile_path_glob(
    pattern: str, variables: Mapping[str, str], *, ignore_case: bool | None = None
) -> PathGlob:
    """Compile a scope path pattern; raise ``PatternError`` saying what is wrong with it.

    ``variables`` maps ``$APP``... to folders. ``ignore_case=None`` asks the file system.
    """
    segments = _parsed(pattern, variables)
    # The folder the pattern names before its first wildcard, with its links resolved, as the
    # paths it is matched against are: a deny of "$APP/data/alias/**", where alias links to
    # private/, must refuse data/private/... (written through a link, it matched nothing).
    count, folder = _literal_folder(segments)
    if count:
        resolved = match_form(os.path.realpath(folder))
        segments = [(part, True) for part in resolved.split("/") if part] + segments[count:]
        folder = resolved.lstrip("/") if re.match(r"/[A-Za-z]:", resolved) else resolved or "/"
    if ignore_case is None:
        ignore_case = ignores_case(folder)
    flags = re.IGNORECASE if ignore_case else 0
    return PathGlob(pattern, re.compile(_regex(segments) + r"\Z", flags))


@functools.lru_cache(maxsize=256)
def ignores_case(path: str) -> bool:
    """Whether the file system holding ``path`` (or its nearest existing folder) ignores case.

    Asked of the disk, not guessed from the platform: a macOS or Windows volume may be
    case-sensitive, and a Linux one (a mounted FAT or casefolded folder) may not.
    """
    current = Path(path)
    while True:
        if current.exists():
            name = current.name
            if name.lower() != name.upper():
                try:
                    return os.path.samefile(current, current.with_name(name.swapcase()))
                except OSError:
                    return False
        if current.parent == current:
            return sys.platform in ("darwin", "win32")
        current = current.parent
