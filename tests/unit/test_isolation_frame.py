"""The isolation frame's page and keys, as pure functions (real files, real AES-GCM)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.acl.origin import Origin
from app.core.errors import ProtocolError
from app.core.isolation.keys import (
    KEYS_KEPT,
    PASSED_KEPT,
    DocumentKey,
    KeyRing,
    associated_data,
    nonce,
)
from app.core.isolation.page import failure, render, security_headers

LOCAL = Origin("local", "http://127.0.0.1:5000")


def write_app(folder: Path, html: str, scripts: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text(html)
    for name, code in scripts.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    return folder


def scripts_of(html: bytes) -> list[tuple[str, str]]:
    return re.findall(r'<script nonce="([^"]+)">(.*?)</script>', html.decode(), re.S)


def test_every_script_is_inlined_with_the_nonce_after_the_shell_runtime(tmp_path: Path) -> None:
    folder = write_app(
        tmp_path / "iso",
        '<!doctype html><html><head><meta charset="utf-8">'
        '<script src="./lib/a.js?v=1"></script></head>'
        '<body><script>window.inline = 1;</script><script defer src="hook.js"></script>'
        '<!-- <script src="old.js"></script> --><!--><script>window.after = 2;</script>-->'
        '<script data-src="hook.js">window.own = 3;</script>'
        '<script type="text/plain" src="data.txt">data, not code</script></body>',
        {
            "lib/a.js": "window.a = '</script><b>';",
            "hook.js": "window.__ISOLATION_HOOK__ = (p) => p;",
        },
    )
    page = render(folder, {"key": "S0VZ", "kid": "k"})
    assert page.problems == []
    found = scripts_of(page.html)
    assert {nonce for nonce, _ in found} == {page.nonce}
    # Each named by its file, for its errors' line numbers (an inline one's lines are
    # index.html's: the lines before it are left blank).
    names = [re.findall(r"\n//# sourceURL=(\S+)$", body) for _, body in found]
    assert names == [[], ["lib/a.js"], ["index.html"], ["hook.js"], ["index.html"],
                     ["index.html"]]
    bodies = [re.sub(r"\n//# sourceURL=\S+$", "", body).lstrip("\n") for _, body in found]
    assert bodies[0].startswith("(function (config, wire)") and '"kid":"k"' in bodies[0]
    assert bodies[1] == "window.a = '<\\/script><b>';"  # cannot end its element early
    # (After "<!-->", a comment whole as it is, a script runs, as a browser reads it.)
    assert bodies[2:] == ["window.inline = 1;", "window.__ISOLATION_HOOK__ = (p) => p;",
                          "window.after = 2;", "window.own = 3;"]
    # A data block is no script: left as it is, with no nonce (so it could not run as one).
    assert b'<script type="text/plain" src="data.txt">data, not code</script>' in page.html
    assert b'src="./lib' not in page.html and b'src="hook' not in page.html
    assert b'<!-- <script src="old.js"></script> -->' in page.html


def test_what_cannot_run_in_the_frame_is_reported(tmp_path: Path) -> None:
    (tmp_path / "outside.js").write_text("window.x = 1;")
    folder = write_app(
        tmp_path / "iso",
        '<script src="missing.js"></script><script src="../outside.js"></script>'
        '<script type="module" src="hook.js"></script>',
        {"hook.js": "export {};"},
    )
    page = render(folder, {"key": "S0VZ"})
    assert len(page.problems) == 3
    assert "'missing.js'" in page.problems[0] and "'../outside.js'" in page.problems[1]
    assert "module" in page.problems[2]
    config = json.loads(re.search(rb"\)\((\{.*?\}), \(", page.html).group(1))
    assert config["problems"] == page.problems
    assert b"window.x" not in page.html and b"export" not in page.html


def test_a_script_that_cannot_be_read_after_one_that_could_is_reported(tmp_path: Path) -> None:
    """(A name too long to open, say: the page rendered raised instead, a 500 for the frame.)"""
    folder = write_app(
        tmp_path / "iso", f'<script src="hook.js"></script><script src="{"x" * 300}.js"></script>',
        {"hook.js": "window.__ISOLATION_HOOK__ = (p) => p;"},
    )
    page = render(folder, {"key": "S0VZ"})
    assert len(page.problems) == 1, page.problems
    assert f"loads the script '{'x' * 300}.js', which cannot be read" in page.problems[0]
    config = json.loads(re.search(rb"\)\((\{.*?\}), \(", page.html).group(1))
    assert [name for name, *_ in config["sources"]] == ["hook.js"]
    assert config["problems"] == page.problems


def test_the_failure_page_says_why_and_holds_no_key() -> None:
    page = failure("the link was used")
    assert b'"failed":"the link was used"' in page.html and b'"key"' not in page.html


def test_frame_headers_are_strict() -> None:
    headers = security_headers("N", "http://127.0.0.1:5000")
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; script-src 'nonce-N'")
    assert "frame-ancestors http://127.0.0.1:5000" in csp
    assert "sandbox allow-scripts allow-modals" in csp
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"


def seal(key: bytes, kid: str, seq: int, plaintext: bytes) -> bytes:
    return AESGCM(key).encrypt(nonce(seq), plaintext, associated_data(kid, seq))


def test_a_key_is_fresh_per_document_and_its_frame_is_served_once() -> None:
    ring = KeyRing()
    first, token = ring.mint("main", LOCAL)
    second, _ = ring.mint("main", LOCAL)
    assert first.kid != second.kid
    spent = ring.spend_frame(token)
    assert spent is not None
    key, secret = spent
    assert key is first and len(base64.b64decode(secret)) == 32
    assert first.secret is None, "the core forgets the raw key once the frame has it"
    assert ring.spend_frame(token) is None
    assert ring.spend_frame("not a token") is None
    assert base64.b64decode(secret) != second.secret


class Connection:
    """What a key in use holds on to: a connection that has not ended."""

    over = False


def test_a_window_keeps_its_keys_in_use_and_its_latest_others_only() -> None:
    """A page reloaded without end (or a frame of the page's own, loaded again and again) must
    not pile keys up: each is kept for a day, for its page to reconnect."""
    ring = KeyRing()
    in_use, token = ring.mint("main", LOCAL)
    ring.spend_frame(token)
    in_use.session = Connection()  # type: ignore[assignment]
    minted_keys = [ring.mint("main", LOCAL)[0] for _ in range(KEYS_KEPT * 4)]
    other, _ = ring.mint("settings", LOCAL)
    assert ring.get(in_use.kid) is in_use
    assert all(ring.get(k.kid) is None for k in minted_keys[: -KEYS_KEPT - 1])
    assert all(ring.get(k.kid) is k for k in minted_keys[-KEYS_KEPT:])
    assert ring.get(other.kid) is other  # another window's are its own


def minted() -> tuple[DocumentKey, bytes]:
    """A fresh document key, and its raw bytes as its frame page got them."""
    ring = KeyRing()
    key, token = ring.mint("main", LOCAL)
    spent = ring.spend_frame(token)
    assert spent is not None
    return key, base64.b64decode(spent[1])


def test_messages_open_only_in_sequence_untampered_and_under_their_key() -> None:
    key, raw = minted()
    assert key.open(0, seal(raw, key.kid, 0, b"zero")) == b"zero"
    with pytest.raises(ProtocolError, match="number 0 arrived where number 1 was due"):
        key.open(0, seal(raw, key.kid, 0, b"zero"))
    with pytest.raises(ProtocolError, match="number 2 arrived"):
        key.open(2, seal(raw, key.kid, 2, b"two"))
    tampered = bytearray(seal(raw, key.kid, 1, b"one"))
    tampered[0] ^= 0x80
    for bad in (
        bytes(tampered),
        b"",
        seal(raw, "another kid", 1, b"one"),
        seal(AESGCM.generate_key(256), key.kid, 1, b"one"),
    ):
        with pytest.raises(ProtocolError, match="did not decrypt"):
            key.open(1, bad)
    # None of the failures used up number 1.
    assert key.open(1, seal(raw, key.kid, 1, b"one")) == b"one"


def test_a_group_is_handed_out_in_order_once_and_blocks_the_next_until_done() -> None:
    key, raw = minted()
    key.open(0, seal(raw, key.kid, 0, b"J[]"))
    key.due.extend([{"id": 7}, {"id": 8}])
    with pytest.raises(ProtocolError, match="No sealed message for call 8"):
        key.claim(8, 0)
    with pytest.raises(ProtocolError, match="number 1 arrived where number 1 was due"):
        key.claim(7, 1)
    assert key.claim(7, 0) == {"id": 7}
    with pytest.raises(ProtocolError, match="still due"):
        key.open(1, seal(raw, key.kid, 1, b"J[]"))
    assert key.claim(8, 0) == {"id": 8}
    with pytest.raises(ProtocolError, match="No sealed message for call 8"):
        key.claim(8, 0)
    assert key.open(1, seal(raw, key.kid, 1, b"next")) == b"next"


def test_numbers_passed_over_are_skipped_when_due_and_never_open() -> None:
    key, raw = minted()
    key.pass_over(2)
    key.pass_over(3)
    key.pass_over(0)  # the one due, or behind it: not passed over
    assert key.open(0, seal(raw, key.kid, 0, b"zero")) == b"zero"
    assert key.open(1, seal(raw, key.kid, 1, b"one")) == b"one"
    for spent in (2, 3):  # passed over: a copy sent now is behind the sequence
        with pytest.raises(ProtocolError, match=f"number {spent} arrived where number 4"):
            key.open(spent, seal(raw, key.kid, spent, b"late"))
    with pytest.raises(ProtocolError, match="No sealed message for call 1 is due"):
        key.claim(1, 3)
    assert key.open(4, seal(raw, key.kid, 4, b"four")) == b"four"
    # Only so many are kept.
    for seq in range(10, 10 + PASSED_KEPT + 5):
        key.pass_over(seq)
    assert len(key.passed) == PASSED_KEPT


def test_a_group_refused_while_one_is_still_due_is_passed_over_once_that_one_came() -> None:
    key, raw = minted()
    key.open(0, seal(raw, key.kid, 0, b"J[]"))
    key.due.extend([{"id": 7}, {"id": 8}])
    assert key.claim(7, 0) == {"id": 7}
    refusal = key.early(1)  # number 1, while 8 of number 0 is held back
    assert refusal is not None and "still due" in refusal.message
    assert key.may_pass_over(1)
    key.pass_over(1)
    assert not key.may_pass_over(1)  # a copy of it is refused without another look
    assert key.claim(8, 0) == {"id": 8}
    assert key.next_seq == 2
    assert key.open(2, seal(raw, key.kid, 2, b"two")) == b"two"
    assert not key.may_pass_over(3)  # due next, with nothing held back: it opens, or not


def test_copies_of_a_large_group_in_one_frame_are_read_ahead_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each copy needs bytes of its own in the frame, but each was decrypted and parsed: only
    the first is, and the stage refuses the others unopened."""
    from app.core.isolation import stage

    ring = KeyRing()
    key, token = ring.mint("main", LOCAL)
    spent = ring.spend_frame(token)
    assert spent is not None
    raw = base64.b64decode(spent[1])
    ct = seal(raw, key.kid, 0, b'J[{"id":1,"kind":"invoke","cmd":"greet","args":{}}]')
    read: list[bytes] = []
    plain_messages = stage._plain_messages
    monkeypatch.setattr(stage, "_plain_messages", lambda p: (read.append(p), plain_messages(p))[1])
    envelopes = [{"id": 1, "kind": "sealed", "kid": key.kid, "seq": 0, "ct": bytes(ct)}
                 for _ in range(3)]
    # A decoy of that number in front (it does not decrypt): the real one is still read ahead.
    decoy = {**envelopes[0], "ct": bytes(len(ct))}
    stage.read_ahead(ring, key.kid, [decoy, *envelopes])
    assert len(read) == 1
    assert type(decoy["ct"]) is stage.Opened and not decoy["ct"].decrypted
    # The copies get what the first got (whichever of them the stage opens, if any).
    opened = envelopes[0]["ct"]
    assert type(opened) is stage.Opened and opened.decrypted
    assert all(e["ct"] is opened for e in envelopes)
    # Under another page load's key, nothing is read.
    stage.read_ahead(ring, "another-page-load", [{**envelopes[1]}])
    assert len(read) == 1
