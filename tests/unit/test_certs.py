"""The CA certificates of the TLS contexts made as aiohttp loads, read on a thread of their own
(``app.core.certs``): complete before ``wait()`` returns, and nothing else put off."""

from __future__ import annotations

import logging
import ssl
import threading

import pytest

from app.core import certs


def _whole() -> dict[str, int]:
    """What a context made as usual holds of the system's certificates."""
    return ssl.create_default_context().cert_store_stats()


def test_contexts_made_in_the_block_are_whole_once_wait_returns() -> None:
    whole = _whole()
    assert whole["x509_ca"] > 0, "this machine has no CA certificates: the test shows nothing"
    with certs.read_later():
        verified = ssl.create_default_context()
        unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified.set_default_verify_paths()
        assert verified.cert_store_stats()["x509_ca"] == 0  # put off
        assert unverified.cert_store_stats()["x509_ca"] == 0
    certs.wait()
    assert verified.cert_store_stats() == whole
    assert unverified.cert_store_stats() == whole


def test_contexts_made_on_other_threads_meanwhile_read_theirs_at_once() -> None:
    whole, made = _whole(), []
    with certs.read_later():
        other = threading.Thread(target=lambda: made.append(ssl.create_default_context()))
        other.start()
        other.join(timeout=30)
        assert made and made[0].cert_store_stats() == whole
    certs.wait()


def test_ssl_is_as_it_was_after_the_block_even_when_it_raises() -> None:
    with pytest.raises(ImportError), certs.read_later():
        assert "set_default_verify_paths" in vars(ssl.SSLContext)
        raise ImportError("a module that does not load")
    assert "set_default_verify_paths" not in vars(ssl.SSLContext)
    assert ssl.create_default_context().cert_store_stats() == _whole()
    certs.wait()


def test_nothing_put_off_and_wait_returns_at_once() -> None:
    with certs.read_later():
        pass
    assert certs._read.is_set()
    certs.wait()


class _Unreadable:
    def set_default_verify_paths(self) -> None:
        raise OSError("no such file: /etc/ssl/certs")


def test_a_context_that_cannot_read_them_is_logged_and_the_others_are_still_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    whole = _whole()
    with caplog.at_level(logging.ERROR, logger="app.core"), certs.read_later():
        ssl.SSLContext.set_default_verify_paths(_Unreadable())  # type: ignore[arg-type]
        good = ssl.create_default_context()
    certs.wait()
    assert good.cert_store_stats() == whole
    assert "could not be read" in caplog.text and "no such file" in caplog.text
