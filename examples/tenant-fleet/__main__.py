"""One service account per tenant, each with one read-scaling token and a Duckling config.

Each tenant is one resource (`ManagedAccount(one_step=True)`: a `ServiceAccount` holding its
token and config), so one engine step per tenant; `oneStep: false` keeps the three resources.

Every shard stack of the fleet runs this same program: it declares every tenant in
`tenants.json` and keeps the ones its shard owns (`Shard.current()`, from the stack's
`motherduck:fleetShard`/`fleetShards` config). Outside a fleet it owns all of them, so the
program also runs as one plain stack.

Config (all optional):
* `tenantsFile` the JSON list of tenant usernames (default `tenants.json`)
* `flockSize`   read-scaling replicas per tenant, 0 to 64 (default 1)
* `protect`     protect the accounts from deletion (default true)
* `oneStep`     one resource per tenant (default true); false: account, token and config

Outputs (merged over the shards by `python -m motherduck_provider.fleet outputs`):
* `accounts`: {username: {"token_id": ...}}
* `tokens`: {username: token secret}, a Pulumi secret
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi

from motherduck_provider import ManagedAccount
from motherduck_provider.fleet import Shard

config = pulumi.Config()
tenants = json.loads(Path(config.get("tenantsFile") or "tenants.json").read_text())
flock_size = config.get_int("flockSize")
protect = config.get_bool("protect")
one_step = config.get_bool("oneStep")

shard = Shard.current()
accounts = {
    tenant: ManagedAccount(
        tenant,
        username=tenant,
        tokens={"reader": {"token_type": "read_scaling"}},
        ducklings={
            "read_write": {"instance_size": "pulse"},
            "read_scaling": {
                "instance_size": "pulse",
                "flock_size": 1 if flock_size is None else flock_size,
            },
        },
        protect=True if protect is None else protect,
        one_step=True if one_step is None else one_step,
    )
    for tenant in shard.select(tenants)
}

pulumi.export(
    "accounts", {name: {"token_id": a.token_ids["reader"]} for name, a in accounts.items()}
)
pulumi.export(
    "tokens", pulumi.Output.secret({n: a.token_secrets["reader"] for n, a in accounts.items()})
)
