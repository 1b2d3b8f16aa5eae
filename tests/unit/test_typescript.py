"""The TypeScript declarations shipped with the page API type real code, and catch misuse.

``tsc`` comes from Debian's node-typescript (scripts/setup.sh installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.core.assets import API_FILES

HERE = Path(__file__).resolve().parent / "typescript"


def tsc(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    compiler = shutil.which("tsc")
    assert compiler, "tsc is missing: run scripts/setup.sh (it installs node-typescript)"
    for name, text in API_FILES.items():
        if name.endswith(".d.ts"):
            (tmp_path / name).write_bytes(text)
    shutil.copy(HERE / source, tmp_path / source)
    return subprocess.run(
        [compiler, "--strict", "--noEmit", "--target", "es2020", "--module", "es2020",
         "--moduleResolution", "node", "--lib", "es2020,dom", source, "app.d.ts"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


def test_the_declarations_type_the_modules_and_window_app(tmp_path: Path) -> None:
    result = tsc(tmp_path, "uses_the_api.ts")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "error",
    [
        "(3,8): error TS2345",  # invoke(5): a command is named by a string
        "(4,23): error TS2540",  # the label is read-only
        "(5,22): error TS2554",  # emitTo needs the event's name
        "(6,1): error TS2554",  # an IpcError is made with its code first
        "(7,16): error TS2345",  # arguments are named: not an array
        "(8,16): error TS2345",  # ... nor a function
    ],
)
def test_the_declarations_catch_misuse(tmp_path: Path, error: str) -> None:
    result = tsc(tmp_path, "misuses_the_api.ts")
    assert result.returncode != 0
    assert "misuses_the_api.ts" + error in result.stdout, result.stdout
