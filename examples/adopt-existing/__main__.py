"""Bring an account that already exists under management, with its Duckling config and a token.

`pulumi import` does not work for dynamic providers (pulumi/pulumi#16175), so adoption is an
input instead:

* `ServiceAccount(adopt=True)` takes over the account if it exists (and creates it if not)
  instead of failing because the name is taken.
* `InstanceConfig` reads the live Duckling config first and writes only what differs: set the
  sizes below to what the account runs today and adoption changes nothing.
* `AccessToken(adopt_token_id=...)` tracks a token made elsewhere (the bare id or Terraform's
  `username/token_id`). Only its metadata: MotherDuck shows a secret once, at creation, so the
  `token` output stays empty. Tracking it makes `pulumi refresh` notice when it is revoked and
  shows its `expire_at`. The data function `get_tokens` finds its id from its name.

Everything here existed before this stack, so it outlives it: `retain_on_delete=True` makes
`pulumi destroy` (or deleting a resource from this program) forget the account and the token
instead of deleting them. InstanceConfig never resets anything on delete (the API has no reset).

Config:
* `username`        (required) the existing account
* `adoptTokenName`  the name of an existing token to track, found with `get_tokens`; with
                    `adoptTokenId` only this stack's label for it (default `adopted-token`)
* `adoptTokenId`    a token id, or `username/token_id`, to track instead of finding it by name
* `readWriteSize`   read/write Duckling size (default `pulse`)
* `readScalingSize` read-scaling replica size (default `pulse`)
* `flockSize`       read-scaling replicas, 0 to 64 (default 0)
"""

from __future__ import annotations

import pulumi

from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount, get_tokens

config = pulumi.Config()
username = config.require("username")
adopt_token_id = config.get("adoptTokenId")
token_name = config.get("adoptTokenName")
flock_size = config.get_int("flockSize")

if token_name and not adopt_token_id:
    # A data function: reads the account's live tokens (metadata, never secrets) each time the
    # program runs, in `pulumi preview` too, so the id never has to be looked up by hand.
    live = get_tokens(username).tokens
    named = [token for token in live if token.name == token_name]
    if len(named) != 1:
        listed = ", ".join(f"{token.name!r} ({token.id})" for token in live) or "none"
        raise pulumi.RunError(
            f"{len(named)} live tokens of {username!r} are named {token_name!r} (tokens: "
            f"{listed}); set adoptTokenId to the one to track"
        )
    adopt_token_id = f"{username}/{named[0].id}"

# Pre-existing things are retained, not deleted, when this stack lets go of them.
keep = pulumi.ResourceOptions(protect=True, retain_on_delete=True)

account = ServiceAccount("existing-account", username=username, adopt=True, opts=keep)

ducklings = InstanceConfig(
    "existing-ducklings",
    username=account.username,
    read_write={"instance_size": config.get("readWriteSize") or "pulse"},
    read_scaling={
        "instance_size": config.get("readScalingSize") or "pulse",
        "flock_size": 0 if flock_size is None else flock_size,
    },
)

pulumi.export("username", account.username)
pulumi.export("read_write", ducklings.read_write)
pulumi.export("read_scaling", ducklings.read_scaling)

if adopt_token_id:
    existing = AccessToken(
        "existing-token",
        username=account.username,
        # The type is read from MotherDuck; the name is this stack's label for the token.
        name=token_name or "adopted-token",
        adopt_token_id=adopt_token_id,
        opts=pulumi.ResourceOptions(retain_on_delete=True),
    )
    pulumi.export("token_id", existing.token_id)
    pulumi.export("token_expire_at", existing.expire_at)
