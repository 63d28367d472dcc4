"""ManagedAccount: one service account with its tokens and Duckling config, as one unit.

Platform teams define accounts as data (a username, a few tokens, a compute size); this
component turns one such definition into the three resources wired together, so a stack
grows by adding a definition rather than by repeating resource boilerplate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple, TypedDict, cast

import pulumi

from .connection import Connection
from .resources import (
    AccessToken,
    InstanceConfig,
    ReadScalingArgs,
    ReadScalingArgsDict,
    ReadWriteArgs,
    ReadWriteArgsDict,
    ServiceAccount,
)
from .resources._debug_lines import quiet
from .resources._program import registering
from .rules import TokenType


class TokenSpec(TypedDict, total=False):
    """Settings of one token of a ManagedAccount (the dict key is the token's name)."""

    token_type: TokenType
    ttl: int
    rotate_before: int
    keep_previous_for: int
    """Seconds the token before a rotation stays valid (see AccessToken)."""
    rotation_trigger: str
    """Change it to rotate the token now."""


class DucklingSpec(TypedDict):
    """Both sides of the account's compute."""

    read_write: ReadWriteArgs | ReadWriteArgsDict
    read_scaling: ReadScalingArgs | ReadScalingArgsDict


class ChildKinds(NamedTuple):
    """What a ManagedAccount's children are made of, each called as the resource class is.

    The dynamic resources for a Python program; the provider plugin's own resources
    (`motherduck_provider.plugin.component`) when the plugin constructs one for another
    language. Names, order and wiring stay here, the one place for them.
    """

    account: Callable[..., Any]
    token: Callable[..., Any]
    config: Callable[..., Any]


DYNAMIC_CHILDREN = ChildKinds(ServiceAccount, AccessToken, InstanceConfig)

INPUT_DOCS = {
    "username": "The service account's username.",
    "tokens": "The account's access tokens by name (the name is the token's `name`); each "
    "takes the settings of `AccessToken`.",
    "ducklings": "The account's Duckling configuration (`readWrite` and `readScaling`, as "
    "`InstanceConfig` takes them); unset: the account keeps the server's defaults.",
    "adopt": "Take over an existing account of that username instead of failing.",
    "protect": "Protect the account from deletion (default true: deleting an account deletes "
    "its data); false for throwaway accounts.",
    "allow_downsize": "With `adopt`, allow `ducklings` to shrink the account's live "
    "configuration (see `InstanceConfig.allowDownsize`).",
    "config_in_account": "Hold the Duckling configuration in the ServiceAccount itself (2 + T "
    "resources instead of 3 + T); the default keeps the InstanceConfig child.",
    "one_step": "Hold the tokens and the Duckling configuration in the ServiceAccount itself "
    "(its `tokens` input): one resource, so one engine step, per account; the default keeps "
    "one AccessToken child per token.",
}
"""The component's inputs, described for the package schema (`plugin.schema`)."""


class ManagedAccount(pulumi.ComponentResource):
    """A service account, its named tokens and (optionally) its Duckling configuration.

    The account is protected by default because deleting it deletes its data; pass
    `protect=False` for throwaway accounts. With `adopt=True`, `ducklings` may not shrink the
    account's live configuration unless `allow_downsize=True` (see InstanceConfig). Tokens
    depend on the account, so they are created after it and revoked before it. `connection`
    puts all of them in another organization (see `Connection`).
    """

    account: ServiceAccount
    """The `ServiceAccount` child (protected unless `protect=False`)."""
    tokens: dict[str, AccessToken]
    """The `AccessToken` children by token name; exported as `token_ids` (name -> token id)."""
    ducklings: InstanceConfig | None
    """The `InstanceConfig` child; None without `ducklings`, or with `config_in_account=True`
    or `one_step=True`."""
    username: pulumi.Output[str]
    """The account's username (the `ServiceAccount`'s output)."""
    token_ids: pulumi.Output[dict[str, str]]
    """Token name -> the current token id, in either form."""
    token_secrets: pulumi.Output[dict[str, str]]
    """Token name -> the token's secret, in either form; a Pulumi secret."""
    children: ClassVar[ChildKinds] = DYNAMIC_CHILDREN
    """The resource classes of the children (the plugin's subclass changes only this)."""

    def __init__(
        self,
        resource_name: str,
        *,
        username: str,
        tokens: Mapping[str, TokenSpec] | None = None,
        ducklings: DucklingSpec | None = None,
        adopt: bool = False,
        protect: bool = True,
        connection: Connection | None = None,
        allow_downsize: bool = False,
        config_in_account: bool = False,
        one_step: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`config_in_account=True`: the `ServiceAccount` holds the Duckling configuration
        (`ducklings`), so the account is 2 + T resources instead of 3 + T; `ducklings` is then
        None. The default keeps the `InstanceConfig` child that existing stacks have (the docs,
        How the resources behave).

        Args:
            username: The service account's username (`ServiceAccount.username`).
            tokens: Token name -> `TokenSpec` (`token_type`, `ttl`, `rotate_before`,
                `keep_previous_for`, `rotation_trigger`, as on `AccessToken`): one
                `AccessToken` each, named `<resource name>-<token name>`.
            ducklings: `read_write` and `read_scaling`, as on `InstanceConfig`; unset: the
                account keeps MotherDuck's configuration and none is managed.
            adopt: Take over an existing account of that name instead of failing.
            protect: Protect the account from deletion (deleting it deletes its data).
            connection: Another organization (see `Connection`) for all the children.
            allow_downsize: With `adopt`, let `ducklings` shrink the live configuration.
            config_in_account: Put `ducklings` on the `ServiceAccount` instead of an
                `InstanceConfig` child: one resource fewer per account.
            one_step: Put `tokens` and `ducklings` on the `ServiceAccount` (its `tokens`,
                `read_write`, `read_scaling`): the account is one resource, one engine step;
                `tokens` (the children) is then empty and `ducklings` None; read the tokens
                from `token_ids` and `token_secrets`.
        """
        with registering(self):
            super().__init__("motherduck:index:ManagedAccount", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        held = ducklings if config_in_account or one_step else None
        in_account: dict[str, Any] = {}
        if one_step:  # the settings as the account's `tokens` takes them: unset ones left out
            in_account["tokens"] = {
                name: {k: v for k, v in spec.items() if v is not None}
                for name, spec in (tokens or {}).items()
            }
        self.account = self.children.account(
            resource_name,
            username=username,
            adopt=adopt or None,
            read_write=held["read_write"] if held else None,
            read_scaling=held["read_scaling"] if held else None,
            allow_downsize=(allow_downsize or None) if held else None,
            connection=connection,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
            **in_account,
        )
        self.username = self.account.username
        self.tokens = {
            name: self.children.token(
                f"{resource_name}-{name}",
                username=self.account.username,
                name=name,
                token_type=spec.get("token_type"),
                ttl=spec.get("ttl"),
                rotate_before=spec.get("rotate_before"),
                keep_previous_for=spec.get("keep_previous_for"),
                rotation_trigger=spec.get("rotation_trigger"),
                connection=connection,
                opts=child,
            )
            for name, spec in (tokens or {}).items()
            if not one_step
        }
        if one_step:
            self.token_ids = self.account.token_ids.apply(lambda ids: dict(ids or {}))
            self.token_secrets = pulumi.Output.secret(
                self.account.tokens.apply(lambda found: dict(found or {}))
            )
        else:
            self.token_ids = cast(
                pulumi.Output[dict[str, str]],
                pulumi.Output.from_input({n: t.token_id for n, t in self.tokens.items()}),
            )
            self.token_secrets = pulumi.Output.secret(
                cast(
                    pulumi.Output[dict[str, str]],
                    pulumi.Output.from_input({n: t.token for n, t in self.tokens.items()}),
                )
            )
        self.ducklings = None
        if ducklings is not None and not (config_in_account or one_step):
            self.ducklings = self.children.config(
                resource_name,
                username=self.account.username,
                read_write=ducklings["read_write"],
                read_scaling=ducklings["read_scaling"],
                allow_downsize=allow_downsize or None,
                connection=connection,
                opts=child,
            )
        outputs: dict[str, Any] = {"username": self.username, "token_ids": self.token_ids}
        with quiet():
            self.register_outputs(outputs)
