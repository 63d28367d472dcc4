import pulumi

from motherduck_provider import ManagedAccount

analytics = ManagedAccount(
    "analytics",
    username="analytics_svc",
    tokens={
        "loader": {"ttl": 30 * 86_400, "rotate_before": 7 * 86_400},
        "bi": {"token_type": "read_scaling"},
    },
    ducklings={
        "read_write": {"instance_size": "standard"},
        "read_scaling": {"instance_size": "pulse", "flock_size": 2},
    },
)
pulumi.export("loader_token", analytics.tokens["loader"].token)
