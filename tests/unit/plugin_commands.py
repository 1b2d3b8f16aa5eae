"""Commands another module defines in a function, for tests/unit/test_commands.py."""

from __future__ import annotations

from pydantic import BaseModel


def build() -> list[object]:
    class Point(BaseModel):  # this function's own
        x: int

    def move(p: Point) -> int:
        return p.x

    return [move]
