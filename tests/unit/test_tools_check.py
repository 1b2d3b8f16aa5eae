"""``python -m app check``: every kind of problem, reported with its file and JSON path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.core.cli import main
from app.demo import create_app
from tests.conftest import ROOT

DEMO_COMMANDS = create_app(ROOT / "app.conf.json").registry.names()
Mutation = Callable[[dict[str, Any], Path], None]


def clean_config() -> dict[str, Any]:
    """The demo with windows main and settings, every command granted, nothing unused."""
    grants: list[Any] = [f"allow-{name.replace('_', '-')}" for name in DEMO_COMMANDS]
    grants[grants.index("allow-read-file")] = {
        "identifier": "allow-read-file",
        "allow": [{"path": "$APP/frontend/**"}],
        "deny": [{"path": "$APP/frontend/secret/**"}],
    }
    return {
        "identifier": "com.example.check",
        "app": {
            "windows": [{"label": "main"}, {"label": "settings"}],
            "security": {
                "capabilities": [
                    {"identifier": "main-window", "windows": ["main"],
                     "permissions": [*grants, "core:event:default"]},
                    "settings-window",
                ],
            },
        },
    }


def write(folder: Path, config: dict[str, Any]) -> Path:
    (folder / "frontend").mkdir(exist_ok=True)
    (folder / "frontend" / "index.html").write_text("<!doctype html><title>t</title>")
    if not (folder / "capabilities").exists():
        shutil.copytree(ROOT / "capabilities", folder / "capabilities")
    path = folder / "app.conf.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def run_check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = main(["check", "--config", str(config)])
    return status, capsys.readouterr().out.splitlines()


def test_a_clean_config_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = run_check(write(tmp_path, clean_config()), capsys)
    assert status == 0, lines
    assert lines == [
        f"{tmp_path / 'app.conf.json'}: no problems (2 capabilities in app.conf.json, "
        f"capabilities/settings-window.json; {len(DEMO_COMMANDS)} commands; 2 windows)."
    ]


def test_the_summary_counts_one_of_a_kind_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = clean_config()
    config["app"]["windows"] = config["app"]["windows"][:1]
    config["app"]["security"]["capabilities"] = config["app"]["security"]["capabilities"][:1]
    status, lines = run_check(write(tmp_path, config), capsys)
    assert status == 0, lines
    assert lines[-1].startswith(
        f"{tmp_path / 'app.conf.json'}: no problems (1 capability in app.conf.json; "
    )
    assert " commands; 1 window)" in lines[-1]


def _capability(config: dict[str, Any]) -> dict[str, Any]:
    return config["app"]["security"]["capabilities"][0]  # type: ignore[no-any-return]


def _grant(config: dict[str, Any], permission: Any) -> None:
    _capability(config)["permissions"].append(permission)


def _replace_settings_file(folder: Path, **changes: Any) -> None:
    path = folder / "capabilities" / "settings-window.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, **changes}))


def _without_scope(config: dict[str, Any], command: str) -> None:
    """Grant ``command`` by its plain permission name, with no scope entries."""
    permissions = _capability(config)["permissions"]
    i = DEMO_COMMANDS.index(command)
    permissions[i] = permissions[i]["identifier"]


def _isolation_app(config: dict[str, Any], folder: Path, html: str) -> None:
    """The isolation pattern, with an isolation app whose index.html is ``html``."""
    (folder / "iso").mkdir()
    (folder / "iso" / "index.html").write_text(html)
    (folder / "iso" / "hook.js").write_text("window.__ISOLATION_HOOK__ = (p) => p;")
    config["app"]["security"]["pattern"] = {"use": "isolation", "options": {"dir": "iso"}}


N = len(DEMO_COMMANDS) + 1  # index of the first permission a mutation appends
CAP0 = "$.app.security.capabilities[0]"

# (case, mutation, file, JSON path, part of the message)
PROBLEMS: list[tuple[str, Mutation, str, str, str]] = [
    ("misspelt command permission",
     lambda c, d: _grant(c, "allow-gret"), "app.conf.json", f"{CAP0}.permissions[{N}]",
     "no command of that name is registered; did you mean 'allow-greet'?"),
    ("unknown permission",
     lambda c, d: _grant(c, "core:event:allow-lisen"), "app.conf.json",
     f"{CAP0}.permissions[{N}]",
     "unknown permission 'core:event:allow-lisen'; did you mean 'core:event:allow-listen'?"),
    ("a command's own name for its permission (the closest by spelling is its deny)",
     lambda c, d: _grant(c, "process_data"), "app.conf.json", f"{CAP0}.permissions[{N}]",
     "unknown permission 'process_data'; did you mean 'allow-process-data'?"),
    ("unknown permission in an object",
     lambda c, d: _grant(c, {"identifier": "files:everything"}), "app.conf.json",
     f"{CAP0}.permissions[{N}].identifier", "unknown permission 'files:everything'"),
    ("grant of a command that does not exist",
     lambda c, d: _grant(c, "deny-launch-rockets"), "app.conf.json", f"{CAP0}.permissions[{N}]",
     "about the command 'launch_rockets', but no command of that name is registered"),
    ("capability for no window",
     lambda c, d: c["app"]["security"]["capabilities"].append(
         {"identifier": "nobody", "permissions": ["allow-greet"]}),
     "app.conf.json", "$.app.security.capabilities[2].windows", "lists no window"),
    ("scope entries nothing reads",
     lambda c, d: _grant(c, {"identifier": "allow-greet", "allow": [{"path": "/srv/**"}]}),
     "app.conf.json", f"{CAP0}.permissions[{N}]", "greet takes no Scope parameter"),
    ("scope entries on event permissions",
     lambda c, d: _grant(c, {"identifier": "core:event:default", "allow": [{"path": "/x"}]}),
     "app.conf.json", f"{CAP0}.permissions[{N}]", "event permissions take no scope entries"),
    ("problem inside a capability file",
     lambda c, d: _replace_settings_file(d, permissions=["allow-greet", "allow-raed-config"]),
     "capabilities/settings-window.json", "$.permissions[1]", "did you mean 'allow-read-config'?"),
    ("unknown member of a permission set",
     lambda c, d: c["app"]["security"].update(
         permissionSets=[{"identifier": "files:default", "permissions": ["allow-read-fil"]}]),
     "app.conf.json", "$.app.security.permissionSets[0].permissions[0]",
     "did you mean 'allow-read-file'?"),
    ("permission set that includes itself",
     lambda c, d: c["app"]["security"].update(permissionSets=[
         {"identifier": "app:a", "permissions": ["app:b"]},
         {"identifier": "app:b", "permissions": ["app:a", "allow-greet"]}]),
     "app.conf.json", "$.app.security.permissionSets[0]",
     "includes itself (app:a -> app:b -> app:a)"),
    ("misspelt key of a scope entry (the deny would limit nothing)",
     lambda c, d: _grant(c, {"identifier": "deny-read-file",
                             "deny": [{"paht": "$APP/frontend/secret/**"}]}),
     "app.conf.json", f"{CAP0}.permissions[{N}].deny[0]",
     "'paht' is not a key the core reads; did you mean 'path'?"),
    ("capability for no platform",
     lambda c, d: _capability(c).update(platforms=[]), "app.conf.json",
     f"{CAP0}.platforms", "lists no platform, so the capability applies on none"),
    ("isolation app with a module script",
     lambda c, d: _isolation_app(c, d, '<script type="module" src="hook.js"></script>'),
     "app.conf.json", "$.app.security.pattern.options.dir",
     "has a module script; ES modules do not run in the isolation frame"),
    ("isolation app loading a script from outside its folder",
     lambda c, d: _isolation_app(c, d, '<script src="../frontend/app.js"></script>'),
     "app.conf.json", "$.app.security.pattern.options.dir",
     "loads the script '../frontend/app.js', which is not a file in"),
    ("window page missing from the frontend",
     lambda c, d: c["app"]["windows"][1].update(url="missing.html?tab=1"), "app.conf.json",
     "$.app.windows[1].url", "window 'settings' would open a page that is not there: "),
]

# Values that cannot be used as written stop the config from loading, as any invalid value
# does: exit status 2, a line each (the file, its JSON path and what is wrong).
UNUSABLE: list[tuple[str, Mutation, str, str, str]] = [
    ("invalid window glob",
     lambda c, d: _capability(c)["windows"].append("[main"), "app.conf.json",
     f"{CAP0}.windows[1]", "opens a character set that no ']' closes"),
    ("invalid URL pattern",
     lambda c, d: _capability(c).update(remote={"urls": ["https://ok.example.com", "ftp://x"]}),
     "app.conf.json", f"{CAP0}.remote.urls[1]", "use http:// or https://"),
    ("invalid host wildcard",
     lambda c, d: _capability(c).update(remote={"urls": ["https://exa*mple.com"]}),
     "app.conf.json", f"{CAP0}.remote.urls[0]", "a host may only be '*'"),
    ("invalid scope glob",
     lambda c, d: _grant(c, {"identifier": "deny-read-file", "deny": [{"path": "$APP/**key"}]}),
     "app.conf.json", f"{CAP0}.permissions[{N}].deny[0].path",
     "invalid path pattern: '**' must be a whole path segment"),
    ("unknown scope variable",
     lambda c, d: _grant(c, {"identifier": "allow-read-file",
                             "allow": [{"path": "$APPDIR/data/**"}]}),
     "app.conf.json", f"{CAP0}.permissions[{N}].allow[0].path", "unknown variable $APPDIR"),
    ("allow entries on a deny permission",
     lambda c, d: _grant(c, {"identifier": "deny-read-file", "allow": [{"path": "/srv/**"}]}),
     "app.conf.json", f"{CAP0}.permissions[{N}].allow", "takes only \"deny\" entries"),
    ("scope path that is not a string",
     lambda c, d: _grant(c, {"identifier": "deny-read-file", "deny": [{"path": 5}]}),
     "app.conf.json", f"{CAP0}.permissions[{N}].deny[0].path", "must be a string"),
    ("empty window glob",
     lambda c, d: _capability(c)["windows"].append(""), "app.conf.json",
     f"{CAP0}.windows[1]", "a window glob may not be empty"),
    ("unusable value inside a capability file",
     lambda c, d: _replace_settings_file(d, windows=["set[tings"]),
     "app.conf.json", "capabilities/settings-window.json: $.windows[0]",
     "opens a character set"),
]


# Valid, so the exit status stays 0, but probably not meant: reported as notes.
NOTES: list[tuple[str, Mutation, str, str, str]] = [
    ("one capability allowing and denying a command",
     lambda c, d: _grant(c, "deny-greet"), "app.conf.json", f"{CAP0}.permissions[{N}]",
     "'deny-greet' denies what 'allow-greet' allows in the same capability: the deny wins, so "
     "the command 'greet' is denied wherever this capability applies; remove one"),
    ("isolation app whose scripts name no hook (misspelt)",
     lambda c, d: (_isolation_app(c, d, '<script src="hook.js"></script>'),
                   (d / "iso" / "hook.js").write_text("window.__ISOLATON_HOOK__ = (p) => p;")),
     "app.conf.json", "$.app.security.pattern.options.dir",
     "names window.__ISOLATION_HOOK__ (or __TAURI_ISOLATION_HOOK__): with no hook"),
    ("command granted by no capability",
     lambda c, d: _capability(c)["permissions"].remove("allow-crash"), "app.conf.json",
     "$.app.security.capabilities", "command 'crash' (app/demo.py:"),
    ("window covered by no capability",
     lambda c, d: c["app"]["windows"].append({"label": "about"}), "app.conf.json",
     "$.app.windows[2]", "window 'about' is covered by no capability"),
    ("window covered only for remote pages",
     lambda c, d: (c["app"]["windows"].append({"label": "help"}),
                   c["app"]["security"]["capabilities"].append(
                       {"identifier": "help", "windows": ["help"], "local": False,
                        "remote": {"urls": ["https://example.com/**"]},
                        "permissions": ["allow-greet"]})),
     "app.conf.json", "$.app.windows[2]", "covered only for remote pages (by 'help')"),
    ("window label that names no window",
     lambda c, d: _capability(c)["windows"].append("mian"), "app.conf.json",
     f"{CAP0}.windows[1]", "no configured window is labelled 'mian'; did you mean 'main'?"),
    ("command that takes a Scope granted with no allow entries",
     lambda c, d: _without_scope(c, "read_file"),
     "app.conf.json", f"{CAP0}.permissions[{DEMO_COMMANDS.index('read_file')}]",
     "command 'read_file' takes a Scope, and no grant of it has allow entries"),
    ("command that takes a Scope granted to a window only with no allow entries",
     lambda c, d: _replace_settings_file(d, permissions=["allow-greet", "allow-read-file"]),
     "capabilities/settings-window.json", "$.permissions[1]",
     "command 'read_file' takes a Scope, and no grant of it for window 'settings' has allow "
     "entries, so its scope there allows no path"),
    ("capability file not used",
     lambda c, d: (d / "capabilities" / "extra.json").write_text(
         json.dumps({"identifier": "extra", "windows": ["main"]})),
     "capabilities/extra.json", "$", "this capability file is not used"),
    *[(f"content security policy of no directive ({policy!r})",
       lambda c, d, policy=policy: c["app"]["security"].update(csp=policy),
       "app.conf.json", "$.app.security.csp", "this policy has no directive, so the pages are "
       "served with none")
      for policy in ("", "  ;  ", {}, "?!; , ;")],
    *[(f"content security policy of misspelt directives only ({policy!r})",
       lambda c, d, policy=policy: c["app"]["security"].update(csp=policy),
       "app.conf.json", "$.app.security.csp", message)
      for policy, message in (
          ("defualt-src 'self'", "no browser knows the directive 'defualt-src', so it restricts "
                                 "nothing; did you mean 'default-src'?"),
          ({"foo": []}, "no browser knows the directive 'foo', so it restricts nothing"))],
    ("misspelt content security policy directive",
     lambda c, d: c["app"]["security"].update(csp="default-src 'self'; scirpt-src 'self'"),
     "app.conf.json", "$.app.security.csp",
     "no browser knows the directive 'scirpt-src', so it restricts nothing; did you mean "
     "'script-src'?"),
]


def _configured(tmp_path: Path, mutate: Mutation) -> Path:
    """The demo's config and its settings capability file in ``tmp_path``, changed by
    ``mutate``; the config's path."""
    config = clean_config()
    (tmp_path / "capabilities").mkdir()
    shutil.copy(ROOT / "capabilities" / "settings-window.json", tmp_path / "capabilities")
    mutate(config, tmp_path)
    return write(tmp_path, config)


def _reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Mutation
) -> tuple[int, list[str]]:
    return run_check(_configured(tmp_path, mutate), capsys)


# (case, mutation, file, JSON path, part of the message, what it is)
CASES = ([(*case, "problem") for case in PROBLEMS] + [(*case, "note") for case in NOTES]
         + [(*case, "unloadable") for case in UNUSABLE])


@pytest.mark.parametrize(
    ("mutate", "file", "json_path", "message", "kind"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_kind_of_problem_and_note_is_reported_with_file_and_json_path(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mutate: Mutation,
    file: str,
    json_path: str,
    message: str,
    kind: str,
) -> None:
    if kind == "unloadable":  # the config does not load: exit status 2, the lines on stderr
        assert main(["check", "--config", str(_configured(tmp_path, mutate))]) == 2
        lines = capsys.readouterr().err.splitlines()
        prefix = f"{tmp_path / file}: {json_path}: "
        assert [line for line in lines if line.startswith(prefix) and message in line], lines
        return
    note = kind == "note"
    status, lines = _reported(tmp_path, capsys, mutate)
    prefix = f"{tmp_path / file}: {json_path}: " + ("note: " if note else "")
    matching = [line for line in lines if line.startswith(prefix)]
    assert matching, "\n".join(lines)
    assert message in matching[0]
    if note:  # valid, but probably not meant: reported, and the check passes
        assert status == 0, lines
        assert lines[-1].startswith(f"{tmp_path / 'app.conf.json'}: no problems (")
        assert lines[-1].endswith("; 1 note above.")
    else:
        assert status == 1
        assert "note:" not in matching[0]
        assert lines[-1].endswith("found in " + str(tmp_path / "app.conf.json") + " and its "
                                  "capabilities.")


def test_a_set_granted_less_one_member_is_no_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A set's grant with one of its members denied beside it is meant: it was noted, with the
    advice to remove one (the set would take its other grants with it)."""
    status, lines = _reported(tmp_path, capsys, lambda c, d: _grant(c, "core:event:deny-emit-to"))
    assert status == 0 and not [line for line in lines if "note:" in line], lines


def test_a_scope_command_without_allow_entries_where_it_is_denied_is_no_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Allow entries would change nothing where a deny takes the command away."""
    status, lines = _reported(tmp_path, capsys, lambda c, d: _replace_settings_file(
        d, permissions=["allow-greet", "allow-read-file", "deny-read-file"]))
    assert status == 0 and not [line for line in lines if "takes a Scope" in line], lines


def test_problems_come_before_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def both(config: dict[str, Any], folder: Path) -> None:
        config["app"]["windows"].append({"label": "about"})
        _grant(config, "allow-gret")

    status, lines = _reported(tmp_path, capsys, both)
    assert status == 1
    assert "'allow-gret'" in lines[0] and "note: window 'about'" in lines[1]
    assert lines[-1].endswith("1 problem found in " + str(tmp_path / "app.conf.json")
                              + " and its capabilities; 1 note above.")


def test_a_config_that_does_not_load_exits_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = clean_config()
    _capability(config)["platforms"] = ["beos"]
    assert main(["check", "--config", str(write(tmp_path, config))]) == 2
    assert "$.app.security.capabilities[0].platforms[0]" in capsys.readouterr().err


def test_a_capability_with_several_problems_is_a_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the invalid value was reported: the window glob and the scope path beside it,
    which cannot be used either, came to light one fix at a time."""
    capability = {
        "identifier": "m", "windows": ["[main"], "local": "yes",
        "permissions": [{"identifier": "allow-read-file", "allow": [{"path": "rel/**"}]}],
    }
    path = write(tmp_path, {"app": {"security": {"capabilities": [capability]}}})
    assert main(["check", "--config", str(path)]) == 2
    where = f"{path}: $.app.security.capabilities[0]"
    assert capsys.readouterr().err.splitlines() == [
        f"{where}.local: Input should be a valid boolean",
        f"{where}.windows[0]: the '[' of '[main' opens a character set that no ']' closes",
        f"{where}.permissions[0].allow[0].path: invalid path pattern: 'rel/**' is not "
        "absolute: start it with $APP, $APPDATA, $HOME, $TEMP or '/'",
    ]


def test_the_command_line_exit_status(tmp_path: Path) -> None:
    path = write(tmp_path, clean_config())
    command = [sys.executable, "-m", "app", "check", "--config", str(path)]
    clean = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no problems" in clean.stdout
    config = clean_config()
    _grant(config, "allow-gret")
    write(tmp_path, config)
    broken = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert f"$.app.security.capabilities[0].permissions[{N}]: " in broken.stdout


def test_a_config_that_grants_only_some_commands_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shape of the README's configuration example: two commands and the events granted,
    the demo's other commands left out. Valid: deny-by-default simply keeps them unreachable."""
    config = {
        "productName": "Demo",
        "identifier": "com.example.demo",
        "build": {"frontendDist": "frontend", "devUrl": None},
        "app": {
            "windows": [{"label": "main", "title": "Demo", "url": "index.html"}],
            "security": {
                "pattern": {"use": "isolation", "options": {"dir": "dist-isolation"}},
                "csp": None,
                "capabilities": [
                    {"identifier": "main-window", "windows": ["main"], "permissions": [
                        "allow-greet",
                        {"identifier": "allow-read-file",
                         "allow": [{"path": "$APP/frontend/**"}],
                         "deny": [{"path": "$APP/frontend/secret/**"}]},
                        "core:event:default",
                    ]},
                    "settings-window",
                ],
            },
        },
    }
    shutil.copytree(ROOT / "dist-isolation", tmp_path / "dist-isolation")
    status, lines = run_check(write(tmp_path, config), capsys)
    assert status == 0, lines
    assert any("note: command 'echo'" in line for line in lines), lines
    assert lines[-1].startswith(f"{tmp_path / 'app.conf.json'}: no problems (")
