"""Developer tools of the command line: ``check``, ``schema`` and ``permissions``.

Each reads the loaded app (its configuration and its registered commands) and writes its
report to stdout; the return value is the exit status.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ..app import App

__all__ = ["run", "write_schema_files"]


def run(command: str, app: App, args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run tool ``command`` (check, schema or permissions) on ``app``; return the exit status."""
    out = out or sys.stdout
    if command == "check":
        from .check import check, report

        return report(app, check(app), out)
    if command == "schema":
        folder = Path(args.out) if args.out else app.config.root / "schemas"
        return write_schema_files(app, folder, out)
    if command == "permissions":
        from .permissions import permissions_report

        out.write(permissions_report(app))
        out.flush()
        return 0
    print(f"There is no tool named {command!r}; use check, schema or permissions.", file=sys.stderr)
    return 2


def write_schema_files(
    app: App | None, target: Path, out: TextIO | None = None, keep: bool = False
) -> int:
    """Write the schemas of ``app`` into folder ``target`` (``keep``: not over files already
    there); with no app (its config did not load), schemas that do not list its permissions.
    Return the exit status."""
    from .schema import write_schemas

    out = out or sys.stdout
    if target.exists() and not target.is_dir():
        print(f"error: cannot write the schemas into {target}: it is not a folder",
              file=sys.stderr, flush=True)
        return 1
    try:
        written = write_schemas(app, target, keep)
    except OSError as exc:
        print(f"error: cannot write the schemas into {target}: {exc.strerror or exc}",
              file=sys.stderr, flush=True)
        return 1
    for path in written:
        print(f"wrote {path}", file=out, flush=True)
    return 0
