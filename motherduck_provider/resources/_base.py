"""What every provider shares: settings from `configure`, the pooled client, props handling.

Providers are pickled into Pulumi state, so they carry no attributes at all: settings live in a
module-level table keyed weakly by provider instance, filled by `configure` in the provider
process, and the admin token never becomes part of the object Pulumi serializes.

Every provider method reports its `MotherDuckError`s with what it was doing (see `_report`), and
importing this module inside Pulumi's provider server makes those errors one readable line.
"""

from __future__ import annotations

import copyreg
import functools
import os
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider
from pulumi.runtime.rpc import UNKNOWN

from .. import stored
from ..client import AdminClient, shared_client
from ..config import (
    CONFIG_KEYS,
    DEFAULT_LATE_WAIT,
    PROVIDER_WORKERS_ENV,
    Settings,
    resolve_api_url,
    resolve_late_wait,
    resolve_rate_limit_wait,
    resolve_settings,
    resolve_timeout,
    worker_count,
)
from ..connection import Connection
from ..errors import ConfigurationError, MotherDuckError
from . import _report, _server_workers
from ._test_clock import emulator_clock_now

PROVIDER_KEY = "__provider"

_settings: weakref.WeakKeyDictionary[ResourceProvider, Settings | ConfigurationError] = (
    weakref.WeakKeyDictionary()
)
_settings_lock = threading.Lock()


def is_unknown(value: Any) -> bool:
    """Whether a value (or anything inside it) is still unknown, as in a first preview."""
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


def user_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """Props without the engine's serialized-provider entry."""
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}


def failures(problems: Mapping[str, list[str]]) -> list[CheckFailure]:
    """CheckFailures, one per problem, each naming its property."""
    return [CheckFailure(prop, f"{prop}: {p}") for prop, ps in problems.items() for p in ps]


def utcnow() -> datetime:
    """The current time; one function so tests and the provider agree on "now".

    Test-only: `MOTHERDUCK_PULUMI_TEST_CLOCK_URL` makes it an emulator's clock (`_test_clock`).
    """
    return emulator_clock_now() or datetime.now(UTC)


WarningSink = Callable[[str], None]
_warning_sink: WarningSink | None = None
_notice_sink: WarningSink | None = None


def route_warnings(sink: WarningSink | None, notices: WarningSink | None = None) -> None:
    """Where `warn` (and `notice`) send their lines from now on; None (the default) is stderr.

    The engine shows the stderr of the dynamic provider process, not of a provider plugin:
    the plugin sends them to the engine's Log RPC instead (`plugin/engine_log.py`).
    """
    global _warning_sink, _notice_sink  # one process-wide choice, made once at start
    _warning_sink, _notice_sink = sink, notices


def warn(message: str) -> None:
    """A warning the engine shows in the run's output: the one place that decides how."""
    sink = _warning_sink
    if sink is None:
        print(f"warning: {message}", file=sys.stderr, flush=True)
    else:
        sink(message)


def notice(message: str) -> None:
    """Information the engine shows in the run's output (a schedule), not a warning.

    A warning means something needs attention; a notice says what later runs will do. The
    engine relays every line of a dynamic provider's stderr at one severity (info, as stderr;
    there is no other channel), so the line itself says which it is: a warning starts with
    `warning:`, a notice has no label. The plugin logs it with the engine's `INFO` severity.
    """
    sink = _notice_sink
    if sink is None:
        print(message, file=sys.stderr, flush=True)
    else:
        sink(message)


def _reporting(method: Callable[..., Any], operation: str) -> Callable[..., Any]:
    """`method`, noting what it was doing when a `MotherDuckError` leaves it."""

    @functools.wraps(method)
    def reported(self: ProviderBase, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except MotherDuckError as exc:
            # diff/read/update/delete get the resource id first; check/create have none yet.
            takes_id = operation not in ("check", "create") and args and isinstance(args[0], str)
            with _settings_lock:
                outcome = _settings.get(self)
            context = _report.Context(
                operation,
                type(self).__name__.removesuffix("Provider"),
                args[0] if takes_id else None,
                getattr(outcome, "token_source", None),
            )
            _report.note(exc, context)
            raise

    reported.__motherduck_reported__ = True  # type: ignore[attr-defined]
    return reported


class ProviderBase(ResourceProvider):
    """Base of the three providers: settings, client and a state-safe pickle."""

    # The pickle holds no secret (see __getstate__), so it need not be encrypted in state;
    # keeping it plain lets anyone check that claim with `pulumi stack export`.
    serialize_as_secret_always = False
    # Also what an unpickled provider has: pickle skips __setstate__ for an empty state.
    _connection: Connection | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Wrap the subclass's provider methods so their errors say what was being done."""
        super().__init_subclass__(**kwargs)
        for operation in ("check", "diff", "create", "read", "update", "delete"):
            method = cls.__dict__.get(operation)
            if callable(method) and not hasattr(method, "__motherduck_reported__"):
                setattr(cls, operation, _reporting(method, operation))

    def __init__(self, connection: Connection | None = None) -> None:
        """`connection`: another organization's token sources and URL (names only)."""
        if connection is not None:  # else the class default: the instance stays attribute-free
            self._connection = connection

    # The function of `motherduck_provider.stored` this provider pickles as (None: by class).
    stored_as: ClassVar[str | None] = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a call of `stored.<stored_as>`, a shorter `__provider` (see `stored`);
        without one, by class as pickle's default does (`NEWOBJ` of the class, then `BUILD`)."""
        state = self.__getstate__()
        if self.stored_as is None:
            return (copyreg.__newobj__, (type(self),), state)  # type: ignore[attr-defined]
        return (getattr(stored, self.stored_as), (state,) if state else ())

    def __getstate__(self) -> dict[str, Any]:
        # A connection pickles as names (config key, env var, URL), never a token; without one
        # the state is `{}` and `__reduce__` pickles no argument at all.
        return {"connection": self._connection.to_state()} if self._connection else {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Only the connection's names: settings come from `configure` in the provider process."""
        named = state.get("connection")
        self._connection = Connection.from_state(named) if named else None

    def configure(self, req: ConfigureRequest) -> None:
        """Resolve settings from stack config and environment.

        In Pulumi's provider server, also lets it run `MOTHERDUCK_PROVIDER_WORKERS` calls at
        once (`_server_workers`). A bad URL, timeout, wait or worker count fails at once (even
        in preview); a missing token is kept and raised at the first API call, so previews
        that need no API still work without one.
        """
        _server_workers.raise_limit(worker_count(PROVIDER_WORKERS_ENV, os.environ))
        connection = self._connection
        keys = (*CONFIG_KEYS, *(connection.config_keys if connection else ()))
        raw = {key: req.config.get(key) for key in keys}  # names and Terraform aliases
        resolve_api_url(raw, os.environ)
        resolve_timeout(raw)
        resolve_late_wait(raw)
        resolve_rate_limit_wait(raw)
        outcome: Settings | ConfigurationError
        try:
            outcome = (connection.settings if connection else resolve_settings)(raw, os.environ)
        except ConfigurationError as exc:
            outcome = exc
        with _settings_lock:
            _settings[self] = outcome

    def client(self) -> AdminClient:
        """The process's pooled client for this provider's settings."""
        with _settings_lock:
            outcome = _settings.get(self)
        if outcome is None:
            # Not configured (older engines): settings come from the environment alone.
            connection = self._connection
            outcome = (connection.settings if connection else resolve_settings)({}, os.environ)
        if isinstance(outcome, ConfigurationError):
            raise ConfigurationError(str(outcome))
        return shared_client(outcome)

    def late_wait(self) -> float:
        """Seconds a create may wait for a request that may still land (see `_late`)."""
        with _settings_lock:
            outcome = _settings.get(self)
        return outcome.late_wait if isinstance(outcome, Settings) else DEFAULT_LATE_WAIT


# Inside Pulumi's provider server this module is imported when the first provider is
# unpickled: from then on our errors reach the engine as one line (see `_report.install`).
_report.install()
