"""The command line's options and its errors at start-up."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "{path}", "check"],  # an option before the sub-command counts too
        ["check", "--config", "{path}"],
    ],
)
def test_config_is_taken_before_or_after_the_sub_command(
    write_config, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config({"productName": 5})
    code = main([a.format(path=path) for a in argv])
    assert code == 2
    assert f"{path}: $.productName" in capsys.readouterr().err


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "serve", "--config", "app.conf.json", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )


def test_a_port_in_use_is_one_clear_line(write_config) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve("--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use; is another program "
        "(or another copy of the app) using it?"
    )
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("port", ["-1", "70000"])
def test_a_port_out_of_range_is_one_clear_line(port: str) -> None:
    result = _serve("--port", port)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot listen on 127.0.0.1:{port}: a port is a number from 1 to 65535"
    )
    assert "Traceback" not in result.stderr


def test_schemas_that_cannot_be_written_are_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "app", "schema", "--out", str(blocker)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: cannot write the schemas into {blocker}: File exists"
    )
