"""Window-label globs, path globs and remote.urls patterns: what matches, and what is refused."""

from __future__ import annotations

import pytest

from app.core.acl.glob import PatternError, compile_label_glob, compile_path_glob
from app.core.acl.origin import Origin
from app.core.acl.urls import compile_url_pattern

VARIABLES = {"$APP": "/", "$HOME": "/", "$APPDATA": "/", "$TEMP": "/"}


@pytest.mark.parametrize(
    ("glob", "label", "expected"),
    [
        ("main", "main", True),
        ("main", "main2", False),
        ("main", "Main", False),
        ("tool-*", "tool-1", True),
        ("tool-*", "tool-", True),
        ("tool-*", "tool", False),
        ("tool-*", "xtool-1", False),
        ("tool-?", "tool-12", False),
        ("tool-[12]", "tool-2", True),
        ("tool-[!12]", "tool-2", False),
        ("*", "anything/at:all", True),
    ],
)
def test_label_globs(glob: str, label: str, expected: bool) -> None:
    assert (compile_label_glob(glob).match(label) is not None) is expected


@pytest.mark.parametrize("glob", ["", "[main", "main window", "ma{i,n}"])
def test_label_globs_that_cannot_work_are_refused(glob: str) -> None:
    with pytest.raises(PatternError):
        compile_label_glob(glob)


@pytest.mark.parametrize("glob", ["**", "tools/**"])
def test_a_double_star_in_a_label_glob_is_refused_for_what_it_is(glob: str) -> None:
    """Not as a path's misplaced '**' (it is a whole segment there): labels have no segments,
    and '*' already matches across their '/'."""
    with pytest.raises(PatternError) as error:
        compile_label_glob(glob)
    assert "whole path segment" not in str(error.value)
    assert "'*' matches any characters of a label, '/' among them" in str(error.value)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/srv/web/**", "/srv/web", True),
        ("/srv/web/**", "/srv/web/index.html", True),
        ("/srv/web/**", "/srv/web/a/b/c.txt", True),
        ("/srv/web/**", "/srv/web-evil/index.html", False),
        ("/srv/web/**", "/srv/webx", False),
        ("/srv/web/**", "/srv", False),
        ("/srv/web/*", "/srv/web/a.txt", True),
        ("/srv/web/*", "/srv/web/a/b.txt", False),
        ("/srv/web/*.txt", "/srv/web/a.txt", True),
        ("/srv/web/*.txt", "/srv/web/a.txt.bak", False),
        ("/srv/web/*.txt", "/srv/web/sub/a.txt", False),
        ("/srv/**/*.json", "/srv/app.json", True),
        ("/srv/**/*.json", "/srv/a/b/app.json", True),
        ("/srv/**/*.json", "/srv/a/b/app.yaml", False),
        ("/srv/**/cache/**", "/srv/x/y/cache/z", True),
        ("/srv/**/cache/**", "/srv/x/y/cached/z", False),
        ("/srv/?.txt", "/srv/a.txt", True),
        ("/srv/?.txt", "/srv/ab.txt", False),
        ("/srv/[ab].txt", "/srv/b.txt", True),
        ("/srv/[!ab].txt", "/srv/b.txt", False),
        ("/srv/[!ab].txt", "/srv/c.txt", True),
        ("/srv//web/./x/../**", "/srv/web/f", True),
        ("/srv/web/../data/**", "/srv/data/f", True),
        ("/srv/web/../data/**", "/srv/web/f", False),
        ("/**", "", True),
        ("/**", "/etc/passwd", True),
    ],
)
def test_path_globs(pattern: str, path: str, expected: bool) -> None:
    assert compile_path_glob(pattern, VARIABLES, ignore_case=False).matches(path) is expected


def test_variables_are_literal_even_with_wildcard_characters() -> None:
    glob = compile_path_glob("$APP/**", {"$APP": "/srv/a[b]*"}, ignore_case=False)
    assert glob.matches("/srv/a[b]*/file")
    assert not glob.matches("/srv/ab/file")
    assert not glob.matches("/srv/a[b]*x/file")


def test_a_case_insensitive_file_system_makes_patterns_ignore_case() -> None:
    deny = compile_path_glob("/srv/secret/**", VARIABLES, ignore_case=True)
    assert deny.matches("/srv/SECRET/key.txt")
    assert deny.matches("/SRV/Secret")
    exact = compile_path_glob("/srv/secret/**", VARIABLES, ignore_case=False)
    assert not exact.matches("/srv/SECRET/key.txt")


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ("relative/**", "not absolute"),
        ("$FOO/x", "unknown variable $FOO"),
        ("$APPx/y", "unknown variable"),
        ("$APP.d/y", "put '/' after $APP"),
        ("/$APP/secret/**", "$APP stands for a folder only at the start"),
        ("$APP/web/$HOME/**", "$HOME stands for a folder only at the start"),
        ("/srv/**secret", "'**' must be a whole path segment"),
        ("/srv/a**/b", "'**' must be a whole path segment"),
        ("/srv/[abc", "no ']' closes"),
        ("/srv/a[/]b", "no ']' closes"),
        ("/srv/{a,b}", "'{' and '}'"),
        ("/srv/**/../x", "'..' cannot follow"),
        ("", "non-empty"),
    ],
)
def test_path_globs_that_cannot_work_are_refused(pattern: str, complaint: str) -> None:
    with pytest.raises(PatternError) as error:
        compile_path_glob(pattern, VARIABLES, ignore_case=False)
    assert complaint in str(error.value)


def remote(url: str) -> Origin:
    return Origin("remote", url)


def subframe(path: str, port: int = 41234) -> Origin:
    return Origin("subframe", f"http://127.0.0.1:{port}{path}")


@pytest.mark.parametrize(
    ("pattern", "origin", "expected"),
    [
        ("https://docs.example.com", remote("https://docs.example.com/a/b?q=1#x"), True),
        ("https://docs.example.com/**", remote("https://docs.example.com"), True),
        ("https://docs.example.com/guide/**", remote("https://docs.example.com/guide/x"), True),
        ("https://docs.example.com/guide/**", remote("https://docs.example.com/guided"), False),
        ("https://docs.example.com/guide/**", remote("https://docs.example.com/x/../guide/a"),
         True),
        ("https://docs.example.com/guide/**", remote("https://docs.example.com/guide/../admin"),
         False),
        ("https://docs.example.com/guide/**", remote("https://docs.example.com/guide/%2e%2e/a"),
         False),
        ("https://docs.example.com", remote("http://docs.example.com/"), False),
        ("https://docs.example.com", remote("https://docs.example.com:8443/"), False),
        ("https://docs.example.com", remote("https://docs.example.com:443/"), True),
        ("https://docs.example.com", remote("https://DOCS.Example.com/"), True),
        ("https://docs.example.com", remote("https://docs.example.com.evil.net/"), False),
        ("https://docs.example.com", remote("https://evil.net/?docs.example.com"), False),
        ("https://docs.example.com", remote("https://docs.example.com@evil.net/"), False),
        ("https://*.example.com", remote("https://a.b.example.com/"), True),
        ("https://*.example.com", remote("https://example.com/"), False),
        ("https://*.example.com", remote("https://evilexample.com/"), False),
        ("http://localhost:*", remote("http://localhost:5173/x"), True),
        ("http://localhost:5173", remote("http://localhost:5174/x"), False),
        ("https://*", remote("https://anything.test/"), True),
        ("https://docs.example.com", Origin("local", "https://docs.example.com"), False),
        ("/widgets/**", subframe("/widgets/clock.html?x=1"), True),
        ("/widgets/**", subframe("/widgets/clock.html", port=50001), True),
        ("/widgets/**", subframe("/widgets-evil/clock.html"), False),
        ("/widgets/**", subframe("/widgets/../index.html"), False),
        ("/widgets/**", subframe("//widgets/clock.html"), True),
        ("/widget.html", subframe("/widget.html"), True),
        ("/widget.html", subframe("/widget.html/x"), False),
        ("/widget.html", remote("http://127.0.0.1:41234/widget.html"), False),
        ("/widget.html", Origin("subframe", "https://example.com/widget.html"), False),
        ("/widget.html", Origin("local", "http://127.0.0.1:41234"), False),
        # Patterns are decoded as page paths are (one pasted from the address bar).
        ("https://x.com/a%20b", remote("https://x.com/a%20b"), True),
        ("https://x.com/a%20b", remote("https://x.com/a b"), True),
        ("https://x.com/%61", remote("https://x.com/a"), True),
        ("/my%20widget.html", subframe("/my%20widget.html"), True),
        # An encoded / or \\ separates folders for some servers and not for others (browsers
        # leave it): the page must be named either way. /u/..%2Fdocs%2Fx is /docs/x decoded, but
        # a server routing on the raw path serves it from /u/.
        ("https://x.com/docs/**", remote("https://x.com/u/..%2Fdocs%2Fx"), False),
        ("https://x.com/docs/**", remote("https://x.com/u/..%5cdocs/x"), False),
        ("https://x.com/docs/**", remote("https://x.com/docs/a%2F..%2F..%2Fadmin"), False),
        ("https://x.com/docs/**", remote("https://x.com/docs/a%2Fb"), False),
        ("https://x.com/**", remote("https://x.com/u/..%2Fdocs%2Fx"), True),
        ("https://x.com/docs/**", remote("https://x.com/docs/%252F..%252Fx"), False),  # twice
        ("https://x.com/docs/**", remote("https://x.com/docs/..%5Cother%5Cindex.html"), False),
        # Other servers' readings: ';parameters' dropped from segments (Java's), decoded twice.
        ("https://x.com/docs/**", remote("https://x.com/docs/..;/u/evil"), False),
        ("https://x.com/docs/**", remote("https://x.com/docs/..%3B/u/evil"), False),
        ("https://x.com/docs/**", remote("https://x.com/docs/%2e%2e;/u/evil"), False),
        ("https://x.com/docs/**", remote("https://x.com/docs/..%252Fu/evil"), False),
        ("https://x.com/docs/**", remote("https://x.com/docs/page;jsessionid=1"), False),
        ("https://x.com/**", remote("https://x.com/docs/page;jsessionid=1"), True),
        ("https://x.com", remote("https://x.com/docs/..;/u/evil"), True),
        # Readings combined: Kestrel on Windows (decodes once, keeps %2F, \\ separates),
        # Tomcat (drops ;parameters from the raw path, then decodes once).
        ("https://x.com/docs/**",
         remote("https://x.com/docs/q%252Fz%252F%5C..%5C..%5Cother/evil.html"), False),
        ("https://x.com/docs/**", remote("https://x.com/docs/q%252Fz%252F/..;/..;/other/e.html"),
         False),
        ("https://x.com/docs/**", remote("https://x.com/docs/100%25.html"), False),
        ("/widgets/**", subframe("/widgets/..%2Fsecret.html"), False),
        ("/widgets/**", subframe("/widgets/a%2Fb.html"), False),
        ("/**", subframe("/widgets/a%2Fb.html"), True),
    ],
)
def test_url_patterns(pattern: str, origin: Origin, expected: bool) -> None:
    assert compile_url_pattern(pattern).matches(origin) is expected


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ("example.com", "not a URL pattern"),
        ("ftp://example.com", "use http:// or https://"),
        ("https://exa*mple.com", "host may only be '*'"),
        ("https://user@example.com", "user name"),
        ("https://example.com:99999", "port"),
        ("https://example.com/a?b=c", "queries and fragments"),
        ("/page.html#top", "queries and fragments"),
        ("https://", "names no host"),
        ("https://example.com/**x", "'**' must be a whole path segment"),
        ("https://example.com/a%2Ab", "a wildcard character written as %XX"),
        # It was the app's own path /cdn.example.com/**: the site's pages never got IPC.
        ("//cdn.example.com/**", "names no scheme: write 'https://cdn.example.com/**'"),
    ],
)
def test_url_patterns_that_cannot_work_are_refused(pattern: str, complaint: str) -> None:
    with pytest.raises(PatternError) as error:
        compile_url_pattern(pattern)
    assert complaint in str(error.value)
