"""A ManagedAccount (account, a token, a Duckling config): the stack to move (plugin.yaml)."""

import pulumi

from motherduck_provider import ManagedAccount

team = ManagedAccount(
    "team",
    username="migrate_team",
    tokens={"ci": {"ttl": 86400}},
    ducklings={
        "read_write": {"instance_size": "standard"},
        "read_scaling": {"instance_size": "standard", "flock_size": 2},
    },
    protect=False,
)
pulumi.export("username", team.username)
pulumi.export("tokenId", team.tokens["ci"].token_id)
