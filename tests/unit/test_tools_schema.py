"""``python -m app schema``: schemas that editors complete from, and that the shipped files pass."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.core.cli import main
from app.core.tools.schema import render
from app.demo import create_app
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("schemas")
    assert main(["schema", "--config", str(ROOT / "app.conf.json"), "--out", str(out)]) == 0
    return {p.name: json.loads(p.read_text()) for p in out.iterdir()}


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_both_schemas_are_written(schemas: dict[str, dict[str, Any]]) -> None:
    assert sorted(schemas) == ["app.conf.schema.json", "capability.schema.json"]
    for schema in schemas.values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_every_shipped_config_and_capability_file_validates(
    schemas: dict[str, dict[str, Any]],
) -> None:
    config = json.loads((ROOT / "app.conf.json").read_text())
    assert config["$schema"] == "./schemas/app.conf.schema.json"
    validator(schemas["app.conf.schema.json"]).validate(config)
    files = sorted((ROOT / "capabilities").glob("*.json"))
    assert files, "the demo ships capability files"
    for file in files:
        data = json.loads(file.read_text())
        assert data["$schema"] == "../schemas/capability.schema.json"
        validator(schemas["capability.schema.json"]).validate(data)


def test_permission_identifiers_are_an_enum_of_what_the_app_registers(
    schemas: dict[str, dict[str, Any]],
) -> None:
    commands = create_app(ROOT / "app.conf.json").registry.names()
    for schema in schemas.values():
        enum = schema["$defs"]["PermissionIdentifier"]["enum"]
        for name in commands:
            hyphens = name.replace("_", "-")
            assert f"allow-{hyphens}" in enum and f"deny-{hyphens}" in enum
        assert {"core:event:default", "core:event:allow-listen", "core:event:allow-emit",
                "core:event:allow-emit-to"} <= set(enum)
        descriptions = schema["$defs"]["PermissionIdentifier"]["enumDescriptions"]
        assert descriptions[enum.index("allow-greet")] == "Allows the command greet. Say hello."


@pytest.mark.parametrize(
    ("capability", "valid"),
    [
        ({"identifier": "x", "windows": ["main"], "permissions": ["allow-greet"]}, True),
        ({"identifier": "x", "permissions": [{"identifier": "allow-read-file",
                                               "allow": [{"path": "$APP/**"}]}]}, True),
        ({"identifier": "x", "permissions": ["allow-gret"]}, False),
        ({"identifier": "x", "permissions": [{"identifier": "allow-gret"}]}, False),
        ({"identifier": "x", "permissions": [{"identifier": "allow-read-file",
                                               "allow": [{"path": 3}]}]}, False),
        ({"identifier": "x", "platforms": ["beos"]}, False),
        ({"identifier": "x", "windws": ["main"]}, False),
    ],
)
def test_the_capability_schema_flags_what_the_app_would_not_accept(
    schemas: dict[str, dict[str, Any]], capability: dict[str, Any], valid: bool
) -> None:
    as_file = validator(schemas["capability.schema.json"])
    assert as_file.is_valid(capability) is valid
    config = {"app": {"security": {"capabilities": [capability, "settings-window"]}}}
    assert validator(schemas["app.conf.schema.json"]).is_valid(config) is valid


def test_permission_sets_of_the_config_join_the_enum(tmp_path: Path) -> None:
    config = json.loads((ROOT / "app.conf.json").read_text())
    config["app"]["security"]["permissionSets"] = [
        {"identifier": "files:default", "description": "Reading files.",
         "permissions": ["allow-read-file"]}
    ]
    (tmp_path / "frontend").mkdir()
    shutil.copytree(ROOT / "capabilities", tmp_path / "capabilities")
    shutil.copytree(ROOT / "dist-isolation", tmp_path / "dist-isolation")
    path = tmp_path / "app.conf.json"
    path.write_text(json.dumps(config))
    text = render(create_app(path))["capability.schema.json"]
    identifier = json.loads(text)["$defs"]["PermissionIdentifier"]
    assert "files:default" in identifier["enum"]
    at = identifier["enum"].index("files:default")
    assert identifier["enumDescriptions"][at] == "Reading files: allow-read-file."


def test_the_committed_schemas_are_up_to_date() -> None:
    fresh = render(create_app(ROOT / "app.conf.json"))
    for name, text in fresh.items():
        committed = ROOT / "schemas" / name
        assert committed.read_text() == text, f"run 'python -m app schema' to refresh {name}"


def test_the_schema_wants_a_window_as_the_loader_does(schemas: dict[str, dict[str, Any]]) -> None:
    errors = list(validator(schemas["app.conf.schema.json"]).iter_errors({"app": {"windows": []}}))
    assert [list(e.absolute_path) for e in errors] == [["app", "windows"]]


def _capability_with(entry: dict[str, Any]) -> dict[str, Any]:
    return {"identifier": "extra", "windows": ["main"], "permissions": [entry]}


def _read_file(path: Any) -> dict[str, Any]:
    return _capability_with({"identifier": "allow-read-file", "allow": [{"path": path}]})


# What the loader refuses beyond types and keys, as configs: each is refused by the schema too.
REFUSED_BY_BOTH: list[tuple[str, dict[str, Any]]] = [
    ("scope path not absolute", {"app": {"security": {"capabilities": [
        _read_file("frontend/**")]}}}),
    ("scope path, unknown variable", {"app": {"security": {"capabilities": [
        _read_file("$FOO/**")]}}}),
    ("scope path, variable later on", {"app": {"security": {"capabilities": [
        _read_file("/$APP/x/**")]}}}),
    ("allow entries on a deny-", {"app": {"security": {"capabilities": [_capability_with(
        {"identifier": "deny-echo", "allow": [{"path": "$APP/**"}]})]}}}),
    ("a header the core sets", {"app": {"security": {"headers": {"content-type": "x"}}}}),
    ("a header that is no token", {"app": {"security": {"headers": {"a b": "x"}}}}),
    ("a header value on two lines", {"app": {"security": {"headers": {"X-A": "a\nb"}}}}),
    ("devUrl not a URL", {"build": {"devUrl": "not a url"}}),
    ("devUrl with a path", {"build": {"devUrl": "http://localhost:5173/app/"}}),
    ("window url elsewhere", {"app": {"windows": [{"url": "http://evil.com/"}]}}),
    ("window url climbing out", {"app": {"windows": [{"url": "../app.conf.json"}]}}),
    ("remote url of another scheme", {"app": {"security": {"capabilities": [
        {"identifier": "extra", "remote": {"urls": ["ftp://x"]}}]}}}),
    ("remote url with no scheme", {"app": {"security": {"capabilities": [
        {"identifier": "extra", "remote": {"urls": ["//cdn.example.com/**"]}}]}}}),
    ("a policy with a control character", {"app": {"security": {"csp": "img-src 'self'\x01"}}}),
    ("a directive with a no-break space", {"app": {"security": {"csp": {
        "img-src": ["'self'\u00a0data:"]}}}}),
    ("isolation with too small messages", {"app": {
        "security": {"pattern": {"use": "isolation", "options": {"dir": "dist-isolation"}}},
        "ipc": {"maxMessageBytes": 2000}}}),
]


@pytest.mark.parametrize(("what", "config"), REFUSED_BY_BOTH, ids=[w for w, _ in REFUSED_BY_BOTH])
def test_the_schema_refuses_what_the_loader_refuses(
    schemas: dict[str, dict[str, Any]], write_config, what: str, config: dict[str, Any]
) -> None:
    from app.core import ConfigError, load_config

    path = write_config(config)
    (path.parent / "dist-isolation").mkdir(exist_ok=True)  # refused for its values alone
    (path.parent / "dist-isolation" / "index.html").write_text("<html></html>")
    with pytest.raises(ConfigError):
        load_config(path)
    assert not validator(schemas["app.conf.schema.json"]).is_valid(config), what
    for capability in config.get("app", {}).get("security", {}).get("capabilities", []):
        assert not validator(schemas["capability.schema.json"]).is_valid(capability), what


@pytest.mark.parametrize(
    "config",
    [
        {"app": {"security": {"capabilities": [_read_file("$APP/data/**")]}}},
        {"app": {"security": {"capabilities": [_read_file("/srv/data/*.txt")]}}},
        {"app": {"security": {"capabilities": [_capability_with(
            {"identifier": "deny-read-file", "deny": [{"path": "$HOME/**"}]})]}}},
        {"app": {"security": {"headers": {"X-Frame-Options": "DENY"}}}},
        {"build": {"devUrl": "http://localhost:5173"}},
        {"app": {"windows": [{"url": "pages/settings.html?tab=2#top"}]}},
        {"app": {"security": {"capabilities": [{"identifier": "extra", "remote": {
            "urls": ["https://*.example.com/docs/**", "/widgets/**"]}}]}}},
        {"app": {"security": {"capabilities": [{"identifier": "extra", "remote": {
            "urls": ["HTTPS://docs.example.com/**"]}}]}}},
        {"build": {"devUrl": "HTTPS://localhost:5173"}},
        {"app": {"security": {"csp": {"img-src": ["'self'", "data:"], "default-src": "'self'"}}}},
    ],
)
def test_what_the_loader_takes_the_schema_takes(
    schemas: dict[str, dict[str, Any]], write_config, config: dict[str, Any]
) -> None:
    from app.core import load_config

    load_config(write_config(config))
    validator(schemas["app.conf.schema.json"]).validate(config)


def test_a_config_that_does_not_load_still_gets_schemas_to_fix_it_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "app.conf.json"
    config.write_text(json.dumps({"identifier": 5, "app": {"windows": []}}))
    assert main(["schema", "--config", str(config)]) == 2  # the config does not load
    err = capsys.readouterr().err
    assert "$.identifier: Input should be a valid string" in err
    assert "the schemas written now list no permission of the app's commands" in err
    written = {p.name: json.loads(p.read_text()) for p in (tmp_path / "schemas").iterdir()}
    assert sorted(written) == ["app.conf.schema.json", "capability.schema.json"]
    # Any permission identifier passes (the app's commands are not known), a malformed one
    # does not, and the rest of the config is checked as ever.
    check = validator(written["capability.schema.json"])
    assert not list(check.iter_errors({"identifier": "c", "permissions": ["allow-anything"]}))
    assert list(check.iter_errors({"identifier": "c", "permissions": ["allow anything"]}))
    assert list(check.iter_errors({"identifier": "c", "permissions": [], "local": "yes"}))
    # The app's own schemas beside the config are not replaced by these (a typo in the
    # config would lose their list of its permissions); into a folder asked for, they are.
    (tmp_path / "schemas" / "capability.schema.json").write_text("{}")
    capsys.readouterr()
    assert main(["schema", "--config", str(config)]) == 2
    assert (tmp_path / "schemas" / "capability.schema.json").read_text() == "{}"
    # (It said the schemas "written now" list no permission, and wrote none.)
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"note: the config did not load (see above): the schemas in {tmp_path / 'schemas'} "
        "are kept as they were; run schema again once it loads"
    )
    assert main(["schema", "--config", str(config), "--out", str(tmp_path / "schemas")]) == 2
    assert (tmp_path / "schemas" / "capability.schema.json").read_text() != "{}"
    # With no config file at all, only into the folder asked for (a mistyped path made its
    # folders).
    missing = tmp_path / "no" / "such" / "app.conf.json"
    capsys.readouterr()
    assert main(["schema", "--config", str(missing)]) == 2
    assert "no schemas written: there is no config at" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()
    assert main(["schema", "--config", str(missing), "--out", str(tmp_path / "out")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(written)
    # Every other command stops at such a config.
    assert main(["check", "--config", str(config)]) == 2
