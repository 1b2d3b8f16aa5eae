"""The credentials' bookkeeping: what is kept, and for how long."""

from __future__ import annotations

import pytest

from app.core.acl.origin import Origin
from app.core.transport.credentials import (
    RESUMES_KEPT,
    TICKET_TTL,
    WINDOW_HEADER,
    Credentials,
    with_tab,
    without_tab,
)

LOCAL = Origin("local", "http://127.0.0.1:1")


def test_a_window_keeps_only_its_latest_resume_tickets() -> None:
    # Every connection gets a resume ticket good for a day; a page reloaded all day long must
    # not pile them up. The oldest go first, and the latest ones still work.
    credentials = Credentials()
    issued = [credentials.issue_resume("main", LOCAL) for _ in range(RESUMES_KEPT * 3)]
    other = credentials.issue_resume("settings", LOCAL)
    assert all(credentials.spend_ticket(t) is None for t in issued[: -RESUMES_KEPT])
    assert all(credentials.spend_ticket(t) is not None for t in issued[-RESUMES_KEPT:])
    assert credentials.spend_ticket(other) is not None  # another window's are its own


def test_a_connected_pages_resume_ticket_outlives_later_ones_of_pages_gone() -> None:
    """A page whose frame of its own origin reloaded 65 times lost its resume ticket to the
    frame's, and its next dropped connection could not come back (found by an attacker): the
    tickets of page loads no longer connected go first."""
    credentials = Credentials()
    page = credentials.issue_resume("main", LOCAL, "page", live={"page"})
    frames = [credentials.issue_resume("main", LOCAL, f"frame-{n}", live={"page", f"frame-{n}"})
              for n in range(RESUMES_KEPT * 3)]
    assert credentials.spend_ticket(page) is not None
    assert all(credentials.spend_ticket(t) is not None for t in frames[-RESUMES_KEPT + 1:])
    assert all(credentials.spend_ticket(t) is None for t in frames[: -RESUMES_KEPT + 1])


def test_what_is_kept_does_not_grow_with_page_loads() -> None:
    """Revoked and spent tickets stayed in the expiry queue until they would have expired (a
    resume ticket: a day): 10,000 page loads kept 10,000 entries."""
    credentials = Credentials()
    for _ in range(10_000):  # a page that reloads itself: a page ticket, spent; a resume one
        assert credentials.spend_ticket(credentials.issue_ticket("main", LOCAL)) is not None
        credentials.issue_resume("main", LOCAL)
    kept = sum(len(queue) for queue in credentials._expiring.values())
    assert len(credentials._tickets) == RESUMES_KEPT
    assert kept <= 2 * (RESUMES_KEPT + 64) + 2, kept


def test_spent_resume_tickets_do_not_count() -> None:
    credentials = Credentials()
    live = credentials.issue_resume("main", LOCAL)
    for _ in range(RESUMES_KEPT * 2):
        assert credentials.spend_ticket(credentials.issue_resume("main", LOCAL)) is not None
    assert credentials.spend_ticket(live) is not None


@pytest.mark.parametrize(
    "target",
    ["/index.html", "/index.html?flag&v=1.0~b&s=a%20b#/r?z=1", "/a/b.html#frag", "/x?a=1&b=2"],
)
def test_the_tab_secret_is_added_and_taken_out_as_text(target: str) -> None:
    with_it = with_tab(target, "T0K-_")
    assert "__app_tab=T0K-_" in with_it
    assert without_tab(with_it) == target
    assert without_tab(target) == target


def test_expired_page_tickets_are_dropped_as_pages_are_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every page served gets a ticket; those never spent go once expired, without a look at
    all the others each time (that got slow as they piled up)."""
    clock = [1000.0]
    monkeypatch.setattr("app.core.transport.credentials.time.monotonic", lambda: clock[0])
    credentials = Credentials()
    old = [credentials.issue_ticket("main", LOCAL) for _ in range(1000)]
    resume = credentials.issue_resume("main", LOCAL)
    clock[0] += TICKET_TTL + 1
    fresh = credentials.issue_ticket("main", LOCAL)
    assert len(credentials._tickets) == 2  # the fresh page ticket and the resume ticket
    assert all(credentials.spend_ticket(t) is None for t in old)
    assert credentials.spend_ticket(fresh) is not None
    assert credentials.spend_ticket(resume) is not None


def test_once_native_windows_are_required_only_their_requests_are_served() -> None:
    credentials = Credentials()
    assert credentials.from_windows({})  # serve, or an app on a loop of its own
    secret = credentials.require_windows()
    assert credentials.require_windows() == secret and len(secret) >= 43
    assert credentials.from_windows({WINDOW_HEADER: secret})
    assert not credentials.from_windows({})
    assert not credentials.from_windows({WINDOW_HEADER: secret[:-1]})
    assert not credentials.from_windows({WINDOW_HEADER: Credentials().require_windows()})
    # Text that is not ASCII, as anyone may send it (aiohttp keeps undecodable bytes as
    # surrogates): refused, not an error.
    for odd in ("\u00e9", secret[:-1] + "\u00e9", "\udcff" + secret[1:]):
        assert not credentials.from_windows({WINDOW_HEADER: odd})


def test_a_tab_secret_that_is_not_ascii_is_refused() -> None:
    credentials = Credentials()
    spent = credentials.spend_launch(credentials.new_launch("main"), "main")
    assert spent is not None
    secret, tab = spent
    assert credentials.tab_matches(secret, tab)
    for odd in ("\u00e9", tab[:-1] + "\u00e9", "\udcff" + tab[1:], ""):
        assert not credentials.tab_matches(secret, odd)
