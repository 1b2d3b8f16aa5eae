"""The wire codec: bad binary frames are protocol errors, and bytes and long strings survive a
round trip."""

from __future__ import annotations

import datetime
import enum
import gc
import math
import struct

import orjson
import pytest

from app.core.errors import ProtocolError
from app.core.protocol import BYTES_KEY, TEXT_FROM, decode_frame, encode, join_frames
from app.core.testing import _round_trip


def binary_frame(header: bytes, *blobs: bytes) -> bytes:
    return struct.pack("<I", len(header)) + header + b"".join(blobs)


DEEPER = "The frame nests values deeper than the core could send them back"


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def test_a_binary_header_nested_too_deeply_is_a_protocol_error() -> None:
    # orjson reads up to 1024 levels; restoring the blobs must not overflow Python's stack.
    header = ('{"m":[' + _nested(1000) + '],"a":[1]}').encode()
    assert orjson.loads(header)  # valid JSON: the depth is what is wrong
    with pytest.raises(ProtocolError, match=DEEPER):
        decode_frame(binary_frame(header, b"x"))


@pytest.mark.parametrize("binary", [False, True])
def test_values_too_deep_to_send_back_are_refused_as_they_come_in(binary: bool) -> None:
    """The parser reads 1024 levels, the encoder 255: what a page sent that deep was taken in
    (a setting saved) and could never be sent back (every read of it failed)."""

    def frame(depth: int) -> str | bytes:
        message = '{"id":1,"kind":"invoke","cmd":"save","args":{"v":' + _nested(depth) + "}}"
        if not binary:
            return "[" + message + "]"
        return binary_frame(('{"m":[' + message + '],"a":[]}').encode())

    for depth in (10, 240, 251):  # kept, and encodable again
        (message,) = decode_frame(frame(depth))
        assert encode({"kind": "reply", "id": 1, "ok": True, "value": message["args"]["v"]})
    for depth in (252, 300, 1000):
        with pytest.raises(ProtocolError, match=DEEPER):
            decode_frame(frame(depth))
    # Many brackets, none deep: taken as it is.
    wide = "[" + ",".join([f'{{"id":{i},"kind":"invoke","cmd":"x","args":{{"v":[[1]]}}}}'
                           for i in range(300)]) + "]"
    assert len(decode_frame(wide)) == 300


@pytest.mark.parametrize("text", [False, True])
def test_a_blob_named_by_two_values_is_a_protocol_error(text: bool) -> None:
    """Each blob is one value: markers that name one blob many times would make a message
    many times the frame's size (an echo of 1 MiB named 400 times: a 400 MiB reply)."""
    args = {"value": [{BYTES_KEY: 0}] * 400}
    header = orjson.dumps({"m": [{"id": 1, "kind": "invoke", "cmd": "echo", "args": args}],
                           "a": [1 << 20], **({"t": [0]} if text else {})})
    with pytest.raises(ProtocolError, match="refer to its blob 0; each blob is one value"):
        decode_frame(binary_frame(header, b"a" * (1 << 20)), binary=True)
    # One message each, each naming its own: fine.
    header = orjson.dumps({"m": [{"id": 1, "v": {BYTES_KEY: 0}}, {"id": 2, "v": {BYTES_KEY: 1}}],
                           "a": [1, 1]})
    assert decode_frame(binary_frame(header, b"x", b"y"), binary=True) == [
        {"id": 1, "v": b"x"}, {"id": 2, "v": b"y"}]


@pytest.mark.parametrize("length", [3, 63, 64, 500])
def test_values_are_put_back_wherever_they_are_in_lists_short_and_long(length: int) -> None:
    """Short lists are looked through value by value, long ones with C code: markers and keys
    the page escaped are found at any place in either, at any depth."""
    value: list[object] = [0] * length
    value[length // 2] = {"$$__b": [{BYTES_KEY: 0}], "n": 1}  # a key the page escaped
    value[-1] = [[{"k": {BYTES_KEY: 1}}], {"$$$__b": "kept", "n": {BYTES_KEY: 2}}]
    header = orjson.dumps({"m": [{"id": 1, "v": value}], "a": [1, 1, 1]})
    (decoded,) = decode_frame(binary_frame(header, b"x", b"y", b"z"), binary=True)
    expected: list[object] = [0] * length
    expected[length // 2] = {"$__b": [b"x"], "n": 1}
    expected[-1] = [[{"k": b"y"}], {"$$__b": "kept", "n": b"z"}]
    assert decoded == {"id": 1, "v": expected}


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
        (frame,) = join_frames([encode(message)])
        assert frame.binary
        assert decode_frame(frame.data(), binary=True) == [message], n
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
    assert [frame.binary for frame in frames] == [False, True, False, True, False]
    decoded = [m for frame in frames for m in decode_frame(frame.data(), binary=frame.binary)]
    assert decoded == messages


def test_messages_with_bytes_in_a_row_share_one_frame() -> None:
    # Each message's markers count from its own first blob, which "o" gives (the page's
    # runtime reads it: tests/e2e/test_values.py).
    long = "é" * TEXT_FROM
    messages = [
        {"kind": "channel", "value": b"\x00\x01"},
        {"kind": "channel", "value": [long, b"\x02"]},
        {"kind": "channel", "value": b"\x03"},
        {"kind": "reply", "id": 1, "ok": True, "value": None},
        {"kind": "channel", "value": b"\x04"},
    ]
    frames = join_frames([encode(m) for m in messages])
    assert [frame.binary for frame in frames] == [True, False, True]
    data = frames[0].data()
    (size,) = struct.unpack_from("<I", data)
    header = orjson.loads(data[4 : 4 + size])
    assert header["o"] == [0, 1, 3]
    assert header["t"] == [1]
    assert header["a"] == [2, len(long.encode()), 1, 1]
    assert [m["value"] for m in header["m"]] == [
        {BYTES_KEY: 0}, [{BYTES_KEY: 0}, {BYTES_KEY: 1}], {BYTES_KEY: 0}
    ]
    blobs = data[4 + size :]
    assert blobs == b"\x00\x01" + long.encode() + b"\x02\x03"
    assert decode_frame(data, binary=True) == messages[:3]
    # A frame of one message has no "o", and reads as the core's decoder reads it.
    assert b'"o"' not in frames[2].parts[0]
    assert decode_frame(frames[2].data(), binary=True) == [messages[4]]


def test_messages_with_bytes_share_frames_only_while_they_are_small() -> None:
    chunks = [encode({"kind": "channel", "value": bytes([i]) * 100_000}) for i in range(7)]
    frames = join_frames([*chunks, encode({"kind": "channel", "value": b"x" * 1_000_000})])
    assert [len(decode_frame(f.data(), binary=True)) for f in frames] == [2, 2, 2, 1, 1]
    assert all(f.size < 256 * 1024 for f in frames[:4])
    decoded = [m for f in frames for m in decode_frame(f.data(), binary=True)]
    assert [m["value"][:1] for m in decoded] == [bytes([i]) for i in range(7)] + [b"x"]


@pytest.mark.parametrize(
    ("firsts", "markers", "error"),
    [
        ("[0]", "0,0", "first blobs must be a list of blob indices, one a message"),
        ('"0"', "0,0", "first blobs must be a list"),
        ("[0,3]", "0,0", "first blobs must be a list"),
        ("[0,true]", "0,0", "first blobs must be a list"),
        ("[0,1]", "0,1", "refers to a blob the frame does not have"),
        ("[0,1]", "0,-1", "refers to a blob the frame does not have"),
        ("[0,0]", "0,0", "Two binary values of the frame refer to its blob 0"),
        ("[0,1]", "1,0", "Two binary values of the frame refer to its blob 1"),
    ],
)
def test_a_frames_first_blobs_are_checked(firsts: str, markers: str, error: str) -> None:
    a, b = markers.split(",")
    header = (
        f'{{"m":[{{"v":{{"$__b":{a}}}}},{{"v":{{"$__b":{b}}}}}],"a":[1,1],"o":{firsts}}}'
    ).encode()
    with pytest.raises(ProtocolError, match=error):
        decode_frame(binary_frame(header, b"x", b"y"), binary=True)
    good = b'{"m":[{"v":{"$__b":0}},{"v":{"$__b":0}}],"a":[1,1],"o":[0,1]}'
    assert decode_frame(binary_frame(good, b"x", b"y"), binary=True) == [{"v": b"x"}, {"v": b"y"}]


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
    (frame,) = join_frames([encode(message)])
    assert frame.binary
    assert decode_frame(frame.data(), binary=True) == [{
        "data": b"\x01\x02",
        "fake": {"$__b": 0},
        "escaped": {"$$__b": "x", "k": {"$$$__b": 1}},
        "note": {"meta": {"$__b": 0}},
        "card": {"meta": {"$__b": 1}},
        "text": 'a string with "$__b": in it',
    }]
    # Without bytes, nothing is escaped or restored: the text goes as it is.
    assert encode({"fake": {"$__b": 0}}).json == b'{"fake":{"$__b":0}}'


LONG = "é😀x" * (TEXT_FROM // 3 + 1)  # two-, four- and one-byte characters in UTF-8


def test_long_strings_travel_as_text_blobs_and_come_back_as_strings() -> None:
    message = {
        "kind": "reply",
        "id": 1,
        "value": {"text": LONG, "list": [1, LONG, "short"], "data": b"\x00", "$__b": LONG},
    }
    original = {**message, "value": {**message["value"]}}
    encoded = encode(message)
    assert len(encoded.texts) == 3 and len(encoded.blobs) == 4
    assert LONG.encode() in encoded.blobs
    assert len(encoded.json) < 200  # the strings are not in the JSON
    (frame,) = join_frames([encoded])
    assert frame.binary and frame.parts[1:] == encoded.blobs  # not copied into one buffer
    assert decode_frame(frame.data()) == [message]
    assert message == original  # the app's value was not changed on the way


def test_a_long_string_deep_in_a_large_message_goes_in_the_json() -> None:
    # Only the first values of a message are looked at: a long string past them is sent as
    # any string is, and arrives all the same.
    message = {"kind": "reply", "id": 1, "value": [[i] for i in range(100)] + [LONG]}
    encoded = encode(message)
    assert encoded.blobs == () and LONG.encode() in encoded.json
    assert _round_trip(message) == message


def test_a_long_string_that_is_not_unicode_cannot_be_sent() -> None:
    for value in ("\ud800" * TEXT_FROM, ["\udfff" + "x" * TEXT_FROM]):
        with pytest.raises(TypeError, match="surrogates not allowed"):
            encode({"kind": "reply", "id": 1, "value": value})


@pytest.mark.parametrize(
    ("tail", "why"),
    [
        (b',"t":0}', "must be a list of blob indices"),
        (b',"t":[2]}', "must be a list of blob indices"),
        (b',"t":[-1]}', "must be a list of blob indices"),
        (b',"t":[true]}', "must be a list of blob indices"),
        (b',"t":["0"]}', "must be a list of blob indices"),
        (b',"t":[1]}', "not valid UTF-8"),
    ],
)
def test_bad_text_blobs_are_protocol_errors(tail: bytes, why: str) -> None:
    messages = b'[{"kind":"invoke","id":1,"cmd":"echo","args":{"a":{"$__b":0},"b":{"$__b":1}}}]'
    header = b'{"m":' + messages + b',"a":[2,2]' + tail
    with pytest.raises(ProtocolError, match=why):
        decode_frame(binary_frame(header, b"ok", b"\xff\xfe"))
    # Listed twice, a text blob is read once.
    header = b'{"m":' + messages + b',"a":[2,2],"t":[0,0]}'
    ((message,),) = [decode_frame(binary_frame(header, b"ok", b"\x01\x02"))]
    assert message["args"] == {"a": "ok", "b": b"\x01\x02"}


def test_integers_beyond_64_bits_go_as_json_numbers() -> None:
    # orjson writes integers up to 64 bits; those beyond go as their digits all the same, which a
    # page reads as the nearest number it has (as it does those beyond 2**53).
    import dataclasses

    from pydantic import BaseModel

    @dataclasses.dataclass
    class Row:
        n: int

    class Card(BaseModel):
        n: int

    message = {
        "kind": "reply", "id": 1,
        "value": {"big": 2**64, "small": -(2**63) - 1, "list": [10**30, (1, 2**70)],
                  "row": Row(2**65), "card": Card(n=-(10**20)), 2**80: "key", "ok": 2**64 - 1,
                  "data": b"\x01", "$__b": 5},
    }
    encoded = encode(message)
    assert b"18446744073709551616" in encoded.json and b"1000000000000000000000000000000" in (
        encoded.json
    )
    (frame,) = join_frames([encoded])
    (back,) = decode_frame(frame.data(), binary=frame.binary)
    value = back["value"]
    assert value["big"] == float(2**64) and value["small"] == float(-(2**63) - 1)
    assert value["list"] == [1e30, [1, float(2**70)]]
    assert value["row"] == {"n": float(2**65)} and value["card"] == {"n": -1e20}
    assert value[str(2**80)] == "key" and value["ok"] == 2**64 - 1
    assert value["data"] == b"\x01" and value["$__b"] == 5


def test_integers_beyond_any_number_of_a_page_go_as_null_as_infinities_do() -> None:
    """A page read 10**400 as Infinity (a float infinity goes as null), and a reader of JSON
    that holds doubles could not read it at all."""
    value = {"huge": 10**400, "negative": -(10**309), "largest": int(1.7e308), "inf": math.inf,
             "list": [10**400, 1]}
    (frame,) = join_frames([encode({"kind": "reply", "id": 1, "value": value})])
    (back,) = decode_frame(frame.data(), binary=frame.binary)
    assert back["value"] == {"huge": None, "negative": None, "largest": 1.7e308, "inf": None,
                             "list": [None, 1]}


def test_a_small_message_holds_no_more_memory_than_its_size() -> None:
    """orjson's output keeps the 4 KiB buffer it was written in: queued for a page that does
    not read, 100,000 small events held 400 MB."""
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [encode({"kind": "event", "event": "tick", "payload": i}) for i in range(2000)]
        per_message = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert per_message < 600, per_message


def test_encoding_a_long_string_leaves_nothing_for_the_garbage_collector() -> None:
    """What encode() makes is freed as soon as it is let go: a reference cycle would keep the
    long strings it copied (60 MB a call of a 30 MB string) until a full collection. (The
    garbage is looked through for what holds such strings: other threads of the test run may
    make garbage of their own meanwhile.)"""
    import gc

    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        encode({"value": "x" * TEXT_FROM, "more": [{"deep": "y" * TEXT_FROM}]})
        gc.collect()
        holding = [
            kept for kept in gc.garbage
            if any(isinstance(o, (str, bytes)) and len(o) >= TEXT_FROM
                   for o in gc.get_referents(kept))
        ]
        assert holding == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_a_large_message_is_not_copied_into_each_connections_frame() -> None:
    """An event goes to every connection that listens: its bytes are shared by their frames
    (a large frame is handed over HTTP from its parts), not copied into each."""
    event = encode({"kind": "event", "event": "big", "payload": ["x" * 60_000] * 40})
    small = encode({"kind": "reply", "id": 1, "ok": True, "value": 1})
    frames = [join_frames([small, event, small, small]) for _connection in range(3)]
    for (frame,) in frames:
        assert not frame.binary
        assert any(part is event.json for part in frame.parts)
        assert len(frame.parts) == 3  # "[small,", the event, ",small,small]"
        assert orjson.loads(frame.data()) == [orjson.loads(m.json) for m in (small, event, small,
                                                                              small)]
    (alone,) = join_frames([small, small])
    assert alone.parts == (b"[" + small.json + b"," + small.json + b"]",)


def test_frames_parsed_on_two_threads_at_once_keep_the_collector_paused_until_both_end() -> None:
    """The first of two overlapping large parses to end set the collector going again under
    the other's millions of new objects."""
    import gc
    import threading

    from app.core.protocol import _no_gc

    assert gc.isenabled()
    entered, leave = threading.Event(), threading.Event()

    def other_parse() -> None:
        with _no_gc():
            entered.set()
            leave.wait(10)

    other = threading.Thread(target=other_parse)
    try:
        with _no_gc():  # this one starts first, and ends first
            other.start()
            assert entered.wait(10)
            assert not gc.isenabled()
        assert not gc.isenabled()  # the other parse goes on
        leave.set()
        other.join(10)
        assert gc.isenabled()
        gc.disable()  # an app's own choice is kept
        with _no_gc():
            pass
        assert not gc.isenabled()
    finally:
        leave.set()
        gc.enable()


def test_large_json_is_parsed_with_the_collector_paused_and_then_resumed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sealed group is parsed by ``decode_json`` itself, not through ``decode_frame``: a
    group of millions of small values took three times as long with the collector walking
    them (2.3-3.8 s against 0.85-1.4 s for 27 MB), holding the interpreter meanwhile."""
    from app.core import protocol

    seen: list[bool] = []
    loads = protocol.orjson.loads

    def noting(data: str | bytes) -> object:
        seen.append(gc.isenabled())
        return loads(data)

    monkeypatch.setattr(protocol.orjson, "loads", noting)
    assert gc.isenabled()
    large = b"[" + b",".join([b"[]"] * 200_000) + b"]"
    assert len(protocol.decode_json(large)) == 200_000
    assert protocol.decode_json(b"[1]") == [1]
    assert seen == [False, True]
    assert gc.isenabled()


class Color(enum.Enum):
    RED = "red"


def test_a_dict_key_json_cannot_have_is_named_in_plain_words() -> None:
    """orjson says 'Dict key must a type serializable with OPT_NON_STR_KEYS'."""
    for key, name in [((1, 2), "tuple"), (b"k", "bytes"), (frozenset(), "frozenset")]:
        message = {"v": [{"fine": 1, datetime.date(2026, 1, 1): 2, Color.RED: 3}, {key: 1}]}
        with pytest.raises(TypeError) as info:
            encode(message)
        assert str(info.value).startswith(f"a dict key of type {name} cannot be sent: the keys "
                                          "of a JSON object are text"), info.value
