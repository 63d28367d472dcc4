"""One account with a token and a Duckling config; every input comes from stack config.

Config keys (all optional):
  username (etl_writer), adopt (false)
  withToken (true), tokenName (ci), ttl, rotateBefore, tokenType, adoptTokenId
  withConfig (true), rwSize (standard), rwCooldown, rsSize (standard), flockSize (2), rsCooldown
"""

import pulumi

from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount

config = pulumi.Config()

account = ServiceAccount(
    "account",
    username=config.get("username") or "etl_writer",
    adopt=config.get_bool("adopt"),
)
pulumi.export("username", account.username)

if config.get_bool("withToken") is not False:
    token = AccessToken(
        "token",
        username=account.username,
        name=config.get("tokenName") or "ci",
        ttl=config.get_int("ttl"),
        rotate_before=config.get_int("rotateBefore"),
        token_type=config.get("tokenType"),
        adopt_token_id=config.get("adoptTokenId"),
    )
    pulumi.export("token", token.token)
    pulumi.export("token_id", token.token_id)
    pulumi.export("expire_at", token.expire_at)
    pulumi.export("created_ts", token.created_ts)

if config.get_bool("withConfig") is not False:
    read_write = {"instance_size": config.get("rwSize") or "standard"}
    if config.get_int("rwCooldown") is not None:
        read_write["cooldown_seconds"] = config.get_int("rwCooldown")
    read_scaling = {
        "instance_size": config.get("rsSize") or "standard",
        "flock_size": config.get_int("flockSize") if config.get_int("flockSize") is not None else 2,
    }
    if config.get_int("rsCooldown") is not None:
        read_scaling["cooldown_seconds"] = config.get_int("rsCooldown")
    ducklings = InstanceConfig(
        "ducklings",
        username=account.username,
        read_write=read_write,
        read_scaling=read_scaling,
    )
    pulumi.export("read_write", ducklings.read_write)
    pulumi.export("read_scaling", ducklings.read_scaling)
