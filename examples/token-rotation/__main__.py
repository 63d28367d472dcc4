"""An expiring token that rotates itself: `ttl` bounds its life, `rotate_before` renews it.

A token with a `ttl` stops working when it expires. With `rotate_before`, every `pulumi up`
(or `pulumi preview`) compares the stored `expire_at` with now: once the token is within
`rotate_before` of expiring, Pulumi plans an in-place update and says why: the new token is
created, the old one is revoked (or kept for `keep_previous_for` seconds, so consumers outside
this stack have time to switch; see examples/token-overlap-rotation). Run `pulumi up` on a
schedule shorter than `rotate_before` and the token never expires.

Config (all optional):
* `username`         the account (default `etl_loader`)
* `ttlDays`          lifetime of each token (default 30)
* `rotateBeforeDays` how long before expiry to rotate (default 7)
"""

from __future__ import annotations

import pulumi

from motherduck_provider import AccessToken, ServiceAccount

DAY = 86_400

config = pulumi.Config()
username = config.get("username") or "etl_loader"
ttl_days = config.get_int("ttlDays") or 30
rotate_before_days = config.get_int("rotateBeforeDays") or 7

account = ServiceAccount(
    "etl-loader",
    username=username,
    opts=pulumi.ResourceOptions(protect=True),
)

token = AccessToken(
    "etl-loader-token",
    username=account.username,
    name="etl-loader",
    ttl=ttl_days * DAY,
    rotate_before=rotate_before_days * DAY,
)

pulumi.export("username", account.username)
pulumi.export("token_id", token.token_id)
pulumi.export("expire_at", token.expire_at)
pulumi.export("token", token.token)
