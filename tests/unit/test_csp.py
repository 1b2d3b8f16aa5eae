"""The pages' Content-Security-Policy: the shell's sources are added, nothing else is restricted."""

from __future__ import annotations

import base64
import hashlib

import pytest

from app.core.transport.csp import INLINE_HASHES, build_csp, inline_script_hashes

WS = "ws://127.0.0.1:5000/__app__/ipc"


def directives(policy: str) -> dict[str, list[str]]:
    return {p.split()[0]: p.split()[1:] for p in policy.split("; ") if p}


def csp(policy: str | None, frame: str | None = None) -> dict[str, list[str]]:
    return directives(build_csp(policy, nonce="N", connect=[WS], frame=frame))


def test_the_default_policy_is_strict_and_holds_the_shells_sources() -> None:
    got = csp(None, frame="http://127.0.0.1:6000")
    assert got["script-src"] == ["'self'", "'unsafe-eval'", "'nonce-N'"]  # no inline but ours
    assert got["connect-src"] == ["'self'", WS]
    assert got["frame-src"] == ["'self'", "http://127.0.0.1:6000"]
    assert got["object-src"] == ["'none'"]


def test_sources_join_the_directive_or_what_default_src_allows() -> None:
    got = csp("default-src 'self' https://cdn.example.com; img-src *")
    assert got["script-src"] == ["'self'", "https://cdn.example.com", "'nonce-N'"]
    assert got["connect-src"] == ["'self'", "https://cdn.example.com", WS]
    assert got["img-src"] == ["*"]
    assert csp("default-src 'none'")["connect-src"] == [WS]


@pytest.mark.parametrize("policy", ["img-src 'self'", "frame-ancestors 'none'"])
def test_a_policy_that_does_not_restrict_scripts_is_not_made_to(policy: str) -> None:
    got = csp(policy, frame="http://127.0.0.1:6000")
    assert "script-src" not in got and "connect-src" not in got and "frame-src" not in got
    assert got == directives(policy)


def test_unsafe_inline_is_not_turned_off_by_the_nonce() -> None:
    got = csp("default-src 'self' 'unsafe-inline'")
    assert "script-src" not in got  # scripts keep default-src, 'unsafe-inline' included
    got = csp("script-src 'self' 'unsafe-inline'")
    assert got["script-src"] == ["'self'", "'unsafe-inline'"]
    # With a nonce or hash of its own, 'unsafe-inline' is off already: the nonce joins them.
    got = csp("script-src 'self' 'unsafe-inline' 'sha256-abc'")
    assert got["script-src"][-1] == "'nonce-N'"


@pytest.mark.parametrize(
    "policy",
    [
        {"Default-Src": "'self'", "SCRIPT-SRC": ["'self'"]},
        "Default-Src 'self'; SCRIPT-SRC 'self'",
        # Named twice: a browser takes the first, and so does the shell (the second would let
        # any script in).
        "default-src 'self'; script-src 'self'; script-src *",
        {"default-src": "'self'", "script-src": "'self'", "Script-Src": "*"},
    ],
)
def test_directives_are_read_as_a_browser_reads_them(policy: str | dict[str, object]) -> None:
    got = directives(build_csp(policy, nonce="N", connect=[WS], frame=None))  # type: ignore[arg-type]
    assert got["script-src"] == ["'self'", "'nonce-N'"]
    assert got["connect-src"] == ["'self'", WS]
    assert got["default-src"] == ["'self'"]


def test_what_the_shell_adds_falls_back_as_in_a_browser() -> None:
    """frame-src and worker-src fall back to child-src before default-src: built from
    default-src, they let in what the author's child-src refused."""
    got = directives(build_csp("default-src 'self' http://127.0.0.1:*; child-src 'none'",
                               nonce="N", connect=[WS], frame="http://127.0.0.1:6000",
                               workers=("blob:",)))
    assert got["frame-src"] == ["http://127.0.0.1:6000"]
    assert got["worker-src"] == ["blob:"]
    assert got["child-src"] == ["'none'"]
    # child-src alone restricts frames: the isolation frame is added where it counts.
    alone = directives(build_csp("child-src 'self'", nonce="N", connect=[WS],
                                 frame="http://127.0.0.1:6000"))
    assert alone["frame-src"] == ["'self'", "http://127.0.0.1:6000"]


def test_only_ascii_whitespace_separates_a_policys_words() -> None:
    # A browser reads "\\vscript-src" as a directive name it does not know, and ignores it.
    got = directives(build_csp("default-src 'self'; \vscript-src 'self' data:", nonce="N",
                               connect=[WS], frame=None))
    assert "script-src" in got and "data:" not in got["script-src"]
    assert got["script-src"] == ["'self'", "'nonce-N'"]
    assert "script-src" in csp("default-src 'self';\tscript-src\t'self'")


@pytest.mark.parametrize(
    ("policy", "where"),
    [
        ("default-src 'self'; script-src-elem 'self'", ["script-src-elem", "script-src"]),
        ("script-src 'strict-dynamic' 'unsafe-inline' 'self'", ["script-src"]),
        ("script-src 'unsafe-inline' 'Strict-Dynamic'", ["script-src"]),
        ("script-src 'unsafe-inline' 'NONCE-abc'", ["script-src"]),
    ],
)
def test_the_nonce_goes_where_a_browser_looks_for_it(policy: str, where: list[str]) -> None:
    got = csp(policy)
    for name in where:
        assert "'nonce-N'" in got[name], got


def test_each_of_several_policies_lets_the_shell_in() -> None:
    header = build_csp("script-src 'self', img-src 'self'; default-src 'self'", nonce="N",
                       connect=[WS], frame=None)
    first, second = (directives(p.strip()) for p in header.split(","))
    assert first["script-src"] == ["'self'", "'nonce-N'"]
    assert second["script-src"] == ["'self'", "'nonce-N'"] and second["connect-src"] == [
        "'self'", WS]


def test_unsafe_inline_in_any_case_is_not_turned_off() -> None:
    for policy in ("script-src 'self' 'UNSAFE-INLINE'",
                   {"script-src": ["'self' 'unsafe-inline'"]}):
        got = directives(build_csp(policy, nonce="N", connect=[WS], frame=None))  # type: ignore[arg-type]
        assert not any(s.startswith("'nonce-") for s in got["script-src"]), got


def test_inline_scripts_are_hashed_as_a_browser_reads_them() -> None:
    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    page = (
        b"<!doctype html><script>a &amp; b</script ><SCRIPT type=module>\r\nx<y\r</Script>"
        b"<script src=a.js>not run</script><!-- <script>commented</script> -->"
        b"<script>a &amp; b</script><script>nul\0</script>"
    )
    assert inline_script_hashes(page) == (sha("a &amp; b"), sha("\nx<y\n"), sha("nul\ufffd"))
    assert inline_script_hashes(b"<p>no scripts</p>") == ()
    assert inline_script_hashes(b"<script src=x.js></script>") == ()
    # Text that a browser does not run as a script gets no hash: a script injected later
    # with the same text would run by it.
    for text in (
        b"<textarea><script>T</script></textarea>",
        b"<title><script>T</script></title>",
        b"<noscript><script>T</script></noscript>",
        b"<iframe><script>T</script></iframe>",
        b"<!-- -- ><script>T</script> -->",
        b"<script><!--<script>T</script>--></script>",  # one script, its text all of this
        b'<script type="application/json">T</script>',
        b"<template><script>T</script></template>",
        b"<script language=vbscript>T</script>",
        b"<script nomodule>T</script>",
        b"<script for=button event=onclick>T</script>",
        '<script type="text/javascript\u00a0">T</script>'.encode(),  # (not ASCII space)
    ):
        assert sha("T") not in inline_script_hashes(text), text
    assert inline_script_hashes(b"<svg><script>S</script></svg>") == (sha("S"),)
    assert inline_script_hashes(b"<script type=MODULE>M</script>") == (sha("M"),)
    for runs in (b"<script language=JavaScript>R</script>",
                 b"<script type=module nomodule>R</script>",
                 b"<script for=window event=onload>R</script>",
                 b'<script type=" text/javascript\n">R</script>'):
        assert inline_script_hashes(runs) == (sha("R"),), runs
    assert inline_script_hashes(b"<![if x]><script>unclosed") == (sha("unclosed"),)


def test_a_page_gets_hashes_for_so_many_inline_scripts(caplog: pytest.LogCaptureFixture) -> None:
    inline_script_hashes.cache_clear()  # (a page's hashes are kept: the warning comes once)
    exactly = b"".join(b"<script>%d</script>" % n for n in range(INLINE_HASHES))
    assert len(inline_script_hashes(exactly + exactly)) == INLINE_HASHES  # (the same, twice)
    assert "inline scripts" not in caplog.text
    many = b"".join(b"<script>%d</script>" % n for n in range(INLINE_HASHES + 50))
    assert len(inline_script_hashes(many)) == INLINE_HASHES
    assert "more than 200 inline scripts" in caplog.text


def test_inline_hashes_go_where_the_nonce_goes() -> None:
    def with_inline(policy: str | None) -> dict[str, list[str]]:
        return directives(build_csp(policy, nonce="N", connect=[WS], frame=None,
                                    inline=("'sha256-A'",)))

    assert with_inline(None)["script-src"] == ["'self'", "'unsafe-eval'", "'nonce-N'",
                                               "'sha256-A'"]
    got = with_inline("script-src 'self'; script-src-elem 'self'")
    assert got["script-src"] == got["script-src-elem"] == ["'self'", "'nonce-N'", "'sha256-A'"]
    # A policy that runs every inline script keeps doing so: a hash would turn that off.
    assert with_inline("script-src 'self' 'unsafe-inline'")["script-src"] == [
        "'self'", "'unsafe-inline'"]
