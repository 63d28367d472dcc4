"""The three Pulumi resources; module paths here are a state contract, do not move them."""

from __future__ import annotations

from .access_token import AccessToken, AccessTokenProvider
from .instance_config import (
    InstanceConfig,
    InstanceConfigProvider,
    ReadScalingArgs,
    ReadScalingArgsDict,
    ReadWriteArgs,
    ReadWriteArgsDict,
)
from .service_account import ServiceAccount, ServiceAccountProvider

__all__ = [
    "AccessToken",
    "AccessTokenProvider",
    "InstanceConfig",
    "InstanceConfigProvider",
    "ReadScalingArgs",
    "ReadScalingArgsDict",
    "ReadWriteArgs",
    "ReadWriteArgsDict",
    "ServiceAccount",
    "ServiceAccountProvider",
]
