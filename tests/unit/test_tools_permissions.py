"""``python -m app permissions``: each command, who may call it from where, and why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.core.cli import main
from tests.conftest import ROOT


@pytest.fixture
def report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    (tmp_path / "frontend").mkdir()
    shutil.copytree(ROOT / "capabilities", tmp_path / "capabilities")
    config = {
        "app": {
            "windows": [{"label": "main"}, {"label": "settings"}],
            "security": {
                "permissionSets": [{"identifier": "items:all",
                                    "permissions": ["allow-list-items", "allow-delete-item"]}],
                "capabilities": [
                    {"identifier": "main-window", "windows": ["main"],
                     "permissions": ["allow-greet", "items:all", "core:event:allow-listen",
                                     {"identifier": "allow-read-file",
                                      "allow": [{"path": "$APP/frontend/**"}],
                                      "deny": [{"path": "$APP/frontend/secret/**"}]}]},
                    {"identifier": "widgets", "windows": ["main"], "local": False,
                     "remote": {"urls": ["/widgets/**"]},
                     "permissions": ["allow-greet", "deny-delete-item", "allow-delete-item"]},
                    {"identifier": "tools", "windows": ["tool-*", "about"],
                     "permissions": ["allow-list-items"], "platforms": ["linux", "windows"]},
                    "settings-window",
                ],
            },
        }
    }
    (tmp_path / "app.conf.json").write_text(json.dumps(config))
    assert main(["permissions", "--config", str(tmp_path / "app.conf.json")]) == 0
    return capsys.readouterr().out


def section(report: str, title: str) -> list[str]:
    lines = report.splitlines()
    start = lines.index(title)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")),
               len(lines))
    return lines[start:end]


def test_each_command_lists_its_signature_and_who_may_call_it(report: str) -> None:
    assert section(report, "greet(name: str) -> str") == [
        "greet(name: str) -> str",
        "  Say hello.",
        "  allowed  window 'main', local frontend: by capability 'main-window' "
        "(app.conf.json $.app.security.capabilities[0].permissions[0])",
        "  allowed  window 'main', /widgets/**: by capability 'widgets' "
        "(app.conf.json $.app.security.capabilities[1].permissions[0])",
        "  allowed  window 'settings', local frontend: by capability 'settings-window' "
        "(capabilities/settings-window.json $.permissions[0])",
    ]


def test_denials_sets_scopes_and_platforms_are_explained(report: str) -> None:
    delete = section(report, "delete_item(id: int) -> dict[str, Any]")
    assert delete[1] == (
        "  allowed  window 'main', local frontend: by capability 'main-window' through "
        "'items:all' (app.conf.json $.app.security.capabilities[0].permissions[1])"
    )
    assert delete[2] == (
        "  denied   window 'main', /widgets/**: deny-delete-item in capability 'widgets' "
        "(app.conf.json $.app.security.capabilities[1].permissions[1])"
    )
    read = section(report, "read_file(path: str) -> str")
    assert read[-1] == "           scope: allow $APP/frontend/**; deny $APP/frontend/secret/**"
    items = section(report, "list_items() -> list[dict[str, Any]]")
    assert (
        "  allowed  windows 'tool-*', local frontend: by capability 'tools' "
        "(app.conf.json $.app.security.capabilities[2].permissions[0], only on linux, windows)"
    ) in items
    # A label that no configured window has is one window all the same (opened later).
    assert (
        "  allowed  window 'about', local frontend: by capability 'tools' "
        "(app.conf.json $.app.security.capabilities[2].permissions[0], only on linux, windows)"
    ) in items


def test_commands_nobody_may_call_say_so(report: str) -> None:
    assert section(report, "crash() -> None")[-1] == (
        '  no window may use it: no capability grants "allow-crash"'
    )


def test_event_permissions_are_listed(report: str) -> None:
    events = report.split("\nEvents\n")[1]
    assert events.startswith("  core:event:allow-listen (listen)\n    allowed  window 'main'")
    emit_to = events.split("core:event:allow-emit-to (emit to)\n")[1].splitlines()
    assert emit_to[0].startswith("    allowed  window 'settings', local frontend: by capability "
                                 "'settings-window' through 'core:event:default'")


def _frame_capability(identifier: str, urls: list[str], permission: str) -> dict:
    """A capability of window main's sub-frames at ``urls``."""
    return {"identifier": identifier, "windows": ["main"], "local": False,
            "remote": {"urls": urls}, "permissions": [permission]}


def _greet_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str], capabilities: list) -> list:
    """The report's greet section for a config of window main and ``capabilities``."""
    (tmp_path / "frontend").mkdir()
    config = {"app": {"windows": [{"label": "main"}],
                      "security": {"capabilities": capabilities}}}
    (tmp_path / "app.conf.json").write_text(json.dumps(config))
    assert main(["permissions", "--config", str(tmp_path / "app.conf.json")]) == 0
    return section(capsys.readouterr().out, "greet(name: str) -> str")


def test_the_verdicts_are_the_runtimes_where_rules_overlap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rules were matched by their text: a deny for /** did not reach the row of /widgets/**,
    a deny for windows 's*' not the row of window 'settings', and a deny of another platform
    hid the allow that holds on this one. Each is checked against the runtime's own answer."""
    greet = _greet_rows(tmp_path, capsys, [
        _frame_capability("widgets", ["/widgets/**"], "allow-greet"),
        _frame_capability("no-frames", ["/**"], "deny-greet"),
        {"identifier": "settings", "windows": ["settings"], "permissions": ["allow-greet"]},
        {"identifier": "s-windows", "windows": ["s*"], "permissions": ["deny-greet"]},
        {"identifier": "main", "windows": ["main"], "permissions": ["allow-greet"]},
        {"identifier": "mac", "windows": ["main"], "platforms": ["macOS"],
         "permissions": ["deny-greet"]},
    ])
    rows = {line.split(":", 1)[0].split(None, 1)[1]: line.split()[0] for line in greet[2:]
            if line.startswith("  ") and not line.startswith("   ")}

    from app.core import load_config
    from app.core.acl.authority import Authority
    from app.core.acl.origin import Caller, Origin
    from app.core.errors import Forbidden

    authority = Authority(load_config(tmp_path / "app.conf.json").capabilities, platform="linux")
    for row, caller in [
        ("window 'main', /widgets/**", Caller("main", Origin("subframe",
                                                             "http://127.0.0.1:5/widgets/w"))),
        ("window 'settings', local frontend", Caller("settings", Origin("local", "http://x"))),
    ]:
        with pytest.raises(Forbidden):
            authority.authorize(caller, "invoke", "greet")
        assert rows[row] == "denied", greet
    # On this platform (not macOS), main's own pages may greet; the report says both.
    authority.authorize(Caller("main", Origin("local", "http://x")), "invoke", "greet")
    assert "  denied   window 'main', local frontend: deny-greet in capability 'mac' " \
        "(app.conf.json $.app.security.capabilities[5].permissions[0], only on macOS)" in greet
    assert "  allowed  window 'main', local frontend (on the other platforms): by capability " \
        "'main' (app.conf.json $.app.security.capabilities[4].permissions[0])" in greet


def test_a_deny_of_some_of_a_rows_pages_does_not_hide_its_allow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row is judged by a page it names: /widgets/** by one two folders deep, so that a
    deny for /widgets/* (one level) does not make the whole row denied."""
    greet = _greet_rows(tmp_path, capsys, [
        _frame_capability("widgets", ["/widgets/**"], "allow-greet"),
        _frame_capability("flat", ["/widgets/*"], "deny-greet"),
        {"identifier": "main", "windows": ["main"], "permissions": ["allow-greet"]},
    ])
    assert any(line.startswith("  allowed  window 'main', /widgets/**: by capability "
                               "'widgets'") for line in greet), greet
    assert any(line.startswith("  denied   window 'main', /widgets/*: deny-greet")
               for line in greet), greet
