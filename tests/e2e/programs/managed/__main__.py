"""`count` ManagedAccounts (default 2) `managed_<i>`, one token and a Duckling config each.

Stack config: `configInAccount` (false): the account holds its config instead of an
InstanceConfig child; `oneStep` (false): the account holds its tokens and config (one
resource); `flock` (2): the read-scaling flock size.
"""

import pulumi

from motherduck_provider import ManagedAccount

config = pulumi.Config()
flock = config.get_int("flock") or 2
for i in range(config.get_int("count") or 2):
    ManagedAccount(
        f"managed-{i}",
        username=f"managed_{i}",
        tokens={"ci": {"token_type": "read_scaling"}},
        ducklings={
            "read_write": {"instance_size": "standard"},
            "read_scaling": {"instance_size": "standard", "flock_size": flock},
        },
        protect=False,
        config_in_account=config.get_bool("configInAccount") or False,
        one_step=config.get_bool("oneStep") or False,
    )
