"""Rotate a token on a schedule, or at once, without breaking anyone who still holds the old one.

The token lives 30 days and rotates 7 days before it expires (`ttl`, `rotate_before`); a new
value of config `rotationTrigger` rotates it at the next `pulumi up` (a suspected leak). After
a rotation the old token stays valid for `keep_previous_for` (here a day) as `previous_token`,
so a consumer that reads the token through a StackReference (`consumer/`), a BI tool or a job
that copied it keeps working until it has picked up the new one; the first `pulumi up` after
that day revokes the old token.

Run `pulumi up` on a schedule (daily, say): it rotates when due, revokes the previous token
when its day is over, and otherwise changes nothing. `pulumi stack output rotates_at` says
when the next rotation is due; `pulumi preview` says so too once it is less than a week away.

Config (all optional):
* `username`          the account (default `bi_service`)
* `keepPreviousHours` how long the old token stays valid after a rotation (default 24)
* `rotationTrigger`   change it (any string, e.g. a date) to rotate at the next `pulumi up`;
                      with `keepPreviousHours` 0 the old token is revoked in that same `up`
"""

from __future__ import annotations

import pulumi

from motherduck_provider import AccessToken, ServiceAccount

DAY = 86_400

config = pulumi.Config()
username = config.get("username") or "bi_service"
keep_hours = config.get_int("keepPreviousHours")

account = ServiceAccount(
    "bi-service",
    username=username,
    opts=pulumi.ResourceOptions(protect=True),
)
token = AccessToken(
    "bi-service-token",
    username=account.username,
    name="bi-service",
    ttl=30 * DAY,
    rotate_before=7 * DAY,
    keep_previous_for=(24 if keep_hours is None else keep_hours) * 3600,
    rotation_trigger=config.get("rotationTrigger"),
)

pulumi.export("username", account.username)
pulumi.export("token", token.token)  # a Pulumi secret
pulumi.export("token_id", token.token_id)
pulumi.export("rotates_at", token.rotates_at)
pulumi.export("previous_token_id", token.previous_token_id)
pulumi.export("previous_revoke_after", token.previous_revoke_after)
