"""The wire format between the JS runtime and the core.

A WebSocket carries frames; a frame carries one or more messages, so that the calls made in
one tick of the page travel together (and the replies finished in one tick of the loop too).

- A text frame is a JSON array of messages.
- A binary frame carries messages with binary values (``Uint8Array`` / ``bytes``) without any
  base64: ``u32le header length | header JSON | blob 0 | blob 1 ...`` where the header is
  ``{"m": [messages], "a": [blob lengths], "t": [text blobs]}`` and each binary value inside the
  messages is written as ``{"$__b": index}``. The indices are the frame's, or, when the header
  has ``"o": [each message's first blob]`` (the core's frames of several messages do), each
  message's own, counted from its first blob.
- Long strings (``TEXT_FROM`` characters and more) travel the same way, as their UTF-8 bytes in
  a blob that ``"t"`` lists (it is left out when there are none): neither side then writes,
  scans or parses them as JSON text, which costs more than the bytes themselves (a 10 MB
  string: about 10 ms to parse here, 15 ms to write in the page, against 1 ms to decode).

Messages from the page (``kind``): ``invoke`` {id, cmd, args}, ``emit`` {id, event, payload,
target?}, ``listen`` / ``unlisten`` {id, event}, and ``sealed`` (isolation). Messages to the page:
``reply`` {id, ok, value | error}, ``event`` {event, payload, source}, ``channel`` {channel, value},
``hello`` {resume}, and ``frame`` {path, binary}, alone in its frame: it stands for a large frame
that the page fetches from ``path`` and reads in its place (see ``transport/handover.py``).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import gc
import inspect
import re
import struct
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from itertools import compress, count, repeat
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

from .errors import ProtocolError

__all__ = [
    "BYTES_KEY",
    "TEXT_FROM",
    "Encoded",
    "Frame",
    "Prepared",
    "decode_frame",
    "decode_json",
    "encode",
    "encode_prepared",
    "join_frames",
    "prepare",
]

BYTES_KEY = "$__b"
TEXT_FROM = 64 * 1024
"""Strings this long (or longer) travel as UTF-8 bytes beside the JSON; the runtime's alike."""
_TEXT_LOOK = 64
"""How many values of an outgoing message are looked at, at most, for long strings."""
_U32 = struct.Struct("<I")
_GC_PAUSE_BYTES = 256 * 1024
_DEEP_OPENERS = 250
_SHARED_TEXT = 64 * 1024


@dataclasses.dataclass(frozen=True)
class Encoded:
    """One message, serialized; ``blobs`` holds its binary values in order of their markers,
    and ``texts`` the indices of those that are long strings' UTF-8 bytes."""

    json: bytes
    blobs: tuple[bytes, ...] = ()
    texts: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A reply's value encoded already, where it was made (see ``prepare``): ``encode_prepared``
    puts its JSON in the reply as it is, or raises ``error``, why it could not be encoded."""

    value: Encoded | None
    error: TypeError | None = None


def prepare(value: Any) -> Prepared:
    """``value`` encoded for a reply, on the thread that calls this (a sync command's: encoding
    a million models took the core's loop a second, and every window waited); what kept it
    from being encoded, for the reply to say (not tried again on the loop)."""
    try:
        if type(value) is str and len(value) >= TEXT_FROM:  # lifted out, as in a reply
            whole = _encode(_lift_texts([value]))
        else:
            whole = encode([value])
    except TypeError as exc:
        return Prepared(None, exc)
    return Prepared(Encoded(whole.json[1:-1], whole.blobs, whole.texts))


def encode_prepared(message: dict[str, Any], prepared: Prepared) -> Encoded:
    """``message`` (a reply) with ``prepared`` as its ``value``, its JSON put in as it is; raise
    ``TypeError``, as ``encode`` would, for a value that could not be encoded."""
    if prepared.error is not None:
        raise prepared.error
    assert prepared.value is not None
    head = orjson.dumps({k: v for k, v in message.items() if k != "value"})[:-1]
    encoded = prepared.value
    json = head + (b'"value":' if head == b"{" else b',"value":') + encoded.json + b"}"
    return Encoded(json, encoded.blobs, encoded.texts)


@dataclasses.dataclass(frozen=True)
class Frame:
    """A frame for the page, text or binary, in ``parts``: a binary frame's blobs are not copied
    into one buffer until a socket needs it whole (a large frame handed over HTTP never does)."""

    binary: bool
    parts: tuple[bytes, ...]

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.parts)

    def data(self) -> bytes:
        return self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)


class _Text:
    """A long string of an outgoing message, as the UTF-8 bytes of its text blob."""

    __slots__ = ("utf8",)

    def __init__(self, text: str) -> None:
        try:
            self.utf8 = text.encode()
        except UnicodeEncodeError:  # as orjson says it of a short one
            raise TypeError("str is not valid UTF-8: surrogates not allowed") from None


def encode(message: Any) -> Encoded:
    """Serialize one outgoing message; raise ``TypeError`` naming what cannot be sent.

    Long strings among the first values of the message go as text blobs (see the module's
    docstring); one found deeper goes in the JSON, as any string does. In a message with binary
    values, keys of the app's own data that look like the marker's (``$__b``, ``$$__b``, ...)
    get one more ``$``; the page's runtime takes it off again (and escapes alike what it sends:
    see ``_restore``)."""
    if isinstance(message, dict):
        # The usual long string is what a call returns, or an event's payload: found without
        # writing the message first.
        for value in message.values():
            if type(value) is str and len(value) >= TEXT_FROM:
                return _encode(_lift_texts(message))
    encoded = _encode(message)
    if len(encoded.json) >= TEXT_FROM:  # a long string may be deeper in it
        lifted = _lift_texts(message)
        if lifted is not message:
            return _encode(lifted)
    return encoded


def _lift_texts(message: Any) -> Any:
    """``message`` with the long strings among its first ``_TEXT_LOOK`` values (breadth first)
    wrapped for ``encode``; its dicts and lists on the way to them are copied, not changed. The
    message itself when it has none there."""
    if type(message) is not dict and type(message) is not list:
        return message
    # The containers looked into, each with where it sits: (container, parent's index, key).
    todo: list[tuple[Any, int, Any]] = [(message, -1, None)]
    found: list[tuple[int, Any]] = []  # (container's index, key) of each long string
    looked = 0
    for at, (container, _, _) in enumerate(todo):  # grows as it goes
        items = container.items() if type(container) is dict else enumerate(container)
        for key, value in items:
            looked += 1
            if looked > _TEXT_LOOK:
                break
            kind = type(value)
            if kind is str:
                if len(value) >= TEXT_FROM:
                    found.append((at, key))
            elif kind is dict or kind is list:
                todo.append((value, at, key))
        if looked > _TEXT_LOOK:
            break
    if not found:
        return message
    # The containers on the way to each long string are copied, once each, and each copy put in
    # place of its original in its parent's copy, up to the message. (In a loop: a nested
    # function calling itself would be a reference cycle, keeping the copies, and the long
    # strings, until the garbage collector's next full pass: 60 MB a call of a 30 MB string.)
    copies: dict[int, Any] = {}  # index in todo -> the container's copy
    for at, key in found:
        path = []
        up = at
        while up >= 0 and up not in copies:
            path.append(up)
            up = todo[up][1]
        for index in reversed(path):
            container, parent, place = todo[index]
            made = dict(container) if type(container) is dict else list(container)
            copies[index] = made
            if parent >= 0:
                copies[parent][place] = made
        copies[at][key] = _Text(todo[at][0][key])
    return copies[0]


def _encode(message: Any, *, wide: bool = False) -> Encoded:
    """``encode`` once the long strings are lifted; ``wide``: with the integers beyond 64 bits
    that orjson refuses written out by hand (it is tried without first)."""
    blobs: list[bytes] = []
    texts: list[int] = []
    escape = False

    def convert(value: Any) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            blobs.append(bytes(value))
            return {BYTES_KEY: len(blobs) - 1}
        if isinstance(value, _Text):
            blobs.append(value.utf8)
            texts.append(len(blobs) - 1)
            return {BYTES_KEY: len(blobs) - 1}
        if isinstance(value, BaseModel):
            dumped = value.model_dump(mode="python", by_alias=True)
            return _escaped(dumped) if escape else dumped
        if (escape or wide) and dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return _escaped(fields) if escape else fields
        if isinstance(value, (set, frozenset, tuple)):
            return list(value)
        if isinstance(value, (Iterator, AsyncIterator)) or inspect.isawaitable(value):
            # Read to its end to be written, an endless one (itertools.count()) held the GIL
            # and grew until the process died.
            raise TypeError(
                f"a {type(value).__name__} cannot be sent: an iterator is only known once it "
                "is read to its end, which may be never; send a list"
                + (" (await it first)" if inspect.isawaitable(value) else "")
            )
        # What a model's fields may hold (URLs, Decimal, paths, durations, enums...), as
        # pydantic writes it in JSON.
        try:
            return to_jsonable_python(value)
        except PydanticSerializationError:
            raise TypeError(
                f"a value of type {type(value).__name__} cannot be sent as JSON"
            ) from None

    default = (lambda value: _widened(convert(value))) if wide else convert
    options = _OPTIONS | orjson.OPT_PASSTHROUGH_DATACLASS if wide else _OPTIONS
    try:
        data = orjson.dumps(_widened(message) if wide else message, default=default,
                            option=options)
    except orjson.JSONEncodeError as exc:
        if "Dict key must" in str(exc):  # (orjson's own words are about its options)
            raise TypeError(_bad_key(message)) from None
        if not wide and "64-bit" in str(exc):
            return _encode(message, wide=True)
        said = exc.__cause__  # what convert said of a value it could not take, in its words
        if isinstance(said, TypeError):
            raise TypeError(str(said)) from said
        if said is not None:  # a model's own serializer failed, say: not orjson's "not JSON"
            _, found, kind = str(exc).partition("serializable: ")
            kind = kind if found and kind else "value"
            # (pydantic wraps what the model's serializer raised, when it keeps it)
            raised = said.__cause__ if isinstance(said, PydanticSerializationError) else said
            how = "failed" if raised is None else f"raised {type(raised).__name__}"
            raise TypeError(f"making its {kind} JSON {how}") from said
        raise
    # Every '"$__b":' is a marker, and no key is an escaped one: nothing to escape (the
    # usual case; a string holding them has its quotes escaped in JSON).
    if blobs and (data.count(_MARKER_KEY) != len(blobs) or _ESCAPED_KEY in data):
        blobs.clear()
        texts.clear()
        escape = True
        data = orjson.dumps(
            _escaped(_widened(message) if wide else message),
            default=default,
            option=_OPTIONS | orjson.OPT_PASSTHROUGH_DATACLASS,
        )
    if len(data) < _TRIM_BELOW:
        data = bytes(memoryview(data))  # its own size (see _TRIM_BELOW)
    return Encoded(data, tuple(blobs), tuple(texts))


_KEY_TYPES = (str, int, float, bool, type(None), datetime.date, datetime.time, enum.Enum, uuid.UUID)
"""What orjson takes as a dict key (with OPT_NON_STR_KEYS); a datetime is a date."""
_KEYS_ARE = ("the keys of a JSON object are text (str, or a number, bool or None, which are sent "
             "as text)")
_LOOKED_AT = 100_000
"""The most values ``_bad_key`` goes through to find the key it names."""


def _bad_key(message: Any) -> str:
    """What to say of a message with a dict key JSON cannot have (a tuple, bytes...)."""
    todo, seen = [message], 0
    while todo and seen < _LOOKED_AT:
        value = todo.pop()
        seen += 1
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, _KEY_TYPES):
                    return f"a dict key of type {type(key).__name__} cannot be sent: {_KEYS_ARE}"
            todo.extend(value.values())
        elif isinstance(value, (list, tuple)):
            todo.extend(value)
    return f"a dict key cannot be sent: {_KEYS_ARE}"


def _widened(value: Any) -> Any:
    """``value`` with its integers beyond 64 bits as JSON number text (a page reads them as the
    nearest number it has, as it reads those beyond 2**53), which orjson does not write; and
    those beyond any number a page has (about 1.8e308) as null, as infinities go."""
    if isinstance(value, int) and not isinstance(value, bool):
        if _INT64_MIN <= value <= _UINT64_MAX:
            return value
        try:
            float(value)
        except OverflowError:  # a page would read Infinity; a float one goes as null
            return None
        return orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {
            (str(k) if isinstance(k, int) and not _INT64_MIN <= k <= _UINT64_MAX else k):
            _widened(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_widened(v) for v in value]
    return value


_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1


# As JSON has them: integers of any size (a page reads those beyond 2**53 as the nearest number
# it has, as it reads its own; see _widened), and NaN and infinities as null.
_OPTIONS = orjson.OPT_NON_STR_KEYS
_TRIM_BELOW = 4096
"""orjson's output keeps the 4 KiB buffer it was written in, whatever its length: 100,000 small
events queued for a page that does not read held 400 MB, not 6. Shorter outputs are copied to
their own size (0.17 us each, as long as writing them)."""
_MARKER_KEY = b'"' + BYTES_KEY.encode() + b'":'
_ESCAPED_KEY = b"$" + BYTES_KEY.encode() + b'":'
_LIKE_MARKER = re.compile(r"\$+__b")
_LIKE_ESCAPED = re.compile(r"\$\$+__b")


def _escaped(value: Any) -> Any:
    """``value`` with the keys of its dicts that look like the marker's given one more ``$``."""
    if isinstance(value, dict):
        return {
            ("$" + k if isinstance(k, str) and _LIKE_MARKER.fullmatch(k) else k): _escaped(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    return value


def join_frames(messages: list[Encoded]) -> list[Frame]:
    """Pack encoded messages into few frames, in their order.

    Messages without blobs in a row share one text frame, and messages with blobs in a row one
    binary frame of up to ``_BINARY_RUN`` bytes: a run of a channel's chunks must not become one
    large frame, which would go over HTTP (see ``transport/handover.py``) and cut off a page
    that does not fetch it in time, where small frames make the sender wait for the page. The
    page gets them in the order they were sent: a channel's last chunk before the call's reply.
    """
    frames: list[Frame] = []
    texts: list[bytes] = []
    binary: list[Encoded] = []
    held = 0
    for m in messages:
        if m.blobs:
            if texts:
                frames.append(Frame(False, _text_frame(texts)))
                texts = []
            size = len(m.json) + sum(map(len, m.blobs))
            if binary and held + size > _BINARY_RUN:
                frames.append(_binary_frame(binary))
                binary, held = [], 0
            binary.append(m)
            held += size
            continue
        if binary:
            frames.append(_binary_frame(binary))
            binary, held = [], 0
        texts.append(m.json)
    if binary:
        frames.append(_binary_frame(binary))
    if texts:
        frames.append(Frame(False, _text_frame(texts)))
    return frames


_BINARY_RUN = 256 * 1024
"""The most bytes of messages with blobs that share a frame (one larger goes alone)."""


def _binary_frame(messages: list[Encoded]) -> Frame:
    """One binary frame of ``messages``, each with blobs. Each message's markers count from its
    own first blob, whose place in the frame ``"o"`` gives (renumbering them would cost a parse
    of each message): 10,000 small binary chunks of a channel, each in a frame of its own, took
    the page 1-2 s to read, against 0.2 s for as many strings in a few frames."""
    lengths: list[int] = []
    texts: list[int] = []
    firsts: list[int] = []
    for m in messages:
        firsts.append(len(lengths))
        texts += (len(lengths) + i for i in m.texts)
        lengths += map(len, m.blobs)
    tail = b'],"a":' + orjson.dumps(lengths)
    if texts:
        tail += b',"t":' + orjson.dumps(texts)
    if len(messages) > 1:
        tail += b',"o":' + orjson.dumps(firsts)
    tail += b"}"
    body = b",".join(m.json for m in messages)
    size = len(b'{"m":[') + len(body) + len(tail)
    header = b"".join((_U32.pack(size), b'{"m":[', body, tail))
    return Frame(True, (header, *(blob for m in messages for blob in m.blobs)))


def _text_frame(texts: list[bytes]) -> tuple[bytes, ...]:
    """``[a,b,...]`` in parts: each run of small messages in one copy (``b"[" + ... + b"]"``
    would copy them twice), and each large one as it is. An event goes to every connection
    that listens as the same bytes, and a large frame handed over HTTP is served from its parts
    (see Frame): copied into each connection's frame, a 32 MB event for 63 connections that
    did not fetch it held 2 GB."""
    parts: list[bytes] = []
    run = [b"["]
    for i, text in enumerate(texts):
        if i:
            run.append(b",")
        if len(text) < _SHARED_TEXT:
            run.append(text)
        else:
            parts += (b"".join(run), text)
            run = []
    run.append(b"]")
    parts.append(b"".join(run))
    return tuple(parts)


def decode_frame(data: str | bytes, *, binary: bool | None = None) -> list[Any]:
    """Parse one incoming frame into its list of messages; raise ``ProtocolError``.

    ``binary`` tells a binary frame from a text frame delivered as bytes; by default a ``str``
    is text and ``bytes`` binary.
    """
    if binary is None:
        binary = not isinstance(data, str)
    if len(data) < _GC_PAUSE_BYTES:
        return _decode(data, binary)
    with _no_gc():
        return _decode(data, binary)


def _decode(data: str | bytes, binary: bool) -> list[Any]:
    if binary:
        return _decode_binary(data if isinstance(data, bytes) else data.encode())
    try:
        parsed = decode_json(data)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"The frame is not valid JSON ({exc}).") from None
    return parsed if isinstance(parsed, list) else [parsed]


def decode_json(data: str | bytes) -> Any:
    """Parse JSON text that carries messages (a text frame, a sealed group); raise
    ``orjson.JSONDecodeError``, or ``ProtocolError`` for values too deep to send back."""
    if len(data) < _GC_PAUSE_BYTES:
        parsed = orjson.loads(data)
    else:  # (a sealed group's too, read here and not through decode_frame)
        with _no_gc():
            parsed = orjson.loads(data)
    if isinstance(data, str):
        return _answerable(parsed, data.count("[") + data.count("{"))
    return _answerable(parsed, data.count(b"[") + data.count(b"{"))


def _answerable(messages: Any, openers: int) -> Any:
    """``messages``, if the core could send their values back: its parser takes values nested
    up to 1024 levels deep, its encoder 255. Deeper ones are refused as they come in, not once
    a command has kept one (a setting saved, then never read back: every window's read
    failed). Only a frame with ``openers`` ('[' and '{') of 250 or more can nest that deep:
    other frames are not looked at again."""
    if openers >= _DEEP_OPENERS:
        try:
            orjson.dumps(messages)
        except TypeError as exc:  # orjson's only failure for what it parsed: the depth
            raise ProtocolError(
                "The frame nests values deeper than the core could send them back: about 250 "
                "levels, the message and its arguments object counted."
            ) from exc
    return messages


_gc_lock = threading.Lock()
_gc_paused = 0  # frames being parsed with the collector paused, on any thread


@contextmanager
def _no_gc() -> Iterator[None]:
    """Parsing a large JSON frame makes millions of objects at once; every few thousand of them
    the cycle collector would walk them all again. None of them can be in a cycle yet.

    Frames are parsed on two threads (the loop's, and the large frames'): the collector runs
    again when the last of them is done, and only if it ran before the first (an app may turn
    it off)."""
    global _gc_paused
    with _gc_lock:
        ours = _gc_paused > 0 or gc.isenabled()
        if ours:
            _gc_paused += 1
            gc.disable()
    try:
        yield
    finally:
        if ours:
            with _gc_lock:
                _gc_paused -= 1
                if not _gc_paused:
                    gc.enable()


def _decode_binary(data: bytes) -> list[Any]:
    if len(data) < 4:
        raise ProtocolError("The binary frame is shorter than its header length.")
    (size,) = _U32.unpack_from(data)
    if size > len(data) - 4:
        raise ProtocolError("The binary frame's header length is larger than the frame.")
    try:
        header = orjson.loads(memoryview(data)[4 : 4 + size])  # no copy of a large one
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"The binary frame's header is not valid JSON ({exc}).") from None
    if not isinstance(header, dict) or not isinstance(header.get("m"), list):
        raise ProtocolError('The binary frame\'s header must be {"m": [...], "a": [...]}.')
    lengths = header.get("a", [])
    if not isinstance(lengths, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in lengths
    ):
        raise ProtocolError("The binary frame's blob lengths must be a list of sizes.")
    if 4 + size + sum(lengths) != len(data):
        raise ProtocolError("The binary frame's blob lengths do not add up to its size.")
    texts = header.get("t", [])
    if not isinstance(texts, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(lengths) for i in texts
    ):
        raise ProtocolError("The binary frame's text blobs must be a list of blob indices.")
    firsts = header.get("o")
    if firsts is not None and (
        not isinstance(firsts, list) or len(firsts) != len(header["m"]) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= len(lengths)
            for i in firsts
        )
    ):
        raise ProtocolError(
            "The binary frame's first blobs must be a list of blob indices, one a message."
        )
    openers = data.count(b"[", 4, 4 + size) + data.count(b"{", 4, 4 + size)
    messages: list[Any] = _answerable(header["m"], openers)
    if not lengths:  # a large message without binary values: nothing to put back
        return messages
    view = memoryview(data)
    text = set(texts)
    blobs: list[bytes | str] = []
    offset = 4 + size
    for i, n in enumerate(lengths):
        piece = view[offset : offset + n]
        offset += n
        if i not in text:
            blobs.append(bytes(piece))
            continue
        try:
            blobs.append(str(piece, "utf-8"))
        except UnicodeDecodeError as exc:
            raise ProtocolError(
                f"A text value of the binary frame is not valid UTF-8 ({exc.reason} at byte "
                f"{exc.start})."
            ) from None
    # (Nested at most about 250 deep, as ``_answerable`` made sure: within Python's stack.)
    used: set[int] = set()
    starts = repeat(0) if firsts is None else firsts  # (one a message: checked above)
    return [_restore(m, blobs, used, first) for m, first in zip(messages, starts, strict=False)]


def _restore(value: Any, blobs: list[bytes | str], used: set[int], first: int = 0) -> Any:
    """The binary values (and long strings) back in place of their markers, which count from
    ``blobs[first]``, and the keys the page escaped (see ``encode``) back to their names. Each
    blob is one value: a frame whose markers name one blob many times would make a message
    many times the frame's size (1 MiB named 400 times: a 400 MiB reply to an echo, or an
    event to every window that listens).

    ``value`` is the parser's own, and changed in place: only its dicts and lists are visited,
    found without a step of Python per value (a list of millions of numbers with one marker
    took seconds of the core's loop, as each number was looked at and copied).
    """
    if type(value) is dict:
        if len(value) == 1 and BYTES_KEY in value:
            at = value[BYTES_KEY]
            if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at < len(blobs) - first:
                raise ProtocolError("A binary value refers to a blob the frame does not have.")
            index = first + at
            if index in used:
                raise ProtocolError(
                    f"Two binary values of the frame refer to its blob {index}; each blob is "
                    "one value."
                )
            used.add(index)
            return blobs[index]
        if any(map(str.endswith, value, repeat("__b"))):
            return {
                (k[1:] if k.endswith("__b") and _LIKE_ESCAPED.fullmatch(k) else k): _restore(
                    v, blobs, used, first
                )
                for k, v in value.items()
            }
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                value[key] = _restore(item, blobs, used, first)  # (a value changed: no key added)
        return value
    if type(value) is list:
        if len(value) < _LONG_LIST:
            for i, item in enumerate(value):
                if type(item) is dict or type(item) is list:
                    value[i] = _restore(item, blobs, used, first)
        else:
            for i in list(compress(count(), map(_CONTAINERS.__contains__, map(type, value)))):
                value[i] = _restore(value[i], blobs, used, first)
    return value


_CONTAINERS = frozenset({dict, list})
_LONG_LIST = 64
"""A list this long has its dicts and lists found by C code, without a step of Python each."""
