"""Hand a generated token to the program that uses it, as a secret connection string.

DuckDB connects to MotherDuck with `md:<database>?motherduck_token=<token>`. This stack
creates an account and a token for an application, builds that connection string from the
token, and exports it. The token output is a Pulumi secret, and everything computed from it
with `apply` stays one; `pulumi.Output.secret` below says so explicitly, so the string is
encrypted in the state and shown as `[secret]` by `pulumi stack output`.

Consumers read it without copying secrets around:
* another stack: `pulumi.StackReference(...).require_output("connection_string")` (see
  `consumer/`), which stays a secret there too;
* a deploy script: `pulumi stack output connection_string --show-secrets`.

Config (all optional):
* `username` the application's account (default `app_backend`)
* `database` the database in the connection string (default `my_db`)
"""

from __future__ import annotations

import pulumi

from motherduck_provider import AccessToken, ServiceAccount

config = pulumi.Config()
username = config.get("username") or "app_backend"
database = config.get("database") or "my_db"

account = ServiceAccount(
    "app-backend",
    username=username,
    opts=pulumi.ResourceOptions(protect=True),
)
token = AccessToken("app-backend-token", username=account.username, name="app-backend")


def connection_string(secret: str | None) -> str:
    """The DuckDB/MotherDuck connection string for `database`, logging in with `secret`."""
    if not secret:
        raise ValueError("the token has no secret (an adopted token cannot be handed out)")
    return f"md:{database}?motherduck_token={secret}"


pulumi.export("username", account.username)
pulumi.export("token_id", token.token_id)
pulumi.export("connection_string", pulumi.Output.secret(token.token.apply(connection_string)))
