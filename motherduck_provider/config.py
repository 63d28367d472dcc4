"""Provider settings: where the admin token, API URL and timeout come from, and their rules.

Order (first found wins): stack config `motherduck:token` (secret), env
`MOTHERDUCK_ADMIN_TOKEN`, env `MOTHERDUCK_TOKEN`; `motherduck:apiUrl`, env
`MOTHERDUCK_API_BASE_URL`, the public API. Each config key also answers to the name the
official Terraform provider's setting has when seen from Pulumi (`admin_token` ->
`motherduck:adminToken`, `api_base_url` -> `motherduck:apiBaseUrl`, `request_timeout_seconds`
-> `motherduck:requestTimeoutSeconds`); both names set to different values is an error.
`motherduck:lateRequestWait` (no Terraform name) bounds how long a create waits for a request
whose answer never came, and which may still land, before it sweeps or probes.
`motherduck:rateLimitWait` (no Terraform name) bounds how long one request keeps waiting out
429 answers (a rate limit shared by many stacks on one token) before it fails. The
token is wrapped in `Secret`, which neither prints nor pickles, so it cannot leak into logs,
errors or the serialized provider; `Settings.token_source` names where it came from.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from .errors import ConfigurationError

DEFAULT_API_URL: Final = "https://api.motherduck.com"
DEFAULT_TIMEOUT: Final = 30.0
TOKEN_KEY: Final = "motherduck:token"
API_URL_KEY: Final = "motherduck:apiUrl"
TIMEOUT_KEY: Final = "motherduck:requestTimeout"
LATE_WAIT_KEY: Final = "motherduck:lateRequestWait"
# Covers the window of a request sent with the default timeout (see `resources/_late.py`).
DEFAULT_LATE_WAIT: Final = 120.0
RATE_LIMIT_WAIT_KEY: Final = "motherduck:rateLimitWait"
# A few minutes: long enough to ride out a busy fleet on a shared limit, short enough that a
# limit that never lets up still ends the run with the 429 rather than hanging it.
DEFAULT_RATE_LIMIT_WAIT: Final = 300.0
# The Terraform provider's names (admin_token, api_base_url, request_timeout_seconds) as Pulumi
# config keys: accepted too, so a team moving from Terraform keeps its settings.
ALIASES: Final = {
    TOKEN_KEY: "motherduck:adminToken",
    API_URL_KEY: "motherduck:apiBaseUrl",
    TIMEOUT_KEY: "motherduck:requestTimeoutSeconds",
}
TOKEN_KEYS: Final = (TOKEN_KEY, ALIASES[TOKEN_KEY])
CONFIG_KEYS: Final = (
    *(k for key in (TOKEN_KEY, API_URL_KEY, TIMEOUT_KEY) for k in (key, ALIASES[key])),
    LATE_WAIT_KEY,
    RATE_LIMIT_WAIT_KEY,
)
TOKEN_ENV: Final = ("MOTHERDUCK_ADMIN_TOKEN", "MOTHERDUCK_TOKEN")
API_URL_ENV: Final = "MOTHERDUCK_API_BASE_URL"
# The environment variables each setting falls back to, in order, after its config key.
ENV: Final = {TOKEN_KEY: TOKEN_ENV, API_URL_KEY: (API_URL_ENV,)}
DEFAULTS: Final = {
    API_URL_KEY: DEFAULT_API_URL,
    TIMEOUT_KEY: DEFAULT_TIMEOUT,
    LATE_WAIT_KEY: DEFAULT_LATE_WAIT,
    RATE_LIMIT_WAIT_KEY: DEFAULT_RATE_LIMIT_WAIT,
}
# What each setting must be, as the errors say it (and the reference pages show it).
TOKEN_RULE: Final = "required; trimmed; a read/write token of a user with the Admin role"
API_URL_RULE: Final = (
    "an absolute URL: https, or http on loopback only; no user name or password, query or fragment"
)
TIMEOUT_RULE: Final = "a positive number"
LATE_WAIT_RULE: Final = (
    "a number of seconds, 0 or more (0: never wait for a request that may still land)"
)
RATE_LIMIT_WAIT_RULE: Final = (
    "a number of seconds, 0 or more (0: report a 429 at once, never wait for the limit)"
)
RULES: Final = {
    TOKEN_KEY: TOKEN_RULE,
    API_URL_KEY: API_URL_RULE,
    TIMEOUT_KEY: TIMEOUT_RULE,
    LATE_WAIT_KEY: LATE_WAIT_RULE,
    RATE_LIMIT_WAIT_KEY: RATE_LIMIT_WAIT_RULE,
}


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
    token_source: str = ""
    """Where the token came from: a config key or an environment variable name, never the value."""
    late_wait: float = DEFAULT_LATE_WAIT
    """Seconds a create may wait for a request that may still land (`lateRequestWait`)."""
    rate_limit_wait: float = DEFAULT_RATE_LIMIT_WAIT
    """Seconds one request may spend waiting out 429s before failing (`rateLimitWait`)."""

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


def config_value(config: Mapping[str, Any], key: str) -> tuple[str, str] | None:
    """`(key used, trimmed value)` of a setting set under its name or its Terraform alias.

    Both set to different values is refused with both names (never the values: one may be
    the admin token), since silently preferring one would hide a stale setting.
    """
    found = []
    for name in (key, ALIASES[key]) if key in ALIASES else (key,):
        value = config.get(name)
        if value is not None and str(value).strip():
            found.append((name, str(value).strip()))
    if len(found) == 2 and not _same(key, found[0][1], found[1][1]):
        raise ConfigurationError(
            f"{found[0][0]} and {found[1][0]} are both set, to different values; they are the "
            f"same setting ({found[1][0]} is the Terraform provider's name): remove one with "
            f"`pulumi config rm {found[1][0]}` or make them equal"
        )
    return found[0] if found else None


def _same(key: str, first: str, second: str) -> bool:
    if key == TIMEOUT_KEY:
        try:
            return float(first) == float(second)
        except ValueError:
            return False
    return first == second


def _first(
    config: Mapping[str, Any], key: str, env: Mapping[str, str], *names: str
) -> tuple[str, str] | None:
    """`(source, value)`: the config key (or its alias) first, then the environment variables."""
    found = config_value(config, key)
    if found:
        return found
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def resolve_api_url(config: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """The API base URL from config, then environment, then the public default."""
    found = _first(config, API_URL_KEY, env, *ENV[API_URL_KEY])
    return normalize_api_url(found[1] if found else DEFAULT_API_URL)


def resolve_timeout(config: Mapping[str, Any]) -> float:
    """Seconds a single request may take (`motherduck:requestTimeout`)."""
    return _seconds(config, TIMEOUT_KEY, DEFAULT_TIMEOUT, zero_ok=False, rule=TIMEOUT_RULE)


def resolve_late_wait(config: Mapping[str, Any]) -> float:
    """Seconds a create may wait for a late request (`motherduck:lateRequestWait`; 0: never)."""
    return _seconds(
        config,
        LATE_WAIT_KEY,
        DEFAULT_LATE_WAIT,
        zero_ok=True,
        rule=LATE_WAIT_RULE,
    )


def resolve_rate_limit_wait(config: Mapping[str, Any]) -> float:
    """Seconds one request may wait out 429s (`motherduck:rateLimitWait`; 0: never)."""
    return _seconds(
        config,
        RATE_LIMIT_WAIT_KEY,
        DEFAULT_RATE_LIMIT_WAIT,
        zero_ok=True,
        rule=RATE_LIMIT_WAIT_RULE,
    )


# How many provider calls (each a thread waiting on the API) run at once in one provider
# process: the plugin's server (`MOTHERDUCK_PLUGIN_WORKERS`) and Pulumi's dynamic-provider
# server (`MOTHERDUCK_PROVIDER_WORKERS`, which can only raise its 4: `_server_workers`).
DEFAULT_WORKERS = 16
MAX_WORKERS = 256
PROVIDER_WORKERS_ENV = "MOTHERDUCK_PROVIDER_WORKERS"


def worker_count(name: str, env: Mapping[str, str]) -> int:
    """The worker count the environment variable `name` asks for (default 16), checked."""
    raw = env.get(name, "").strip()
    if not raw:
        return DEFAULT_WORKERS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WORKERS:
        raise ConfigurationError(
            f"{name}={raw!r}: must be a whole number from 1 to {MAX_WORKERS} (the "
            f"provider calls run at once; the default is {DEFAULT_WORKERS})"
        )
    return int(raw)


def _seconds(
    config: Mapping[str, Any], key: str, default: float, *, zero_ok: bool, rule: str
) -> float:
    """A finite number of seconds from config (or its alias), else `default`; the rule names it."""
    found = config_value(config, key)
    if found is None:
        return default
    name, raw = found
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and (value >= 0 if zero_ok else value > 0)):
        suffix = "" if "seconds" in rule else " of seconds"
        raise ConfigurationError(f"{name} must be {rule}{suffix}, got {raw!r}")
    return value


def resolve_token(config: Mapping[str, Any], env: Mapping[str, str]) -> Secret:
    """The admin token, trimmed; missing means a clear error naming every source."""
    return _token(config, env)[0]


def _token(config: Mapping[str, Any], env: Mapping[str, str]) -> tuple[Secret, str]:
    found = _first(config, TOKEN_KEY, env, *ENV[TOKEN_KEY])
    if not found:
        raise ConfigurationError(
            "no MotherDuck admin token: set it with `pulumi config set --secret "
            f"{TOKEN_KEY}` (it asks for the value) or the environment variable {TOKEN_ENV[0]} "
            f"or {TOKEN_ENV[1]}"
        )
    source, token = found
    return Secret(token), source


def plaintext_token_keys(
    config: Mapping[str, Any], secret_keys: Collection[str], keys: Collection[str] = TOKEN_KEYS
) -> list[str]:
    """Which token config `keys` hold a value stored in plain text (not `--secret`)."""
    return [key for key in keys if str(config.get(key) or "").strip() and key not in secret_keys]


def plaintext_token_warning(keys: Collection[str]) -> str:
    """What to tell a user whose admin token sits in the stack file in plain text."""
    names = " and ".join(sorted(keys))
    first = sorted(keys)[0]
    verb = "hold" if len(keys) > 1 else "holds"
    return (
        f"{names} {verb} a MotherDuck admin token in plain text in the stack's config file: "
        f"store it encrypted with `pulumi config set --secret {first}` (with no value it asks "
        "for it, so the token stays out of your shell history)"
    )


def resolve_settings(config: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    """All settings at once, for code that is about to call the API."""
    token, source = _token(config, env)
    return Settings(
        api_url=resolve_api_url(config, env),
        token=token,
        timeout=resolve_timeout(config),
        token_source=source,
        late_wait=resolve_late_wait(config),
        rate_limit_wait=resolve_rate_limit_wait(config),
    )
