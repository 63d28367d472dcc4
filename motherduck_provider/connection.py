"""`Connection`: point some resources at another MotherDuck organization in the same program.

The Terraform provider does this with provider aliases. Here a resource (or data function)
takes `connection=Connection(...)`, which names *where* that organization's admin token is, a
stack config key or an environment variable, and its API URL. Only those names travel with
the resource (in the pickled provider Pulumi keeps in state); the token itself is read where
it is used, by the provider process when it starts (`configure`, which receives the stack
config) and by the program's process for data functions, exactly like `motherduck:token`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .config import (
    DEFAULT_API_URL,
    Secret,
    Settings,
    normalize_api_url,
    resolve_late_wait,
    resolve_rate_limit_wait,
    resolve_timeout,
)
from .errors import ConfigurationError

__all__ = ["Connection"]

# A Pulumi config key (`namespace:name`) and an environment variable name: a token pasted in
# by mistake matches neither, so it is refused before it could be pickled into state.
_CONFIG_KEY: Final = re.compile(r"^[A-Za-z][\w.-]*:[A-Za-z][\w.-]*$")
_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Connection:
    """Another organization: the names of its admin token's sources and its API URL.

    `token_config`: a stack config key, e.g. `"analytics:token"` (set it with
    `pulumi config set --secret analytics:token`); `token_env`: an environment variable,
    e.g. `"ANALYTICS_MD_TOKEN"`. The first one set wins. `api_url`: default the public API.
    The request timeout and the late-request wait are the stack's (`motherduck:requestTimeout`,
    `motherduck:lateRequestWait`).
    """

    token_config: str | None = None
    """A stack config key holding the admin token, e.g. `analytics:token` (set it as a secret)."""
    token_env: str | None = None
    """An environment variable holding the admin token; used when `token_config` is not set."""
    api_url: str | None = None
    """The organization's Admin API URL; unset: the public API."""

    def __post_init__(self) -> None:
        if not self.token_config and not self.token_env:
            raise ConfigurationError(
                "Connection needs token_config (a stack config key) or token_env (an "
                "environment variable name) saying where the admin token is"
            )
        if self.token_config is not None and not _CONFIG_KEY.match(self.token_config):
            raise ConfigurationError(
                "Connection token_config must be a config key like 'other:token' (the name, "
                "never the token itself)"
            )
        if self.token_env is not None and not _ENV_NAME.match(self.token_env):
            raise ConfigurationError(
                "Connection token_env must be an environment variable name like "
                "'OTHER_MD_TOKEN' (the name, never the token itself)"
            )
        if self.api_url is not None:
            object.__setattr__(self, "api_url", normalize_api_url(self.api_url))

    def __str__(self) -> str:
        sources = [s for s in (self.token_config, self.token_env) if s]
        return (
            f"connection to {self.api_url or DEFAULT_API_URL} (token from {' or '.join(sources)})"
        )

    @property
    def config_keys(self) -> tuple[str, ...]:
        """The stack config keys this connection reads."""
        return (self.token_config,) if self.token_config else ()

    def to_state(self) -> dict[str, str]:
        """The names, as plain strings, for the pickled provider (no class reference)."""
        fields = {"token_config": self.token_config, "token_env": self.token_env}
        return {k: v for k, v in {**fields, "api_url": self.api_url}.items() if v is not None}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Connection:
        """Rebuild a connection written by `to_state`."""
        return cls(state.get("token_config"), state.get("token_env"), state.get("api_url"))

    def settings(self, config: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
        """This organization's settings, the token read now from `config` or `env`."""
        found: tuple[str, str] | None = None
        if self.token_config and str(config.get(self.token_config) or "").strip():
            found = (self.token_config, str(config[self.token_config]).strip())
        elif self.token_env and env.get(self.token_env, "").strip():
            found = (self.token_env, env[self.token_env].strip())
        if found is None:
            how = [f"`pulumi config set --secret {self.token_config}`"] if self.token_config else []
            how += [f"the environment variable {self.token_env}"] if self.token_env else []
            raise ConfigurationError(
                f"no admin token for the {self}: set it with {' or '.join(how)}"
            )
        return Settings(
            api_url=self.api_url or DEFAULT_API_URL,
            token=Secret(found[1]),
            timeout=resolve_timeout(config),
            token_source=found[0],
            late_wait=resolve_late_wait(config),
            rate_limit_wait=resolve_rate_limit_wait(config),
        )
