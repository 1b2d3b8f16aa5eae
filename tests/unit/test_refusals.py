"""Refused requests: each answered, and logged within bounds whoever sends them."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from app.core.transport import loopback


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(loopback, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(loopback, "_refusals", loopback._RefusalLog())
    caplog.set_level(logging.WARNING, logger="app.core.transport")
    return now


def refuse_host(host: str) -> None:
    """A refusal of one place in the code, whatever the host."""
    response = loopback.refuse(421, f"Host {host!r} is not this app's address.")
    assert response.status == 421 and "is not this app's address" in response.text


def test_refusals_are_logged_within_bounds_and_counted_beyond(
    clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(loopback.LOGGED_REFUSALS + 30):
        refuse_host(f"h{n}'x\"" + "h" * 8000)  # each Host its own, with quotes: one kind still
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == loopback.LOGGED_REFUSALS
    assert all(len(line) < loopback.LOGGED_REASON + 150 for line in lines), max(map(len, lines))
    assert lines[0].endswith(" characters)")
    assert lines[-1].endswith("(more like it in the next 10 s are counted, not logged one by one)")
    caplog.clear()
    clock[0] += loopback.REFUSALS_WITHIN
    refuse_host("x")
    assert [r.getMessage() for r in caplog.records] == [
        "refused 30 more requests like the next, not logged one by one",
        "refused: Host 'x' is not this app's address.",
    ]


def test_a_flood_of_one_kind_does_not_hide_another(
    clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(500):
        refuse_host(f"flood-{n}")
    caplog.clear()
    loopback.refuse(403, "IPC from origin 'http://evil.example' is refused.")
    assert [r.getMessage() for r in caplog.records] == [
        "refused: IPC from origin 'http://evil.example' is refused."]
