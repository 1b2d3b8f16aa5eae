"""The isolation keys: one per window document, and the cipher of its sealed messages.

Every page the core serves under isolation gets its own 256-bit AES-GCM key from the OS random
source. The key goes to that page's isolation frame only (``server.py`` serves it once); the
page itself only learns the key's id, ``kid``.

The frame seals together the messages its hook let through in one turn: the plaintext is ``J``
and the JSON array of those messages, or ``B`` and the binary frame (``protocol.py``) of one
message that carries bytes. It is encrypted with AES-GCM under

- nonce: 4 zero bytes, then the sequence number as 64-bit big-endian. A key is fresh per
  document and its sequence only grows, so a nonce is never used twice with one key;
- associated data: ``app-isolation/1 <kid> <seq>``.

Each message of a group still comes as a sealed envelope of its own, under its own id: the
first carries the ciphertext, the others only the number. The core opens the numbers strictly
in order, 0, 1, 2, ..., and then hands out a group's messages strictly in their order, each once,
each only to the envelope with its id. So a replayed, reordered, skipped or re-targeted message
is refused, and so is one sealed under another document's key.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..acl.origin import Origin
from ..errors import ProtocolError

if TYPE_CHECKING:
    from ..transport.session import Session

__all__ = ["FRAME_TTL", "DocumentKey", "KeyRing", "associated_data", "nonce"]

KEY_BYTES = 32
FRAME_TTL = 120.0
"""Seconds a page has to load its isolation frame before the frame's URL stops working."""
IDLE_TTL = 24 * 3600.0
"""Seconds an unconnected key is kept for its page to reconnect (as long as a resume ticket)."""
KEYS_KEPT = 64
"""Keys a window keeps besides those in use: its latest page loads' (as many as the resume
tickets it keeps), so that page loads without end do not pile keys up."""
PASSED_KEPT = 64
"""Numbers of groups refused for coming early that a key keeps, to pass over when due."""


def nonce(seq: int) -> bytes:
    return b"\0\0\0\0" + seq.to_bytes(8, "big")


def associated_data(kid: str, seq: int) -> bytes:
    return f"app-isolation/1 {kid} {seq}".encode()


@dataclass(eq=False)
class DocumentKey:
    """The key of one window document, what it may be used for, and where its sequence is."""

    kid: str
    label: str
    origin: Origin
    secret: bytes | None
    """The raw key until its frame has been served; ``None`` afterwards."""
    cipher: AESGCM
    next_seq: int = 0
    session: Session | None = None
    """The connection that uses this key; another may take it over only once it closed."""
    touched: float = field(default_factory=time.monotonic)
    due: deque[dict[str, Any]] = field(default_factory=deque)
    """The messages of the last group opened whose envelopes have not come yet, in order."""
    opened: int = -1
    """The number of the last group opened."""
    passed: set[int] = field(default_factory=set)
    """Numbers of groups refused for coming early (see ``pass_over``): passed over when due."""

    def early(self, seq: int) -> ProtocolError | None:
        """Why group number ``seq`` may not be opened now, if it may not."""
        if seq != self.next_seq:
            return _out_of_order(seq, self.next_seq)
        if self.due:
            return ProtocolError(
                f"Sealed group number {seq} arrived while messages of number {self.opened} "
                "were still due: something between the page and the core held them back. "
                "Refused."
            )
        return None

    def open(self, seq: int, ciphertext: bytes) -> bytes:
        """Decrypt group number ``seq``; raise ``ProtocolError`` unless it is the next one."""
        refusal = self.early(seq)
        if refusal is not None:
            raise refusal
        plaintext = self.decrypt(seq, ciphertext)
        self.opening(seq, decrypted=plaintext is not None)
        assert plaintext is not None
        return plaintext

    def opening(self, seq: int, *, decrypted: bool) -> None:
        """Group number ``seq``, the next one (see ``early``), decrypted here or on another
        thread, or not: then raise ``ProtocolError``."""
        if not decrypted:
            raise ProtocolError(
                "A sealed message did not decrypt: it was altered, or sealed under another "
                "page's key. It is refused."
            )
        self.opened = seq
        self.next_seq = seq + 1
        self._skip_passed()
        self.touched = time.monotonic()

    def _skip_passed(self) -> None:
        while self.next_seq in self.passed:
            self.passed.remove(self.next_seq)
            self.next_seq += 1

    def decrypt(self, seq: int, ciphertext: bytes) -> bytes | None:
        """Group number ``seq`` decrypted, or ``None`` if it was not sealed with that number
        under this key."""
        try:
            return self.cipher.decrypt(nonce(seq), ciphertext, associated_data(self.kid, seq))
        except InvalidTag:
            return None

    def may_pass_over(self, seq: int) -> bool:
        """Whether group number ``seq``, refused for coming early, would be passed over (if it
        is one the frame sealed: see ``pass_over``)."""
        return ((seq > self.next_seq or (seq == self.next_seq and bool(self.due)))
                and seq not in self.passed and len(self.passed) < PASSED_KEPT)

    def pass_over(self, seq: int) -> None:
        """Group number ``seq``, which the frame sealed, was refused for coming early (before
        the one due, or while messages of the last group opened were still due): pass its
        number over when it is due. Otherwise a message held back on its way would, once it
        came, leave the page's later messages refused for good, for want of this one, which
        the page does not send again (and which, refused once, never runs)."""
        if self.may_pass_over(seq):
            self.passed.add(seq)

    def claim(self, msg_id: int, seq: int) -> dict[str, Any]:
        """The next due message of group ``seq``, if it is the one with id ``msg_id``."""
        if seq >= self.next_seq:
            raise _out_of_order(seq, self.next_seq)
        if seq != self.opened or not self.due or self.due[0].get("id") != msg_id:
            raise ProtocolError(
                f"No sealed message for call {msg_id} is due now: it was replayed, reordered, "
                "moved to another call, or never sealed. Refused."
            )
        message = self.due.popleft()
        if not self.due:
            self._skip_passed()
        return message


def _out_of_order(seq: int, due: int) -> ProtocolError:
    return ProtocolError(
        f"Sealed message number {seq} arrived where number {due} was due: it was replayed, "
        "reordered or dropped on the way, so it is refused. Reload the page if this keeps "
        "happening."
    )


@dataclass
class _Frame:
    kid: str
    expires: float


class KeyRing:
    """The keys of the documents the core served, and the one-time URLs of their frames."""

    def __init__(self) -> None:
        self._keys: dict[str, DocumentKey] = {}
        self._frames: dict[str, _Frame] = {}
        self._frame_order: deque[tuple[float, str]] = deque()  # (expires, token), in order
        self._by_window: dict[str, deque[str]] = {}  # kids, oldest first

    def mint(self, label: str, origin: Origin) -> tuple[DocumentKey, str]:
        """A new key for a document of window ``label``, and its frame's one-time token."""
        self._prune()
        secret = secrets.token_bytes(KEY_BYTES)
        key = DocumentKey(secrets.token_urlsafe(16), label, origin, secret, AESGCM(secret))
        token = secrets.token_urlsafe(32)
        self._keys[key.kid] = key
        expires = time.monotonic() + FRAME_TTL
        self._frames[token] = _Frame(key.kid, expires)
        self._frame_order.append((expires, token))
        self._by_window.setdefault(label, deque()).append(key.kid)
        return key, token

    def frame_key(self, token: str) -> DocumentKey | None:
        """The key a frame token is for, without spending the token."""
        frame = self._frames.get(token)
        return self._keys.get(frame.kid) if frame is not None else None

    def spend_frame(self, token: str) -> tuple[DocumentKey, str] | None:
        """The key behind a frame token and its raw bytes (base64), once; ``None`` after."""
        frame = self._frames.pop(token, None)
        if frame is None or frame.expires < time.monotonic():
            return None
        key = self._keys.get(frame.kid)
        if key is None or key.secret is None:
            return None
        secret, key.secret = key.secret, None
        return key, base64.b64encode(secret).decode()

    def get(self, kid: str) -> DocumentKey | None:
        return self._keys.get(kid)

    def forget(self, label: str) -> None:
        """Window ``label`` closed: its documents' keys go (a frame token left finds none)."""
        for kid in self._by_window.pop(label, ()):
            self._keys.pop(kid, None)

    def _prune(self) -> None:
        now = time.monotonic()
        while self._frame_order and self._frame_order[0][0] < now:
            frame = self._frames.pop(self._frame_order.popleft()[1], None)
            key = self._keys.get(frame.kid) if frame is not None else None
            if key is not None and key.secret is not None:  # its frame never loaded
                del self._keys[key.kid]
        for label, kids in self._by_window.items():
            live = [k for k in kids if k in self._keys]
            idle = [k for k in live if not _in_use(self._keys[k])]
            # The window's oldest idle keys beyond KEYS_KEPT go, and any idle for IDLE_TTL.
            gone = set(idle[: max(0, len(idle) - KEYS_KEPT)])
            gone |= {k for k in idle if now - self._keys[k].touched > IDLE_TTL}
            for kid in gone:
                del self._keys[kid]
            self._by_window[label] = deque(k for k in live if k not in gone)


def _in_use(key: DocumentKey) -> bool:
    return key.session is not None and not key.session.over
