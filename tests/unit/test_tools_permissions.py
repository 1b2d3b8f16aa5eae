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
