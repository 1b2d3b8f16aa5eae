"""The command line's options and its errors at start-up."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.core.cli import main
from tests.conftest import ROOT, serving, wait_for_log


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


@pytest.mark.parametrize(
    ("module", "why"),
    [
        ("no_such_app_module", "APP_MODULE='no_such_app_module': there is no such module"),
        ("no_such_package.app", "APP_MODULE='no_such_package.app': there is no such module"),
        ("json", "APP_MODULE='json' has no create_app function"),
        ("", "APP_MODULE='' is not a module name"),
        (".relative", "APP_MODULE='.relative' is not a module name"),
        ("my-app", "APP_MODULE='my-app' is not a module name"),
        ("tests.unit.bad_factory", "create_app() returned NoneType, not an App"),
        ("tests.unit.bad_factory_signature", "APP_MODULE='tests.unit.bad_factory_signature': "
         "its create_app() cannot take the config file's path; define it as "
         "create_app(config_path) -> App"),
    ],
)
def test_an_app_module_that_cannot_be_used_is_one_clear_line(module: str, why: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "check"], capture_output=True, text=True, cwd=ROOT,
        timeout=60, env={**os.environ, "APP_MODULE": module},
    )
    assert result.returncode == 2, result
    assert result.stderr.strip() == f"error: {why}" or (
        why in result.stderr and "Traceback" not in result.stderr
    ), result.stderr


def test_a_folder_named_as_the_app_module_is_said_to_be_one(tmp_path: Path) -> None:
    """Run from the folder above an app laid out as myapp/myapp.py, Python imported the folder
    (a namespace package), and the message said the module had no create_app."""
    (tmp_path / "nsapp").mkdir()
    (tmp_path / "nsapp" / "nsapp.py").write_text("def create_app(config_path): ...\n")
    result = subprocess.run(
        [sys.executable, "-m", "app", "check", "--config", str(ROOT / "app.conf.json")],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={**os.environ, "APP_MODULE": "nsapp"},
    )
    assert result.returncode == 2, result
    assert result.stderr.strip() == (
        f"error: APP_MODULE='nsapp' is the folder {tmp_path / 'nsapp'}, not your app's module "
        "(Python takes a folder of that name for a package): run from the folder that holds "
        "nsapp.py, or put that folder on PYTHONPATH"), result.stderr


def test_an_app_with_its_own_main_is_named_in_its_usage(tmp_path: Path) -> None:
    """Its usage line said 'python -m app', which is not the command its users type."""
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    (tmp_path / "myapp" / "__main__.py").write_text(
        "import sys\nfrom app.core.cli import main\nfrom app.demo import create_app\n"
        "sys.exit(main(factory=create_app))\n")
    run = subprocess.run([sys.executable, "-m", "myapp", "--help"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: python -m myapp "), run.stdout
    run = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True,
                         text=True, timeout=60, cwd=ROOT)
    assert run.stdout.startswith("usage: python -m app "), run.stdout


@pytest.mark.parametrize(
    ("source", "last"),
    [
        ("def create_app(config):\n    x = (\n", "error: APP_MODULE='my_app' failed as it loaded: "
         "SyntaxError: "),
        ("raise RuntimeError('no database')\n", "error: APP_MODULE='my_app' failed as it "
         "loaded: RuntimeError: no database (the traceback above says where)"),
        ("def create_app(config):\n    raise RuntimeError('no database')\n",
         "error: create_app(config_path) of APP_MODULE='my_app' raised RuntimeError: no "
         "database (the traceback above says where)"),
    ],
    ids=["syntax error", "module raises", "create_app raises"],
)
def test_an_app_module_that_fails_shows_where_then_says_what(
    tmp_path: Path, source: str, last: str
) -> None:
    (tmp_path / "my_app.py").write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "app", "check"], capture_output=True, text=True, cwd=ROOT,
        timeout=60, env={**os.environ, "APP_MODULE": "my_app", "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert "Traceback" in result.stderr and "my_app.py" in result.stderr, result.stderr
    assert lines[-1].startswith(last), lines[-1]


def test_a_bad_config_loaded_as_the_app_module_is_imported_is_one_line_each(
    tmp_path: Path,
) -> None:
    """The README's own example loads the config at the module's top: a bad one is reported as
    any bad config is (status 2, a line per problem), not as a module that failed to load."""
    config = tmp_path / "app.conf.json"
    config.write_text('{"app": {"windows": [{"label": "main", "width": "big"}]}}')
    (tmp_path / "frontend").mkdir()
    (tmp_path / "my_app.py").write_text(
        "from app.core import App\n"
        f"app = App.from_config({str(config)!r})\n"
        "def create_app(config):\n    return app\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "app", "check", "--config", str(config)], capture_output=True,
        text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "APP_MODULE": "my_app", "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"{config}: $.app.windows[0].width: Input should be a valid integer"
    ], result.stderr


def test_a_module_the_app_imports_that_is_missing_shows_where(tmp_path: Path) -> None:
    (tmp_path / "my_app.py").write_text("import not_installed_lib\n")
    result = subprocess.run(
        [sys.executable, "-m", "app", "check"], capture_output=True, text=True, cwd=ROOT,
        timeout=60, env={**os.environ, "APP_MODULE": "my_app", "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "my_app.py" in result.stderr and "not_installed_lib" in result.stderr


def test_a_first_port_that_leaves_no_room_for_every_window_is_refused_at_once(
    write_config,
) -> None:
    config = write_config({"app": {"windows": [{"label": "main"}, {"label": "other"}]}})
    result = _serve("--config", str(config), "--port", "65535")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: the app's 2 windows take the ports from 65535 on, past 65535; give a first "
        "port of at most 65534"
    )
    assert "window main" not in result.stdout and "served at" not in result.stderr


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


@pytest.mark.parametrize(
    ("port", "why"),
    [
        ("-1", "a port is a number from 1 to 65535, not -1"),
        ("0", "a port is a number from 1 to 65535, not 0"),
        ("70000", "a port is a number from 1 to 65535, not 70000"),
        ("abc", "'abc' is not a port number"),
    ],
)
def test_a_port_out_of_range_is_a_usage_error(port: str, why: str) -> None:
    result = _serve("--port", port)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(f"argument --port: {why}")
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
        f"error: cannot write the schemas into {blocker}: it is not a folder"
    )


def test_serve_whose_output_is_closed_logs_its_urls_and_serves_on(tmp_path: Path) -> None:
    # `python -m app serve | true`: printing the URL lines hit a closed pipe, and serve died.
    read, write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], cwd=ROOT, stdout=write, stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write)
    os.close(read)  # nobody reads what serve prints
    try:
        assert process.stderr is not None
        line = ""
        while "standard output is closed" not in line:
            line = process.stderr.readline()
            assert line, "serve ended before saying where its windows are"
        assert "window main http://127.0.0.1:" in line
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def _loaded(pid: int, library: str) -> bool:
    """Whether process ``pid`` has loaded a shared library whose path has ``library`` in it.

    Only once it runs the app: until its exec, the child is a copy of this test process, which
    has that library loaded too (a signal sent then met a Python not started yet)."""
    try:
        if b"-m\x00app\x00" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:  # the process is gone
        return True


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc to follow start-up")
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("phase", ["loading its modules", "starting the core", "serving"])
def test_a_stop_signal_while_the_app_starts_ends_it_quietly(sent: int, phase: str) -> None:
    """Whatever it is doing then, the app ends with status 0 and no traceback, as it does once
    it runs. The phase is told by what the process has loaded (pydantic's extension while the
    app's modules load, aiohttp's once the core starts) or by the URL it prints once it serves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    if phase == "serving":
        assert process.stdout is not None
        assert process.stdout.readline().startswith("window main "), process.stderr
    else:
        library = "pydantic_core" if phase == "loading its modules" else "aiohttp"
        while not _loaded(process.pid, library) and time.monotonic() < deadline:
            time.sleep(0.001)
    process.send_signal(sent)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc to follow start-up")
def test_a_stop_signal_anywhere_in_the_start_ends_it_quietly() -> None:
    """Raised inside an import, a KeyboardInterrupt could land in code that namedtuple or a
    dataclass runs with eval, and CPython then ended the process with SIGINT (status -2, about
    one launch in four), caught or not. Signals at a spread of moments while the modules load,
    the app is made and the core starts:"""
    outcomes = []
    for offset_ms in range(0, 240, 16):
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 30
        while not _loaded(process.pid, "pydantic_core") and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(offset_ms / 1000)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        outcomes.append((offset_ms, process.returncode, "Traceback" in err))
    assert all(code == 0 and not traceback for _, code, traceback in outcomes), outcomes


def _serve_module(tmp_path: Path, name: str, source: str) -> subprocess.Popen[str]:
    """``python -m app serve`` of the app module ``name`` written with ``source``."""
    (tmp_path / f"{name}.py").write_text(source)
    return subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "APP_MODULE": name, "PYTHONPATH": str(tmp_path)},
    )


def _lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The lines of the process's standard error as they come ("" once it ends)."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for_line(lines: queue.Queue[str], text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while text not in (line := lines.get(timeout=max(0.0, deadline - time.monotonic()))):
        assert line, f"the process ended without saying {text!r}"
    return line


def test_a_start_that_hangs_ends_at_a_second_stop_signal(tmp_path: Path) -> None:
    # The first stop signal while the app starts is acted on once the run takes the signals;
    # an app whose create_app never returns would keep it waiting: a second one ends it.
    process = _serve_module(
        tmp_path, "hanging_app",
        "import sys, time\n"
        "from app import starting\n"
        "def create_app(config):\n"
        "    print('making the app', file=sys.stderr, flush=True)\n"
        "    while not starting.noted():\n"
        "        time.sleep(0.01)\n"
        "    print('noted', file=sys.stderr, flush=True)\n"
        "    time.sleep(60)\n"
    )
    lines = _lines_of(process)
    _wait_for_line(lines, "making the app")
    process.send_signal(signal.SIGTERM)
    # Noted, and the start goes on (here, for ever). (Two signals sent before Python's handler
    # has run for the first are taken as one.)
    _wait_for_line(lines, "noted")
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    said = []
    while line := lines.get(timeout=10):
        said.append(line)
    assert "Traceback" not in "".join(said), said


def test_a_slow_on_start_function_neither_blocks_the_core_nor_a_stop(tmp_path: Path) -> None:
    """A plain on_start function runs on a thread, as sync commands do: on the core's loop, one
    that took 30 s held up every page's calls, and stop signals, for as long."""
    process = _serve_module(
        tmp_path, "slow_start_app",
        "import sys, threading\n"
        "from app.demo import create_app as demo\n"
        "def create_app(config):\n"
        "    app = demo(config)\n"
        "    @app.on_start\n"
        "    def prepare(app):\n"
        "        print('preparing', file=sys.stderr, flush=True)\n"
        "        threading.Event().wait(60)\n"
        "    return app\n"
    )
    _wait_for_line(_lines_of(process), "preparing")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=10)  # one signal is enough
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_threads_of_the_app_that_hold_its_end_are_named(tmp_path: Path) -> None:
    """Python waits for every thread that is not a daemon: the app's end said nothing, and the
    process seemed to hang."""
    process = _serve_module(
        tmp_path, "thread_app",
        "import threading\n"
        "from app.demo import create_app as demo\n"
        "def create_app(config):\n"
        "    app = demo(config)\n"
        "    threading.Thread(target=threading.Event().wait, name='poller').start()\n"
        "    return app\n"
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("window ")  # served
    errors = _lines_of(process)
    process.send_signal(signal.SIGTERM)
    line = _wait_for_line(errors, "the process waits for threads")
    assert "still running: poller (Python waits" in line
    process.send_signal(signal.SIGTERM)  # ends it now
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err


def test_the_process_ends_after_the_exit_functions_before_the_teardown(tmp_path: Path) -> None:
    """The interpreter's teardown ends the daemon threads still running, and one inside a
    native extension then aborted the process (status -6) after a clean end. The process now
    ends before it: the app's exit functions run, its log is whole, its status is the run's."""
    process = _serve_module(
        tmp_path, "ending_app",
        "import atexit, os, sys, threading\n"
        "from app.demo import create_app as demo\n"
        "class TornDown:\n"
        "    def __del__(self, write=os.write):\n"
        "        write(2, b'torn down\\n')\n"
        "sys.ending_app_probe = TornDown()  # (sys's own values go as the interpreter ends)\n"
        "atexit.register(lambda: print('exit function ran', file=sys.stderr, flush=True))\n"
        "def create_app(config):\n"
        "    threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
        "    return demo(config)\n"
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("window ")  # served
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "the core has stopped" in err
    assert "exit function ran" in err
    assert "torn down" not in err  # (the interpreter's teardown would have said it)


def test_a_served_app_logs_what_check_would_report(app_dir: Path) -> None:
    # A capability that applies to no page is a mistake the app still runs with: its log says
    # so, pointing at 'check', without 'check' having been run.
    path = app_dir / "capabilities" / "settings-window.json"
    capability = json.loads(path.read_text())
    capability["local"] = False
    path.write_text(json.dumps(capability))
    with serving(app_dir / "app.conf.json") as served:
        line = wait_for_log(served.log, r"applies to no page")
        assert "settings-window.json" in line and "python -m app check" in line
        assert "ERROR" in line


def test_a_ctrl_c_while_the_serve_loop_is_made_ends_it_as_before_the_app_was_up(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before the loop takes the stop signals, a KeyboardInterrupt is the start being stopped
    # (python -m app ends with status 0), not a second Ctrl-C during shutdown (status 130);
    # the coroutine that never ran is closed, not left to warn.
    import warnings

    from app.core import App, load_config, looprun

    def interrupted(main: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(looprun, "run", interrupted)
    app = App(load_config(write_config({})))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyboardInterrupt):
            app.serve()


def test_an_app_module_that_runs_the_app_as_it_is_imported_is_one_clear_line(
    tmp_path: Path,
) -> None:
    """The README's first example runs the app at the module's top: under the command line
    that opened the windows (check too) before it found no create_app."""
    (tmp_path / "my_app.py").write_text(
        "from app.core import App\n"
        f"app = App.from_config({str(ROOT / 'app.conf.json')!r})\n"
        "app.run()\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "app", "check"], capture_output=True, text=True, cwd=ROOT,
        timeout=60, env={**os.environ, "APP_MODULE": "my_app", "PYTHONPATH": str(tmp_path),
                         "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 2, result
    assert result.stderr.strip().splitlines() == [
        "error: APP_MODULE='my_app' calls app.run() as it is imported; the command line makes "
        "the app with the module's create_app(config_path) and runs it itself: define "
        "create_app to return the App, and call run() only under "
        "'if __name__ == \"__main__\":'"
    ], result.stderr


def test_the_demo_made_for_another_config_says_so(
    tmp_path: Path, write_config, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """With no APP_MODULE the app is the demo: run with another app's config, what it reports
    (check: permissions of no such command) is about the demo's commands, which is said."""
    monkeypatch.delenv("APP_MODULE", raising=False)
    path = write_config()
    main(["check", "--config", str(path)])
    first = capsys.readouterr().err.splitlines()[0]
    assert first == (
        f"note: APP_MODULE is not set, so the app is the built-in demo (app.demo), with the "
        f"config {path}; to run your own, set APP_MODULE to the module that defines "
        "create_app(config_path) (see --help)"
    )
    main(["check", "--config", str(ROOT / "app.conf.json")])  # the demo's own: nothing to say
    assert "APP_MODULE" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check", "serve"])
def test_a_command_whose_arguments_cannot_be_validated_is_one_clear_line(
    tmp_path: Path, command: str
) -> None:
    """Found as the app starts (or is checked), not as it registers: said as an error, not
    as a traceback."""
    (tmp_path / "my_app.py").write_text(
        "import typing\n"
        "from app.core import App\n"
        "def create_app(config):\n"
        "    app = App.from_config(config)\n"
        "    class Point(typing.TypedDict):\n"
        "        x: int\n"
        "    @app.command\n"
        "    def plot(point: Point) -> int:\n"
        "        return point['x']\n"
        "    return app\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "app", command], capture_output=True, text=True, cwd=ROOT,
        timeout=60, env={**os.environ, "APP_MODULE": "my_app", "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: command 'plot': its arguments cannot be validated from their type hints: "
        "Please use `typing_extensions.TypedDict` instead of `typing.TypedDict` on Python < 3.12."
    ), result.stderr


def test_serve_that_ends_another_way_leaves_no_thread_waiting_for_its_stop(write_config) -> None:
    """serve(stop=...) that ended otherwise (here its port was taken) left a thread waiting for
    a stop that no one would set, one per call."""
    import socket
    import threading

    from app.core import App, StartError, load_config

    app = App(load_config(write_config({})))
    failed: list[BaseException] = []

    def serve(port: int) -> None:  # (on a thread: the browser tests keep a loop on this one)
        try:
            app.serve(port=port, stop=threading.Event())
        except BaseException as exc:
            failed.append(exc)

    before = set(threading.enumerate())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = threading.Thread(target=serve, args=(taken.getsockname()[1],))
        server.start()
        server.join(30)
    assert [type(exc) for exc in failed] == [StartError]
    started = [t for t in threading.enumerate() if t not in before]
    for thread in started:  # (the core's worker threads end as it stops)
        thread.join(5)
    assert [t.name for t in started if t.is_alive()] == []
