"""The wire format between the JS runtime and the core.

A WebSocket carries frames; a frame carries one or more messages, so that the calls made in
one tick of the page travel together (and the replies finished in one tick of the loop too).

- A text frame is a JSON array of messages.
- A binary frame carries messages with binary values (``Uint8Array`` / ``bytes``) without any
  base64: ``u32le header length | header JSON | blob 0 | blob 1 ...`` where the header is
  ``{"m": [messages], "a": [blob lengths]}`` and each binary value inside the messages is
  written as ``{"$__b": index}``.

Messages from the page (``kind``): ``invoke`` {id, cmd, args}, ``emit`` {id, event, payload,
target?}, ``listen`` / ``unlisten`` {id, event}, and ``sealed`` (isolation). Messages to the page:
``reply`` {id, ok, value | error}, ``event`` {event, payload, source}, ``channel`` {channel, value},
``hello`` {resume}, and ``frame`` {path, binary}, alone in its frame: it stands for a large frame
that the page fetches from ``path`` and reads in its place (see ``transport/handover.py``).
"""

from __future__ import annotations

import dataclasses
import gc
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

from .errors import ProtocolError

__all__ = ["BYTES_KEY", "Encoded", "decode_frame", "encode", "join_frames"]

BYTES_KEY = "$__b"
_U32 = struct.Struct("<I")
_GC_PAUSE_BYTES = 256 * 1024


@dataclasses.dataclass(frozen=True)
class Encoded:
    """One message, serialized; ``blobs`` holds its binary values in order of their markers."""

    json: bytes
    blobs: tuple[bytes, ...] = ()


def encode(message: Any) -> Encoded:
    """Serialize one outgoing message; raise ``TypeError`` naming what cannot be sent.

    In a message with binary values, keys of the app's own data that look like the marker's
    (``$__b``, ``$$__b``, ...) get one more ``$``; the page's runtime takes it off again (and
    escapes alike what it sends: see ``_restore``)."""
    blobs: list[bytes] = []
    escape = False

    def default(value: Any) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            blobs.append(bytes(value))
            return {BYTES_KEY: len(blobs) - 1}
        if isinstance(value, BaseModel):
            dumped = value.model_dump(mode="python", by_alias=True)
            return _escaped(dumped) if escape else dumped
        if escape and dataclasses.is_dataclass(value) and not isinstance(value, type):
            return _escaped({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        if isinstance(value, (set, frozenset, tuple)):
            return list(value)
        # What a model's fields may hold (URLs, Decimal, paths, durations, enums...), as
        # pydantic writes it in JSON.
        try:
            return to_jsonable_python(value)
        except PydanticSerializationError:
            raise TypeError(
                f"a value of type {type(value).__name__} cannot be sent as JSON"
            ) from None

    data = orjson.dumps(message, default=default, option=_OPTIONS)
    # Every '"$__b":' is a marker, and no key is an escaped one: nothing to escape (the
    # usual case; a string holding them has its quotes escaped in JSON).
    if blobs and (data.count(_MARKER_KEY) != len(blobs) or _ESCAPED_KEY in data):
        blobs.clear()
        escape = True
        data = orjson.dumps(
            _escaped(message),
            default=default,
            option=_OPTIONS | orjson.OPT_PASSTHROUGH_DATACLASS,
        )
    return Encoded(data, tuple(blobs))


# As JSON has them: integers of any size up to 64 bits (a page reads those beyond 2**53 as the
# nearest number it has, as it reads its own), and NaN and infinities as null.
_OPTIONS = orjson.OPT_NON_STR_KEYS
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


def join_frames(messages: list[Encoded]) -> list[tuple[bool, bytes]]:
    """Pack encoded messages into few frames, in their order: ``(is_binary, data)`` each.

    Messages without blobs in a row share one text frame; each message with blobs gets a binary
    frame (renumbering markers across messages would cost a parse of each one). The page gets
    them in the order they were sent: a channel's last chunk before the call's reply.
    """
    frames: list[tuple[bool, bytes]] = []
    texts: list[bytes] = []
    for m in messages:
        if not m.blobs:
            texts.append(m.json)
            continue
        if texts:
            frames.append((False, _text_frame(texts)))
            texts = []
        lengths = orjson.dumps([len(b) for b in m.blobs])
        size = len(b'{"m":[') + len(m.json) + len(b'],"a":') + len(lengths) + 1
        parts = (_U32.pack(size), b'{"m":[', m.json, b'],"a":', lengths, b"}", *m.blobs)
        frames.append((True, b"".join(parts)))  # one copy of a large message, not three
    if texts:
        frames.append((False, _text_frame(texts)))
    return frames


def _text_frame(texts: list[bytes]) -> bytes:
    """``[a,b,...]`` in one copy of the messages (``b"[" + ... + b"]"`` copies them twice)."""
    parts = [b"["]
    for text in texts:
        parts += (text, b",")
    parts[-1] = b"]"
    return b"".join(parts)


def decode_frame(data: str | bytes, *, binary: bool | None = None) -> list[Any]:
    """Parse one incoming frame into its list of messages; raise ``ProtocolError``.

    ``binary`` tells a binary frame from a text frame delivered as bytes; by default a ``str``
    is text and ``bytes`` binary.
    """
    if binary is None:
        binary = not isinstance(data, str)
    with _no_gc(len(data)):
        if binary:
            return _decode_binary(data if isinstance(data, bytes) else data.encode())
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(f"The frame is not valid JSON ({exc}).") from None
        return parsed if isinstance(parsed, list) else [parsed]


@contextmanager
def _no_gc(size: int) -> Iterator[None]:
    """Parsing a large JSON frame makes millions of objects at once; every few thousand of them
    the cycle collector would walk them all again. None of them can be in a cycle yet."""
    if size < _GC_PAUSE_BYTES or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
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
    messages: list[Any] = header["m"]
    if not lengths:  # a large message without binary values: nothing to put back
        return messages
    view = memoryview(data)
    blobs, offset = [], 4 + size
    for n in lengths:
        blobs.append(bytes(view[offset : offset + n]))
        offset += n
    try:
        return [_restore(m, blobs) for m in messages]
    except RecursionError:
        raise ProtocolError("The binary frame's header is nested too deeply.") from None


def _restore(value: Any, blobs: list[bytes]) -> Any:
    """The binary values back in place of their markers, and the keys the page escaped (see
    ``encode``) back to their names."""
    if isinstance(value, dict):
        if len(value) == 1 and BYTES_KEY in value:
            index = value[BYTES_KEY]
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(blobs):
                raise ProtocolError("A binary value refers to a blob the frame does not have.")
            return blobs[index]
        return {
            (k[1:] if k.endswith("__b") and _LIKE_ESCAPED.fullmatch(k) else k): _restore(v, blobs)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_restore(v, blobs) for v in value]
    return value
