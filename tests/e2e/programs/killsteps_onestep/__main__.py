"""One account in the one-step form: tokens `ci` and `loader` and a Duckling config in one
ServiceAccount; `loader` rotates. Nothing is exported (see `programs/killsteps`: exports would
make the order of checkpoint writes depend on timing).

Config keys (all optional): rotationTrigger (of `loader`).
"""

import pulumi

from motherduck_provider import ServiceAccount

config = pulumi.Config()
loader: dict[str, object] = {"ttl": 3600, "rotate_before": 3000}
if config.get("rotationTrigger"):
    loader["rotation_trigger"] = config.get("rotationTrigger")
ServiceAccount(
    "one",
    username="ks_one",
    tokens={"ci": {}, "loader": loader},
    read_write={"instance_size": "jumbo"},
    read_scaling={"instance_size": "standard", "flock_size": 1},
)
