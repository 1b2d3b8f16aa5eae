"""An app module whose create_app takes no config path (see test_cli)."""


def create_app():  # type: ignore[no-untyped-def]
    return None
