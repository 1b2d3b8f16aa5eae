"""A large frame handed over HTTP, as the connection that fetches it ends under it."""

from __future__ import annotations

from app.core.transport.handover import PATH, Handovers


class _ClosedTransport:
    """A fetch's connection that its page's end closed already: aborting it again raised
    AttributeError (its loop is gone), and the writer of the page's socket died with it."""

    def is_closing(self) -> bool:
        return True

    def abort(self) -> None:
        raise AttributeError("'NoneType' object has no attribute 'call_soon'")


async def test_a_fetch_whose_connection_closed_meanwhile_is_left_as_it_is() -> None:
    handovers = Handovers()

    async def announce(path: str) -> None:  # the page fetches it; its connection then closes
        handovers._parked[path.removeprefix(PATH)].serving = _ClosedTransport()  # type: ignore[assignment]

    assert await handovers.hand_over(1, (b"x" * 10,), announce, patience=0.05) is False
    assert handovers._parked == {}
