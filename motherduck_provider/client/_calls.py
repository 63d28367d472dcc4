"""The API call log: one line per HTTP attempt, appended to the file `MOTHERDUCK_CALL_LOG` names.

The fleet runner sets the variable per shard, so its summary can show each shard's API calls
although they are made in a provider process the engine starts. A line holds the method and the
status (or `-` when no answer came): never a path, a header or a body. Unset: nothing is written.
"""

from __future__ import annotations

import os

CALL_LOG_ENV = "MOTHERDUCK_CALL_LOG"


def record_call(method: str, status: int | None) -> None:
    """Append one line for one attempt; a log that cannot be written never fails the call."""
    path = os.environ.get(CALL_LOG_ENV)
    if not path:
        return
    line = f"{method} {status if status is not None else '-'}\n".encode()
    try:
        # One small O_APPEND write per line: lines of the provider's threads never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        pass


def count_calls(path: str | os.PathLike[str]) -> int:
    """The attempts a call log holds (0 when it does not exist)."""
    try:
        with open(path, "rb") as log:
            return sum(1 for _ in log)
    except FileNotFoundError:
        return 0
