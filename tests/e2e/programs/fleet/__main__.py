"""`count` service accounts (stack config `count`, default 8), named `fleet_0`, `fleet_1`, ..."""

import pulumi

from motherduck_provider import ServiceAccount

config = pulumi.Config()
for i in range(config.get_int("count") or 8):
    ServiceAccount(f"fleet-{i}", username=f"fleet_{i}")
