"""Provider settings: where the admin token, API URL and timeout come from, and their rules.

Order (first found wins): stack config `motherduck:token` (secret), env
`MOTHERDUCK_ADMIN_TOKEN`, env `MOTHERDUCK_TOKEN`; `motherduck:apiUrl`, env
`MOTHERDUCK_API_BASE_URL`, the public API. The token is wrapped in `Secret`, which neither
prints nor pickles, so it cannot leak into logs, errors or the serialized provider.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from .errors import ConfigurationError

DEFAULT_API_URL: Final = "https://api.motherduck.com"
DEFAULT_TIMEOUT: Final = 30.0
TOKEN_KEY: Final = "motherduck:token"
API_URL_KEY: Final = "motherduck:apiUrl"
TIMEOUT_KEY: Final = "motherduck:requestTimeout"
TOKEN_ENV: Final = ("MOTHERDUCK_ADMIN_TOKEN", "MOTHERDUCK_TOKEN")
API_URL_ENV: Final = "MOTHERDUCK_API_BASE_URL"


class Secret:
    """A string that never shows itself: repr, str and pickle all refuse to reveal it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The plain value, for the one place that must send it (the Authorization header)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; it would land in Pulumi state")


@dataclass(frozen=True)
class Settings:
    """What the HTTP client needs; built at call time in the provider process, never pickled."""

    api_url: str
    token: Secret
    timeout: float = DEFAULT_TIMEOUT

    def __reduce__(self) -> NoReturn:
        raise TypeError("Settings hold the admin token and cannot be pickled")


def is_loopback(host: str) -> bool:
    """Whether `host` only reaches this machine (where plain http is acceptable)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_api_url(url: str) -> str:
    """Check an API base URL and drop its trailing slash.

    https anywhere; plain http only on loopback (the emulator). Credentials, a query or a
    fragment are refused because they would leak into logs or change every request.
    """
    text = url.strip()
    parts = urlsplit(text)
    where = f"API URL {text!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{where} must be an absolute http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(f"{where} uses http; only https is allowed off loopback")
    if parts.username or parts.password:
        raise ConfigurationError("API URL must not contain a user name or password")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{where} must not have a query or fragment")
    return text.rstrip("/")


def _first(config: Mapping[str, Any], key: str, env: Mapping[str, str], *names: str) -> str | None:
    value = config.get(key)
    if value is not None and str(value).strip():
        return str(value).strip()
    for name in names:
        found = env.get(name, "").strip()
        if found:
            return found
    return None


def resolve_api_url(config: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """The API base URL from config, then environment, then the public default."""
    return normalize_api_url(_first(config, API_URL_KEY, env, API_URL_ENV) or DEFAULT_API_URL)


def resolve_timeout(config: Mapping[str, Any]) -> float:
    """Seconds a single request may take (`motherduck:requestTimeout`)."""
    raw = config.get(TIMEOUT_KEY)
    if raw is None or str(raw).strip() == "":
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigurationError(f"{TIMEOUT_KEY} must be a positive number of seconds, got {raw!r}")
    return value


def resolve_token(config: Mapping[str, Any], env: Mapping[str, str]) -> Secret:
    """The admin token, trimmed; missing means a clear error naming every source."""
    token = _first(config, TOKEN_KEY, env, *TOKEN_ENV)
    if not token:
        raise ConfigurationError(
            "no MotherDuck admin token: set it with `pulumi config set --secret "
            f"{TOKEN_KEY} <token>` or the environment variable {TOKEN_ENV[0]} or {TOKEN_ENV[1]}"
        )
    return Secret(token)


def resolve_settings(config: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    """All settings at once, for code that is about to call the API."""
    return Settings(
        api_url=resolve_api_url(config, env),
        token=resolve_token(config, env),
        timeout=resolve_timeout(config),
    )
