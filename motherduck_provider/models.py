"""The Admin API's shapes: request models are strict, response models tolerant.

Strict requests catch our own mistakes before they reach the API; tolerant responses
(unknown fields ignored) keep us working when MotherDuck adds fields to this Preview API.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from . import rules
from ._time import parse_timestamp
from .rules import InstanceSize, TokenType

__all__ = [
    "ActiveAccount",
    "ActiveAccountList",
    "CreateServiceAccountRequest",
    "CreateEmbedSessionRequest",
    "CreateTokenRequest",
    "CreatedToken",
    "DucklingConfig",
    "EmbedSession",
    "InstanceSize",
    "ReadScalingConfig",
    "ReadWriteConfig",
    "RunningDuckling",
    "ServiceAccountResponse",
    "SetDucklingConfigRequest",
    "TokenInfo",
    "TokenList",
    "TokenType",
    "parse_timestamp",
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CreateServiceAccountRequest(_Request):
    """Body of `POST /v1/users`."""

    username: str = Field(min_length=1, max_length=rules.USERNAME_MAX)


class ServiceAccountResponse(_Response):
    """Answer of `POST /v1/users` and `DELETE /v1/users/{username}`."""

    username: str


class CreateTokenRequest(_Request):
    """Body of `POST /v1/users/{username}/tokens`; `ttl` absent means no expiry."""

    name: str = Field(min_length=1, max_length=rules.TOKEN_NAME_MAX)
    ttl: int | None = Field(default=None, ge=rules.TTL_MIN, le=rules.TTL_MAX)
    token_type: TokenType | None = None


class TokenInfo(_Response):
    """One token as listed: metadata only, never the secret."""

    id: str
    name: str | None = None
    expire_at: str | None = None
    created_ts: str
    read_only: bool
    token_type: str

    def expired(self, now: datetime) -> bool:
        """Whether the token's expiry lies at or before `now`."""
        return self.expire_at is not None and parse_timestamp(self.expire_at) <= now


class CreatedToken(TokenInfo):
    """Answer of create token: the only response that carries the secret."""

    token: SecretStr


class TokenList(_Response):
    """Answer of `GET /v1/users/{username}/tokens`."""

    tokens: list[TokenInfo]


class ReadWriteConfig(BaseModel):
    """The read/write Duckling of an account."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    instance_size: InstanceSize
    cooldown_seconds: int | None = Field(default=None, ge=rules.COOLDOWN_MIN, le=rules.COOLDOWN_MAX)


class ReadScalingConfig(BaseModel):
    """The read-scaling flock of an account."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    instance_size: InstanceSize
    flock_size: int = Field(ge=rules.FLOCK_MIN, le=rules.FLOCK_MAX)
    cooldown_seconds: int | None = Field(default=None, ge=rules.COOLDOWN_MIN, le=rules.COOLDOWN_MAX)


class DucklingConfig(BaseModel):
    """Both sides of an account's compute: `GET` answers it, `PUT` replaces it whole."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    read_write: ReadWriteConfig
    read_scaling: ReadScalingConfig


class SetDucklingConfigRequest(_Request):
    """Body of `PUT /v1/users/{username}/instances`."""

    config: DucklingConfig


class RunningDuckling(_Response):
    """A Duckling that runs: id `rw` or `rs.N`, type, status (`active` or `cooldown`).

    Plain strings, not enums: the contract documents the values only in descriptions.
    """

    id: str
    type: str
    status: str


class ActiveAccount(_Response):
    """An account with at least one running Duckling."""

    username: str
    ducklings: list[RunningDuckling]


class ActiveAccountList(_Response):
    """Answer of `GET /v1/active_accounts` (Preview): only accounts with running Ducklings."""

    accounts: list[ActiveAccount]


class CreateEmbedSessionRequest(_Request):
    """Body of `POST /v1/dives/{dive_id}/embed-session`: the service account to embed as."""

    username: str = Field(min_length=1, max_length=rules.USERNAME_MAX)
    session_hint: str | None = Field(default=None, min_length=1)


class EmbedSession(_Response):
    """Answer of the embed-session call: an opaque, short-lived credential for a browser."""

    session: SecretStr
