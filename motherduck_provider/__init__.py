"""Pulumi dynamic providers for MotherDuck service accounts, tokens and Duckling config.

Importing this package has no side effects: the Pulumi provider process imports it to run
the pickled providers.
"""

from __future__ import annotations

from ._version import __version__
from .client import AdminClient
from .component import DucklingSpec, ManagedAccount, TokenSpec
from .config import Settings
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
from .resources import (
    AccessToken,
    InstanceConfig,
    ReadScalingArgs,
    ReadScalingArgsDict,
    ReadWriteArgs,
    ReadWriteArgsDict,
    ServiceAccount,
)

__all__ = [
    "APIError",
    "AccessToken",
    "AdminClient",
    "BadRequestError",
    "ConfigurationError",
    "DucklingSpec",
    "ForbiddenError",
    "InstanceConfig",
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
    "TokenSpec",
    "TransportError",
    "UnauthorizedError",
    "__version__",
]
