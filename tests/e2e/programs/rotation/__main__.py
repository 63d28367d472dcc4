"""One account and one token; every rotation setting comes from stack config.

Config keys (all optional): username (app_loader), ttl, rotateBefore, keepPreviousFor,
rotationTrigger.
"""

import pulumi

from motherduck_provider import AccessToken, ServiceAccount

config = pulumi.Config()

account = ServiceAccount("account", username=config.get("username") or "app_loader")
token = AccessToken(
    "token",
    username=account.username,
    name="loader",
    ttl=config.get_int("ttl"),
    rotate_before=config.get_int("rotateBefore"),
    keep_previous_for=config.get_int("keepPreviousFor"),
    rotation_trigger=config.get("rotationTrigger"),
)
for key in (
    "token",
    "token_id",
    "expire_at",
    "rotates_at",
    "previous_token",
    "previous_token_id",
    "previous_revoke_after",
):
    pulumi.export(key, getattr(token, key))
