"""Why a shard failed, in one line: killed, lock held, program error, API error or setup error.

The Automation API reports a failed `pulumi` as a `CommandError` whose text is the whole
command result (`code: N`, `stdout: ...`, `stderr: ...`) and gives no exit code as a value;
the engine's error diagnostics arrive as events. The last line of that text names no cause:
it is `stderr:` for a killed engine (nothing was written), and Pulumi's trailer
`For more information see: ...` for a setup failure. So the cause is read from the parts, in
this order: a negative exit code is a signal (killed); a lock message says who holds the lock;
then the first error diagnostic (a program's exception line, or our one-line API error);
then Pulumi's own first `error:` line.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CommandOutput", "failure_cause", "lock_holder", "parse_command_error"]

# Kept short so a summary line fits a terminal or a CI log line.
MAX_LENGTH = 300
_RESULT = re.compile(r"\A\s*code: (?P<code>-?\d+)\n stdout: (?P<stdout>.*)\Z", re.DOTALL)
_LOCAL_LOCK = "the stack is currently locked"
_CLOUD_LOCK = "Another update is currently in progress"
_LOCK_OWNER = re.compile(r"created by (?P<who>\S+) \(pid (?P<pid>\d+)\) at (?P<at>\S+)")
_UNHANDLED = "Program failed with an unhandled exception:"
_OUR_ERROR = "MotherDuck API"


@dataclass(frozen=True)
class CommandOutput:
    """A failed `pulumi` run as the Automation API saw it."""

    code: int | None
    stdout: str
    stderr: str


def parse_command_error(text: str) -> CommandOutput | None:
    """The parts of a `CommandError`'s text, or None if it is not a command result."""
    found = _RESULT.match(text)
    if found is None:
        return None
    stdout, _, stderr = found["stdout"].rpartition("\n stderr: ")
    return CommandOutput(int(found["code"]), stdout, stderr)


def failure_cause(
    error: BaseException | None,
    diagnostics: Sequence[str] = (),
    operation: str = "up",
    count: int | None = None,
) -> str:
    """One line naming why a shard's run failed.

    `error` is what the Automation API raised (None when it returned with failed resources);
    `diagnostics` are the first messages of the engine's error events, `count` how many there
    were in all (default: as many as given).
    """
    output = parse_command_error(str(error)) if error is not None else None
    if output is not None and output.code is not None and output.code < 0:
        name = _signal_name(-output.code)
        return f"killed ({name}) before `{operation}` finished: run `... recover --failed` first"
    if output is not None and (_LOCAL_LOCK in output.stderr or _CLOUD_LOCK in output.stderr):
        return _short(_lock_held(output.stderr))
    messages = [m for m in diagnostics if m.strip()]
    if messages:
        total = max(count or 0, len(messages))
        more = f" (and {total - 1} more)" if total > 1 else ""
        return _short(_diagnostic(messages[0]), more)
    if output is not None:
        line = _first_error(output.stderr) or _first_error(output.stdout)
        if line:
            return _short(f"setup error: {line}")
        return f"`pulumi {operation}` exited with code {output.code} and no error message"
    if error is not None:
        return _short(f"{type(error).__name__}: {_first_line(str(error)) or 'no message'}")
    return "failed with no error message"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def lock_holder(text: str) -> str:
    """Who holds a stack's lock, from Pulumi's refusal: `USER@HOST (pid N) since TIME`."""
    owner = _LOCK_OWNER.search(text)
    if owner is not None:
        return f"{owner['who']} (pid {owner['pid']}) since {owner['at']}"
    if _CLOUD_LOCK in text:
        return "another update in Pulumi Cloud"
    return "another run"


def _lock_held(stderr: str) -> str:
    return (
        f"lock held by {lock_holder(stderr)}: another run of this stack is going on; wait for "
        "it to end, or if that run is dead, `... recover --failed` removes its lock"
    )


def _diagnostic(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if lines and lines[0] == _UNHANDLED:
        # A traceback: its last line is the exception, the part that says what went wrong.
        return f"program error: {lines[-1]}" if len(lines) > 1 else "program error"
    first = lines[0] if lines else ""
    if _OUR_ERROR in first:
        return f"API error: {first}"
    return first


def _first_error(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("error:"):
            return stripped[len("error:") :].strip()
    return ""


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _short(text: str, suffix: str = "") -> str:
    room = MAX_LENGTH - len(suffix)
    return (text if len(text) <= room else text[: room - 3].rstrip() + "...") + suffix
