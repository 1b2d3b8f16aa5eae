from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.core import ConfigError, load_config
from app.core.config import IsolationPattern

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_apply_and_paths_are_relative_to_the_config(write_config) -> None:
    config = load_config(write_config({}))
    assert config.model.app.windows[0].label == "main"
    assert config.frontend_dir == (config.root / "frontend").resolve()
    assert config.model.app.security.pattern.use == "brownfield"
    assert config.isolation is None


def test_the_shipped_config_loads() -> None:
    config = load_config(ROOT / "app.conf.json")
    assert config.model.product_name == "Demo"
    assert config.model.app.windows[0].label == "main"


@pytest.mark.parametrize("key", ["commandTimeoutMs", "maxMessageBytes"])
def test_sizes_and_times_stay_within_what_a_page_holds(write_config, key: str) -> None:
    """Beyond 64 bits the page's boot data could not be written: every page answered 500."""
    assert load_config(write_config({"app": {"ipc": {key: 2**53 - 1}}}))
    for too_big in (2**53, 10**26):
        with pytest.raises(ConfigError) as info:
            load_config(write_config({"app": {"ipc": {key: too_big}}}))
        ((path, message),) = info.value.problems
        assert path == f"$.app.ipc.{key}" and "9007199254740991" in message, message


def test_isolation_requires_its_dir(write_config, tmp_path: Path) -> None:
    path = write_config({"app": {"security": {"pattern": {"use": "isolation"}}}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert ("$.app.security.pattern.options", "required key is missing") in info.value.problems

    (tmp_path / "iso").mkdir()
    (tmp_path / "iso" / "index.html").write_text("<html></html>")
    path = write_config(
        {"app": {"security": {"pattern": {"use": "isolation", "options": {"dir": "iso"}}}}}
    )
    config = load_config(path)
    assert isinstance(config.model.app.security.pattern, IsolationPattern)
    assert config.isolation_dir == (tmp_path / "iso").resolve()


def test_brownfield_takes_no_options(write_config) -> None:
    path = write_config({"app": {"security": {"pattern": {"use": "brownfield", "options": {}}}}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems[0][0] == "$.app.security.pattern.options"


def test_every_problem_is_reported_with_its_json_path(write_config) -> None:
    path = write_config(
        {
            "productName": 5,
            "identifier": "not an identifier",
            "app": {"windows": [{"label": "main", "width": "wide", "colour": "red"}]},
        }
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    paths = [p for p, _ in info.value.problems]
    assert paths == [
        "$.productName",
        "$.identifier",
        "$.app.windows[0].width",
        "$.app.windows[0].colour",
    ]
    assert "unknown key" in dict(info.value.problems)["$.app.windows[0].colour"]


def test_snake_case_keys_are_refused_naming_the_camel_case_one(
    write_config, tmp_path: Path
) -> None:
    """Keys are camelCase, in the config and in capability files, as the schema says: a
    snake_case one was taken silently, and the folder checks then read the camelCase key
    ("frontend_dist": "web" failed as a missing frontend/, "nope" passed)."""
    (tmp_path / "capabilities").mkdir()
    (tmp_path / "capabilities" / "c.json").write_text(
        '{"identifier": "c", "permissions": [], "remote": {"urls": []}, "platforms_x": 1}'
    )
    path = write_config({
        "product_name": "x",
        "build": {"frontendDist": "frontend", "dev_url": None},
        "app": {"ipc": {"command_timeout_ms": 5}, "security": {"capabilities": ["c"]}},
    })
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert sorted(info.value.problems) == [
        ("$.app.ipc.command_timeout_ms", "unknown key; keys are camelCase: 'commandTimeoutMs'"),
        ("$.build.dev_url", "unknown key; keys are camelCase: 'devUrl'"),
        ("$.product_name", "unknown key; keys are camelCase: 'productName'"),
        ("capabilities/c.json: $.platforms_x", "unknown key; keys are camelCase: 'platformsX'"),
    ]


def test_a_permission_set_with_a_scoped_permission_says_where_that_goes(write_config) -> None:
    path = write_config({"app": {"security": {"permissionSets": [
        {"identifier": "files:read", "permissions": [
            "allow-greet", {"identifier": "allow-read-file", "allow": [{"path": "$APP/**"}]}]}]}}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [(
        "$.app.security.permissionSets[0].permissions",
        "a permission set lists permission names only; a permission with allow or deny entries "
        "goes in a capability's permissions")]


def test_options_for_the_brownfield_pattern_say_whose_they_are(write_config) -> None:
    """Not "unknown key; remove it or check its spelling", which hid the missing "use"."""
    for pattern in ({"use": "brownfield", "options": {"dir": "d"}}, {"options": {"dir": "d"}}):
        path = write_config({"app": {"security": {"pattern": pattern}}})
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert info.value.problems == [(
            "$.app.security.pattern.options",
            'the brownfield pattern takes no options; they are for "use": "isolation"')]


def test_a_misspelt_key_gets_the_closest_key(write_config, tmp_path: Path) -> None:
    (tmp_path / "capabilities").mkdir()
    (tmp_path / "capabilities" / "c.json").write_text(
        '{"identifier": "c", "window": ["main"], "permissions": []}')
    path = write_config({
        "productNme": "x", "identifer": "com.example.x",
        "app": {"windows": [{"label": "main", "widht": 5}], "security": {"capabilities": ["c"],
                                                                         "xyzzy": 1}},
    })
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert sorted(info.value.problems) == [
        ("$.app.security.xyzzy", "unknown key; remove it or check its spelling"),
        ("$.app.windows[0].widht", "unknown key; did you mean 'width'?"),
        ("$.identifer", "unknown key; did you mean 'identifier'?"),
        ("$.productNme", "unknown key; did you mean 'productName'?"),
        ("capabilities/c.json: $.window", "unknown key; did you mean 'windows'?"),
    ]
    # A key of another object is not offered as the one misspelt here.
    path = write_config({"app": {"windows": [{"label": "main", "identifier": "x"}]}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "did you mean 'identifier'" not in info.value.problems[0][1], info.value.problems


def test_values_a_capability_cannot_use_are_reported_with_the_other_problems(
    write_config, tmp_path: Path
) -> None:
    """A window glob, a remote URL pattern or a scope path that cannot be used is reported
    together with the config's other problems, not only once those are fixed."""
    (tmp_path / "capabilities").mkdir()
    (tmp_path / "capabilities" / "extra.json").write_text(json.dumps({
        "identifier": "extra", "windows": ["main"], "remote": {"urls": ["ftp://x"]},
        "permissions": [{"identifier": "allow-x", "allow": [{"path": "rel/**"}]}],
    }))
    path = write_config({
        "app": {
            "windows": [{"label": "main", "width": "wide"}],
            "security": {"capabilities": [
                {"identifier": "inline", "windows": ["[main"], "permissions": []},
                {"identifier": "broken", "windows": 5},
                "extra",
            ]},
        }
    })
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert [where for where, _ in info.value.problems] == [
        "$.app.windows[0].width",
        "$.app.security.capabilities[1].windows",
        "$.app.security.capabilities[0].windows[0]",
        "capabilities/extra.json: $.remote.urls[0]",
        "capabilities/extra.json: $.permissions[0].allow[0].path",
    ]
    assert "no ']' closes" in info.value.problems[2][1]
    assert "not absolute" in info.value.problems[4][1]


def test_duplicate_labels_and_missing_frontend_are_problems(write_config, tmp_path) -> None:
    path = write_config(
        {"build": {"frontendDist": "nowhere"}, "app": {"windows": [{"label": "a"}, {"label": "a"}]}}
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "unique" in info.value.problems[0][1]
    path = write_config({"build": {"frontendDist": "nowhere"}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems[0][0] == "$.build.frontendDist"


@pytest.mark.parametrize("url", ["localhost:5173", "ftp://example.com/", "http://", "/app"])
def test_dev_url_must_be_an_http_url(write_config, url: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"build": {"devUrl": url}}))
    (where, what), *_ = info.value.problems
    assert where == "$.build.devUrl"
    assert "an http:// or https:// URL" in what and repr(url) in what
    assert load_config(write_config({"build": {"devUrl": "http://localhost:5173/"}}))


@pytest.mark.parametrize(("url", "said"), [
    ("http://localhost:99999", "a port from 1 to 65535"),
    ("http://localhost:abc", "a port from 1 to 65535"),
    ("http://localhost:0", "a port from 1 to 65535"),
    ("http://localhost:", "a port from 1 to 65535"),
    ("http://:5173", "a host name or IP address"),
    ("http://local host:5173", "a host name or IP address"),
    ("http://[::1:5173", "an http:// or https:// URL"),
    ("http://localhost:5173?x=1", "no query or fragment"),
    ("http://localhost:5173/#top", "no query or fragment"),
])
def test_a_dev_url_whose_host_or_port_cannot_be_is_refused(
    write_config, url: str, said: str
) -> None:
    """They passed, and the app then ended with a traceback (ValueError: Port out of range)
    as the core started, or relayed to port 80."""
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"build": {"devUrl": url}}))
    (where, what), *_ = info.value.problems
    assert where == "$.build.devUrl"
    assert said in what and repr(url) in what, what
    for fine in ("http://127.0.0.1:5173", "https://[::1]:8443/", "http://dev.example.test",
                 "http://my_service:5173", "http://localhost.:5173"):
        assert load_config(write_config({"build": {"devUrl": fine}}))


def test_bad_json_and_missing_file(write_config, tmp_path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(raw='{"app": '))
    assert "not valid JSON" in info.value.problems[0][1]
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "missing.json")
    assert "file not found" in info.value.problems[0][1]


def test_a_key_given_twice_in_one_object_is_a_problem(write_config, tmp_path) -> None:
    """JSON readers keep the last of them: an edit to the first one would change nothing. In
    the config and in a capability file, with the other problems."""
    (tmp_path / "capabilities").mkdir()
    (tmp_path / "capabilities" / "extra.json").write_text(
        '{"identifier": "extra", "windows": ["*"], "permissions": ["allow-greet"],'
        ' "windows": ["main"]}'
    )
    path = write_config(raw='{"app": {"windows": [{"label": "main"}, {"label": "tools",'
                        ' "width": 300, "width": 400, "a b": 1, "a b": 2}],'
                        ' "withGlobalTauri": false}, "identifier": 7}')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    twice = [p for p in info.value.problems if "given twice" in p[1]]
    assert [where for where, _ in twice] == [
        "$.app.windows[1].width",
        '$.app.windows[1]["a b"]',
        "capabilities/extra.json: $.windows",
    ], info.value.problems
    assert "JSON readers keep only the last one" in twice[0][1]
    # The other problems are there too (a number for a text).
    assert any(where == "$.identifier" for where, _ in info.value.problems)


def test_capability_references_load_files(write_config, tmp_path) -> None:
    (tmp_path / "capabilities").mkdir()
    (tmp_path / "capabilities" / "extra.json").write_text(
        '{"identifier": "extra", "windows": ["*"], "permissions": ["allow-greet"]}'
    )
    config = load_config(write_config({}))  # no "capabilities" key: every file is used
    assert [c.capability.identifier for c in config.capabilities] == ["extra"]
    path = write_config({"app": {"security": {"capabilities": ["missing"]}}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems[0][0] == "$.app.security.capabilities[0]"


def test_cli_exits_2_with_one_line_per_problem_and_no_traceback(write_config) -> None:
    path = write_config({"productName": 5, "app": {"windows": [{"width": "x"}]}})
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("$.productName: Input should be a valid string")
    assert "$.app.windows[0].width" in lines[1]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_an_apps_own_program_ends_alike_on_a_bad_config(write_config, tmp_path) -> None:
    """The contract's Python side: App.from_config(...), then app.run(). Not caught, the
    ConfigError ends the program as the CLI does; caught, it is the program's to handle."""
    path = write_config({"productName": 5, "app": {"windows": [{"width": "x"}]}})
    program = tmp_path / "main.py"
    program.write_text(f"from app.core import App\nApp.from_config({str(path)!r}).run()\n")
    result = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 2, result.stderr
    assert "Traceback" not in result.stderr
    program.write_text(
        "from app.core import App, ConfigError\n"
        f"try:\n    App.from_config({str(path)!r})\n"
        "except ConfigError as exc:\n    print('handled', len(exc.problems))\n"
        "raise ValueError('a bug of its own')\n"
    )
    result = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.stdout == "handled 2\n"
    assert result.returncode == 1 and "ValueError: a bug of its own" in result.stderr


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"ProductName": "x"}, "$.ProductName"),  # an unknown key, capitalized
        ({"app": {"security": {"csp": 5}}}, "$.app.security.csp"),  # a union's type names
        (
            {"app": {"security": {"pattern": {"use": "isolation"}}}},
            "$.app.security.pattern.options",
        ),
        ({"app": {"windows": [{"label": "main", "width": "wide"}]}}, "$.app.windows[0].width"),
    ],
)
def test_problems_name_the_json_path_of_the_bad_value(write_config, data, where: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(data))
    assert {p for p, _ in info.value.problems} == {where}


@pytest.mark.parametrize(
    ("capabilities", "where", "message"),
    [
        # Neither of the union's types: one line naming both, no class names.
        (
            [5],
            "$.app.security.capabilities[0]",
            "Input should be a valid string or a valid dictionary",
        ),
        # An object that fails inside: only what is wrong inside, not "should be a string".
        (
            [{"identifier": "a", "windows": ["main"], "permissions": [1]}],
            "$.app.security.capabilities[0].permissions[0]",
            "Input should be a valid string or a valid dictionary",
        ),
        (
            [{"windows": ["main"]}],
            "$.app.security.capabilities[0].identifier",
            "required key is missing",
        ),
        # A name that would reach outside capabilities/ is refused before any file is read.
        (["../secrets"], "$.app.security.capabilities[0]", "is not a capability name"),
        (["sub/extra"], "$.app.security.capabilities[0]", "is not a capability name"),
    ],
)
def test_one_line_per_problem(write_config, capabilities, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"app": {"security": {"capabilities": capabilities}}}))
    assert info.value.problems == [(where, info.value.problems[0][1])]
    assert message in info.value.problems[0][1]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        # Values of the wrong JSON type are refused, not converted: "800" is not a width, and a
        # time limit of true is not one of 1 ms.
        ({"app": {"windows": [{"width": "800"}]}}, "$.app.windows[0].width"),
        ({"app": {"windows": [{"resizable": "yes"}]}}, "$.app.windows[0].resizable"),
        ({"app": {"windows": [{"fullscreen": 0}]}}, "$.app.windows[0].fullscreen"),
        ({"app": {"ipc": {"threads": "4"}}}, "$.app.ipc.threads"),
        ({"app": {"ipc": {"commandTimeoutMs": True}}}, "$.app.ipc.commandTimeoutMs"),
        (
            {"app": {"security": {"capabilities": [{"identifier": "a", "local": "false"}]}}},
            "$.app.security.capabilities[0].local",
        ),
    ],
)
def test_values_of_the_wrong_type_are_not_converted(write_config, data, where: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(data))
    assert [p for p, _ in info.value.problems] == [where]


def test_the_pattern_is_brownfield_when_use_is_left_out(write_config) -> None:
    config = load_config(write_config({"app": {"security": {"pattern": {}}}}))
    assert config.model.app.security.pattern.use == "brownfield"
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"app": {"security": {"pattern": {"use": "isolated"}}}}))
    assert info.value.problems == [
        ("$.app.security.pattern.use", 'Input should be "brownfield" or "isolation"')
    ]


def test_problems_of_every_kind_are_reported_together(write_config, tmp_path) -> None:
    # A wrong value does not hide a missing folder, a missing capability file, or a label used
    # twice next to an invalid window.
    path = write_config(
        {
            "productName": 5,
            "build": {"frontendDist": "nowhere"},
            "app": {
                "windows": [{"label": "a b"}, {"label": "main"}, {"label": "main"}],
                "security": {"capabilities": ["missing", "extra.json"]},
            },
        }
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = dict(info.value.problems)
    assert set(problems) == {
        "$.productName",
        "$.app.windows[0].label",
        "$.app.windows[2].label",
        "$.build.frontendDist",
        "$.app.security.capabilities[0]",
        "$.app.security.capabilities[1]",
    }
    assert "'main' repeats" in problems["$.app.windows[2].label"]
    assert "file not found" in problems["$.app.security.capabilities[0]"]
    assert problems["$.app.security.capabilities[1]"] == (
        "name the capability without '.json': 'extra'"
    )


def test_isolation_needs_room_for_sealed_messages(write_config, tmp_path) -> None:
    (tmp_path / "iso").mkdir()
    (tmp_path / "iso" / "index.html").write_text("<html></html>")
    isolation = {"use": "isolation", "options": {"dir": "iso"}}
    path = write_config(
        {"app": {"security": {"pattern": isolation}, "ipc": {"maxMessageBytes": 1024}}}
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [
        (
            "$.app.ipc.maxMessageBytes",
            "at least 4096 under the isolation pattern (a sealed message carries up to 1 KiB "
            "besides its content)",
        )
    ]
    # Brownfield has no such overhead.
    assert load_config(write_config({"app": {"ipc": {"maxMessageBytes": 1024}}}))


def test_unreadable_shapes_of_file_are_problems_not_crashes(write_config, tmp_path) -> None:
    """Nested past what the JSON reader takes, a pipe (reading it would wait forever), an app
    with no window (run would fail in the GUI toolkit, serve would serve nothing)."""
    deep = '{"app": {"security": {"csp": ' + "[" * 5000 + "]" * 5000 + "}}}"
    with pytest.raises(ConfigError) as info:
        load_config(write_config(raw=deep))
    assert info.value.problems == [
        ("$", "not valid JSON here: its arrays and objects nest too deeply")
    ]
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError) as info:
        load_config(fifo)
    assert info.value.problems == [("$", f"not a regular file: {fifo}")]
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"app": {"windows": []}}))
    assert info.value.problems == [
        ("$.app.windows", "an app opens at least one window: list it here")
    ]


def _scoped(path: str) -> dict[str, Any]:
    return {"app": {"security": {"capabilities": [{
        "identifier": "m", "windows": ["main"], "permissions": [
            {"identifier": "allow-read-file", "allow": [{"path": path}]}]}]}}}


@pytest.mark.parametrize(("raw", "where", "said"), [
    ('{"app": {"ipc": {"threads": 1' + "0" * 5000 + "}}}", "$",
     "not usable JSON: Exceeds the limit (4300 digits)"),
    (json.dumps({"app": {"security": {"capabilities": ["a\0b"]}}}),
     "$.app.security.capabilities[0]", "'a\\x00b' is not a capability name"),
    (json.dumps({"app": {"security": {"capabilities": ["\ud800"]}}}),
     "$.app.security.capabilities[0]", "'\\ud800' is not a capability name"),
    (json.dumps(_scoped("$APP/a\0b")), "$.app.security.capabilities[0].permissions[0]"
     ".allow[0].path", "a path has no NUL character"),
    (json.dumps(_scoped("$APP/\ud800")), "$.app.security.capabilities[0].permissions[0]"
     ".allow[0].path", "must be valid Unicode"),
    (json.dumps({"build": {"frontendDist": "x" * 300}}), "$.build.frontendDist",
     "a folder of the frontend; "),
    (json.dumps({"app": {"security": {"pattern": {"use": "isolation",
                                                  "options": {"dir": "x" * 300}}}}}),
     "$.app.security.pattern.options.dir", "a folder with the isolation app's index.html"),
], ids=["huge-int", "nul-capability", "surrogate-capability", "nul-scope", "surrogate-scope",
        "long-frontend", "long-isolation-dir"])
def test_values_the_system_cannot_take_are_problems_not_crashes(
    write_config, raw: str, where: str, said: str
) -> None:
    """They raised ValueError or OSError (a traceback and exit status 1) from the JSON reader,
    open() and the file system's checks."""
    with pytest.raises(ConfigError) as info:
        load_config(write_config(raw=raw))
    assert [(w, m) for w, m in info.value.problems if w == where and said in m], \
        info.value.problems


def test_capability_file_problems_say_which_file_and_where(write_config, tmp_path) -> None:
    folder = tmp_path / "capabilities"
    folder.mkdir()
    (folder / "good.json").write_text(
        '{"identifier": "good", "windows": ["*"], "permissions": ["allow-greet"]}'
    )
    (folder / "broken.json").write_text("{")
    (folder / ".editor-backup.json").write_text("{")  # hidden: not one of the app's
    with pytest.raises(ConfigError) as info:
        load_config(write_config({}))  # every file of the folder is used
    assert [where for where, _ in info.value.problems] == ["capabilities/broken.json: $"]
    path = write_config({"app": {"security": {"capabilities": ["good", "broken", "good"]}}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems[0][0] == "$.app.security.capabilities[1]"
    assert "(capabilities/broken.json): not valid JSON" in info.value.problems[0][1]
    assert info.value.problems[1] == (
        "$.app.security.capabilities[2]",
        "capability 'good' is defined twice",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.com/", "a page of the frontend by its path"),
        ("//example.com/x.html", "a page of the frontend by its path"),
        ("javascript:alert(1)", "a page of the frontend by its path"),
        ("pages\\\\a.html", "a page of the frontend by its path"),
        ("../../etc/passwd", "climbs out of it"),
        ("a/%2e%2e/%2e%2e/b.html", "climbs out of it"),
        ("sub/../index.html", "with no '..' in it: 'index.html', not 'sub/../index.html'"),
        ("index.html?a=1&__app_tab=x", "a page whose query has no __app_tab (the shell's own)"),
        ("index.html?__app_tab", "a page whose query has no __app_tab"),
        ("index.html?v=1?__app_tab=x", "a page whose query has no __app_tab"),
        ("index.html??__app_tab=x", "a page whose query has no __app_tab"),
    ],
)
def test_a_window_url_is_a_page_of_the_frontend(write_config, url: str, message: str) -> None:
    """The window opens /<url> on its own origin: nothing else could ever load there."""
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"app": {"windows": [{"url": url}]}}))
    [(where, what)] = info.value.problems
    assert where == "$.app.windows[0].url" and message in what
    page = "pages/a%20b.html?tab=2&my__app_tab=1#/r?__app_tab=1"
    assert load_config(write_config({"app": {"windows": [{"url": page}]}})).model.app.windows


@pytest.mark.parametrize(("csp", "where"), [
    ("default-src 'self'\u0001", "$.app.security.csp"),  # every page failed to load
    ("default-src 'self';\u00a0img-src 'self' data:", "$.app.security.csp"),  # img-src lost
    ("default-src 'self'\u2028", "$.app.security.csp"),
    ({"img-src": ["'self'", "a\u0000"]}, '$.app.security.csp["img-src"][1]'),
    ({"img-src\u00a0": "'self'"}, '$.app.security.csp["img-src\\u00a0"]'),
    ("default-src https://b\u00fccher.example", "$.app.security.csp"),  # (punycode: xn--)
])
def test_a_policy_that_is_not_printable_ascii_is_refused(write_config, csp, where) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"app": {"security": {"csp": csp}}}))
    [(at, what)] = info.value.problems
    assert at == where and what.startswith("a policy must be printable ASCII: "), (at, what)
    assert ("xn--" in what) == ("\u00fc" in str(csp)), what
    assert load_config(write_config({"app": {"security": {"csp": "img-src 'self'\tdata:"}}}))


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Content-Security-Policy": "default-src *"}, "use app.security.csp"),
        ({"set-cookie": "a=b"}, "'set-cookie' is a header the core sets itself"),
        ({"Bad Name": "x"}, "'Bad Name' is not a header name"),
        ({"X-Note": "two\r\nX-Injected: yes"}, "value must be one line"),
        ({"X-Note": "a\u000bb"}, "value must be printable ASCII"),
        ({"X-Note": "caf\u00e9"}, "value must be printable ASCII"),
        ({"X-Note": "a", "x-note": "b"}, "'x-note' repeats 'X-Note'"),
        ({"X-Note": 5}, "valid string"),
    ],
)
def test_app_headers_that_cannot_be_sent_are_refused(write_config, headers, why) -> None:
    path = write_config({"app": {"security": {"headers": headers}}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    ((where, what),) = info.value.problems
    name = list(headers)[-1]  # (a repeated name at its repeat)
    assert where == f'$.app.security.headers["{name}"]', where
    assert why in what, what


def test_each_header_that_cannot_be_sent_is_a_problem_of_its_own(write_config) -> None:
    headers = {"Content-Type": "text/plain", "Set-Cookie": "a=b", "X-Ok": "fine", "X-Bad": "\n"}
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"app": {"security": {"headers": headers}}}))
    assert dict(info.value.problems) == {
        '$.app.security.headers["Content-Type"]': "'Content-Type' is a header the core sets "
        "itself",
        '$.app.security.headers["Set-Cookie"]': "'Set-Cookie' is a header the core sets itself",
        '$.app.security.headers["X-Bad"]': "a header's value must be one line",
    }


def test_app_headers_load_as_written(write_config) -> None:
    headers = {"Cross-Origin-Opener-Policy": "same-origin", "Permissions-Policy": "camera=()"}
    config = load_config(write_config({"app": {"security": {"headers": headers}}}))
    assert config.model.app.security.headers == headers


def test_a_config_with_a_byte_order_mark_loads(tmp_path: Path, write_config) -> None:
    path = write_config({"productName": "Marked"})
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as some editors save UTF-8
    assert load_config(path).model.product_name == "Marked"


def test_each_problem_is_reported_once(write_config) -> None:
    path = write_config({"app": {"windows": [{"label": "main"}, {"label": "main"}, {}]}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    repeated = "window labels must be unique; 'main' repeats"
    assert info.value.problems == [  # (the third window is "main" by default)
        ("$.app.windows[1].label", repeated),
        ("$.app.windows[2].label", repeated),
    ]


def test_names_of_the_wrong_form_are_explained_in_words(write_config) -> None:
    config = {
        "identifier": "bad id",
        "app": {
            "windows": [{"label": "a b"}],
            "security": {
                "capabilities": [{"identifier": "x y", "windows": ["a"], "permissions": []}],
                "permissionSets": [{"identifier": "Bad", "permissions": ["allow-x"]}],
            },
        },
    }
    with pytest.raises(ConfigError) as info:
        load_config(write_config(config))
    problems = dict(info.value.problems)
    assert problems == {
        "$.identifier": "'bad id' is not an app identifier: a reverse domain name such as "
        "'com.example.app'",
        "$.app.windows[0].label": "'a b' is not a window label: use ASCII letters, digits, '_', "
        "'-', '/' and ':'",
        "$.app.security.capabilities[0].identifier": "'x y' is not an identifier: use ASCII "
        "letters, digits, '_', '-', '.' and ':'",
        "$.app.security.permissionSets[0].identifier": "'Bad' is not a permission set "
        "identifier: 'prefix:name' in lower-case letters, digits and '-', such as "
        "'files:default'",
    }


def test_a_dev_url_with_a_base_path_says_where_the_path_goes(write_config) -> None:
    # The window's paths are the dev server's: a base path in devUrl would be added to every
    # root-relative URL of the page again (/app/app/src/main.js).
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"build": {"devUrl": "http://127.0.0.1:5173/app/"}}))
    ((where, what),) = info.value.problems
    assert where == "$.build.devUrl"
    assert "http://127.0.0.1:5173" in what and '"url": "app/index.html"' in what, what
    for fine in ("http://localhost:5173", "http://localhost:5173/"):
        assert load_config(write_config({"build": {"devUrl": fine}})).model.build.dev_url


NOT_A_SET = "the '[' of '[main' opens a character set that no ']' closes"
NOT_ABSOLUTE = (
    "invalid path pattern: 'rel/**' is not absolute: start it with $APP, $APPDATA, $HOME, "
    "$TEMP or '/'"
)


@pytest.mark.parametrize("in_file", [False, True], ids=["inline", "file"])
@pytest.mark.parametrize(
    ("more", "where", "message"),
    [
        ({"local": "yes"}, ".local", "Input should be a valid boolean"),
        ({"description": 5}, ".description", "Input should be a valid string"),
        ({"platforms": ["beos"]}, ".platforms[0]", "Input should be 'linux', 'macOS', "
         "'windows', 'iOS' or 'android'"),
        ({"colour": "red"}, ".colour", "unknown key; remove it or check its spelling"),
        ({"permissions": [5, {"identifier": "allow-read-file", "allow": [{"path": "rel/**"}]}]},
         ".permissions[0]", "Input should be a valid string or a valid dictionary"),
    ],
)
def test_every_problem_of_one_capability_is_reported_at_once(
    write_config, tmp_path: Path, in_file: bool, more: dict[str, Any], where: str, message: str
) -> None:
    """A capability with an invalid value was not checked further: its window globs and scope
    paths that cannot be used went unreported until that value was fixed."""
    capability = {
        "identifier": "m",
        "windows": ["[main"],
        "permissions": [{"identifier": "allow-read-file", "allow": [{"path": "rel/**"}]}],
        **more,
    }
    entry = len(capability["permissions"]) - 1  # (after a refused one, in its own place)
    if in_file:
        (tmp_path / "capabilities").mkdir()
        (tmp_path / "capabilities" / "m.json").write_text(json.dumps(capability))
        base = "capabilities/m.json: $"
    else:
        base = "$.app.security.capabilities[0]"
    path = write_config({"app": {"security": {"capabilities": ["m" if in_file else capability]}}})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert sorted(info.value.problems) == sorted([
        (base + where, message),
        (base + ".windows[0]", NOT_A_SET),
        (f"{base}.permissions[{entry}].allow[0].path", NOT_ABSOLUTE),
    ])


def test_what_is_valid_in_an_invalid_capability_is_checked_in_its_place(write_config) -> None:
    capability = {
        "identifier": "m",
        "windows": [5, "[main"],
        "remote": {"urls": [6, "ftp://x"]},
        "permissions": [
            5,
            {"identifier": "allow-read-file", "allow": [8, {"path": "rel/**"}], "alow": []},
            {"identifier": "deny-read-file", "allow": [{"path": "/srv/**"}]},
            {"allow": [{"path": "rel/**"}]},
        ],
    }
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"app": {"security": {"capabilities": [capability]}}}))
    base = "$.app.security.capabilities[0]"
    assert info.value.problems == [
        (f"{base}.windows[0]", "Input should be a valid string"),
        (f"{base}.remote.urls[0]", "Input should be a valid string"),
        (f"{base}.permissions[0]", "Input should be a valid string or a valid dictionary"),
        (f"{base}.permissions[1].allow[0]", "Input should be a valid dictionary"),
        (f"{base}.permissions[1].alow", "unknown key; did you mean 'allow'?"),
        (f"{base}.permissions[3].identifier", "required key is missing"),
        (f"{base}.windows[1]", NOT_A_SET),
        (f"{base}.remote.urls[1]", "scheme 'ftp' is not served to windows; use http:// or "
         "https://"),
        (f"{base}.permissions[2].allow", "'deny-read-file' takes only \"deny\" entries; with "
         "\"allow\" entries it denies the whole command. Move them to an allow- permission."),
        (f"{base}.permissions[1].allow[1].path", NOT_ABSOLUTE),
        (f"{base}.permissions[3].allow[0].path", NOT_ABSOLUTE),
    ]


def test_a_capability_file_of_another_identifier_is_still_checked(
    write_config, tmp_path: Path
) -> None:
    (tmp_path / "capabilities").mkdir()
    (tmp_path / "capabilities" / "m.json").write_text(
        json.dumps({"identifier": "other", "windows": ["[main"]})
    )
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"app": {"security": {"capabilities": ["m"]}}}))
    assert info.value.problems == [
        ("capabilities/m.json: $.identifier", "must be 'm', the name the file is referenced by"),
        ("capabilities/m.json: $.windows[0]", NOT_A_SET),
    ]


def test_a_repeat_is_reported_at_the_repeated_value(write_config) -> None:
    """A repeated window label was reported at the list of windows, and a repeated header name
    or capability identifier not at all when the other one had an invalid value."""
    path = write_config(
        {
            "app": {
                "windows": [{"label": "a"}, {"label": "a", "width": 5}],
                "security": {
                    "headers": {"X-Note": 5, "x-note": "b"},
                    "capabilities": [{"identifier": "m", "local": "yes"}, {"identifier": "m"}],
                },
            }
        }
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert sorted(info.value.problems) == sorted([
        ("$.app.windows[1].width", "Input should be greater than or equal to 100"),
        ("$.app.windows[1].label", "window labels must be unique; 'a' repeats"),
        ('$.app.security.headers["X-Note"]', "Input should be a valid string"),
        ('$.app.security.headers["x-note"]', "'x-note' repeats 'X-Note' (header names ignore "
         "case)"),
        ("$.app.security.capabilities[0].local", "Input should be a valid boolean"),
        ("$.app.security.capabilities[1].identifier", "capability 'm' is defined twice"),
    ])


def test_a_capability_nested_too_deep_to_copy_is_reported_as_what_it_is(
    write_config, tmp_path: Path
) -> None:
    (tmp_path / "capabilities").mkdir()
    (tmp_path / "capabilities" / "deep.json").write_text(
        '{"identifier": "deep", "windows": ["main"], "permissions": ["allow-greet", '
        + "[" * 600 + "]" * 600 + "]}")
    with pytest.raises(ConfigError) as info:
        load_config(write_config({"app": {"security": {"capabilities": ["deep"]}}}))
    assert info.value.problems == [(
        "capabilities/deep.json: $.permissions[1]",
        "Input should be a valid string or a valid dictionary")]


def test_a_comment_in_a_capability_file_is_said_to_be_one(write_config) -> None:
    """A file copied with a comment naming it said only 'Expecting value at line 1 column 1'."""
    folder = write_config({}).parent / "capabilities"
    folder.mkdir()
    (folder / "main.json").write_text(
        '// capabilities/main.json\n{"identifier": "main", "permissions": []}'
    )
    with pytest.raises(ConfigError) as info:
        load_config(write_config({}))
    assert info.value.problems == [(
        "capabilities/main.json: $",
        "not valid JSON: Expecting value at line 1 column 1 (a comment: JSON has none)",
    )]


def test_a_huge_value_is_not_quoted_whole(write_config) -> None:
    """A bad 2 MB window url made a 2 MB line (a capability name, 6 MB of output): the
    middle of what is quoted goes, saying how much; where it is and what to do stay."""
    for data, where, rule in [
        ({"app": {"windows": [{"url": "http://" + "a" * 2_000_000}]}}, "$.app.windows[0].url",
         "a page of the frontend by its path"),
        ({"app": {"y" * 2_000_000: 1}}, "$.app.yyy", "unknown key"),
    ]:
        with pytest.raises(ConfigError) as info:
            load_config(write_config(data))
        [(at, what)] = info.value.problems
        assert at.startswith(where) and len(at) < 400, at[:100]
        assert len(what) < 1100 and "characters left out)" in at + what, what[:100]
        assert rule in what
