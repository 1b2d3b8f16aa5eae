"""``python -m app schema``: JSON Schemas of ``app.conf.json`` and of capability files.

The schemas come from the pydantic models, with the app's permission identifiers (its
commands', the core's and its permission sets') as an enum, so that an editor completes them
and flags a misspelt one. Regenerate them after adding a command or a permission set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from ..acl.glob import VARIABLES
from ..acl.model import IDENTIFIER_PATTERN, Capability
from ..acl.permissions import Catalogue
from ..app import App
from ..config import AppConfig
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


def _identifier(catalogue: Catalogue) -> JsonSchema:
    entries = list(catalogue.entries.values())
    return {
        "type": "string",
        "description": "A permission identifier: allow-/deny- and a command, core:event:*, "
        "or a permission set.",
        "enum": [p.identifier for p in entries],
        # Editors that know this keyword (VS Code) show each identifier's description.
        "enumDescriptions": [p.description for p in entries],
    }


SCOPE_ENTRY: JsonSchema = {
    "type": "object",
    "description": "A scope entry. Commands that take a Scope read path entries; others may "
    "define entries of their own.",
    "properties": {
        "path": {
            "type": "string",
            "description": "A path glob starting with " + ", ".join(VARIABLES) + " or '/'. '*' "
            "stays within a folder, '**' spans any folders.",
        }
    },
    "additionalProperties": True,
}


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


def capability_schema(catalogue: Catalogue, labels: list[str] | None = None) -> JsonSchema:
    """The schema of a ``capabilities/<identifier>.json`` file."""
    schema = Capability.model_json_schema(by_alias=True, schema_generator=_Generator)
    defs = schema.setdefault("$defs", {})
    defs["PermissionIdentifier"] = _identifier(catalogue)
    defs["ScopeEntry"] = SCOPE_ENTRY
    _patch_capability(schema, defs, "#/$defs/", labels or [])
    return {
        "$schema": DRAFT,
        "title": "Capability",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def config_schema(catalogue: Catalogue, labels: list[str] | None = None) -> JsonSchema:
    """The schema of ``app.conf.json``."""
    schema = AppConfig.model_json_schema(by_alias=True, schema_generator=_Generator)
    defs = schema["$defs"]
    defs["PermissionIdentifier"] = _identifier(catalogue)
    defs["ScopeEntry"] = SCOPE_ENTRY
    _patch_capability(defs["Capability"], defs, "#/$defs/", labels or [])
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


def render(app: App) -> dict[str, str]:
    """File name -> content of each schema for ``app``."""
    catalogue = catalogue_of(app)
    labels = [w.label for w in app.config.model.app.windows]
    return {
        CONFIG_SCHEMA: _text(config_schema(catalogue, labels)),
        CAPABILITY_SCHEMA: _text(capability_schema(catalogue, labels)),
    }


def write_schemas(app: App, folder: Path) -> list[Path]:
    """Write both schemas into ``folder`` (created if needed); return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(app).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
