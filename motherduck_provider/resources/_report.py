"""Errors a person can read: one line per failing resource instead of a Python traceback.

Pulumi's dynamic provider server (`python -m pulumi.dynamic`, Pulumi's code, not ours) reports
any exception from a provider method as `traceback.format_exc()`, so one wrong token printed a
dozen frames per resource with the useful line last. Here:

* `note` records, for the current thread, what was being done when a `MotherDuckError` left a
  provider method (operation, resource, token source); `ProviderBase` applies it to every
  provider method. It is kept beside the error, not on it, because concurrent reads of one
  account share one answer, and so one error object.
* `render` turns such an error into one line: what failed, the HTTP status and code, the API's
  words and a hint that names the command that fixes it.
* `install` runs when a provider module is imported inside that server process: it replaces
  the server module's `traceback` name with a stand-in whose `format_exc` renders our errors
  and formats everything else (real bugs) as the full traceback it always was. The traceback
  of our errors goes to the `motherduck_provider` logger at DEBUG, printed when the engine
  passes `-v` to the provider (`pulumi up -v=9 --logflow`) or `MOTHERDUCK_LOG=debug` is set.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
import weakref
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..errors import APIError, ForbiddenError, MotherDuckError, UnauthorizedError, one_line, redact
from ._sdk import SERVER_MODULE, server_module, stand_down

log = logging.getLogger("motherduck_provider")

_VERBS = {
    "check": "checking",
    "diff": "diffing",
    "create": "creating",
    "read": "refreshing",
    "update": "updating",
    "delete": "deleting",
}
# The operations `pulumi refresh` and `pulumi destroy` run with the provider configuration
# recorded in state, unless told to run the program (`--run-program`).
_RECORDED_CONFIG_OPERATIONS = {"read": "refresh", "delete": "destroy"}
LOG_LEVEL_ENV = "MOTHERDUCK_LOG"


@dataclass(frozen=True)
class Context:
    """What a provider was doing: `operation` is a provider method's name (`read`, ...)."""

    operation: str
    kind: str
    resource_id: str | None = None
    token_source: str | None = None


_current = threading.local()


def _noted() -> MotherDuckError | None:
    ref = getattr(_current, "error", None)
    return ref() if ref is not None else None


def note(exc: MotherDuckError, context: Context) -> None:
    """Remember `context` for `exc` in this thread, for `render` (innermost call wins).

    Held by weak reference: the error's frames must not outlive its report.
    """
    if _noted() is not exc:
        _current.error = weakref.ref(exc)
        _current.context = context


def context_of(exc: BaseException) -> Context | None:
    """The context noted for `exc` in this thread, if any."""
    found: Context | None = getattr(_current, "context", None)
    return found if _noted() is exc else None


def _auth_hint(exc: APIError, context: Context | None) -> str:
    source = (context.token_source if context else None) or ""
    token = f"the admin token (from {source})" if source else "the admin token"
    from_env = bool(source) and ":" not in source  # an env var, not a config key
    key = source or "motherduck:token"
    fix = (
        f"put a valid one in {source}"
        if from_env
        else f"set a valid one with `pulumi config set --secret {key} <token>`"
    )
    if isinstance(exc, ForbiddenError):
        cause = f"{token} is valid but not a read/write token of a user with the Admin role"
    else:
        cause = f"{token} is wrong, revoked or expired"
    command = _RECORDED_CONFIG_OPERATIONS.get(context.operation) if context else None
    if command and not from_env:
        # Verified with the engine: the default provider's config, token included, is saved
        # in state, and refresh/destroy use the saved one unless they run the program.
        return (
            f"`pulumi {command}` uses the admin token saved in the stack's state by the last "
            f"`pulumi up`, not the one configured now: if you changed it since, run "
            f"`pulumi {command} --run-program` (or `pulumi up` first); otherwise {cause}: {fix}"
        )
    return f"{cause}: {fix}"


def render(exc: MotherDuckError, context: Context | None = None) -> str:
    """One line: what failed, what the API said (status, code, words) and what to do.

    `context` defaults to the one noted for `exc` in this thread.
    """
    context = context or context_of(exc)
    verb = _VERBS.get(context.operation) if context else None
    what = ""
    if context and verb:
        target = f" {context.resource_id!r}" if context.resource_id else ""
        what = f"{verb} {context.kind}{target} failed: "
    summary = exc.summary if isinstance(exc, APIError) else str(exc)
    if isinstance(exc, UnauthorizedError | ForbiddenError):
        hint: str | None = _auth_hint(exc, context)
    else:
        hint = exc.hint
    text = what + summary + (f". Hint: {hint}" if hint else "")
    return one_line(redact(text))


class _TracebackShim:
    """Stands in for the `traceback` module in Pulumi's provider server module."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def format_exc(self, limit: int | None = None, chain: bool = True) -> str:
        exc = sys.exc_info()[1]
        if isinstance(exc, MotherDuckError):
            if log.isEnabledFor(logging.DEBUG):
                detail = "".join(self._real.format_exception(exc))
                log.debug("%s\n%s", render(exc), redact(detail))
            return render(exc)
        return redact(self._real.format_exc(limit=limit, chain=chain))


def _verbosity(argv: list[str]) -> int:
    """The `-v=N` the engine passes to plugins when asked to (`--logflow`)."""
    level = 0
    for arg in argv:
        if arg.startswith("-v="):
            try:
                level = max(level, int(arg[3:]))
            except ValueError:
                continue
    return level


def env_log_level() -> int | None:
    """The `logging` level `MOTHERDUCK_LOG` names (`debug`, `info`, ...), or None."""
    wanted = os.environ.get(LOG_LEVEL_ENV, "").strip().upper()
    level = getattr(logging, wanted, None) if wanted else None
    return level if isinstance(level, int) else None


def _configure_logging() -> None:
    level = env_log_level()
    if level is None:
        level = logging.DEBUG if _verbosity(sys.argv) > 0 else None
    if level is None or log.handlers:
        return
    # The provider's stderr is relayed by the engine into the update's diagnostics.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)


def install() -> bool:
    """Render our errors as one line in Pulumi's provider server; True if it is in place.

    Does nothing outside that server (a program, a test, a REPL). When the server module does
    not look as expected (another Pulumi version) errors stay tracebacks, with one debug line
    saying so (`_sdk.stand_down`).
    """
    main = server_module()
    if main is None:
        return False
    current = getattr(main, "traceback", None)
    if isinstance(current, _TracebackShim):
        return True
    if current is not traceback or not callable(getattr(main, "_abort_with_traceback", None)):
        _configure_logging()
        stand_down(
            "one-line errors",
            f"{SERVER_MODULE} has no `traceback` module global or no `_abort_with_traceback`",
        )
        return False
    main.traceback = _TracebackShim(traceback)  # type: ignore[attr-defined]
    _configure_logging()
    return True
