"""Driver of pywebview's js_api: the baseline users have today."""

from __future__ import annotations

from ..process import Launch
from .base import Host, Subject

__all__ = ["JSAPI"]


class JsApi(Subject):
    name = "jsapi"
    title = "pywebview js_api"
    binary = False

    def unavailable(self, host: Host) -> str | None:
        if host == "headless":
            return "js_api exists only inside a pywebview window"
        return None

    def launch(self, host: Host) -> Launch:
        return Launch(["-m", "benchmarks.subjects.jsapi_app"])


JSAPI = JsApi()
