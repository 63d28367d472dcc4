"""Two accounts, a token and a Duckling config each; `b-token` rotates. Nothing is exported.

Exports would make the engine record the stack's outputs at a moment that depends on timing;
without them every checkpoint write belongs to a step, so the order of writes is the same in
every run with `--parallel 1`.

Config keys (all optional): keepPreviousFor, rotationTrigger (inputs of `b-token`).
"""

import pulumi

from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount

config = pulumi.Config()

for key, username in (("a", "ks_alpha"), ("b", "ks_beta")):
    account = ServiceAccount(key, username=username)
    rotating = key == "b"
    AccessToken(
        f"{key}-token",
        username=account.username,
        name="loader" if rotating else "ci",
        ttl=3600,
        rotate_before=3000 if rotating else None,
        keep_previous_for=config.get_int("keepPreviousFor") if rotating else None,
        rotation_trigger=config.get("rotationTrigger") if rotating else None,
    )
    InstanceConfig(
        f"{key}-ducklings",
        username=account.username,
        read_write={"instance_size": "jumbo"},
        read_scaling={"instance_size": "standard", "flock_size": 1},
    )
