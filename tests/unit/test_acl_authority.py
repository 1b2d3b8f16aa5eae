"""The resolver: which window, at which origin, may make which request, and why not."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from app.core.acl.authority import Authority
from app.core.acl.model import Capability
from app.core.acl.origin import Caller, Origin
from app.core.config import CapabilitySource
from app.core.errors import Forbidden

CONFIG = Path("/srv/demo/app.conf.json")
LOCAL = Origin("local", "http://127.0.0.1:40001")


def sub(path: str) -> Origin:
    return Origin("subframe", f"http://127.0.0.1:40001{path}")


def remote(url: str) -> Origin:
    return Origin("remote", url)


def authority(
    *capabilities: dict[str, Any],
    sets: dict[str, list[str]] | None = None,
    platform: str = "linux",
    files: dict[str, dict[str, Any]] | None = None,
) -> Authority:
    sources = [
        CapabilitySource(Capability.model_validate(c), CONFIG, f"$.app.security.capabilities[{i}]")
        for i, c in enumerate(capabilities)
    ]
    for name, data in (files or {}).items():
        path = CONFIG.parent / "capabilities" / f"{name}.json"
        sources.append(CapabilitySource(Capability.model_validate(data), path, "$"))
    return Authority(sources, sets, platform=platform)


def cap(identifier: str, windows: list[str], permissions: list[Any], **more: Any) -> dict[str, Any]:
    return {"identifier": identifier, "windows": windows, "permissions": permissions, **more}


def allowed(auth: Authority, window: str, origin: Origin, kind: str, name: str,
            target: bool = False) -> bool:
    try:
        auth.authorize(Caller(window, origin), kind, name, has_target=target)
    except Forbidden:
        return False
    return True


MAIN_GREET = cap("main", ["main"], ["allow-greet"])

# (case, capabilities, sets, window, origin, kind, name, has_target, expected)
CASES: list[tuple[str, list[dict[str, Any]], dict[str, list[str]], str, Origin, str, str, bool,
                  bool]] = [
    ("nothing configured", [], {}, "main", LOCAL, "invoke", "greet", False, False),
    ("exact label", [MAIN_GREET], {}, "main", LOCAL, "invoke", "greet", False, True),
    ("other label", [MAIN_GREET], {}, "settings", LOCAL, "invoke", "greet", False, False),
    ("other command", [MAIN_GREET], {}, "main", LOCAL, "invoke", "delete_item", False, False),
    ("underscores become hyphens", [cap("m", ["main"], ["allow-read-file"])], {}, "main", LOCAL,
     "invoke", "read_file", False, True),
    ("label glob", [cap("t", ["tool-*"], ["allow-greet"])], {}, "tool-7", LOCAL, "invoke",
     "greet", False, True),
    ("label glob is anchored", [cap("t", ["tool-*"], ["allow-greet"])], {}, "xtool-7", LOCAL,
     "invoke", "greet", False, False),
    ("label glob needs its hyphen", [cap("t", ["tool-*"], ["allow-greet"])], {}, "tool", LOCAL,
     "invoke", "greet", False, False),
    ("local: false", [cap("m", ["main"], ["allow-greet"], local=False)], {}, "main", LOCAL,
     "invoke", "greet", False, False),
    ("a sub-frame is not the local frontend", [MAIN_GREET], {}, "main", sub("/widget.html"),
     "invoke", "greet", False, False),
    ("a remote page is not the local frontend", [MAIN_GREET], {}, "main",
     remote("https://example.com/"), "invoke", "greet", False, False),
    ("sub-frame named by a path pattern",
     [cap("w", ["main"], ["allow-greet"], local=False, remote={"urls": ["/widget.html"]})], {},
     "main", sub("/widget.html?v=2"), "invoke", "greet", False, True),
    ("capability for sub-frames only does not cover the top page",
     [cap("w", ["main"], ["allow-greet"], local=False, remote={"urls": ["/widget.html"]})], {},
     "main", LOCAL, "invoke", "greet", False, False),
    ("other sub-frame",
     [cap("w", ["main"], ["allow-greet"], remote={"urls": ["/widget.html"]})], {},
     "main", sub("/other.html"), "invoke", "greet", False, False),
    ("remote page named by URL",
     [cap("r", ["main"], ["allow-greet"], remote={"urls": ["https://*.example.com/app/**"]})],
     {}, "main", remote("https://docs.example.com/app/x"), "invoke", "greet", False, True),
    ("remote page outside the URL pattern",
     [cap("r", ["main"], ["allow-greet"], remote={"urls": ["https://*.example.com/app/**"]})],
     {}, "main", remote("https://docs.example.com/apps"), "invoke", "greet", False, False),
    ("remote URL for another window",
     [cap("r", ["help"], ["allow-greet"], remote={"urls": ["https://example.com"]})], {},
     "main", remote("https://example.com/"), "invoke", "greet", False, False),
    ("deny beats allow in the same context",
     [MAIN_GREET, cap("no", ["main"], ["deny-greet"])], {}, "main", LOCAL, "invoke", "greet",
     False, False),
    ("deny beats allow inside one capability",
     [cap("m", ["main"], ["allow-greet", "deny-greet"])], {}, "main", LOCAL, "invoke", "greet",
     False, False),
    ("deny through a glob still applies",
     [MAIN_GREET, cap("no", ["*"], ["deny-greet"])], {}, "main", LOCAL, "invoke", "greet",
     False, False),
    ("deny for another window does not apply",
     [MAIN_GREET, cap("no", ["settings"], ["deny-greet"])], {}, "main", LOCAL, "invoke", "greet",
     False, True),
    ("deny written for remote pages does not reach the local frontend",
     [MAIN_GREET, cap("no", ["main"], ["deny-greet"], local=False,
                      remote={"urls": ["https://example.com"]})], {},
     "main", LOCAL, "invoke", "greet", False, True),
    ("deny written for remote pages applies to them",
     [cap("m", ["main"], ["allow-greet"], remote={"urls": ["https://example.com"]}),
      cap("no", ["main"], ["deny-greet"], local=False, remote={"urls": ["https://example.com"]})],
     {}, "main", remote("https://example.com/x"), "invoke", "greet", False, False),
    ("deny written for a sub-frame does not reach the top page",
     [MAIN_GREET, cap("no", ["main"], ["deny-greet"], local=False,
                      remote={"urls": ["/widget.html"]})], {},
     "main", LOCAL, "invoke", "greet", False, True),
    ("deny of another command does not apply",
     [MAIN_GREET, cap("no", ["main"], ["deny-delete-item"])], {}, "main", LOCAL, "invoke",
     "greet", False, True),
    ("scope-only deny does not deny the command",
     [cap("m", ["main"], [{"identifier": "allow-read-file", "allow": [{"path": "/srv/**"}]},
                          {"identifier": "deny-read-file", "deny": [{"path": "/srv/x/**"}]}])],
     {}, "main", LOCAL, "invoke", "read_file", False, True),
    ("a deny- permission with allow entries denies the command",
     [cap("m", ["main"], ["allow-read-file",
                          {"identifier": "deny-read-file", "allow": [{"path": "/srv/**"}]}])],
     {}, "main", LOCAL, "invoke", "read_file", False, False),
    ("permission set", [cap("m", ["main"], ["files:default"])],
     {"files:default": ["allow-read-file", "allow-greet"]}, "main", LOCAL, "invoke", "greet",
     False, True),
    ("nested permission set", [cap("m", ["main"], ["app:all"])],
     {"app:all": ["files:default"], "files:default": ["allow-greet"]}, "main", LOCAL, "invoke",
     "greet", False, True),
    ("a set that includes itself ends", [cap("m", ["main"], ["app:a"])],
     {"app:a": ["app:b", "allow-greet"], "app:b": ["app:a"]}, "main", LOCAL, "invoke", "greet",
     False, True),
    ("a set can deny", [cap("m", ["main"], ["allow-greet", "app:locked"])],
     {"app:locked": ["deny-greet"]}, "main", LOCAL, "invoke", "greet", False, False),
    ("a set does not grant what it does not list", [cap("m", ["main"], ["files:default"])],
     {"files:default": ["allow-read-file"]}, "main", LOCAL, "invoke", "greet", False, False),
    ("unknown identifiers grant nothing", [cap("m", ["main"], ["allow-gret", "everything"])],
     {}, "main", LOCAL, "invoke", "greet", False, False),
    ("prefixed command", [cap("m", ["main"], ["files:allow-read-text"])], {}, "main", LOCAL,
     "invoke", "files:read_text", False, True),
    ("prefix must match", [cap("m", ["main"], ["allow-read-text"])], {}, "main", LOCAL,
     "invoke", "files:read_text", False, False),
    ("events: default allows listen", [cap("m", ["main"], ["core:event:default"])], {}, "main",
     LOCAL, "listen", "clock", False, True),
    ("events: default allows emit", [cap("m", ["main"], ["core:event:default"])], {}, "main",
     LOCAL, "emit", "ping", False, True),
    ("events: default allows emitTo", [cap("m", ["main"], ["core:event:default"])], {}, "main",
     LOCAL, "emit", "ping", True, True),
    ("events: emit is not emitTo", [cap("m", ["main"], ["core:event:allow-emit"])], {}, "main",
     LOCAL, "emit", "ping", True, False),
    ("events: emit is not listen", [cap("m", ["main"], ["core:event:allow-emit"])], {}, "main",
     LOCAL, "listen", "ping", False, False),
    ("events: commands grant no events", [MAIN_GREET], {}, "main", LOCAL, "emit", "ping", False,
     False),
    ("events: deny emitTo, keep emit",
     [cap("m", ["main"], ["core:event:default", "core:event:deny-emit-to"])], {}, "main", LOCAL,
     "emit", "ping", False, True),
    ("events: deny emitTo",
     [cap("m", ["main"], ["core:event:default", "core:event:deny-emit-to"])], {}, "main", LOCAL,
     "emit", "ping", True, False),
    ("events: a sub-frame gets none by default", [cap("m", ["main"], ["core:event:default"])],
     {}, "main", sub("/widget.html"), "listen", "clock", False, False),
    ("an unusable window glob matches nothing", [cap("m", ["[main"], ["allow-greet"])], {},
     "[main", LOCAL, "invoke", "greet", False, False),
    ("an unusable URL pattern matches nothing",
     [cap("m", ["main"], ["allow-greet"], local=False, remote={"urls": ["ftp://example.com"]})],
     {}, "main", remote("ftp://example.com/"), "invoke", "greet", False, False),
    ("platform excluded", [cap("m", ["main"], ["allow-greet"], platforms=["macOS"])], {},
     "main", LOCAL, "invoke", "greet", False, False),
    ("platform included", [cap("m", ["main"], ["allow-greet"], platforms=["linux", "macOS"])],
     {}, "main", LOCAL, "invoke", "greet", False, True),
    ("excluded platform's deny does not apply",
     [MAIN_GREET, cap("no", ["main"], ["deny-greet"], platforms=["windows"])], {}, "main",
     LOCAL, "invoke", "greet", False, True),
]


@pytest.mark.parametrize(
    ("capabilities", "sets", "window", "origin", "kind", "name", "target", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_resolver(
    capabilities: list[dict[str, Any]],
    sets: dict[str, list[str]],
    window: str,
    origin: Origin,
    kind: str,
    name: str,
    target: bool,
    expected: bool,
) -> None:
    auth = authority(*capabilities, sets=sets)
    assert allowed(auth, window, origin, kind, name, target) is expected


def test_a_window_opened_later_gets_exactly_what_its_label_matches() -> None:
    auth = authority(MAIN_GREET, cap("tools", ["tool-*"], ["allow-list-items"]))
    assert allowed(auth, "main", LOCAL, "invoke", "greet")  # main is resolved first
    assert allowed(auth, "tool-42", LOCAL, "invoke", "list_items")
    assert not allowed(auth, "tool-42", LOCAL, "invoke", "greet")
    assert not allowed(auth, "main", LOCAL, "invoke", "list_items")


def test_what_a_caller_may_do_is_worked_out_once() -> None:
    auth = authority(MAIN_GREET)
    caller = Caller("main", LOCAL)
    first = auth.authorize(caller, "invoke", "greet")
    assert auth.context(caller) is auth.context(Caller("main", Origin("local", LOCAL.url)))
    assert auth.authorize(caller, "invoke", "greet") is first


def test_the_context_cache_is_bounded() -> None:
    auth = authority(cap("w", ["main"], ["allow-greet"], remote={"urls": ["/f/**"]}))
    for i in range(2000):
        assert allowed(auth, "main", sub(f"/f/page.html?n={i}"), "invoke", "greet")
    assert len(auth._contexts) <= 512


def test_the_context_cache_keeps_the_callers_in_use() -> None:
    # Many sub-frame origins pass by; the main page, asking all along, keeps its context.
    auth = authority(cap("w", ["main"], ["allow-greet"], remote={"urls": ["/f/**"]}))
    main = Caller("main", LOCAL)
    kept = auth.context(main)
    for i in range(2000):
        assert allowed(auth, "main", sub(f"/f/page.html?n={i}"), "invoke", "greet")
        assert auth.context(main) is kept


def test_scopes_of_every_applying_grant_merge_and_deny_entries_win() -> None:
    auth = authority(
        cap("a", ["main"], [{"identifier": "allow-read-file", "allow": [{"path": "/srv/a/**"}],
                             "deny": [{"path": "/srv/a/private/**"}]}]),
        cap("b", ["main"], [{"identifier": "allow-read-file", "allow": [{"path": "/srv/b/**"}]}]),
        cap("c", ["*"], [{"identifier": "deny-read-file", "deny": [{"path": "/srv/b/keys/**"}]}]),
        cap("other", ["settings"], [{"identifier": "allow-read-file",
                                     "allow": [{"path": "/srv/c/**"}]}]),
        cap("remote", ["main"], [{"identifier": "deny-read-file", "deny": [{"path": "/srv/**"}]}],
            local=False, remote={"urls": ["https://example.com"]}),
    )
    scope = auth.authorize(Caller("main", LOCAL), "invoke", "read_file")
    assert scope.command == "read_file"
    assert scope.allows_path("/srv/a/x.txt")
    assert scope.allows_path("/srv/b/x.txt")
    assert not scope.allows_path("/srv/a/private/x.txt")  # deny of grant "a" covers "b" too
    assert not scope.allows_path("/srv/b/keys/id")  # scope-only deny of "c"
    assert not scope.allows_path("/srv/c/x.txt")  # granted to another window
    assert [e.capability for e in scope.allow] == ["a", "b"]


def test_a_sets_deny_member_still_denies_when_the_set_carries_scope_entries() -> None:
    """The entries of {"identifier": "<set>", "deny": [...]} narrow the set's allow- members;
    they do not turn its deny- members into scope-only denies (which would let another grant
    of that command through)."""
    sets = {"files:rw": ["allow-read-file", "deny-greet"]}
    with_entries = {"identifier": "files:rw", "allow": [{"path": "/srv/**"}],
                    "deny": [{"path": "/srv/secret/**"}]}
    for entry in ("files:rw", with_entries):
        auth = authority(cap("a", ["main"], [entry]), cap("b", ["main"], ["allow-greet"]),
                         sets=sets)
        assert not allowed(auth, "main", LOCAL, "invoke", "greet"), entry
        scope = auth.authorize(Caller("main", LOCAL), "invoke", "read_file")
        if entry is with_entries:
            assert scope.allows_path("/srv/x") and not scope.allows_path("/srv/secret/x")
    assert not [p for c in authority(cap("a", ["main"], [with_entries]), sets=sets).compiled
                for p in c.problems]  # allow entries on the set are not "misplaced"


# Messages -----------------------------------------------------------------------------------


def denial(auth: Authority, window: str, origin: Origin, kind: str, name: str,
           target: bool = False) -> Forbidden:
    with pytest.raises(Forbidden) as error:
        auth.authorize(Caller(window, origin), kind, name, has_target=target)
    return error.value


def test_denial_names_command_window_origin_permission_and_the_file_to_edit() -> None:
    auth = authority(MAIN_GREET, files={"settings-window": cap("settings-window", ["settings"],
                                                               ["allow-greet"])})
    error = denial(auth, "settings", LOCAL, "invoke", "delete_item")
    assert error.code == "forbidden"
    for part in ("'delete_item'", "window 'settings'", "the local frontend",
                 '"allow-delete-item"', "capability 'settings-window'",
                 "capabilities/settings-window.json"):
        assert part in error.message
    assert error.data == {
        "permission": "allow-delete-item", "window": "settings", "origin": LOCAL.url,
        "originKind": "local", "capability": "settings-window",
    }


def test_denial_by_a_deny_names_the_deny_and_where_it_is_written() -> None:
    auth = authority(MAIN_GREET, cap("locked", ["main"], ["app:locked"]),
                     sets={"app:locked": ["deny-greet"]})
    error = denial(auth, "main", LOCAL, "invoke", "greet")
    assert "capability 'locked' denies it with 'deny-greet'" in error.message
    assert "in the set 'app:locked'" in error.message
    assert "app.conf.json $.app.security.capabilities[1].permissions[0]" in error.message


def test_denial_for_a_window_no_capability_covers_says_how_to_add_one() -> None:
    error = denial(authority(MAIN_GREET), "about", LOCAL, "invoke", "greet")
    assert "no capability applies to this window" in error.message
    assert '"windows": ["about"]' in error.message and '"allow-greet"' in error.message


def test_denial_in_a_subframe_says_which_url_to_name() -> None:
    error = denial(authority(MAIN_GREET), "main", sub("/widgets/clock.html?x=1"), "invoke",
                   "greet")
    assert "a sub-frame at http://127.0.0.1:40001/widgets/clock.html?x=1" in error.message
    assert '"/widgets/clock.html" to "remote.urls"' in error.message
    assert "grants it to this window, but only for the local frontend" in error.message


def test_denial_of_events_says_which_event_permission_is_missing() -> None:
    auth = authority(cap("m", ["main"], ["core:event:allow-emit"]))
    error = denial(auth, "main", LOCAL, "emit", "ping", target=True)
    assert "Emitting event 'ping' to another window" in error.message
    assert '"core:event:allow-emit-to"' in error.message
    assert "Listening to event 'clock'" in denial(auth, "main", LOCAL, "listen", "clock").message


def test_denial_points_out_a_misspelt_grant() -> None:
    error = denial(authority(cap("m", ["main"], ["allow-gret"])), "main", LOCAL, "invoke",
                   "greet")
    assert "'allow-gret' at app.conf.json $.app.security.capabilities[0].permissions[0] looks " \
           "like a misspelling" in error.message


def test_a_permission_that_exists_is_not_taken_for_a_misspelling() -> None:
    # core:event:allow-emit is one letter-run away from -emit-to, and allow-greet from
    # allow-greets; each is written on purpose.
    auth = authority(cap("m", ["main"], ["core:event:allow-emit", "allow-greet"]))
    auth.commands = lambda name: name == "greet"
    message = denial(auth, "main", LOCAL, "emit", "ping", target=True).message
    assert "misspelling" not in message, message
    message = denial(auth, "main", LOCAL, "invoke", "greets").message
    assert "misspelling" not in message, message


def test_the_suggested_capability_is_the_one_that_names_the_window_most_closely() -> None:
    # Adding the permission to "everyone" would grant it to every window.
    auth = authority(
        cap("everyone", ["*"], ["allow-greet"]),
        cap("tools", ["tool-*"], ["allow-greet"]),
        cap("tool-1-only", ["tool-1"], ["allow-greet"]),
    )
    error = denial(auth, "tool-1", LOCAL, "invoke", "delete_item")
    assert "capability 'tool-1-only'" in error.message
    assert error.data["capability"] == "tool-1-only"
    error = denial(auth, "tool-2", LOCAL, "invoke", "delete_item")
    assert error.data["capability"] == "tools"
    assert denial(auth, "main", LOCAL, "invoke", "delete_item").data["capability"] == "everyone"


def test_denial_mentions_a_grant_limited_to_other_platforms() -> None:
    auth = authority(cap("mac", ["main"], ["allow-greet"], platforms=["macOS"]))
    assert "grants it, but only on macOS" in denial(auth, "main", LOCAL, "invoke", "greet").message


def test_every_denial_is_logged_with_the_same_detail(caplog: pytest.LogCaptureFixture) -> None:
    auth = authority(MAIN_GREET)
    with caplog.at_level(logging.WARNING, logger="app.core.acl"):
        error = denial(auth, "main", remote("https://evil.test/"), "invoke", "greet")
    assert [r.getMessage() for r in caplog.records] == [f"denied: {error.message}"]



