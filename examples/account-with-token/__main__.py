"""One service account with one read/write token: the smallest useful MotherDuck identity.

This is the shape most applications need: a service account the application logs in as, and
one token for it. It uses the two resources directly, so it shows how they fit together:

* `ServiceAccount` is protected (`protect=True`): deleting an account deletes its data and
  revokes its tokens, so Pulumi refuses to delete it until `pulumi state unprotect` lifts that.
* `AccessToken` takes `username=account.username`, an Output, so Pulumi creates the token after
  the account and revokes it before the account.
* The token's secret is shown by MotherDuck once, at creation; Pulumi keeps it encrypted in the
  state and exports it as a secret (`pulumi stack output token --show-secrets` reveals it).
"""

from __future__ import annotations

import pulumi

from motherduck_provider import AccessToken, ServiceAccount

config = pulumi.Config()
username = config.get("username") or "app_service"

account = ServiceAccount(
    "app-service",
    username=username,
    opts=pulumi.ResourceOptions(protect=True),
)

token = AccessToken(
    "app-service-token",
    username=account.username,
    name="app-service",
    token_type="read_write",
)

pulumi.export("username", account.username)
pulumi.export("token_id", token.token_id)
pulumi.export("token", token.token)
