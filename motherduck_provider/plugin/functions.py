"""The data functions as invokes: `motherduck:index:getTokens`, `getDucklingConfig`,
`getActiveAccounts`, `createDiveEmbedSession`.

Each runs the same reader as the Python function of that name (`lookups.read_*`), through the
client of the plugin's provider config (`motherduck:token`, `motherduck:apiUrl`, ...) rather
than the program's stack config; the Python function gives the schema its inputs, result type
and description.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from .. import lookups
from ..client import AdminClient
from ..errors import ConfigurationError


class Function(NamedTuple):
    """One data function: the Python API (`get_*`, for the schema), its reader, and the
    result fields that are credentials (marked secret in the schema and the answer)."""

    python: Callable[..., Any]
    read: Callable[..., Any]
    secrets: frozenset[str] = frozenset()


FUNCTIONS = {
    "getTokens": Function(lookups.get_tokens, lookups.read_tokens),
    "getDucklingConfig": Function(lookups.get_duckling_config, lookups.read_duckling_config),
    "getActiveAccounts": Function(lookups.get_active_accounts, lookups.read_active_accounts),
    "createDiveEmbedSession": Function(
        lookups.create_dive_embed_session, lookups.mint_dive_embed_session, frozenset({"session"})
    ),
}
NOT_ARGS = ("connection",)
"""Python-only parameters (the plugin form names another organization by provider)."""


def arguments(function: Function) -> dict[str, inspect.Parameter]:
    """The invoke's arguments: the Python function's parameters but `connection`."""
    parameters = inspect.signature(function.python).parameters
    return {name: p for name, p in parameters.items() if name not in NOT_ARGS}


def invoke(name: str, client: AdminClient, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run data function `name` with `args` (snake_case) through `client`; its result as a
    dict. An unknown argument fails as a missing one does: one line, before any call."""
    function = FUNCTIONS[name]
    expected = arguments(function)
    extra = sorted(set(args) - set(expected))
    if extra:
        raise ConfigurationError(f"{name}: unknown argument(s) {extra}; takes {sorted(expected)}")
    given = {key: args.get(key) for key in expected}
    result = function.read(client, **given)
    return dataclasses.asdict(result)
