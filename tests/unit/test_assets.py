"""Where the runtime goes in a page (before anything of the document runs, as a browser reads it),
and the encoding a page declares."""

from __future__ import annotations

import pytest

from app.core.assets import declared_charset, inject_head

TAG = b"<RUNTIME>"


@pytest.mark.parametrize(
    ("page", "placed"),
    [
        # First in the head, whatever the case, attributes and blanks.
        (b"<!doctype html><html><head><script>", b"<!doctype html><html><head><RUNTIME><script>"),
        (
            b"<!DOCTYPE html>\n<HTML lang=en>\n <!-- c -->\n <HEAD data-x='a>b'>\n<script>",
            b"<!DOCTYPE html>\n<HTML lang=en>\n <!-- c -->\n <HEAD data-x='a>b'>\n"
            b"<RUNTIME><script>",
        ),
        (b"\xef\xbb\xbf<html><head><meta>", b"\xef\xbb\xbf<html><head><RUNTIME><meta>"),
        # No head tag (HTML allows that): after <html>, and not in a <header>.
        (
            b"<!doctype html><html lang=en><title>x</title><script src=early.js></script>"
            b"<body><header>",
            b"<!doctype html><html lang=en><RUNTIME><title>x</title><script src=early.js></script>"
            b"<body><header>",
        ),
        (b'<html data-q="x>y"><body>', b'<html data-q="x>y"><RUNTIME><body>'),
        # A comment that mentions the tags is a comment.
        (
            b"<!doctype html><!-- <html> and <head> first --><html><head><script>",
            b"<!doctype html><!-- <html> and <head> first --><html><head><RUNTIME><script>",
        ),
        # Neither tag: after the doctype (before it, the page would be in quirks mode).
        (b"<!doctype html><title>m</title>", b"<!doctype html><RUNTIME><title>m</title>"),
        (b"<script>first()</script>", b"<RUNTIME><script>first()</script>"),
        (b"<head/><p>", b"<head/><RUNTIME><p>"),
        (b"", b"<RUNTIME>"),
        (b"<!-- never closed <head>", b"<!-- never closed <head><RUNTIME>"),
        # Comments end where a browser ends them: "<!-->" and "<!--->" are whole ones, and
        # "--!>" ends one. (Read to the next "-->", the script here ran before the runtime.)
        (b"<!--><script src=e.js></script>--><html><head>",
         b"<!--><RUNTIME><script src=e.js></script>--><html><head>"),
        (b"<!doctype html><!---><script>x()</script>-->",
         b"<!doctype html><!---><RUNTIME><script>x()</script>-->"),
        (b"<!-- a --!><html><head><p>-->", b"<!-- a --!><html><head><RUNTIME><p>-->"),
        (b"<!----><head><p>", b"<!----><head><RUNTIME><p>"),
        # Quotes delimit attribute values only: a quote elsewhere in the tag is no string.
        (b"<!doctype html><html a=b'><script src=evil.js></script><head>'>",
         b"<!doctype html><html a=b'><RUNTIME><script src=evil.js></script><head>'>"),
        (b"<html data-x = \"a>b\" c d='e>f'><head x'y>", b"<html data-x = \"a>b\" c d='e>f'>"
         b"<head x'y><RUNTIME>"),
        # HTML's whitespace, not Python's: a vertical tab is part of a name or a value.
        (b"<html a=\x0b\"><script src=evil.js></script>\">",
         b"<html a=\x0b\"><RUNTIME><script src=evil.js></script>\">"),
        (b"<!DOCTYPE html><HTML\x0bx=\"><script src=evil.js></script>\">",
         b"<!DOCTYPE html><RUNTIME><HTML\x0bx=\"><script src=evil.js></script>\">"),
    ],
)
def test_the_runtime_goes_before_anything_of_the_page_runs(page: bytes, placed: bytes) -> None:
    assert inject_head(page, TAG) == placed


@pytest.mark.parametrize(
    ("page", "declared"),
    [
        (b'<meta charset="iso-8859-1">', ("iso-8859-1", "cp1252")),  # as browsers read it
        (b"<META CHARSET = windows-1251 >", ("windows-1251", "cp1251")),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">',
         ("shift_jis", "shift_jis")),
        (b'<meta content="text/html; charset=koi8-r" http-equiv=content-type>',
         ("koi8-r", "koi8-r")),
        (b"<meta charset=utf-8>", None),
        (b"<!doctype html><p>none", None),
        (b"<!-- <meta charset=latin1> --><p>", None),  # in a comment
        (b'<meta name=description content="charset=koi8-r">', None),  # no http-equiv
        (b'<meta charset="utf-16">', None),  # read as UTF-8 by browsers
        (b"<meta charset=no-such-thing>", None),
        (b"\xef\xbb\xbf<meta charset=latin1>", None),  # the byte-order mark wins
        (b"<p>" + b" " * 1024 + b"<meta charset=latin1>", None),  # past the first 1024 bytes
    ],
)
def test_the_encoding_a_page_declares_is_found_as_a_browser_finds_it(
    page: bytes, declared: tuple[str, str] | None
) -> None:
    assert declared_charset(page) == declared
