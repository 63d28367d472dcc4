"""A reader account serving several BI dashboards from a flock of read-scaling replicas.

Read-scaling tokens connect to read-only replicas (the "flock") instead of the account's
read/write Duckling, so dashboards scale out without slowing down the writers. Each dashboard
gets its own token: one can be revoked or rotated without touching the others, and the token
list shows who is connected.

`ManagedAccount` keeps this short: the account, N tokens and the Duckling config come from one
definition. The read/write side stays on the smallest size (`pulse`) because this account only
reads; the replicas run on `standard`.

Config (all optional):
* `username`   the reader account (default `dashboards_reader`)
* `dashboards` how many dashboards, one token each (default 3)
* `flockSize`  how many read-scaling replicas, 0 to 64 (default 4)
"""

from __future__ import annotations

import pulumi

from motherduck_provider import ManagedAccount, TokenSpec

config = pulumi.Config()
username = config.get("username") or "dashboards_reader"
dashboards = config.get_int("dashboards")
dashboards = 3 if dashboards is None else dashboards
flock_size = config.get_int("flockSize")
flock_size = 4 if flock_size is None else flock_size

tokens: dict[str, TokenSpec] = {
    f"dashboard-{i}": {"token_type": "read_scaling"} for i in range(1, dashboards + 1)
}

fleet = ManagedAccount(
    "dashboards-reader",
    username=username,
    tokens=tokens,
    ducklings={
        "read_write": {"instance_size": "pulse"},
        "read_scaling": {"instance_size": "standard", "flock_size": flock_size},
    },
)

pulumi.export("username", fleet.username)
pulumi.export("token_ids", {name: t.token_id for name, t in fleet.tokens.items()})
# One secret per dashboard; hand each dashboard only its own.
pulumi.export("tokens", {name: t.token for name, t in fleet.tokens.items()})
if fleet.ducklings is not None:
    pulumi.export("read_scaling", fleet.ducklings.read_scaling)
