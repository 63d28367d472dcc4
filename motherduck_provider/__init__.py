"""Pulumi dynamic providers for MotherDuck service accounts, tokens and Duckling config.

Importing this package has no side effects: the Pulumi provider process imports it to run
the pickled providers.
"""

from __future__ import annotations

from ._version import __version__
from .client import AdminClient
from .component import DucklingSpec, ManagedAccount, TokenSpec
from .config import Settings
from .connection import Connection
from .errors import (
    APIError,
    BadRequestError,
    ConfigurationError,
    ForbiddenError,
    MotherDuckError,
    NoRouteError,
    NotFoundError,
    RateLimitedError,
    ResponseShapeError,
    ServerError,
    TransportError,
    UnauthorizedError,
)
from .lookups import (
    CreateDiveEmbedSessionResult,
    GetActiveAccountsResult,
    GetDucklingConfigResult,
    GetTokensResult,
    TokenMetadata,
    create_dive_embed_session,
    create_dive_embed_session_output,
    get_active_accounts,
    get_active_accounts_output,
    get_duckling_config,
    get_duckling_config_output,
    get_tokens,
    get_tokens_output,
)
from .resources import (
    AccessToken,
    InstanceConfig,
    ReadScalingArgs,
    ReadScalingArgsDict,
    ReadWriteArgs,
    ReadWriteArgsDict,
    ServiceAccount,
)
from .rules import InstanceSize, TokenType

__all__ = [
    "APIError",
    "AccessToken",
    "AdminClient",
    "BadRequestError",
    "ConfigurationError",
    "Connection",
    "CreateDiveEmbedSessionResult",
    "DucklingSpec",
    "ForbiddenError",
    "GetActiveAccountsResult",
    "GetDucklingConfigResult",
    "GetTokensResult",
    "InstanceConfig",
    "InstanceSize",
    "ManagedAccount",
    "MotherDuckError",
    "NoRouteError",
    "NotFoundError",
    "RateLimitedError",
    "ReadScalingArgs",
    "ReadScalingArgsDict",
    "ReadWriteArgs",
    "ReadWriteArgsDict",
    "ResponseShapeError",
    "ServerError",
    "ServiceAccount",
    "Settings",
    "TokenMetadata",
    "TokenSpec",
    "TokenType",
    "TransportError",
    "UnauthorizedError",
    "__version__",
    "create_dive_embed_session",
    "create_dive_embed_session_output",
    "get_active_accounts",
    "get_active_accounts_output",
    "get_duckling_config",
    "get_duckling_config_output",
    "get_tokens",
    "get_tokens_output",
]
