"""The example stack: how a platform team keeps its MotherDuck identities in code.

Two accounts: `etl_writer` loads data with a rotating read/write token on a standard
Duckling; `bi_reader` serves dashboards through a read-scaling token and a flock of four
replicas. Add an account by adding one more ManagedAccount.
"""

from __future__ import annotations

import pulumi

from motherduck_provider import ManagedAccount

DAY = 86_400
config = pulumi.Config()
# Accounts hold data: protect them unless this stack says otherwise (scripts/down lifts it).
protect = config.get_bool("protectAccounts")
protect = True if protect is None else protect

writer = ManagedAccount(
    "etl-writer",
    username="etl_writer",
    tokens={"etl-loader": {"token_type": "read_write", "ttl": 30 * DAY, "rotate_before": 7 * DAY}},
    ducklings={
        "read_write": {"instance_size": "standard", "cooldown_seconds": 300},
        "read_scaling": {"instance_size": "pulse", "flock_size": 0},
    },
    protect=protect,
)

readers = ManagedAccount(
    "bi-reader",
    username="bi_reader",
    tokens={"bi-dashboards": {"token_type": "read_scaling"}},
    ducklings={
        "read_write": {"instance_size": "pulse"},
        "read_scaling": {"instance_size": "standard", "flock_size": 4},
    },
    protect=protect,
)

accounts = {"etl_writer": writer, "bi_reader": readers}
pulumi.export("usernames", [a.username for a in accounts.values()])
pulumi.export("token_ids", {n: t.token_id for a in accounts.values() for n, t in a.tokens.items()})
# Token secrets are always secrets: `pulumi stack output tokens --show-secrets` reveals them.
pulumi.export("tokens", {n: t.token for a in accounts.values() for n, t in a.tokens.items()})
pulumi.export(
    "read_scaling",
    {u: a.ducklings.read_scaling for u, a in accounts.items() if a.ducklings is not None},
)
