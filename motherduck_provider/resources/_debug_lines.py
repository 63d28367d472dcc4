"""The SDK's own debug lines about registering our resources are not sent to the engine.

For every registration the Python SDK sends the engine four debug lines ("registering
resource", "beginning rpc register resource", "resource registration prepared", "resource
registration successful"; `log.debug` in `pulumi.runtime.resource` and `rpc_manager`), each a
blocking gRPC call from the program's event loop that the engine turns into an event, which
`pulumi up` shows only with `--debug` and an event log (the fleet runner's) writes as JSON. For
a one-step account they are four of its six engine events (docs/performance.md).

Our resources register inside `quiet()` (`_program.registering`): a context variable that the
SDK's registration task inherits. In those two SDK modules `log` becomes a stand-in that drops
`debug` while the variable is set and passes everything else, and every call outside our
registrations, to `pulumi.log`: other resources, the program's own `pulumi.log` calls and every
warning or error are unchanged. `MOTHERDUCK_LOG=debug` keeps the lines. If either module's
`log` is not `pulumi.log`, the stock lines are kept (`_sdk.stand_down`).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType
from typing import Any

import pulumi

from ._report import env_log_level
from ._sdk import stand_down

# The SDK modules whose `log.debug` lines follow every registration.
_MODULES = ("pulumi.runtime.resource", "pulumi.runtime.rpc_manager")
_WORKAROUND = "quiet registration"

_registering: ContextVar[bool] = ContextVar("motherduck_registering", default=False)
_installed: bool | None = None  # None: not yet tried in this process
_lock = threading.Lock()


class _Log:
    """`pulumi.log` for the SDK's registration code, without `debug` during ours."""

    def __init__(self, log: ModuleType) -> None:
        self._log = log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)

    def debug(self, *args: Any, **kwargs: Any) -> None:
        if not _registering.get():
            self._log.debug(*args, **kwargs)


def _install() -> bool:
    """Put the stand-in in place once per process; whether it is."""
    global _installed
    with _lock:
        if _installed is None:
            _installed = False
            if env_log_level() == logging.DEBUG:
                return False
            modules = [importlib.import_module(name) for name in _MODULES]
            for module in modules:
                if getattr(module, "log", None) is not pulumi.log:
                    stand_down(_WORKAROUND, f"{module.__name__}.log is not pulumi.log")
                    return False
            for module in modules:
                module.log = _Log(pulumi.log)  # type: ignore[attr-defined]
            _installed = True
        return _installed


@contextmanager
def quiet() -> Iterator[None]:
    """Around one of our resources' registration: the SDK sends no debug line about it."""
    if not _install():
        yield
        return
    token = _registering.set(True)
    try:
        yield
    finally:
        _registering.reset(token)
