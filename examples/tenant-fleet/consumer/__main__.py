"""A consumer of the tenant fleet: every shard's outputs as one, token secrets still secret.

Config: `fleetProject` (default `organization/tenant-fleet`, the form a file backend uses; on
Pulumi Cloud `<org>/tenant-fleet`), `shards` (the fleet's shard count, required).
"""

from __future__ import annotations

import pulumi

from motherduck_provider.fleet import FleetReference

config = pulumi.Config()
fleet = FleetReference(
    config.get("fleetProject") or "organization/tenant-fleet", shards=config.require_int("shards")
)
accounts = fleet.get_output("accounts")
pulumi.export("accounts", accounts)
pulumi.export("tenants", accounts.apply(lambda a: sorted(a)))
pulumi.export("tokens", fleet.get_output("tokens"))  # secret: one shard's is
