"""Refused requests: each answered, and logged within bounds whoever sends them."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from app.core.transport import loopback


def test_refusals_are_logged_within_bounds_and_counted_beyond(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    monkeypatch.setattr(loopback, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(loopback, "_refusals", loopback._RefusalLog())
    caplog.set_level(logging.WARNING, logger="app.core.transport")
    host = "h" * 8000
    for _ in range(loopback.LOGGED_REFUSALS + 30):
        response = loopback.refuse(421, f"Host {host!r} is not this app's address.")
        assert response.status == 421 and host in response.text  # each one is answered
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == loopback.LOGGED_REFUSALS
    assert all(len(line) < loopback.LOGGED_REASON + 50 for line in lines), max(map(len, lines))
    assert lines[0].endswith("... (8034 characters)")
    caplog.clear()
    now[0] += loopback.REFUSALS_WITHIN
    loopback.refuse(403, "IPC ticket missing, already used or expired; reload the page.")
    assert [r.getMessage() for r in caplog.records] == [
        "refused 30 more requests, not logged one by one (at most 20 are logged every 10 s)",
        "refused: IPC ticket missing, already used or expired; reload the page.",
    ]
