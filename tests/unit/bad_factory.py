"""An app module whose create_app returns no App (see test_cli)."""


def create_app(config: object) -> None:
    return None
