"""What is wrong in a configuration, said as JSON paths and sentences: pydantic's errors turned
into ``(path, what)`` pairs a person can act on (a misspelt key's likely name, a pattern in
words, a union's types in one line)."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from ..acl.model import IDENTIFIER_PATTERN
from ..models import ConfigModel
from .model import APP_ID_PATTERN, LABEL_PATTERN, SET_PATTERN

__all__ = ["input_path", "json_path", "problems_of"]


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


def problems_of(error: ValidationError, data: Any) -> list[tuple[str, str]]:
    by_path: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        message = item["msg"]
        if item["type"] == "extra_forbidden" and tuple(item["loc"][-2:]) == (
                "brownfield", "options"):
            message = 'the brownfield pattern takes no options; they are for "use": "isolation"'
        elif item["type"] == "extra_forbidden":
            message = _unknown_key(item["loc"][-1] if item["loc"] else "")
        elif item["type"] == "missing":
            message = "required key is missing"
        elif item["type"] == "value_error":  # the config's own checks: their words only
            message = str(item["ctx"]["error"])
        elif item["type"] == "string_pattern_mismatch":  # in words, not as a regex
            expected = _PATTERN_WORDS.get(item["ctx"]["pattern"])
            if expected is not None:
                message = f"{str(item['input'])[:80]!r} is not {expected}"
        loc = input_path(item["loc"], data, keep_last=item["type"] == "missing")
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
    # A value of one of the types that failed that type's own check: what the other types
    # would have been is noise next to it.
    checked = [m for m in messages if not m.startswith(_SHOULD_BE)]
    if checked:
        messages = checked
    if len(messages) > 1 and all(m.startswith(_SHOULD_BE) for m in messages):
        return _SHOULD_BE + " or ".join(m[len(_SHOULD_BE) :] for m in messages)
    return "; ".join(messages)


def input_path(loc: tuple[int | str, ...], data: Any, *, keep_last: bool) -> tuple[int | str, ...]:
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

