"""Data functions: live MotherDuck objects read into a Pulumi program, never managed by it.

As in Pulumi's own providers, `get_x(...)` returns a plain value and `get_x_output(...)` takes
Inputs and returns an Output. A dynamic provider has no invokes, so they call the Admin API
from the program's own process, when the program runs: **during `pulumi preview` as well as
`up`** (an `_output` variant whose input is still unknown in a preview waits for it). They
read the resources' settings: stack config `motherduck:token`, `motherduck:apiUrl` and
`motherduck:requestTimeout`, then the environment fallbacks of `config.py`, or those a
`connection=Connection(...)` names for another organization.

Results are frozen dataclasses (tuples for lists); `pulumi.export` takes them whole, as
objects of their fields. They hold no secret (tokens come as metadata only), except the one
function that makes something: `create_dive_embed_session` mints a Dive embed session, a
credential, on every run of the program; its `_output` form is a Pulumi secret.
A failure raises the `MotherDuckError` subclass a resource would report (`NotFoundError`,
`UnauthorizedError`, ...), which is also a `pulumi.RunError`, so a program that lets it
escape ends with that one line rather than a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from . import rules
from .client import AdminClient, shared_client
from .config import resolve_settings
from .connection import Connection
from .errors import ConfigurationError, MotherDuckError
from .rules import InstanceSize

if TYPE_CHECKING:  # pydantic loads at the first API call, not with the package
    from .models import ReadScalingConfig, ReadWriteConfig

__all__ = [
    "ActiveAccount",
    "CreateDiveEmbedSessionResult",
    "GetActiveAccountsResult",
    "GetDucklingConfigResult",
    "GetTokensResult",
    "ReadScalingSettings",
    "ReadWriteSettings",
    "RunningDuckling",
    "TokenMetadata",
    "create_dive_embed_session",
    "create_dive_embed_session_output",
    "get_active_accounts",
    "get_active_accounts_output",
    "get_duckling_config",
    "get_duckling_config_output",
    "get_tokens",
    "get_tokens_output",
]


@dataclass(frozen=True)
class TokenMetadata:
    """One live token, as `AccessToken` outputs name its fields; never its secret."""

    id: str
    """The token's id (`AccessToken.token_id`)."""
    name: str | None
    """The name MotherDuck shows (`<name> [pulumi:<mark>]` for a token created by a stack)."""
    token_type: str
    """`read_write` or `read_scaling`."""
    read_only: bool
    """Whether the token is read-only (a read_scaling token)."""
    created_ts: str
    """RFC 3339, as the API gives it (`AccessToken.created_ts`)."""
    expire_at: str | None
    """RFC 3339, or None for a token that lasts until revoked."""


@dataclass(frozen=True)
class GetTokensResult:
    """The live tokens of one user, in the API's order."""

    username: str
    """The user whose tokens these are."""
    tokens: tuple[TokenMetadata, ...]
    """Its live (unexpired) tokens, metadata only."""


@dataclass(frozen=True)
class ReadWriteSettings:
    """The read/write Duckling as configured (what `InstanceConfig.read_write` holds)."""

    instance_size: InstanceSize
    """The Duckling size."""
    cooldown_seconds: int | None
    """Idle seconds before it stops (server default included); None for pulse."""


@dataclass(frozen=True)
class ReadScalingSettings:
    """The read-scaling flock as configured (what `InstanceConfig.read_scaling` holds)."""

    instance_size: InstanceSize
    """The size of each replica's Duckling."""
    flock_size: int
    """How many read-scaling replicas."""
    cooldown_seconds: int | None
    """Idle seconds before they stop (server default included); None for pulse."""


@dataclass(frozen=True)
class GetDucklingConfigResult:
    """One account's live Duckling configuration, server defaults included."""

    username: str
    """The account read."""
    read_write: ReadWriteSettings
    """Its read/write Duckling."""
    read_scaling: ReadScalingSettings
    """Its read-scaling flock."""


@dataclass(frozen=True)
class RunningDuckling:
    """A Duckling that runs now."""

    id: str
    """`rw`, or `rs.N` for read-scaling replica N."""
    type: str
    """`read_write` or `read_scaling`."""
    status: str
    """`active`, or `cooldown` (idle, about to stop)."""


@dataclass(frozen=True)
class ActiveAccount:
    """An account with at least one running Duckling."""

    username: str
    """The account's username."""
    ducklings: tuple[RunningDuckling, ...]
    """Its running Ducklings."""


@dataclass(frozen=True)
class GetActiveAccountsResult:
    """The organization's accounts whose Ducklings are `active` or in `cooldown`."""

    accounts: tuple[ActiveAccount, ...]
    """Each account with at least one running Duckling."""


@dataclass(frozen=True)
class CreateDiveEmbedSessionResult:
    """A new embed session: what a browser needs to show the Dive as the service account."""

    dive_id: str
    """The Dive the session shows."""
    username: str
    """The service account the session runs as."""
    session: str = field(repr=False)
    """The opaque, short-lived session (a credential: hand it to the browser, never log it)."""


class _StackConfig(Mapping[str, Any]):
    """The program's stack config by full key (`motherduck:token`), read when asked.

    Handing `config.py` the whole config rather than chosen keys lets it decide which keys
    (and aliases) count, in one place, exactly as it does for the providers.
    """

    def __getitem__(self, key: str) -> Any:
        namespace, _, name = key.partition(":")
        value = pulumi.Config(namespace).get(name) if namespace and name else None
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*get_config_env(), *CONFIG.get()}))

    def __len__(self) -> int:
        return len({*get_config_env(), *CONFIG.get()})


def _client(connection: Connection | None) -> AdminClient:
    config = _StackConfig()
    if connection is not None:
        return shared_client(connection.settings(config, os.environ))
    return shared_client(resolve_settings(config, os.environ))


_clean_exit: dict[type[MotherDuckError], type[MotherDuckError]] = {}


def _with_clean_exit(cls: type[MotherDuckError]) -> type[MotherDuckError]:
    if cls not in _clean_exit:
        _clean_exit[cls] = type(
            cls.__name__, (cls, pulumi.RunError), {"__module__": cls.__module__}
        )
    return _clean_exit[cls]


P = ParamSpec("P")
R = TypeVar("R")


def _data_function(fn: Callable[P, R]) -> Callable[P, R]:
    """Make `fn`'s MotherDuck errors `pulumi.RunError`s too: one line, not a traceback wall.

    The class of the error is swapped for a subclass of it, so `except NotFoundError` and
    every attribute keep working.
    """

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except MotherDuckError as exc:
            if not isinstance(exc, pulumi.RunError):
                exc.__class__ = _with_clean_exit(type(exc))
            raise

    return run


def _username(value: object, function: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= rules.USERNAME_MAX:
        raise ConfigurationError(
            f"{function}: username must be a string of 1 to {rules.USERNAME_MAX} characters, "
            f"got {value!r}"
        )
    return value


def _output(fn: Callable[..., R], *inputs: pulumi.Input[Any]) -> pulumi.Output[R]:
    """`fn(*inputs)` once the inputs are known, as an Output carrying their dependencies.

    As with Pulumi's own output invokes, the result stays unknown while a resource an input
    comes from is still to be created (a preview), instead of reading something that does not
    exist yet. The call runs on a worker thread, not on the program's event loop where it
    would stall every pending registration; `to_thread` keeps the program's context, hence
    its stack config.
    """
    args = pulumi.Output.all(*inputs)

    async def ready() -> bool:
        if not await args.is_known():
            return False
        for resource in await args.resources():
            resource_id = getattr(resource, "id", None)
            if isinstance(resource_id, pulumi.Output) and not await resource_id.is_known():
                return False
        return True

    async def value() -> R:
        if not await ready():
            return cast(R, None)  # an unknown Output's value, as Pulumi's own outputs hold it
        return await asyncio.to_thread(fn, *(await args.future() or []))

    return pulumi.Output(args.resources(), value(), ready(), args.is_secret())


@_data_function
def get_tokens(username: str, connection: Connection | None = None) -> GetTokensResult:
    """The metadata of every live (unexpired) token of `username`; never a secret.

    Useful to find the id for `AccessToken(adopt_token_id=...)`, or to audit tokens made
    outside Pulumi. `NotFoundError` if there is no such user. Reads
    `GET /v1/users/{username}/tokens`.

    Args:
        username: The service account whose tokens to list.
        connection: Another organization (see `Connection`); unset: the stack's.
    """
    return read_tokens(_client(connection), username)


def read_tokens(client: AdminClient, username: object) -> GetTokensResult:
    """`get_tokens` through `client` (the provider plugin's `getTokens` calls this too)."""
    name = _username(username, "get_tokens")
    now = datetime.now(UTC)
    tokens = tuple(
        TokenMetadata(
            id=info.id,
            name=info.name,
            token_type=info.token_type,
            read_only=info.read_only,
            created_ts=info.created_ts,
            expire_at=info.expire_at,
        )
        for info in client.list_tokens(name, fresh=True)
        if not info.expired(now)
    )
    return GetTokensResult(username=name, tokens=tokens)


def get_tokens_output(
    username: pulumi.Input[str], connection: Connection | None = None
) -> pulumi.Output[GetTokensResult]:
    """`get_tokens` for an Input (for example `ServiceAccount.username`)."""
    return _output(functools.partial(get_tokens, connection=connection), username)


def _read_write(side: ReadWriteConfig) -> ReadWriteSettings:
    return ReadWriteSettings(side.instance_size, side.cooldown_seconds)


def _read_scaling(side: ReadScalingConfig) -> ReadScalingSettings:
    return ReadScalingSettings(side.instance_size, side.flock_size, side.cooldown_seconds)


@_data_function
def get_duckling_config(
    username: str, connection: Connection | None = None
) -> GetDucklingConfigResult:
    """The live read/write and read-scaling settings of `username`'s Ducklings.

    Useful to adopt an account's configuration as it is. `NotFoundError` if there is no
    such user. Reads `GET /v1/users/{username}/instances`.

    Args:
        username: The account whose configuration to read.
        connection: Another organization (see `Connection`); unset: the stack's.
    """
    return read_duckling_config(_client(connection), username)


def read_duckling_config(client: AdminClient, username: object) -> GetDucklingConfigResult:
    """`get_duckling_config` through `client` (and the plugin's `getDucklingConfig`)."""
    name = _username(username, "get_duckling_config")
    live = client.get_duckling_config(name, fresh=True)
    return GetDucklingConfigResult(
        username=name,
        read_write=_read_write(live.read_write),
        read_scaling=_read_scaling(live.read_scaling),
    )


def get_duckling_config_output(
    username: pulumi.Input[str], connection: Connection | None = None
) -> pulumi.Output[GetDucklingConfigResult]:
    """`get_duckling_config` for an Input."""
    return _output(functools.partial(get_duckling_config, connection=connection), username)


@_data_function
def get_active_accounts(connection: Connection | None = None) -> GetActiveAccountsResult:
    """The accounts with running Ducklings (`active` or `cooldown`), from a Preview API.

    Reads `GET /v1/active_accounts`.

    Args:
        connection: Another organization (see `Connection`); unset: the stack's.
    """
    return read_active_accounts(_client(connection))


def read_active_accounts(client: AdminClient) -> GetActiveAccountsResult:
    """`get_active_accounts` through `client` (and the plugin's `getActiveAccounts`)."""
    accounts = tuple(
        ActiveAccount(
            username=account.username,
            ducklings=tuple(RunningDuckling(d.id, d.type, d.status) for d in account.ducklings),
        )
        for account in client.list_active_accounts()
    )
    return GetActiveAccountsResult(accounts=accounts)


def get_active_accounts_output(
    connection: Connection | None = None,
) -> pulumi.Output[GetActiveAccountsResult]:
    """`get_active_accounts` as an Output, read without blocking the program's event loop."""
    return _output(functools.partial(get_active_accounts, connection=connection))


@_data_function
def create_dive_embed_session(
    dive_id: str,
    username: str,
    session_hint: str | None = None,
    connection: Connection | None = None,
) -> CreateDiveEmbedSessionResult:
    """A new session to embed Dive `dive_id` in a web page, running as service account
    `username`.

    Unlike the `get_*` functions this makes something: every run of the program (each
    `preview` and `up`) mints a new, short-lived session, like an ephemeral value; nothing
    is kept in state unless exported, and this plain form's `session` is a plain string:
    export it through `create_dive_embed_session_output` (a secret) or
    `pulumi.Output.secret`. Hand it to the browser (the admin token must never go there).
    `NotFoundError` if there is no such Dive or account. Needs the Business plan.
    Calls `POST /v1/dives/{dive_id}/embed-session`.

    Args:
        dive_id: The Dive's id (a UUID, as in its URL).
        username: The service account the session runs as.
        session_hint: Reuse the same read-scaling session across embed requests with this hint.
        connection: Another organization (see `Connection`); unset: the stack's.
    """
    return mint_dive_embed_session(_client(connection), dive_id, username, session_hint)


def mint_dive_embed_session(
    client: AdminClient, dive_id: object, username: object, session_hint: object = None
) -> CreateDiveEmbedSessionResult:
    """`create_dive_embed_session` through `client` (and the plugin's
    `createDiveEmbedSession`); every rule is checked before the call."""
    function = "create_dive_embed_session"
    problems = [f"dive_id: {p}" for p in rules.dive_id_problems(dive_id)]
    problems += [f"session_hint: {p}" for p in rules.session_hint_problems(session_hint)]
    if problems:
        raise ConfigurationError(f"{function}: " + "; ".join(problems))
    name = _username(username, function)
    made = client.create_dive_embed_session(
        str(dive_id), name, session_hint if isinstance(session_hint, str) else None
    )
    return CreateDiveEmbedSessionResult(
        dive_id=str(dive_id), username=name, session=made.session.get_secret_value()
    )


def create_dive_embed_session_output(
    dive_id: pulumi.Input[str],
    username: pulumi.Input[str],
    session_hint: pulumi.Input[str] | None = None,
    connection: Connection | None = None,
) -> pulumi.Output[CreateDiveEmbedSessionResult]:
    """`create_dive_embed_session` for Inputs, as a Pulumi secret (the session is a credential)."""
    minted = _output(
        functools.partial(create_dive_embed_session, connection=connection),
        dive_id,
        username,
        session_hint,
    )
    return pulumi.Output.secret(minted)
