"""``python -m app schema``: JSON Schemas of ``app.conf.json`` and of capability files.

The schemas come from the pydantic models, with the app's permission identifiers (its
commands', the core's and its permission sets') as an enum, so that an editor completes them
and flags a misspelt one. Regenerate them after adding a command or a permission set.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from ..acl.glob import VARIABLES
from ..acl.model import IDENTIFIER_PATTERN, Capability
from ..acl.permissions import Catalogue
from ..app import App
from ..config import HEADER_NAME_PATTERN, ISOLATION_MIN_MESSAGE_BYTES, OWN_HEADERS, AppConfig
from .common import catalogue_of

__all__ = [
    "CAPABILITY_SCHEMA",
    "CONFIG_SCHEMA",
    "capability_schema",
    "config_schema",
    "write_schemas",
]

CONFIG_SCHEMA = "app.conf.schema.json"
CAPABILITY_SCHEMA = "capability.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
JsonSchema = dict[str, Any]


class _Generator(GenerateJsonSchema):
    # Titles made from field names ("Frontenddist") only clutter an editor's hover text.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _identifier(catalogue: Catalogue, complete: bool) -> JsonSchema:
    entries = list(catalogue.entries.values())
    if not complete:  # the app's commands are not known: any identifier, the core's as examples
        return {
            "type": "string",
            "description": "A permission identifier: allow-/deny- and a command, core:event:*, "
            "or a permission set. (This schema was written while the app's config did not "
            "load, and does not list the app's own: run `python -m app schema` again.)",
            "pattern": IDENTIFIER_PATTERN,
            "examples": [p.identifier for p in entries],
        }
    return {
        "type": "string",
        "description": "A permission identifier: allow-/deny- and a command, core:event:*, "
        "or a permission set.",
        "enum": [p.identifier for p in entries],
        # Editors that know this keyword (VS Code) show each identifier's description.
        "enumDescriptions": [p.description for p in entries],
    }


_VARIABLE_NAMES = "(?:" + "|".join(v[1:] for v in VARIABLES) + ")(?![A-Za-z0-9_])"

SCOPE_ENTRY: JsonSchema = {
    "type": "object",
    "description": "A scope entry. Commands that take a Scope read path entries; others may "
    "define entries of their own.",
    "properties": {
        "path": {
            "type": "string",
            "description": "A path glob starting with " + ", ".join(VARIABLES) + " or '/'. '*' "
            "stays within a folder, '**' spans any folders.",
            # Absolute, or a variable then '/' (a drive letter for Windows), and no variable
            # later on (there it would name a folder called "$APP").
            "pattern": rf"^(?:/|[A-Za-z]:[/\\]|\${_VARIABLE_NAMES}(?:[/\\]|$))"
            rf"(?!.*\${_VARIABLE_NAMES})",
        }
    },
    "additionalProperties": True,
}


def _any_case(word: str) -> str:
    """A regex for ``word`` in any case (JSON Schema's regexes take no flags)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


def _loader_rules(defs: JsonSchema) -> None:
    """What the loader checks beyond types and keys, where a schema can say it, so that an
    editor flags it as well (the loader's messages say more)."""
    entry = defs["PermissionEntry"]
    # A deny- permission takes only "deny" entries.
    entry["if"] = {"properties": {"identifier": {"pattern": "^(?:[^:]+:)?deny-"}},
                   "required": ["identifier"]}
    entry["then"] = {"properties": {"allow": {"maxItems": 0}}}
    defs["RemoteConfig"]["properties"]["urls"]["items"]["pattern"] = (
        f"^(?:/(?!/)|{_any_case('http')}[Ss]?://[^/?#]+(?:[/?#]|$))"
    )
    if "WindowConfig" not in defs:
        return  # a capability file's schema
    # A page of the frontend by its path: no scheme, nothing that climbs out of it.
    defs["WindowConfig"]["properties"]["url"]["pattern"] = (
        r"^(?![A-Za-z][A-Za-z0-9+.\-]*:|//)(?!(?:[^?#]*/)?\.\.(?:[/?#]|$))[^\\?#]*(?:[?#].*)?$"
    )
    dev_url = defs["BuildConfig"]["properties"]["devUrl"]
    next(o for o in dev_url["anyOf"] if o.get("type") == "string")["pattern"] = (
        f"^{_any_case('http')}[Ss]?://[^/?#]+/?$"
    )
    headers = defs["SecurityConfig"]["properties"]["headers"]
    own = "|".join(_any_case(name) for name in sorted(OWN_HEADERS))
    headers["propertyNames"] = {"pattern": f"^(?!(?:{own})$){HEADER_NAME_PATTERN[1:]}"}
    printable = {"pattern": r"^[\t -~]*$"}  # (header values and a policy's text)
    headers["additionalProperties"].update(printable)
    for option in defs["SecurityConfig"]["properties"]["csp"]["anyOf"]:
        if option.get("type") == "string":
            option.update(printable)
        elif option.get("type") == "object":
            option["propertyNames"] = printable
            for value in option["additionalProperties"]["anyOf"]:
                (value.get("items") or value).update(printable)
    # Under the isolation pattern, a sealed message needs room besides its content.
    defs["AppSection"]["if"] = {
        "properties": {"security": {
            "properties": {"pattern": {"properties": {"use": {"const": "isolation"}},
                                       "required": ["use"]}},
            "required": ["pattern"],
        }},
        "required": ["security"],
    }
    defs["AppSection"]["then"] = {"properties": {"ipc": {"properties": {
        "maxMessageBytes": {"minimum": ISOLATION_MIN_MESSAGE_BYTES}}}}}


def _patch_capability(
    capability: JsonSchema, defs: JsonSchema, prefix: str, labels: list[str]
) -> None:
    """Point the permission fields of a capability schema at the identifier enum."""
    ref = {"$ref": f"{prefix}PermissionIdentifier"}
    capability["properties"]["permissions"]["items"] = {
        "anyOf": [ref, {"$ref": f"{prefix}PermissionEntry"}]
    }
    entry = defs["PermissionEntry"]["properties"]
    entry["identifier"] = {**ref, "description": entry["identifier"].get("description", "")}
    for kind in ("allow", "deny"):
        entry[kind]["items"] = {"$ref": f"{prefix}ScopeEntry"}
    if labels:
        capability["properties"]["windows"]["items"]["examples"] = labels


def capability_schema(
    catalogue: Catalogue, labels: list[str] | None = None, complete: bool = True
) -> JsonSchema:
    """The schema of a ``capabilities/<identifier>.json`` file (``complete``: ``catalogue``
    holds every identifier of the app, to be listed)."""
    schema = Capability.model_json_schema(by_alias=True, schema_generator=_Generator)
    defs = schema.setdefault("$defs", {})
    defs["PermissionIdentifier"] = _identifier(catalogue, complete)
    defs["ScopeEntry"] = SCOPE_ENTRY
    _patch_capability(schema, defs, "#/$defs/", labels or [])
    _loader_rules(defs)
    return {
        "$schema": DRAFT,
        "title": "Capability",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def config_schema(
    catalogue: Catalogue, labels: list[str] | None = None, complete: bool = True
) -> JsonSchema:
    """The schema of ``app.conf.json`` (``complete``: as for ``capability_schema``)."""
    schema = AppConfig.model_json_schema(by_alias=True, schema_generator=_Generator)
    defs = schema["$defs"]
    defs["PermissionIdentifier"] = _identifier(catalogue, complete)
    defs["ScopeEntry"] = SCOPE_ENTRY
    _patch_capability(defs["Capability"], defs, "#/$defs/", labels or [])
    _loader_rules(defs)
    defs["PermissionSet"]["properties"]["permissions"]["items"] = {
        "$ref": "#/$defs/PermissionIdentifier"
    }
    capabilities = defs["SecurityConfig"]["properties"]["capabilities"]
    capabilities["description"] = (
        "Capabilities: objects, or names of files capabilities/<name>.json beside this file. "
        "Leave it out to use every file in capabilities/."
    )
    listed = next(option for option in capabilities["anyOf"] if option.get("type") == "array")
    listed["items"] = {
        "anyOf": [
            {
                "type": "string",
                "pattern": IDENTIFIER_PATTERN,
                "description": "The identifier of a capability file capabilities/<name>.json.",
            },
            {"$ref": "#/$defs/Capability"},
        ]
    }
    return {
        "$schema": DRAFT,
        "title": "app.conf.json",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _text(schema: JsonSchema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def render(app: App | None) -> dict[str, str]:
    """File name -> content of each schema for ``app``; with no app (its config did not load),
    schemas that name no permission of the app's own but take any."""
    if app is None:
        catalogue, labels = Catalogue([]), []
    else:
        catalogue = catalogue_of(app)
        labels = [w.label for w in app.config.model.app.windows]
    complete = app is not None
    return {
        CONFIG_SCHEMA: _text(config_schema(catalogue, labels, complete)),
        CAPABILITY_SCHEMA: _text(capability_schema(catalogue, labels, complete)),
    }


def write_schemas(app: App | None, folder: Path, keep: bool = False) -> list[Path]:
    """Write both schemas (see ``render``) into ``folder`` (created if needed; ``keep``: not
    over files already there); return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(app).items():
        path = folder / name
        if keep and path.exists():
            continue
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
