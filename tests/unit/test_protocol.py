"""The wire codec: bad binary frames are protocol errors, and bytes survive a round trip."""

from __future__ import annotations

import struct

import orjson
import pytest

from app.core.errors import ProtocolError
from app.core.protocol import BYTES_KEY, decode_frame, encode, join_frames
from app.core.testing import _round_trip


def binary_frame(header: bytes, *blobs: bytes) -> bytes:
    return struct.pack("<I", len(header)) + header + b"".join(blobs)


def test_a_binary_header_nested_too_deeply_is_a_protocol_error() -> None:
    # orjson reads up to 1024 levels; restoring the blobs must not overflow Python's stack.
    nested = "[" * 1000 + "]" * 1000
    header = ('{"m":[' + nested + '],"a":[1]}').encode()
    assert orjson.loads(header)  # valid JSON: the depth is what is wrong
    with pytest.raises(ProtocolError, match="nested too deeply"):
        decode_frame(binary_frame(header, b"x"))


def test_a_binary_frame_without_blobs_is_taken_as_parsed() -> None:
    # A large message without binary values leaves the page as a binary frame (a Blob): its
    # messages are not walked for markers, as those of a text frame are not.
    # A marker-shaped value included: with no blobs it is a plain object, as in a text frame.
    value = [{"a": 1}, {BYTES_KEY: 0}]
    messages = [{"kind": "invoke", "id": 1, "cmd": "echo", "args": {"value": value}}]
    header = orjson.dumps({"m": messages, "a": []})
    assert decode_frame(binary_frame(header)) == messages
    assert decode_frame(binary_frame(header), binary=True) == decode_frame(
        orjson.dumps(messages).decode()
    )


def test_binary_frames_decode_whatever_their_header_length() -> None:
    # Whatever its length, a binary frame is binary, even when its first byte is "[".
    for n in range(300):
        message = {"kind": "reply", "id": 1, "value": {"data": b"\x00\x01", "text": "x" * n}}
        ((binary, frame),) = join_frames([encode(message)])
        assert binary
        assert decode_frame(frame, binary=True) == [message], n
        assert _round_trip(message) == message, n


def test_frames_keep_the_order_of_their_messages() -> None:
    # A channel's chunks (bytes) and the call's reply (text) must reach the page in order.
    messages = [
        {"kind": "event", "n": 1},
        {"kind": "event", "n": 2, "chunk": b"\x00\x01"},
        {"kind": "event", "n": 3},
        {"kind": "event", "n": 4},
        {"kind": "event", "n": 5, "chunk": b"\x02"},
        {"kind": "reply", "n": 6},
    ]
    frames = join_frames([encode(m) for m in messages])
    assert [binary for binary, _ in frames] == [False, True, False, True, False]
    decoded = [m for binary, frame in frames for m in decode_frame(frame, binary=binary)]
    assert decoded == messages


def test_keys_like_the_bytes_marker_survive_a_message_with_bytes() -> None:
    """The app's data may hold {"$__b": 0}: beside real bytes it must not become them."""
    import dataclasses

    from pydantic import BaseModel

    @dataclasses.dataclass
    class Note:
        meta: dict

    class Card(BaseModel):
        meta: dict

    message = {
        "data": b"\x01\x02",
        "fake": {"$__b": 0},
        "escaped": {"$$__b": "x", "k": {"$$$__b": 1}},
        "note": Note({"$__b": 0}),
        "card": Card(meta={"$__b": 1}),
        "text": 'a string with "$__b": in it',
    }
    ((binary, frame),) = join_frames([encode(message)])
    assert binary
    assert decode_frame(frame, binary=True) == [{
        "data": b"\x01\x02",
        "fake": {"$__b": 0},
        "escaped": {"$$__b": "x", "k": {"$$$__b": 1}},
        "note": {"meta": {"$__b": 0}},
        "card": {"meta": {"$__b": 1}},
        "text": 'a string with "$__b": in it',
    }]
    # Without bytes, nothing is escaped or restored: the text goes as it is.
    assert encode({"fake": {"$__b": 0}}).json == b'{"fake":{"$__b":0}}'
