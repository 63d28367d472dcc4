"""Warnings held until the provider process knows they are true, printed when it ends.

The engine deletes an InstanceConfig before the ServiceAccount it depends on, so when the
config's delete runs, the provider cannot know yet whether the account goes in the same run
(then its configuration goes with it, and "the account keeps its configuration" would be
false). Such a warning is held under the account's key; the account's successful delete
cancels it; what is left is printed when the provider process ends. All dynamic resources of
a stack share one provider process per engine operation (`python -m pulumi.dynamic`); at the
end of the operation the engine interrupts it (SIGINT: the gRPC server stops, the interpreter
exits normally and runs `atexit`), waits up to 5 s, and shows every line it wrote to stderr
as a diagnostic of the run (see `_base.warn`). `tests/e2e/test_destroy_notes.py` holds the
engine to that.
"""

from __future__ import annotations

import atexit
import threading

from ._base import warn

Key = tuple[str, str]
"""(organization, casefolded username): see `service_account.org_of`."""

_lock = threading.Lock()
_held: dict[Key, list[str]] = {}


def hold(key: Key, message: str) -> None:
    """Keep `message` until `cancel(key)` or the end of the process."""
    with _lock:
        _held.setdefault(key, []).append(message)


def cancel(key: Key) -> None:
    """Drop what is held for `key`: a later step made it moot."""
    with _lock:
        _held.pop(key, None)


def flush() -> None:
    """Print what is still held (once), at the end of the provider process."""
    with _lock:
        messages = [m for held in _held.values() for m in held]
        _held.clear()
    for message in messages:
        warn(message)


atexit.register(flush)
