"""The subjects under comparison, each a driver that knows how to start it on a host.

A host is ``"qt"`` (a real pywebview Qt window, driven over CDP) or ``"headless"`` (headless
Chromium opening the URL the subject's process prints).
"""

from __future__ import annotations

from .bare import BARE
from .base import HOSTS, Subject
from .jsapi import JSAPI
from .shell import BROWNFIELD, ISOLATION

__all__ = ["BARE", "BROWNFIELD", "HOSTS", "ISOLATION", "JSAPI", "SUBJECTS", "Subject"]

SUBJECTS: tuple[Subject, ...] = (JSAPI, BARE, BROWNFIELD, ISOLATION)
