"""The command line: ``python -m app [run|serve|check|schema|permissions] [--config PATH]``."""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from ..starting import noted
from .app import App, loading_module
from .commands import UnusableCommand
from .errors import ConfigError, StartError

__all__ = ["main"]

Factory = Callable[[str | Path], App]


def _port(text: str) -> int:
    """``--port``'s value: a port to listen on (a usage error otherwise, as a word is)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {port}")
    return port


def _program() -> str:
    """How the program was started, for its usage line: ``python -m myapp`` for an app whose
    own ``__main__`` calls ``main()``, ``python -m app`` otherwise."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if isinstance(name, str) and name.endswith(".__main__"):
        return f"python -m {name.removesuffix('.__main__')}"
    return "python -m app"


def _parser() -> argparse.ArgumentParser:
    # SUPPRESS: an option given before the sub-command must not be reset by the sub-parser.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--config", help="path of app.conf.json (default: ./app.conf.json)")
    common.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    common.add_argument("--debug", action="store_true", help="enable the web inspector")
    parser = argparse.ArgumentParser(
        prog=_program(),
        description="Run, serve and check a desktop app built on the shell.",
        epilog="The app is made by create_app(config_path) -> App of the module that "
        "APP_MODULE names (default: app.demo, the built-in demo), e.g. "
        "APP_MODULE=myapp python -m app check --config app.conf.json",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", parents=[common], help="open the configured windows (default)")
    serve = sub.add_parser(
        "serve", parents=[common], help="run the core without a native window; print launch URLs"
    )
    serve.add_argument("--port", type=_port, help="port of the first window (1 to 65535)")
    sub.add_parser("check", parents=[common], help="validate config and capabilities")
    schema = sub.add_parser("schema", parents=[common], help="write the JSON schemas")
    schema.add_argument("--out", help="where to write them (default: schemas/ by the config)")
    sub.add_parser("permissions", parents=[common], help="who may call each command, and why")
    return parser


# Filled in after parsing, not with set_defaults(): the options' actions are shared with the
# sub-commands' parsers, so a default set on them would undo an option given before the
# sub-command ("--config X serve").
_DEFAULTS = {
    "command": "run", "config": "app.conf.json", "verbose": False, "debug": False,
    "port": None, "out": None,
}


DEMO_CONFIG = Path(__file__).resolve().parents[2] / "app.conf.json"
"""The demo's own config (in a checkout of the shell)."""


def _demo_config(path: str) -> bool:
    try:
        return Path(path).resolve() == DEMO_CONFIG
    except OSError:  # (a path that cannot be resolved: not the demo's)
        return False


def _app_factory(name: str) -> Factory | str:
    """The ``create_app`` of module ``name`` (``APP_MODULE``), or what is wrong with it. A
    module that the app's own code imports and is missing raises as it is: its traceback says
    where."""
    if not all(part.isidentifier() for part in name.split(".")):
        return (f"APP_MODULE={name!r} is not a module name: give the dotted name of your app's "
                "module (myapp, or myapp.main), or unset it to run the built-in demo")
    try:
        with loading_module(name):
            module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
            raise
        return (f"APP_MODULE={name!r}: there is no such module (is it spelled right, and is its "
                "folder the current one or on PYTHONPATH?)")
    factory = getattr(module, "create_app", None)
    if factory is None and getattr(module, "__file__", None) is None \
            and hasattr(module, "__path__"):  # a folder of that name, with no __init__.py
        folder = next(iter(module.__path__), name)
        last = name.rpartition(".")[2]
        return (f"APP_MODULE={name!r} is the folder {folder}, not your app's module (Python takes "
                f"a folder of that name for a package): run from the folder that holds "
                f"{last}.py, or put that folder on PYTHONPATH")
    if not callable(factory):
        return (f"APP_MODULE={name!r} has no create_app function; define "
                "create_app(config_path) -> App in it")
    try:
        inspect.signature(factory).bind("app.conf.json")
    except TypeError:
        return (f"APP_MODULE={name!r}: its create_app{inspect.signature(factory)} cannot take "
                "the config file's path; define it as create_app(config_path) -> App")
    except ValueError:  # one Python cannot look into: it is called as it is
        pass
    return factory  # type: ignore[no-any-return]


def _config_problems(exc: ConfigError, args: argparse.Namespace) -> int:
    """Say what is wrong with the config; return the exit status."""
    for line in exc.lines():
        print(line, file=sys.stderr, flush=True)
    if args.command != "schema":
        return 2
    # The schemas help to write a config that loads: they are written all the same, without
    # the app's own permissions (its commands are registered once its config has loaded):
    # where asked (--out), or beside the config, but not over the schemas there (of the app
    # as it was, which a typo in the config would otherwise lose).
    from . import tools

    config = Path(args.config)
    if args.out is None and not config.is_file():
        print(f"note: no schemas written: there is no config at {config} to write them beside "
              "(give --out DIR to write them anyway)", file=sys.stderr, flush=True)
        return 2
    folder = Path(args.out) if args.out else config.parent / "schemas"
    from .tools.schema import CAPABILITY_SCHEMA, CONFIG_SCHEMA

    if args.out is None and all((folder / name).exists()
                                for name in (CONFIG_SCHEMA, CAPABILITY_SCHEMA)):
        print(f"note: the config did not load (see above): the schemas in {folder} are kept as "
              "they were; run schema again once it loads", file=sys.stderr, flush=True)
        return 2
    print("note: the config did not load (see above), so the schemas written now list no "
          "permission of the app's commands (those already beside the config are kept); run "
          "schema again once it loads", file=sys.stderr, flush=True)
    status = tools.write_schema_files(None, folder, keep=args.out is None)
    return status or 2


def main(argv: Sequence[str] | None = None, factory: Factory | None = None) -> int:
    """Entry point. ``factory(config_path)`` builds the ``App`` (default: the demo app)."""
    args = _parser().parse_args(argv)
    for name, default in _DEFAULTS.items():
        if getattr(args, name, None) is None:
            setattr(args, name, default)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    module = os.environ.get("APP_MODULE", "app.demo")
    maker = "the app's factory"
    demo = factory is None and "APP_MODULE" not in os.environ
    if factory is None:
        maker = f"create_app(config_path) of APP_MODULE={module!r}"
        try:
            found = _app_factory(module)
        except ConfigError as exc:  # a module that loads its config as it is imported
            return _config_problems(exc, args)
        except StartError as exc:  # it runs the app as it is imported
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 2
        except Exception as exc:  # the app's own module failed as it loaded: where, then what
            traceback.print_exc()
            print(f"error: APP_MODULE={module!r} failed as it loaded: "
                  f"{type(exc).__name__}: {exc} (the traceback above says where)",
                  file=sys.stderr, flush=True)
            return 1
        if isinstance(found, str):
            print(f"error: {found}", file=sys.stderr, flush=True)
            return 2
        factory = found
    try:
        app = factory(args.config)
    except ConfigError as exc:
        return _config_problems(exc, args)
    except Exception as exc:  # the app's create_app failed: where, then what
        traceback.print_exc()
        print(f"error: {maker} raised {type(exc).__name__}: {exc} (the traceback above says "
              "where)",
              file=sys.stderr, flush=True)
        return 1
    if not isinstance(app, App):
        print(f"error: the app's create_app() returned {type(app).__name__}, not an App",
              file=sys.stderr, flush=True)
        return 2
    if demo and not _demo_config(args.config):
        print(f"note: APP_MODULE is not set, so the app is the built-in demo (app.demo), with "
              f"the config {args.config}; to run your own, set APP_MODULE to the module that "
              "defines create_app(config_path) (see --help)", file=sys.stderr, flush=True)
    if noted():  # stopped while the app was made: nothing runs
        return 0
    try:
        if args.command == "run":
            app.run(debug=args.debug)
            return 0
        if args.command == "serve":

            def ready(urls: dict[str, str]) -> None:
                try:
                    for label, url in urls.items():
                        print(f"window {label} {url}", flush=True)
                except BrokenPipeError:  # `serve | head -1`, say: the lines go to the log
                    sys.stdout = open(os.devnull, "w")  # for the rest of the run
                    for label, url in urls.items():
                        logging.getLogger("app.core").warning(
                            "standard output is closed: window %s %s", label, url
                        )

            app.serve(port=args.port, on_ready=ready)
            return 0
        from . import tools

        return tools.run(args.command, app, args)
    except (StartError, UnusableCommand) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
