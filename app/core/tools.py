"""Developer tools of the CLI: ``check``, ``schema``, ``permissions``."""

from __future__ import annotations

import argparse
import sys

from .app import App


def run(command: str, app: App, args: argparse.Namespace) -> int:
    print(f"'{command}' is not available yet", file=sys.stderr)
    return 1
