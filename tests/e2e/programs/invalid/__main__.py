"""Plain (known) invalid inputs, so `check` must reject them in preview before any API call.

The engine stops a deployment at the first resource whose `check` fails, so config `case`
(`account`, `token`, `ducklings`, default: all three) picks which resources are declared.
"""

import pulumi

from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount

case = pulumi.Config().get("case") or "all"

if case in ("account", "all"):
    ServiceAccount("account", username="1bad-name")
if case in ("token", "all"):
    AccessToken(
        "token",
        username="etl_writer",
        name="MotherDuck Extension",
        ttl=10,
        token_type="admin",
    )
if case in ("ducklings", "all"):
    InstanceConfig(
        "ducklings",
        username="etl_writer",
        read_write={"instance_size": "huge"},
        read_scaling={"instance_size": "pulse", "flock_size": 65, "cooldown_seconds": 300},
    )
