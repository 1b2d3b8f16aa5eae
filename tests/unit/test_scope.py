"""Scopes on a real file system: resolution of .., symlinks and separators, deny entries winning."""

from __future__ import annotations

import logging
import os
import unicodedata
from pathlib import Path

import pytest

from app.core.acl.authority import Authority
from app.core.acl.model import Capability
from app.core.acl.origin import Caller, Origin
from app.core.acl.scope import Scope, ScopeEntry
from app.core.config import CapabilitySource
from app.core.errors import Forbidden


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """app/ (the $APP) with web/, web/secret/, a sibling web-evil/, and links in and out."""
    app = tmp_path / "app"
    (app / "web" / "secret").mkdir(parents=True)
    (app / "web" / "docs").mkdir()
    (app / "web-evil").mkdir()
    (app / "web" / "hello.txt").write_text("hello")
    (app / "web" / "docs" / "guide.md").write_text("guide")
    (app / "web" / "secret" / "key.txt").write_text("key")
    (app / "web-evil" / "x.txt").write_text("evil")
    (app / "app.conf.json").write_text("{}")
    (tmp_path / "outside.txt").write_text("outside")
    (tmp_path / "elsewhere" / "deep").mkdir(parents=True)
    (tmp_path / "elsewhere" / "x.txt").write_text("x")
    (app / "web" / "link-out.txt").symlink_to(tmp_path / "outside.txt")
    (app / "web" / "alias").symlink_to(app / "web" / "secret")
    (app / "web" / "jump").symlink_to(tmp_path / "elsewhere" / "deep")
    (tmp_path / "into-web").symlink_to(app / "web" / "hello.txt")
    return app


def web_scope(app: Path) -> Scope:
    return Scope(
        allow=[{"path": "$APP/web/**"}],
        deny=[{"path": "$APP/web/secret/**"}],
        variables={"$APP": str(app)},
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("web/hello.txt", True),
        ("web/docs/guide.md", True),
        ("web", True),
        ("web/not-yet-written.txt", True),
        ("web//docs///guide.md", True),
        ("web/./docs/../hello.txt", True),
        ("web/secret/key.txt", False),
        ("web/secret", False),
        ("web/docs/../secret/key.txt", False),
        ("web/alias/key.txt", False),
        ("web/link-out.txt", False),
        ("web/jump/../x.txt", False),
        ("web/../app.conf.json", False),
        ("web/../../outside.txt", False),
        ("web-evil/x.txt", False),
        ("app.conf.json", False),
        ("../into-web", True),
    ],
)
def test_paths_are_checked_after_resolving(tree: Path, path: str, expected: bool) -> None:
    assert web_scope(tree).allows_path(tree / path) is expected
    assert web_scope(tree).allows_path(str(tree) + "/" + path) is expected


def test_a_pattern_written_as_a_folder_is_the_folder_and_all_it_holds(tree: Path) -> None:
    """A deny of "secret/" matched the folder's own path alone: every file in it was read."""
    scope = Scope(allow=[{"path": "$APP/web/"}], deny=[{"path": "$APP/web/secret/"}],
                  variables={"$APP": str(tree)})
    for path, expected in [("web/hello.txt", True), ("web/docs/guide.md", True), ("web", True),
                           ("web/secret/key.txt", False), ("web/secret", False),
                           ("web/alias/key.txt", False), ("web-evil/x.txt", False)]:
        assert scope.allows_path(tree / path) is expected, path


def test_a_lexical_check_would_be_fooled_by_this_symlink(tree: Path) -> None:
    # web/jump/../x.txt reads elsewhere/x.txt: '..' applies after following the link.
    sneaky = tree / "web" / "jump" / ".." / "x.txt"
    assert os.path.normpath(sneaky).startswith(str(tree / "web"))
    assert Path(sneaky).read_text() == "x"
    assert not web_scope(tree).allows_path(sneaky)


def test_a_symlinked_app_folder_still_matches(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "app-link").symlink_to(tree)
    scope = web_scope(tmp_path / "app-link")
    assert scope.allows_path(tree / "web" / "hello.txt")
    assert scope.allows_path(tmp_path / "app-link" / "web" / "hello.txt")
    assert not scope.allows_path(tmp_path / "app-link" / "web" / "secret" / "key.txt")


def test_a_deny_written_through_a_link_denies_where_the_link_leads(tree: Path) -> None:
    """web/alias links to web/secret. A deny of "$APP/web/alias/**" (or of an absolute path
    through the link) must refuse what is in secret/, however the path is written; resolved
    paths never go through the link, so the pattern's own folder is resolved too."""
    for deny in ("$APP/web/alias/**", str(tree / "web" / "alias") + "/*.txt"):
        scope = Scope(allow=[{"path": "$APP/web/**"}], deny=[{"path": deny}],
                      variables={"$APP": str(tree)})
        assert not scope.allows_path(tree / "web" / "secret" / "key.txt"), deny
        assert not scope.allows_path(tree / "web" / "alias" / "key.txt"), deny
        assert scope.allows_path(tree / "web" / "hello.txt"), deny
    # And an allow written through the link grants what it names.
    scope = Scope(allow=[{"path": "$APP/web/alias/**"}], variables={"$APP": str(tree)})
    assert scope.allows_path(tree / "web" / "alias" / "key.txt")


def test_unusable_paths_are_refused(tree: Path) -> None:
    scope = web_scope(tree)
    assert not scope.allows_path(str(tree / "web" / "hello.txt") + "\0.png")
    with pytest.raises(Forbidden, match="not a usable path"):
        scope.check_path(str(tree / "web" / "hello.txt") + "\0")


def test_check_path_returns_the_resolved_path(tree: Path) -> None:
    resolved = web_scope(tree).check_path(str(tree) + "/web/docs/../hello.txt")
    assert resolved == tree / "web" / "hello.txt"
    assert resolved.read_text() == "hello"


def test_check_path_says_which_entry_denies(tree: Path, caplog: pytest.LogCaptureFixture) -> None:
    scope = Scope(
        allow=[ScopeEntry({"path": "$APP/web/**"}, "main-window", "app.conf.json $.a.allow[0]")],
        deny=[ScopeEntry({"path": "$APP/web/secret/**"}, "main-window",
                         "app.conf.json $.a.deny[0]")],
        variables={"$APP": str(tree)},
        command="read_file",
    )
    with caplog.at_level(logging.WARNING, logger="app.core.acl"), \
            pytest.raises(Forbidden) as error:
        scope.check_path(tree / "web" / "alias" / "key.txt")
    assert error.value.message == (
        f"'read_file' may not use '{tree}/web/alias/key.txt' (once its links and '..' are "
        "followed): capability 'main-window' denies $APP/web/secret/** (app.conf.json "
        "$.a.deny[0])."
    )
    assert f"resolved to '{tree}/web/secret/key.txt'" in caplog.text
    with pytest.raises(Forbidden) as error:
        scope.check_path(tree / "app.conf.json")
    assert "outside the allowed paths ($APP/web/**). To allow" in error.value.message
    assert "capability 'main-window' (app.conf.json $.a.allow[0])" in error.value.message
    # Why a path that reads as inside is outside: a link, or the working directory.
    with pytest.raises(Forbidden) as error:
        scope.check_path(tree / "web" / "link-out.txt")
    assert "outside the allowed paths ($APP/web/**) (once its links and '..' are followed)" in (
        error.value.message)
    assert "outside.txt" not in error.value.message.split("may not use")[1].split(":", 1)[1]
    with pytest.raises(Forbidden) as error:
        scope.check_path("web/hello.txt")
    assert "a relative path is taken from the app's working directory" in error.value.message


def test_a_grant_without_allow_entries_allows_no_path(tree: Path) -> None:
    scope = Scope(variables={"$APP": str(tree)}, command="read_file")
    assert not scope.allows_path(tree / "web" / "hello.txt")
    with pytest.raises(Forbidden, match="granted without allow entries"):
        scope.check_path(tree / "web" / "hello.txt")


def test_a_grant_without_allow_entries_is_named_where_it_was_made(tree: Path) -> None:
    """The denial names the permission and the capability to add allow entries to, as the
    denial of a path outside the allowed ones does."""
    capability = Capability.model_validate(
        {"identifier": "files", "windows": ["main"], "permissions": ["allow-read-file"]})
    source = CapabilitySource(capability, tree / "app.conf.json", "$.app.security.capabilities[0]")
    authority = Authority([source], variables={"$APP": str(tree)})
    scope = authority.authorize(Caller("main", Origin("local", "http://127.0.0.1:40001")),
                                "invoke", "read_file")
    with pytest.raises(Forbidden) as info:
        scope.check_path(tree / "web" / "hello.txt")
    assert f"may not use '{tree}/web/hello.txt': its permission 'allow-read-file'" in (
        info.value.message), info.value.message
    assert ("its permission 'allow-read-file' was granted in capability 'files' (app.conf.json "
            "$.app.security.capabilities[0].permissions[0]) without allow entries") in (
        info.value.message), info.value.message
    assert info.value.data["capability"] == "files"
    assert info.value.data["permission"] == "allow-read-file"


def test_an_unusable_deny_entry_denies_everything(tree: Path) -> None:
    scope = Scope(allow=[{"path": "$APP/**"}], deny=[{"path": "$APP/**secret"}],
                  variables={"$APP": str(tree)})
    assert not scope.allows_path(tree / "web" / "hello.txt")
    with pytest.raises(Forbidden, match="may not use any path"):
        scope.check_path(tree / "web" / "hello.txt")


def test_an_unusable_allow_entry_allows_nothing(tree: Path) -> None:
    scope = Scope(allow=[{"path": "web/**"}, {"path": 7}, {"path": "$NOPE/**"}],
                  variables={"$APP": str(tree)})
    assert not scope.allows_path(tree / "web" / "hello.txt")


def test_a_variable_without_a_value_matches_nothing(tree: Path) -> None:
    assert not Scope(allow=[{"path": "$APP/**"}]).allows_path(tree / "web" / "hello.txt")
    # ... and as a deny entry it denies everything rather than nothing.
    scope = Scope(allow=[{"path": "/**"}], deny=[{"path": "$APPDATA/**"}])
    assert not scope.allows_path(tree / "web" / "hello.txt")


def test_a_variable_inside_a_deny_pattern_denies_everything(tree: Path) -> None:
    # "/$APP/web/**" named a folder called "$APP": the deny denied nothing.
    scope = Scope(allow=[{"path": "$APP/**"}], deny=[{"path": "/$APP/web/**"}],
                  variables={"$APP": str(tree)})
    assert not scope.allows_path(tree / "web" / "hello.txt")
    assert not scope.allows_path(tree / "other.txt")


def test_home_and_temp_have_values_by_default(tmp_path: Path) -> None:
    scope = Scope(allow=[{"path": "$TEMP/**"}, {"path": "$HOME/**"}])
    assert scope.allows_path(Path(os.path.realpath(tmp_path)) / "x")
    assert scope.allows_path(Path.home() / "x")


def test_entries_of_other_kinds_are_left_to_the_command(tree: Path) -> None:
    scope = Scope(allow=[{"url": "https://example.com/**"}], deny=[{"host": "evil.test"}],
                  variables={"$APP": str(tree)})
    assert not scope.allows_path(tree / "web" / "hello.txt")
    assert [e.value for e in scope.allow] == [{"url": "https://example.com/**"}]
    assert [e.value for e in scope.deny] == [{"host": "evil.test"}]


def test_with_variables_keeps_the_entries(tree: Path) -> None:
    scope = Scope(allow=[{"path": "$APP/web/**"}], command="read_file")
    filled = scope.with_variables({"$APP": str(tree)})
    assert filled.allows_path(tree / "web" / "hello.txt")
    assert filled.command == "read_file" and filled.allow == scope.allow


def test_a_deny_written_through_a_link_made_after_the_first_check_holds(tree: Path) -> None:
    # The deny's folder is resolved as it is at each check, not as it was at the first.
    (tree / "private").mkdir()
    (tree / "private" / "p.txt").write_text("p")
    scope = Scope(allow=[{"path": "$APP/**"}], deny=[{"path": "$APP/web/later/**"}],
                  variables={"$APP": str(tree)})
    assert scope.allows_path(tree / "private" / "p.txt")  # no link yet: nothing denied
    (tree / "web" / "later").symlink_to(tree / "private")
    assert not scope.allows_path(tree / "private" / "p.txt")
    assert not scope.allows_path(tree / "web" / "later" / "p.txt")


@pytest.mark.parametrize("written", ["NFC", "NFD"])
def test_a_deny_holds_for_a_name_in_either_unicode_form(tree: Path, written: str) -> None:
    # A file system that takes both forms for one file (APFS) must not let the other form by.
    deny = unicodedata.normalize(written, "$APP/web/café/**")
    scope = Scope(allow=[{"path": "$APP/**"}], deny=[{"path": deny}],
                  variables={"$APP": str(tree)})
    for form in ("NFC", "NFD"):
        name = unicodedata.normalize(form, "café")
        assert not scope.allows_path(tree / "web" / name / "menu.txt"), (written, form)
    assert scope.allows_path(tree / "web" / "cafe" / "menu.txt")


def test_a_scope_denial_says_which_grant_and_caller_it_concerns(tree: Path) -> None:
    capability = Capability.model_validate({
        "identifier": "files", "windows": ["main"],
        "permissions": [{"identifier": "allow-read-file", "allow": [{"path": "$APP/web/**"}],
                         "deny": [{"path": "$APP/web/secret/**"}]}],
    })
    source = CapabilitySource(capability, tree / "app.conf.json", "$.app.security.capabilities[0]")
    authority = Authority([source], variables={"$APP": str(tree)})
    caller = Caller("main", Origin("local", "http://127.0.0.1:40001"))
    scope = authority.authorize(caller, "invoke", "read_file")
    with pytest.raises(Forbidden) as info:
        scope.check_path(tree / "web" / "secret" / "key.txt")
    assert info.value.data == {
        "path": str(tree / "web" / "secret" / "key.txt"),
        "command": "read_file",
        "permission": "allow-read-file",
        "window": "main",
        "origin": "http://127.0.0.1:40001",
        "originKind": "local",
        "capability": "files",
    }
    # Outside every allowed path: the capability whose allow entries the message names.
    with pytest.raises(Forbidden) as info:
        scope.check_path("/etc/passwd")
    assert info.value.data["capability"] == "files"
    assert ("add {\"path\": \"...\"} to the allow entries of 'allow-read-file' in "
            "capability 'files'") in info.value.message


def test_a_refused_path_is_shown_cut_short_and_on_one_line(
    tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A page may send a path of megabytes, with line breaks in it: the message and the log line
    show its start, escaped (4 calls with 8 MB paths wrote 64 MB of log, and a path could
    forge log lines)."""
    scope = Scope(allow=[{"path": str(tree / "web" / "**")}], command="read_file")
    path = str(tree / "elsewhere") + "\n2026-01-01 CRITICAL forged line\r" + "a" * 8_000_000
    with caplog.at_level(logging.WARNING, logger="app.core.acl"), \
            pytest.raises(Forbidden) as error:
        scope.check_path(path)
    assert len(error.value.message) < 1000, len(error.value.message)
    assert f"'read_file' may not use '{tree}/elsewhere\\n2026-01-01 CRITICAL" in error.value.message
    [line] = [r.getMessage() for r in caplog.records]
    assert len(line) < 2000 and "\n" not in line and "\r" not in line, line[:300]
    assert "(resolved to '" in line
