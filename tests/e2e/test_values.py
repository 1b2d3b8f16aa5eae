"""What commands return and raise reaches the page as JSON can carry it (raw WebSocket)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import serving

from . import raw
from .conftest import LIMITS_ENV, limits_config


async def test_model_fields_json_has_no_type_for_arrive_as_pydantic_writes_them(
    app_dir: Path,
) -> None:
    with serving(limits_config(app_dir), env=LIMITS_ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            reply = await raw.call(ws, {"id": 1, "kind": "invoke", "cmd": "rich", "args": {}})
    assert reply["ok"], reply
    assert reply["value"] == {
        "url": "https://example.com/a", "price": "9.99", "where": "/tmp/x", "took": "PT1M30S",
        "size": "small", "thumbnail": b"\x89PNG",
    }


async def test_a_command_error_keeps_its_code_whatever_it_carries(app_dir: Path) -> None:
    with serving(limits_config(app_dir), env=LIMITS_ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            odd = await raw.call(
                ws, {"id": 1, "kind": "invoke", "cmd": "odd_failure", "args": {"kind": "data"}}
            )
            number = await raw.call(
                ws, {"id": 2, "kind": "invoke", "cmd": "odd_failure", "args": {"kind": "number"}}
            )
    # Data that cannot be sent is dropped, and the message says so; the code stays.
    assert odd["error"]["code"] == "command_failed"
    assert odd["error"]["message"].startswith("'odd_failure' failed: Nope. (Its data cannot be ")
    assert "data" not in odd["error"]
    assert number["error"] == {"code": "command_failed", "message": "'odd_failure' failed: 42"}
