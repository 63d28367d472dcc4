"""A failed shard's one summary line names its cause, from what the Automation API reported.

The outputs below were captured from Pulumi 3.274 through the Automation API (paths shortened):
a `pulumi up` killed by pid, one refused because another run held the stack's lock, a program
raising, a missing virtualenv (a setup failure, whose last line is Pulumi's trailer), and
resources failing with our one-line API error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import create_command_error

from motherduck_provider.fleet.causes import failure_cause, parse_command_error
from motherduck_provider.fleet.runner import Fleet, ShardOutcome, run_shard
from motherduck_provider.fleet.summary import render

KILLED = CommandResult(stdout="Updating (shard-1):\n\n@ updating.....", stderr="", code=-9)
LOCKED = CommandResult(
    stdout="",
    stderr=(
        "error: the stack is currently locked by 1 lock(s). Either wait for the other "
        "process(es) to end or delete the lock file with `pulumi cancel`.\n"
        "  file:///tmp/state/.pulumi/locks/organization/tenant-fleet/shard-1/"
        "ac78a3cf-9f17-42ce-8c49-e300e58ebae2.json?no_tmp_dir=true: created by root@vm "
        "(pid 13335) at 2026-12-06T21:18:45Z"
    ),
    code=1,
)
CLOUD_LOCKED = CommandResult(
    stdout="",
    stderr="error: [409] Conflict: Another update is currently in progress.",
    code=255,
)
TRACEBACK = (
    "Program failed with an unhandled exception:\nTraceback (most recent call last):\n"
    '  File "/tmp/tenant-fleet/__main__.py", line 2, in <module>\n'
    '    raise ValueError("tenant list has a duplicate: acme")\n'
    "ValueError: tenant list has a duplicate: acme\n\n"
)
PROGRAM_FAILED = CommandResult(
    stdout=(
        "Updating (shard-1):\n\n    pulumi:pulumi:Stack tenant-fleet-shard-1 running error: "
        "Program failed with an unhandled exception:\n    pulumi:pulumi:Stack "
        "tenant-fleet-shard-1 **failed** 1 error\nDiagnostics:\n  pulumi:pulumi:Stack "
        "(tenant-fleet-shard-1):\n    error: Program failed with an unhandled exception:\n"
        '    Traceback (most recent call last):\n      File "/tmp/tenant-fleet/__main__.py", '
        'line 2, in <module>\n        raise ValueError("tenant list has a duplicate: acme")\n'
        "    ValueError: tenant list has a duplicate: acme\n\nResources:\n    1 unchanged\n"
        "    1 errored\n\nDuration: 1s\n"
    ),
    stderr="",
    code=1,
)
NO_VENV = CommandResult(
    stdout="Updating (shard-1):",
    stderr=(
        "error: failed to discover package requirements: The 'virtualenv' option in "
        'Pulumi.yaml is set to "/tmp/novenv", but "/tmp/novenv" doesn\'t exist; run the '
        "following commands to create the virtual environment and install dependencies into "
        "it:\n\n    1. python3 -m venv /tmp/novenv\n    2. /tmp/novenv/bin/python -m pip "
        "install --upgrade pip setuptools wheel\n    3. /tmp/novenv/bin/python -m pip install "
        "-r requirements.txt\n\n\nFor more information see: "
        "https://www.pulumi.com/docs/intro/languages/python/#virtual-environments"
    ),
    code=1,
)
API_ERROR = (
    "creating ServiceAccount failed: MotherDuck API error 401 (UNAUTHORIZED): Invalid "
    "Credentials [POST /v1/users]. Hint: the admin token is wrong, revoked or expired; set a "
    "valid one with `pulumi config set --secret motherduck:token <token>`"
)
API_FAILED = CommandResult(stdout="Updating (shard-1):\n...", stderr="", code=255)


def error(result: CommandResult) -> auto.CommandError:
    return create_command_error(result)


def test_what_the_automation_api_said_before() -> None:
    """The last line of a killed or misconfigured run's error names no cause."""
    assert str(error(KILLED)).strip().splitlines()[-1].strip() == "stderr:"
    assert str(error(NO_VENV)).strip().splitlines()[-1].startswith("For more information see")


def test_the_command_result_is_read_back_from_the_error_text() -> None:
    parsed = parse_command_error(str(error(LOCKED)))
    assert parsed is not None and parsed.code == 1 and parsed.stderr == LOCKED.stderr
    killed = parse_command_error(str(error(KILLED)))
    assert killed is not None and killed.code == -9 and killed.stderr == ""
    assert parse_command_error("no such stack") is None


def test_killed() -> None:
    cause = failure_cause(error(KILLED), [], "up")
    assert cause == "killed (SIGKILL) before `up` finished: run `... recover --failed` first"
    terminated = CommandResult(stdout="", stderr="", code=-15)
    assert failure_cause(error(terminated), [], "destroy").startswith("killed (SIGTERM) before")


def test_lock_held_names_the_holder_and_what_to_do() -> None:
    exc = error(LOCKED)
    assert isinstance(exc, auto.ConcurrentUpdateError)
    cause = failure_cause(exc)
    assert cause.startswith("lock held by root@vm (pid 13335) since 2026-12-06T21:18:45Z: ")
    assert "wait for it to end" in cause and "`... recover --failed` removes its lock" in cause
    assert "another update in Pulumi Cloud" in failure_cause(error(CLOUD_LOCKED))


def test_program_error_is_the_exception_line() -> None:
    cause = failure_cause(error(PROGRAM_FAILED), [TRACEBACK])
    assert cause == "program error: ValueError: tenant list has a duplicate: acme"
    # Without the event (a runner that missed it), the same line from Pulumi's output.
    assert failure_cause(error(PROGRAM_FAILED)).startswith("setup error: Program failed")


def test_setup_error_is_pulumis_first_error_line_not_its_trailer() -> None:
    cause = failure_cause(error(NO_VENV))
    assert cause.startswith("setup error: failed to discover package requirements: The 'virt")
    assert "For more information" not in cause and len(cause) <= 300 and "\n" not in cause


def test_api_error_is_our_one_line_error() -> None:
    cause = failure_cause(error(API_FAILED), [API_ERROR] * 3, count=8)
    assert cause.startswith("API error: creating ServiceAccount failed: MotherDuck API error 401")
    assert cause.endswith(" (and 7 more)") and len(cause) <= 300


def test_anything_else_still_says_something() -> None:
    assert failure_cause(FileNotFoundError("no Pulumi.yaml\nmore")) == (
        "FileNotFoundError: no Pulumi.yaml"
    )
    silent = CommandResult(stdout="", stderr="", code=3)
    assert failure_cause(error(silent), [], "refresh") == (
        "`pulumi refresh` exited with code 3 and no error message"
    )
    assert failure_cause(None) == "failed with no error message"


@dataclass
class FakeCommand:
    """A `pulumi` that logs the given error diagnostics as engine events, then fails with
    `error`, the way `Fleet.operate` runs it (`--event-log`, then `CommandError`)."""

    diagnostics: list[str]
    error: Exception
    args: list[str] | None = None

    def run(self, args: list[str], cwd: str, additional_env: Any) -> None:
        self.args = args
        log = Path(args[args.index("--event-log") + 1])
        with log.open("a", encoding="utf-8") as events:
            for i, message in enumerate(self.diagnostics):
                diag = {"message": message, "color": "never", "severity": "error"}
                line = {"sequence": i, "timestamp": 0, "diagnosticEvent": diag}
                events.write(json.dumps(line) + "\n")
        raise self.error


@pytest.mark.parametrize(
    ("diagnostics", "result", "expected"),
    [
        ([], KILLED, "shard-1: killed (SIGKILL) before `up` finished"),
        ([], LOCKED, "shard-1: lock held by root@vm (pid 13335)"),
        ([TRACEBACK], PROGRAM_FAILED, "shard-1: program error: ValueError: tenant list"),
        ([], NO_VENV, "shard-1: setup error: failed to discover package requirements"),
        ([API_ERROR] * 5, API_FAILED, "shard-1: API error: creating ServiceAccount failed"),
    ],
)
def test_the_summary_has_one_line_with_the_cause(
    tmp_path: Path, diagnostics: list[str], result: CommandResult, expected: str
) -> None:
    command = FakeCommand(diagnostics, error(result))
    fleet = Fleet(tmp_path, command)  # type: ignore[arg-type]
    outcome = run_shard(fleet, "shard-1", "up", lambda _: None)
    assert command.args is not None and command.args[:3] == ["up", "--stack", "shard-1"]
    assert outcome.result == "failed" and len(outcome.errors) == 1
    ok = ShardOutcome("shard-0", "succeeded", created=1)
    text = render("up", [ok, outcome], 1.0)
    (line,) = [line for line in text.splitlines() if line.startswith("shard-1: ")]
    assert line.startswith(expected), line
    assert "stderr:" not in text and "For more information" not in text


class EndsAfterTheLastEmptyRead:
    """The run's end, arriving between the reader's empty read and its look at the end: the
    engine writes its last events, the command returns and the end is set, all at once."""

    def __init__(self, log: Path, lines: list[str]) -> None:
        self.log, self.lines, self.set_ = log, lines, False

    def is_set(self) -> bool:
        if not self.set_:
            with self.log.open("a", encoding="utf-8") as out:
                out.writelines(self.lines)
            self.set_ = True
        return True

    def wait(self, timeout: float) -> bool:
        return self.set_


def test_the_event_reader_reads_what_was_written_before_the_end(tmp_path: Path) -> None:
    """Seen once in CI (2026-12-07): a shard's program error summarized as a setup error, its
    diagnostic event lost, because the reader left at the end without reading the lines written
    after its last empty read."""
    from motherduck_provider.fleet.runner import _follow

    log = tmp_path / "events.jsonl"
    log.touch()
    diag = {"message": TRACEBACK, "color": "never", "severity": "error"}
    line = json.dumps({"sequence": 0, "timestamp": 0, "diagnosticEvent": diag}) + "\n"
    seen: list[Any] = []
    _follow(log, seen.append, EndsAfterTheLastEmptyRead(log, [line]))  # type: ignore[arg-type]
    assert [e.diagnostic_event.message for e in seen] == [TRACEBACK]
