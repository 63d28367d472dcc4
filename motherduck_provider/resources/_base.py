"""What every provider shares: settings from `configure`, the pooled client, props handling.

Providers are pickled into Pulumi state, so they carry no attributes at all: settings live in a
module-level table keyed weakly by provider instance, filled by `configure` in the provider
process, and the admin token never becomes part of the object Pulumi serializes.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider
from pulumi.runtime.rpc import UNKNOWN

from ..client import AdminClient, shared_client
from ..config import (
    API_URL_KEY,
    TIMEOUT_KEY,
    TOKEN_KEY,
    Settings,
    resolve_api_url,
    resolve_settings,
    resolve_timeout,
)
from ..errors import ConfigurationError

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
    """The current time; one function so tests and the provider agree on "now"."""
    return datetime.now(UTC)


def warn(message: str) -> None:
    """A warning the engine shows in `pulumi up` output (the provider's stderr is relayed)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


class ProviderBase(ResourceProvider):
    """Base of the three providers: settings, client and a state-safe pickle."""

    # The pickle holds no secret (see __getstate__), so it need not be encrypted in state;
    # keeping it plain lets anyone check that claim with `pulumi stack export`.
    serialize_as_secret_always = False

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Nothing to restore: settings come from `configure` in the provider process."""

    def configure(self, req: ConfigureRequest) -> None:
        """Resolve settings from stack config and environment.

        A bad URL or timeout fails at once (even in preview); a missing token is kept and
        raised at the first API call, so previews that need no API still work without one.
        """
        raw = {key: req.config.get(key) for key in (TOKEN_KEY, API_URL_KEY, TIMEOUT_KEY)}
        resolve_api_url(raw, os.environ)
        resolve_timeout(raw)
        outcome: Settings | ConfigurationError
        try:
            outcome = resolve_settings(raw, os.environ)
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
            outcome = resolve_settings({}, os.environ)
        if isinstance(outcome, ConfigurationError):
            raise ConfigurationError(str(outcome))
        return shared_client(outcome)
