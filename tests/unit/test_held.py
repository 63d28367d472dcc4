"""Warnings held until the provider process ends, unless a later step makes them moot."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from motherduck_provider.resources import _held


def test_held_until_flushed_cancelled_by_key(capsys: pytest.CaptureFixture[str]) -> None:
    _held.hold(("", "etl"), "etl keeps it")
    _held.hold(("", "other"), "other keeps it")
    _held.hold(("org", "etl"), "etl of another organization keeps it")
    _held.cancel(("", "etl"))
    assert capsys.readouterr().err == ""
    _held.flush()
    _held.flush()
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "warning: other keeps it",
        "warning: etl of another organization keeps it",
    ]


def test_printed_when_the_process_is_interrupted() -> None:
    """The engine ends the provider with SIGINT; what is held is printed on the way out."""
    # A process started with SIGINT ignored (a background job of a non-interactive shell, as
    # `cmd &` in a CI script) passes that on, and Python then installs no handler: restore
    # Python's own, as the engine's provider process has it.
    code = (
        "import signal, threading\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from motherduck_provider.resources import _held\n"
        "_held.hold(('', 'etl'), 'etl keeps its configuration')\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    threading.Event().wait()  # as `python -m pulumi.dynamic` waits\n"
        "except KeyboardInterrupt:\n"
        "    pass\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None and process.stdout.readline() == "ready\n"
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
        finally:
            process.kill()  # never left waiting on a child that did not end
    assert err == "warning: etl keeps its configuration\n"
