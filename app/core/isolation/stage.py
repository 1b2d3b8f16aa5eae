"""The outermost pipeline stage under isolation: only sealed messages get past it.

A sealed envelope is ``{id, kind: "sealed", kid, seq, ct?}``. The stage finds the document's
key by ``kid`` and checks that the key belongs to this window, origin and connection. An
envelope with ``ct`` (bytes, or base64 text when small) opens the next group of the key's
sequence; then each envelope takes the next message of its group, which must be the one with
the envelope's id, and hands it to the next stage (see ``keys.py``). Whatever is not sealed, of
any kind and size (a plaintext call, an empty body, a message shaped for the brownfield
pattern), is refused here, before anything looks at what it asks for.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import ProtocolError
from ..pipeline import Handler, Request, Stage
from ..protocol import decode_frame, decode_json
from ..transport.session import MAX_FRAME_MESSAGES
from .keys import DocumentKey, KeyRing

__all__ = ["Opened", "read_ahead", "unseal_stage"]

log = logging.getLogger("app.core.isolation")


def unseal_stage(keys: KeyRing) -> Stage:
    """The stage that opens the sealed messages of the documents whose keys are in ``keys``."""

    def stage(next_: Handler) -> Handler:
        async def handler(request: Request) -> Any:
            if request.kind != "sealed":
                named = request.body.get("cmd" if request.kind == "invoke" else "event")
                what = (f"a plain {request.kind[:40]!r} message"
                        if isinstance(request.body.get("kind"), str) else "a message of no kind")
                if isinstance(named, str):
                    what += f" of '{request.name}'"
                raise ProtocolError(
                    f"This app uses the isolation pattern: the core accepts only messages sealed "
                    f"by the isolation frame, and {what} is refused (send it with invoke(), "
                    "emit() or listen(), which go through the frame)."
                )
            try:
                message = _open(keys, request)
            except ProtocolError as exc:
                why = f"{exc.message} ({request.caller.origin})"
                if request.session is not None:  # (within bounds: the page may send no other)
                    request.session.log_bad("window %s sent a sealed message it may not: %s", why)
                else:
                    log.warning("window %s sent a sealed message it may not: %s",
                                request.caller.window, why)
                raise
            request.kind, request.body = str(message.get("kind")), message
            return await next_(request)

        return handler

    return stage


def _open(keys: KeyRing, request: Request) -> dict[str, Any]:
    """The message inside a sealed envelope, if it may be opened here and now."""
    key = _key_for(keys, request)
    body = request.body
    seq = body.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise ProtocolError("A sealed message needs an integer 'seq'.")
    # Checked, decrypted and bound without awaiting: messages open in the order they arrived,
    # and only a message that opened binds the key to this connection.
    if "ct" in body and seq >= key.next_seq:
        ct = body["ct"]
        opened = ct if type(ct) is Opened and ct.kid == key.kid and ct.seq == seq else None
        ciphertext = b"" if opened is not None else _ciphertext(ct)
        refusal = key.early(seq)
        if refusal is None:
            if opened is None:
                key.due.extend(_plain_messages(key.open(seq, ciphertext)))
            else:
                key.opening(seq, decrypted=opened.decrypted)
                if opened.error is not None:
                    raise opened.error
                key.due.extend(opened.messages)
        else:
            # Refused, and passed over when due if the frame sealed it (only decrypted, never
            # used, and once a number): nothing of it runs, and the page goes on after it.
            if key.may_pass_over(seq) and (
                opened.decrypted if opened is not None
                else key.decrypt(seq, ciphertext) is not None
            ):
                key.pass_over(seq)
            raise refusal
    message = key.claim(request.id, seq)
    _bind(key, request)
    return message


def _key_for(keys: KeyRing, request: Request) -> DocumentKey:
    """The key this request may use: its page load's, and not in use by another connection."""
    session = request.session
    if session is None:
        raise ProtocolError("Sealed messages come only over a window's connection.")
    kid = request.body.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise ProtocolError("The sealed message names no isolation key of this app; refused.")
    caller = request.caller
    if key.label != caller.window or key.origin != caller.origin:
        raise ProtocolError(
            f"The sealed message was made for another window or page, not for window "
            f"'{caller.window}' at {caller.origin}; refused."
        )
    if key.kid != session.document:
        # Its own page load's key only: a message sealed before a reload, and held back, is
        # not to run in the next page (whose own calls it would also stop).
        raise ProtocolError(
            f"The sealed message was made for another page load of window '{caller.window}'; "
            "refused."
        )
    if key.session is not None and key.session is not session and not key.session.over:
        raise ProtocolError("This isolation key is in use by another connection; refused.")
    return key


def _bind(key: DocumentKey, request: Request) -> None:
    """The page's first sealed message on a connection (or after a reconnect) binds the two."""
    assert request.session is not None
    key.session = request.session


TEXT_CT_CHARS = 32 * 1024
"""The longest ciphertext taken as base64 text. The frame sends one of 16 KiB or more as bytes
(``BYTES_FROM`` in isolation.js; below it, at most 21,844 characters of base64): a longer text
one was not sealed by it, and would only make the loop decode it (large ones are read on a
thread)."""


def _ciphertext(value: Any) -> bytes:
    """``ct`` as bytes: a large one comes as bytes in a binary frame, a small one as base64."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and len(value) > TEXT_CT_CHARS:
        raise ProtocolError(
            f"A sealed message's ciphertext of {len(value)} characters came as base64 text; "
            f"one over {TEXT_CT_CHARS} comes as bytes (the isolation frame sends it so).")
    try:
        if isinstance(value, str):
            return base64.b64decode(value, validate=True)
    except binascii.Error:
        pass
    raise ProtocolError("A sealed message needs its ciphertext in 'ct', as bytes or base64 text.")


@dataclass(frozen=True, eq=False)
class Opened:
    """A sealed group that came in a large frame, decrypted and read on the large frames' thread
    (``read_ahead``), in its envelope's ``ct`` instead of the ciphertext. The core alone makes
    these: what a page sends decodes to JSON values and bytes only."""

    kid: str
    seq: int
    decrypted: bool
    """Whether it decrypted under that key and number."""
    messages: list[dict[str, Any]]
    error: ProtocolError | None = None
    """Why the plaintext is not a group of messages, if it is not."""


def read_ahead(keys: KeyRing, document: str | None, messages: list[Any]) -> None:
    """(On the large frames' thread) decrypt and read the sealed groups of a large frame from
    page load ``document`` before the loop takes its messages: a group of millions of values
    takes a second or more to read, which would hold every window's calls on the loop, as a
    plain large frame's reading no longer does. Nothing is decided here: the stage makes every
    check it makes of any sealed message, and a group it refuses is dropped unused. Only groups
    it may open are read: under this page load's own key, and not of a number already opened
    (the key's next number only grows, so reading it from this thread is safe: at worst a
    group is read that the stage then refuses as early). A group is read once a frame: a copy
    of its ciphertext gets what the first got, and one that does not decrypt takes nothing
    from the real one (a decoy in front of it, refused, would otherwise leave the real one to
    be read on the loop). What fails here in an unforeseen way is left for the stage to do on
    the loop, as before."""
    read: dict[int, tuple[bytes, Opened]] = {}  # groups read in this frame, by number
    for message in messages:
        if not isinstance(message, dict) or message.get("kind") != "sealed":
            continue
        ct, kid, seq = message.get("ct"), message.get("kid"), message.get("seq")
        if (not isinstance(ct, bytes) or not isinstance(kid, str) or kid != document
                or type(seq) is not int):
            continue
        key = keys.get(kid)
        if key is None or seq < key.next_seq:
            continue
        earlier = read.get(seq)
        if earlier is not None and earlier[0] == ct:
            message["ct"] = earlier[1]
            continue
        try:
            plaintext = key.decrypt(seq, ct)
            if plaintext is None:
                opened = Opened(kid, seq, decrypted=False, messages=[])
            else:
                try:
                    opened = Opened(kid, seq, True, _plain_messages(plaintext))
                except ProtocolError as exc:
                    opened = Opened(kid, seq, True, [], exc)
                read[seq] = (ct, opened)
        except Exception:  # the stage meets it again, and answers for it
            log.debug("a large sealed message was not opened ahead", exc_info=True)
            continue
        message["ct"] = opened


def _plain_messages(plaintext: bytes) -> list[dict[str, Any]]:
    """The messages inside: after a tag byte, a JSON array ("J") or a binary frame ("B")."""
    tag = plaintext[:1]
    messages: Any = None
    if tag == b"J":
        try:
            messages = decode_json(plaintext[1:])
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(f"A sealed group is not valid JSON ({exc}).") from None
    elif tag == b"B":
        messages = decode_frame(plaintext[1:])
    if (
        not isinstance(messages, list)
        or not messages
        or not all(isinstance(m, dict) and isinstance(m.get("id"), int) for m in messages)
        or len({m["id"] for m in messages}) != len(messages)
    ):
        raise ProtocolError("A sealed group must hold one or more messages, each with its id.")
    if len(messages) > MAX_FRAME_MESSAGES:
        # As a frame may not: what waits for its envelopes is kept (the frame seals at most
        # 1024 together).
        raise ProtocolError(
            f"A sealed group held {len(messages)} messages; at most {MAX_FRAME_MESSAGES} may "
            "be sealed together. None of them runs.")
    return messages
