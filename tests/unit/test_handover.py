"""A large frame handed over HTTP: as the connection that fetches it ends under it, and in how
many writes it goes."""

from __future__ import annotations

from app.core.transport.handover import _PIECE, PATH, Handovers, pieces


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


def test_a_frame_of_many_small_parts_is_written_in_few_pieces() -> None:
    # A reply of 100,000 small binary values is a frame of 100,001 parts: written part by part,
    # that was 100,001 writes (seconds, for 10 MB). The pieces are counted, not timed.
    parts = (b"h" * 300, *(bytes([i % 256]) * 100 for i in range(100_000)), b"t" * (3 * _PIECE))
    written = list(pieces(parts))
    total = sum(len(part) for part in parts)
    assert b"".join(bytes(piece) for piece in written) == b"".join(parts)
    assert len(written) == -(-total // _PIECE)  # as few as the piece size allows
    assert all(len(piece) == _PIECE for piece in written[:-1])
